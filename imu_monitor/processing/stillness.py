"""Stillness: whether a sensor was held still over a window, and the still periods of a
recording (where every sensor, or every sensor of a chosen few, was still at once).

Used by the calibration (a capture must be still) and the live calibration. Imports only core
types, numpy and scipy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import uniform_filter1d

from imu_monitor.model import Recording, SensorSeries

MIN_STILL_S = 2.0
"""Shortest still capture accepted (s)."""
EDGE_TOLERANCE = 0.95
"""A window of a given length passes with this fraction of it between its first and last
samples: samples lost at its edges (a lost notification of a 52 Hz wearable is 0.1-0.15 s)."""
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


def window(series: SensorSeries, t0: float, t1: float) -> SensorSeries:
    """The samples of ``series`` from ``t0`` to ``t1`` (s, both included), copied."""
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


def check_still_over(series: SensorSeries, t0: float, t1: float) -> StillnessReport:
    """``check_still`` over the samples of the window ``t0``-``t1`` (s), which must last
    ``MIN_STILL_S`` or more and passes with ``EDGE_TOLERANCE`` of its length between its first
    and last samples: the samples of a window of exactly ``MIN_STILL_S`` span a sample period
    less, and a notification lost at an edge takes a few more."""
    length = max(t1 - t0, MIN_STILL_S)
    return check_still(window(series, t0, t1), min_duration_s=EDGE_TOLERANCE * length)


def find_still_periods(
    rec: Recording,
    *,
    min_duration_s: float = MIN_STILL_S,
    step_s: float = 0.25,
    max_gyro_deg_s: float = MAX_GYRO_DEV_DEG_S,
    max_acc_dev_m_s2: float = MAX_ACC_DEV_M_S2,
    placements: Iterable[str] | None = None,
) -> list[tuple[float, float]]:
    """Periods (t0, t1) in s where every sensor of ``rec`` (or of ``placements`` only) is still
    for >= ``min_duration_s``, earliest first, each extended while those sensors stay still
    (``check_still`` with the given limits).

    The search: windows ``[t0, t0 + min_duration_s]`` on a ``step_s`` grid from the latest first
    sample; a window where every sensor passes ``check_still`` (at ``EDGE_TOLERANCE`` of the
    duration) starts a period, which is extended ``step_s`` at a time until the whole window
    fails for a sensor; the next search starts ``step_s`` after it.

    Linear in the number of samples, whatever the timestamps (a time jump of a day, an hour
    held still): a window that fails for lack of samples moves on to where a new sample can
    enter it, an extension that takes in no new sample is the same window (it jumps to the next
    sample), and an extension step is judged from running sums and running minima / maxima
    (``_Extension``); only a step whose bounds cannot decide is judged by ``check_still`` itself,
    so the periods are those of checking every window in full. Each sensor's samples are taken
    in time order (non-finite rows dropped).
    """
    wanted = None if placements is None else set(placements)
    chosen = [s for p, s in rec.series.items() if wanted is None or p in wanted]
    scans = [_SensorScan(s, max_gyro_deg_s, max_acc_dev_m_s2) for s in chosen]
    filled = [s for s in chosen if len(s)]
    if not filled:
        return []
    t_first = max(float(s.t_s[0]) for s in filled)
    t_last = min(float(s.t_s[-1]) for s in filled)
    if not (math.isfinite(t_first) and math.isfinite(t_last)) or not step_s > 0:
        return []
    min_check = min_duration_s * EDGE_TOLERANCE
    periods: list[tuple[float, float]] = []
    t0 = t_first
    while t0 + min_duration_s <= t_last:
        t1 = t0 + min_duration_s
        windows = [sc.indices(t0, t1) for sc in scans]
        short = [sc.short(a, b, min_check) for sc, (a, b) in zip(scans, windows, strict=True)]
        if any(short):
            # no later window of these sensors passes until it takes in a new sample at its end
            nexts = [sc.next_after(t1) for sc, sh in zip(scans, short, strict=True) if sh]
            target = max(nexts) - min_duration_s
            if not math.isfinite(target):
                break
            t0 = _grid_after(t0, target, step_s)
            continue
        if not all(sc.exact(a, b, min_check) for sc, (a, b) in zip(scans, windows, strict=True)):
            if t0 + step_s == t0:  # times beyond float resolution for the step
                break
            t0 += step_s
            continue
        ext = [_Extension(sc, a, b) for sc, (a, b) in zip(scans, windows, strict=True)]
        while True:
            t_next = t1 + step_s
            if not t_next <= t_last or t_next == t1:
                break
            nxt = min(sc.next_after(t1) for sc in scans)
            if nxt > t_next:  # no sample enters: the same windows, still; on to the next sample
                j = min(math.ceil((nxt - t1) / step_s) - 1, math.floor((t_last - t1) / step_s))
                t_jump = t1 + j * step_s
                for _ in range(64):  # rounding at huge times: step back (halving, bounded)
                    if j <= 1 or (t_jump < nxt and t_jump <= t_last):
                        break
                    j = j - 1 if j < 4 else j // 2
                    t_jump = t1 + j * step_s
                t1 = t_jump if j >= 1 and t_jump > t1 else t_next
                continue
            if not all(e.still_to(t_next, min_check) for e in ext):
                break
            t1 = t_next
        periods.append((t0, t1))
        if t1 + step_s == t1:
            break
        t0 = t1 + step_s
    return periods


def _grid_after(t0: float, target: float, step_s: float) -> float:
    """The first ``t0 + k * step_s`` (k >= 1) at or after ``target``."""
    k = max(1, math.ceil((target - t0) / step_s))
    t = t0 + k * step_s
    return t if t > t0 else math.inf


class _SensorScan:
    """One sensor's finite samples in time order, with running sums for window means."""

    def __init__(self, series: SensorSeries, max_gyro_deg_s: float, max_acc_m_s2: float) -> None:
        self.max_gyro, self.max_acc = float(max_gyro_deg_s), float(max_acc_m_s2)
        t, acc, gyr = _finite(series)
        if len(t) > 1 and not bool((t[1:] >= t[:-1]).all()):
            order = np.argsort(t, kind="stable")
            t, acc, gyr = t[order], acc[order], gyr[order]
        self.t, self.acc, self.gyr = t, acc, gyr
        self._sums: tuple[np.ndarray, np.ndarray] | None = None
        self._lp: dict[int, np.ndarray] = {}

    def indices(self, t0: float, t1: float) -> tuple[int, int]:
        return int(self.t.searchsorted(t0, "left")), int(self.t.searchsorted(t1, "right"))

    def next_after(self, t1: float) -> float:
        i = int(self.t.searchsorted(t1, "right"))
        return float(self.t[i]) if i < len(self.t) else math.inf

    def short(self, a: int, b: int, min_s: float) -> bool:
        """Too few samples or too short a span for ``check_still`` to pass."""
        return b - a < 10 or float(self.t[b - 1] - self.t[a]) < min_s

    def exact(self, a: int, b: int, min_s: float) -> bool:
        w = SensorSeries(self.t[a:b], self.acc[a:b], self.gyr[a:b])
        return check_still(
            w, min_duration_s=min_s, max_gyro_deg_s=self.max_gyro, max_acc_dev_m_s2=self.max_acc
        ).ok

    def sums(self) -> tuple[np.ndarray, np.ndarray]:
        """Running sums of acc and gyro (row i: the sum of samples before i)."""
        if self._sums is None:
            z = np.zeros((1, 3))
            self._sums = (
                np.concatenate([z, np.cumsum(self.acc, axis=0)]),
                np.concatenate([z, np.cumsum(self.gyr, axis=0)]),
            )
        return self._sums

    def lowpass(self, size: int) -> np.ndarray:
        """The whole series' acc moving average over ``size`` samples: inside a window (away
        from its ends by the filter's reach) the window's own moving average is the same."""
        if size not in self._lp:
            self._lp[size] = uniform_filter1d(self.acc, size=size, axis=0, mode="nearest")
        return self._lp[size]


