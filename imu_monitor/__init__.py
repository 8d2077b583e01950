"""imu-monitor: an open lumbar stability monitor.

Python API: ``load(path)`` (a recording in one call), ``analyze(path)`` and ``table(path)``
(the analysed export columns as numpy arrays, ready for pandas); see ``imu_monitor.app.api``.
"""

__version__ = "0.1.0"

__all__ = ["__version__", "analyze", "load", "table"]


def __getattr__(name: str):
    # the API is loaded on first use, so that ``import imu_monitor.model`` (or the command's
    # start-up) does not pay for numpy, scipy and vqf through the whole analysis stack
    if name in ("analyze", "load", "table"):
        from imu_monitor.app import api

        return getattr(api, name)
    raise AttributeError(f"module 'imu_monitor' has no attribute {name!r}")
