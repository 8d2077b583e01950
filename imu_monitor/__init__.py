"""imu-monitor: an open lumbar stability monitor.

Python API: ``load(path)`` (a recording in one call), ``analyze(path)`` and ``table(path)``
(the analysed export columns as numpy arrays, ready for pandas); see ``imu_monitor.app.api``.
"""

__version__ = "0.1.0"

from imu_monitor.app.api import analyze, load, table

__all__ = ["__version__", "analyze", "load", "table"]