_GYRO_BAND_DEG_S = 0.25
"""Half-width of the gyro bounds (``_Extension``): deviations are counted against a reference
mean within this of the window's mean."""
_ACC_TOL = 1e-6
"""Bounds closer than this to the acc limit (m/s^2) are left to the exact check (rounding)."""


class _Extension:
    """A still period growing at its end, judged step by step without re-reading the window.

    Gyro (99th percentile of the deviation from the window mean, ``check_still``): with a
    reference mean ``c`` within ``_GYRO_BAND_DEG_S`` of the window's mean, a sample deviating
    by more than the limit deviates from ``c`` by more than limit - band, and one deviating
    from ``c`` by more than limit + band deviates by more than the limit: two running counts
    bound how many samples exceed the limit, which decides the percentile except at one count.
    ``c`` is re-centred (the window counted again) when the mean drifts off.
    Acc (largest distance of the 0.1 s moving average from the mean): the box of the moving
    average's per-axis minima / maxima (running, over the window's inside; the raw samples at
    its two ends, whose averages stay within them) bounds that distance from above, and its
    inside's extremes bound it from below.
    """

    def __init__(self, scan: _SensorScan, a: int, b: int) -> None:
        self.sc, self.a, self.b = scan, a, b
        self.size = -1
        self._c = np.full(3, np.nan)
        self._n_hi = self._n_lo = 0
        self._in_end = a  # the inside's running extremes cover lowpass rows [.., _in_end)
        self._in_lo = np.full(3, np.inf)
        self._in_hi = np.full(3, -np.inf)

    def still_to(self, t1: float, min_s: float) -> bool:
        sc, a = self.sc, self.a
        b = int(sc.t.searchsorted(t1, "right"))
        if b == self.b:
            return True  # the window that passed, unchanged
        b_old, self.b = self.b, b
        verdict = self._bounds(a, b_old, b)
        return sc.exact(a, b, min_s) if verdict is None else verdict

    def _bounds(self, a: int, b_old: int, b: int) -> bool | None:
        """True / False when the bounds decide, None when only the exact check can."""
        sc = self.sc
        n = b - a
        dur = float(sc.t[b - 1] - sc.t[a])
        size = max(1, round(0.1 * (n - 1) / dur)) if dur > 0 else 1
        if n < 4 * size + 10:
            return None
        acc_sum, gyr_sum = sc.sums()
        g_mean = (gyr_sum[b] - gyr_sum[a]) / n
        acc_mean = (acc_sum[b] - acc_sum[a]) / n
        # gyro: how many samples exceed the limit, bounded
        lim_g = sc.max_gyro
        if not np.degrees(np.linalg.norm(g_mean - self._c)) <= _GYRO_BAND_DEG_S / 2:
            self._c = g_mean
            self._n_hi = self._n_lo = 0
            b_old = a
        e = np.degrees(np.linalg.norm(sc.gyr[b_old:b] - self._c, axis=1))
        self._n_hi += int(np.count_nonzero(e > lim_g - _GYRO_BAND_DEG_S))
        self._n_lo += int(np.count_nonzero(e > lim_g + _GYRO_BAND_DEG_S))
        h = 0.99 * (n - 1)  # np.percentile's rank (linear interpolation)
        lo, hi = math.floor(h - 1e-7), math.ceil(h + 1e-7)
        if self._n_lo > n - 1 - lo:
            return False
        gyro_ok = self._n_hi <= n - 1 - hi
        # acc: the moving average's box
        if size != self.size:
            self.size, self._in_end = size, a + size // 2
            self._in_lo, self._in_hi = np.full(3, np.inf), np.full(3, -np.inf)
        lp = sc.lowpass(size)
        in_end = b - size + size // 2 + 1  # rows whose average lies inside the window
        if in_end > self._in_end:
            part = lp[self._in_end : in_end]
            self._in_lo = np.minimum(self._in_lo, part.min(axis=0))
            self._in_hi = np.maximum(self._in_hi, part.max(axis=0))
            self._in_end = in_end
        lim_a = sc.max_acc
        far_in = np.maximum(self._in_hi - acc_mean, acc_mean - self._in_lo)
        if float(far_in.max()) > lim_a + _ACC_TOL:
            return False
        ends = np.concatenate([sc.acc[a : a + size], sc.acc[b - size : b]])
        box_lo = np.minimum(self._in_lo, ends.min(axis=0))
        box_hi = np.maximum(self._in_hi, ends.max(axis=0))
        far = np.maximum(box_hi - acc_mean, acc_mean - box_lo)
        if gyro_ok and float(np.sqrt(np.sum(far**2))) <= lim_a - _ACC_TOL:
            return True
        return None
