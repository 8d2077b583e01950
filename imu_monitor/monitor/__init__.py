"""The monitor stage: lumbar angle and movement signal in; alarm, rep and tempo events out.

- ``core``: ``Monitor`` (streaming), ``analyze_angles`` (batch), status and result types.
- ``alarms``: the per-direction alarm state machine (limit, dwell, hysteresis).
- ``reps``: rep segmentation, online phase, and the tangent-method phase fit.
"""

from .core import (
    MODES,
    STATES,
    Monitor,
    MonitorError,
    MonitorResult,
    MonitorStatus,
    analyze_angles,
    check_limits,
    summarize_result,
)
from .reps import RepConfig, RepFit, fit_rep

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
