"""Standing and the start posture among a recording's still periods, whatever the sensor's
mounting.

A recording without calibration markers (an import) has its calibration windows guessed from its
still periods (``calibration.calibrate_recording``). With the sensor mounted as the project
mounts it (sensor axes = segment axes, give or take a strap's 25 deg), gravity's direction says
which period is which. A sensor whose axes differ (another vendor's board with -x up, or one
strapped on sideways) can read standing where ours reads the start posture: its standing was
taken for the start posture, and every angle was off by the turn between them (simulated back
kicks with the sensor mounted any way round: RMSE 67 deg and 97 false alarms in 20 sessions).

Two things do not depend on the mounting: the angle gravity turns through between two postures
(standing to the start posture: the exercise's nominal turn, 90 deg onto all fours or onto a
bench, 115 into a bridge), and which of the two the reps keep coming back to (the start posture;
standing is left for the session). So the start posture is the earliest still period that an
earlier one is turned from by the nominal turn, within ``TURN_TOLERANCE_DEG``, and near which the
sacrum spends more of the next ``RETURN_WINDOW_S`` than near that earlier one (within
``NEAR_DEG``); standing is the latest such earlier period. The second test keeps a person who
stands up between sets from having that standing taken for the start posture and the all-fours
before it for standing. Imports only core types, numpy, scipy and ``frames``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import uniform_filter1d

from imu_monitor.model import SensorSeries
from imu_monitor.processing.frames import angle_between_deg

TURN_TOLERANCE_DEG = 30.0
"""A pair of still periods is standing and the start posture when gravity turned between them by
the exercise's nominal stand-to-start turn within this (deg): people stand and settle into the
start posture up to ~20 deg off the nominal pitches (a tilted pelvis, a lower or higher bench),
while the exercises' own movements stay clear of it (a hip thrust turns the pelvis 40-60 deg
from its top against a nominal 90, a bridge 17-35 against 115, a back kick under 10)."""
RETURN_WINDOW_S = 60.0
"""How long after the start posture the time spent near each of the pair is compared (s):
several reps."""
NEAR_DEG = 15.0
"""Near a posture: gravity (0.25 s average) within this of its direction there (deg)."""
SMOOTH_S = 0.25


def _unit_rows(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def time_near(sacrum: SensorSeries, t_from: float, ups: list[np.ndarray]) -> list[float]:
    """The fraction of ``RETURN_WINDOW_S`` from ``t_from`` that gravity (averaged over
    ``SMOOTH_S``) lies within ``NEAR_DEG`` of each of ``ups``."""
    t, acc = sacrum.t_s, sacrum.acc_m_s2
    inside = (t > t_from) & (t <= t_from + RETURN_WINDOW_S) & np.isfinite(acc).all(axis=1)
    if inside.sum() < 2:
        return [0.0 for _ in ups]
    a = acc[inside]
    step = float(np.median(np.diff(t[inside])))
    width = max(1, round(SMOOTH_S / step)) if step > 0 else 1
    g = _unit_rows(uniform_filter1d(a, width, axis=0))
    cos_near = math.cos(math.radians(NEAR_DEG))
    return [float(np.mean(g @ _unit_rows(u) >= cos_near)) for u in ups]


def standing_and_start(
    sacrum: SensorSeries,
    periods: list[tuple[float, float]],
    ups: list[np.ndarray],
    nominal_turn_deg: float,
) -> tuple[int, int] | None:
    """Indices (standing, start posture) into ``periods`` (the still periods, in time order) by
    the module docstring's tests, from the sacrum's data and each period's gravity direction
    ``ups`` (sensor frame); None when no pair passes them."""
    for j in range(1, len(periods)):
        for i in range(j - 1, -1, -1):
            if abs(angle_between_deg(ups[i], ups[j]) - nominal_turn_deg) > TURN_TOLERANCE_DEG:
                continue
            near_start, near_standing = time_near(sacrum, periods[j][1], [ups[j], ups[i]])
            if near_start > near_standing:
                return i, j
            break  # the latest standing candidate decides for this start candidate
    return None
