"""The monitor stage: lumbar angle and movement signal in; alarm, rep and tempo events out.

- ``core``: ``Monitor`` (streaming), ``analyze_angles`` (batch), status and result types.
- ``alarms``: the per-direction alarm state machine (limit, dwell, hysteresis).
- ``reps``: rep segmentation and the online phase; ``fit``: the tangent-method phase fit;
  ``onset``: phases at movement onset / offset; ``leak``: the lumbar angle's leak into a
  pelvis-timed rep signal, measured from the reps; ``config``: the rep detector settings.
"""

from imu_monitor.errors import MonitorError
from imu_monitor.processing.monitor.config import RepConfig
from imu_monitor.processing.monitor.core import (
    MODES,
    STATES,
    Monitor,
    MonitorResult,
    MonitorStatus,
    analyze_angles,
    check_limits,
    summarize_result,
)
from imu_monitor.processing.monitor.fit import RepFit, fit_rep

__all__ = [
    "MODES",
    "STATES",
    "Monitor",
    "MonitorError",
    "MonitorResult",
    "MonitorStatus",
    "RepConfig",
    "RepFit",
    "analyze_angles",
    "check_limits",
    "fit_rep",
    "summarize_result",
]
