"""Stillness: whether a sensor was held still over a window, and the still periods of a
recording (where every sensor was still at once).

Used by the calibration (a capture must be still) and the live calibration. Imports only core
types, numpy and scipy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import uniform_filter1d

from imu_monitor.model import Recording, SensorSeries

MIN_STILL_S = 2.0
"""Shortest still capture accepted (s)."""
MAX_GYRO_DEV_DEG_S = 6.0
"""Largest angular-rate deviation from its mean allowed while holding still (deg/s); the mean
itself is not judged, so a constant gyro bias is tolerated."""
MAX_ACC_DEV_M_S2 = 0.5
"""Largest deviation of the 0.1 s-smoothed acceleration from its mean while holding still
(m/s^2); 0.5 m/s^2 is a 2.9 deg tilt change, or a slow drift the gyro test cannot see."""


@dataclass
class StillnessReport:
    """How still a capture was. ``ok`` with an empty ``reason``, or not ok and why."""

    ok: bool
    reason: str
    duration_s: float
    gyro_dev_deg_s: float
    acc_dev_m_s2: float
    mean_acc_m_s2: list[float]
    n_samples: int


def _finite(series: SensorSeries) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t, acc, gyr = series.t_s, series.acc_m_s2, series.gyr_rad_s
    ok = np.isfinite(t) & np.isfinite(acc).all(axis=1) & np.isfinite(gyr).all(axis=1)
    return t[ok], acc[ok], gyr[ok]


def check_still(
    series: SensorSeries,
    *,
    min_duration_s: float = MIN_STILL_S,
    max_gyro_deg_s: float = MAX_GYRO_DEV_DEG_S,
    max_acc_dev_m_s2: float = MAX_ACC_DEV_M_S2,
) -> StillnessReport:
    """Judge whether one sensor was held still over the whole of ``series``.

    Gyro: the 99th percentile of ``|gyr - mean(gyr)|`` (deg/s). Acc: the largest deviation of the
    0.1 s moving average of acc from its mean (m/s^2). Non-finite samples are ignored.
    """
    t, acc, gyr = _finite(series)
    n = len(t)
    duration = float(t[-1] - t[0]) if n > 1 else 0.0
    if n < 10 or duration < min_duration_s:
        return StillnessReport(
            False,
            f"only {duration:.1f} s of data (need {min_duration_s:.1f} s)",
            duration,
            math.nan,
            math.nan,
            acc.mean(axis=0).tolist() if n else [math.nan] * 3,
            n,
        )
    rate = (n - 1) / duration
    gdev = np.degrees(np.linalg.norm(gyr - gyr.mean(axis=0), axis=1))
    gyro_dev = float(np.percentile(gdev, 99))
    acc_lp = uniform_filter1d(acc, size=max(1, round(0.1 * rate)), axis=0, mode="nearest")
    acc_mean = acc.mean(axis=0)
    acc_dev = float(np.linalg.norm(acc_lp - acc_mean, axis=1).max())
    problems = []
    if gyro_dev > max_gyro_deg_s:
        problems.append(f"it rotated at up to {gyro_dev:.1f} deg/s (limit {max_gyro_deg_s:g})")
    if acc_dev > max_acc_dev_m_s2:
        problems.append(
            f"its acceleration varied by {acc_dev:.2f} m/s^2 (limit {max_acc_dev_m_s2:g}, "
            f"about {math.degrees(math.asin(min(1.0, acc_dev / 9.81))):.1f} deg of tilt)"
        )
    return StillnessReport(
        not problems, " and ".join(problems), duration, gyro_dev, acc_dev, acc_mean.tolist(), n
    )


def _window(series: SensorSeries, t0: float, t1: float) -> SensorSeries:
    t = series.t_s
    if t0 == t0 and t1 == t1 and bool((t[1:] >= t[:-1]).all()):
        # times in order (no NaN): the window is one slice, found by bisection; copied, as the
        # boolean selection below would
        a, b = int(np.searchsorted(t, t0, "left")), int(np.searchsorted(t, t1, "right"))
        b = max(a, b)
        return SensorSeries(
            t[a:b].copy(),
            series.acc_m_s2[a:b].copy(),
            series.gyr_rad_s[a:b].copy(),
            None if series.seq is None else series.seq[a:b].copy(),
        )
    sel = (t >= t0) & (t <= t1)
    return SensorSeries(
        series.t_s[sel],
        series.acc_m_s2[sel],
        series.gyr_rad_s[sel],
        None if series.seq is None else series.seq[sel],
    )


def find_still_periods(
    rec: Recording, *, min_duration_s: float = MIN_STILL_S, step_s: float = 0.25
) -> list[tuple[float, float]]:
    """Periods (t0, t1) in s where every sensor of ``rec`` is still for >= ``min_duration_s``,
    earliest first, each extended while all sensors stay still."""
    t_first = max(float(s.t_s[0]) for s in rec.series.values() if len(s))
    t_last = min(float(s.t_s[-1]) for s in rec.series.values() if len(s))

    def still(t0: float, t1: float) -> bool:
        return all(
            check_still(_window(s, t0, t1), min_duration_s=min_duration_s * 0.95).ok
            for s in rec.series.values()
        )

    periods: list[tuple[float, float]] = []
    t0 = t_first
    while t0 + min_duration_s <= t_last:
        if still(t0, t0 + min_duration_s):
            t1 = t0 + min_duration_s
            while t1 + step_s <= t_last and still(t0, t1 + step_s):
                t1 += step_s
            periods.append((t0, t1))
            t0 = t1 + step_s
        else:
            t0 += step_s
    return periods
