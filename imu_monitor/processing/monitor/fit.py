"""The tangent-method fit of one rep's phase boundaries (pure functions over arrays).

Ground truth defines a rep's boundaries as the times where the steady-speed part of each ramp,
extended, meets the rest / top level. ``fit_rep`` estimates them the same way: least-squares
lines through the middle band of the rising and the falling ramp, intersected with the rest and
top levels measured around them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from imu_monitor.processing.monitor.config import RepConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Line:
    """A fitted line ``m = m0 + slope * (t - t0)`` (degrees, seconds)."""

    t0: float
    m0: float
    slope: float

    def time_at(self, level: float) -> float:
        return self.t0 + (level - self.m0) / self.slope

    def value_at(self, t: float) -> float:
        return self.m0 + self.slope * (t - self.t0)


@dataclass(frozen=True)
class RepFit:
    """Fitted phase boundaries of one rep (seconds) and its levels (degrees)."""

    t_start_s: float
    t_top_s: float
    t_hold_end_s: float
    t_end_s: float
    rest_deg: float
    top_deg: float
    rise: Line | None = None
    fall: Line | None = None


def fit_line(t: np.ndarray, m: np.ndarray, finite: bool = False) -> Line | None:
    """Least-squares line through the finite samples (``finite``: the caller knows they all
    are)."""
    if not finite:
        ok = np.isfinite(m)
        if not ok.all():
            t, m = t[ok], m[ok]
    n = len(t)
    if n < 2:
        return None
    t0, m0 = float(np.add.reduce(t)) / n, float(np.add.reduce(m)) / n
    tc = t - t0
    den = float(np.dot(tc, tc))
    if den <= 0.0:
        return None
    return Line(t0, m0, float(np.dot(tc, m - m0)) / den)


def _centred_mean(x: np.ndarray, k: int, finite: bool = False) -> np.ndarray:
    """Moving average over ``k`` samples centred on each sample (edges padded), NaN-free
    (``finite``: the caller knows ``x`` is)."""
    if not finite:
        ok = np.isfinite(x)
        if not ok.all():
            x = np.where(ok, x, np.median(x[ok]) if ok.any() else 0.0)
    h = k // 2
    n = len(x)
    if h < 1 or n == 0:
        return x
    ext = np.empty(n + 2 * h)
    ext[:h], ext[h : h + n], ext[h + n :] = x[0], x, x[-1]
    return np.convolve(ext, np.full(2 * h + 1, 1.0 / (2 * h + 1)), mode="valid")


def _crossing(a: Line, b: Line) -> tuple[float, float] | None:
    """Time and value where two lines meet (None if parallel)."""
    if a.slope == b.slope:
        return None
    t = (b.m0 - a.m0 + a.slope * a.t0 - b.slope * b.t0) / (a.slope - b.slope)
    return t, a.value_at(t)


def _median(x: np.ndarray, min_count: int, finite: bool = False) -> float | None:
    """Median of the finite values, or None if fewer than ``min_count`` (``finite``: the caller
    knows they all are)."""
    x = np.sort(x if finite else x[np.isfinite(x)])
    k = len(x)
    if k < min_count or k == 0:
        return None
    return float(x[k // 2]) if k % 2 else 0.5 * float(x[k // 2 - 1] + x[k // 2])


def time_slice(t_s: np.ndarray, lo: float, hi: float) -> slice:
    """The samples with ``lo <= t <= hi`` (``t_s`` non-decreasing)."""
    if not lo <= hi:  # also a NaN bound: none
        return slice(0, 0)
    return slice(int(t_s.searchsorted(lo, "left")), int(t_s.searchsorted(hi, "right")))


def _first(mask: np.ndarray) -> int:
    """Index of the first True, -1 if none."""
    if len(mask) == 0:
        return -1
    j = int(mask.argmax())
    return j if mask[j] else -1


def _last(mask: np.ndarray) -> int:
    """Index of the last True, -1 if none."""
    j = _first(mask[::-1])
    return len(mask) - 1 - j if j >= 0 else -1


@dataclass
class _Signal:
    """One rep's samples, prepared once for the band-edge searches of both passes."""

    t_s: np.ndarray
    m_deg: np.ndarray
    finite: bool
    """No NaN (or inf) in ``m_deg``."""
    k_detect: int
    sm: np.ndarray
    """Centred moving average of ``m_deg``, NaN-free."""
    rise_max: np.ndarray
    """Running maximum of ``sm`` from the detection on: the first sample at or above a level
    after the detection is a binary search away."""
    fall_max: np.ndarray
    """Running maximum of ``sm`` from the last sample backwards (in that order): likewise the
    last sample at or above a level."""

    @classmethod
    def of(cls, t_s: np.ndarray, m_deg: np.ndarray, k_detect: int, smooth_n: int) -> _Signal:
        finite = bool(np.isfinite(m_deg).all())
        sm = _centred_mean(m_deg, smooth_n, finite)
        rise_max = np.maximum.accumulate(sm[k_detect:])
        return cls(t_s, m_deg, finite, k_detect, sm, rise_max, np.maximum.accumulate(sm[::-1]))


@dataclass
class _Ramps:
    rise: Line | None
    fall: Line | None
    indices: tuple[int, int, int, int]
    """Band edges: rising low, rising high, falling high, falling low."""
    settled: int = -1
    """Where the fall settled above the falling band's low edge (-1: it went below it)."""


def _ramps(
    sig: _Signal,
    rest: float,
    top: float,
    band: tuple[tuple[float, float], tuple[float, float]],
    cfg: RepConfig,
) -> _Ramps:
    """Least-squares lines through the band of the rising and the falling ramp."""
    t_s, m_deg, sm = sig.t_s, sig.m_deg, sig.sm
    n = len(t_s)
    amp = top - rest
    (lo_u, hi_u), (lo_d, hi_d) = [(rest + a * amp, rest + b * amp) for a, b in band]
    # rising: the last sample <= lo before the first sample >= hi after the detection (without
    # one, the first highest sample)
    r = int(sig.rise_max.searchsorted(hi_u))
    if r == len(sig.rise_max):
        r = int(sig.rise_max.searchsorted(sig.rise_max[-1]))
    i_hi_up = sig.k_detect + r
    i_lo_up = max(_last(sm[:i_hi_up] <= lo_u), 0)
    # falling: the last sample >= hi (not before the rising one), then the first sample <= lo
    r = int(sig.fall_max.searchsorted(hi_d))
    i_hi_dn = max(n - 1 - r if r < n else i_hi_up, i_hi_up)
    j = _first(sm[i_hi_dn:] <= lo_d)
    i_lo_dn = i_hi_dn + j if j >= 0 else n - 1
    # ... or, first, where it settled above that edge (a rest at another level than before)
    after = t_s.searchsorted(t_s[i_hi_dn:i_lo_dn] + cfg.settle_s)
    drop = sm[i_hi_dn:i_lo_dn] - sm[np.minimum(after, n - 1)]
    k = _first((after < n) & (drop < cfg.settle_fraction * amp))
    settled = i_hi_dn + k if k >= 0 else -1
    if settled >= 0:
        i_lo_dn = settled
    rise = fit_line(t_s[i_lo_up : i_hi_up + 1], m_deg[i_lo_up : i_hi_up + 1], sig.finite)
    fall = fit_line(t_s[i_hi_dn : i_lo_dn + 1], m_deg[i_hi_dn : i_lo_dn + 1], sig.finite)
    return _Ramps(
        rise if rise is not None and rise.slope > 0 else None,
        fall if fall is not None and fall.slope < 0 else None,
        (i_lo_up, i_hi_up, i_hi_dn, i_lo_dn),
        settled,
    )


def _band_for(ramp_s: float, cfg: RepConfig) -> tuple[float, float]:
    """The fit band for a ramp lasting ``ramp_s``: clear of the corners' blends (half of
    ``blend_s`` at each end, plus a margin), never narrower than ``fit_band`` nor wider than
    ``wide_band``."""
    if not ramp_s > 0:
        return cfg.fit_band
    edge = 0.5 * cfg.blend_s / ramp_s + 0.05
    # scalar clips (min of max, as np.clip), without numpy's per-call overhead
    lo = float(min(max(edge, cfg.wide_band[0]), cfg.fit_band[0]))
    hi = float(min(max(1.0 - edge, cfg.fit_band[1]), cfg.wide_band[1]))
    return lo, hi


def _levels(
    sig: _Signal,
    rise: Line,
    fall: Line,
    rest1: float,
    top1: float,
    peak: float,
    prev: RepFit | None,
    cfg: RepConfig,
) -> tuple[float, float]:
    """Rest and top levels (degrees) around fitted ramps (see ``fit_rep``)."""
    t_s, m_deg = sig.t_s, sig.m_deg
    g = cfg.corner_guard_s
    # rest level: the rest before the foot of the rising line (after the previous rep's end)
    t_foot = rise.time_at(rest1)
    t_after_prev = prev.t_end_s + g if prev is not None else -np.inf
    win = time_slice(t_s, max(t_foot - g - cfg.rest_window_s, t_after_prev), t_foot - g)
    rest = _median(m_deg[win], 3, sig.finite)
    if rest is None and prev is not None and prev.fall is not None:
        v = _crossing(prev.fall, rise)
        if v is not None:
            near = m_deg[time_slice(t_s, v[0] - 2 * g, v[0] + 2 * g)]
            lowest = float(np.nanmin(near)) if np.isfinite(near).any() else v[1]
            rest = 0.5 * (max(lowest, v[1]) + v[1])
    if rest is None:
        rest = rest1
    # top level: the hold between the corners, else between the peak and the lines' crossing

    def hold_level(level: float) -> float | None:
        hold = time_slice(t_s, rise.time_at(level) + g, fall.time_at(level) - g)
        return _median(m_deg[hold], 3, sig.finite)

    top = hold_level(top1)
    if top is not None:
        again = hold_level(top)  # once more around the better level
        top = again if again is not None else top
    else:  # no visible hold: the highest point of the (lightly smoothed) signal
        top = peak
    return rest, top


def fit_rep(
    t_s: np.ndarray,
    m_deg: np.ndarray,
    k_detect: int,
    rest_ref_deg: float,
    cfg: RepConfig,
    prev: RepFit | None = None,
) -> RepFit:
    """Phase boundaries of one rep by the tangent method.

    ``t_s``, ``m_deg``: shape (n,), the rest before the rep (from its start, at most ``keep_s``
    before the detection) and the rep up to the sample where it was found back (the last one).
    ``k_detect``: index of the detection sample; ``rest_ref_deg``: the running-minimum rest
    reference at the detection. ``prev``: the previous rep's fit, when it ended just before.

    Lines are fitted by least squares through the ``fit_band`` part of the rising and the falling
    ramp; the rest level is the median of the rest before the rising line's foot, the top level
    the median of the hold between the corners. Where a line meets the rest / top level is a
    phase boundary. Without a visible hold (fast reps) the top level is taken halfway between the
    highest sample and the lines' intersection (the blends cut the corner of a short hold); the
    same for the rest level without a visible rest (touch-and-go reps), using the previous rep's
    falling line.
    """
    up = m_deg[k_detect:]
    peak = float(up.max())
    if peak != peak:  # a NaN among the samples: the largest finite one
        peak = float(np.nanmax(up))
    # band edges are found on a centred moving average, so noise does not shrink the band;
    # the lines are fitted through the raw samples
    sig = _Signal.of(t_s, m_deg, k_detect, cfg.smooth_n)
    # first level estimates: rest from the low half of the samples before the detection,
    # top from the upper quartile of the samples above half way
    i_pre = int(t_s[:k_detect].searchsorted(t_s[k_detect] - cfg.pre_window_s))
    pre_m = m_deg[i_pre:k_detect]
    half_rise = rest_ref_deg + 0.5 * (float(m_deg[k_detect]) - rest_ref_deg)
    rest1 = _median(pre_m[pre_m <= half_rise], 3, sig.finite)
    if rest1 is None:
        rest1 = rest_ref_deg
    upper = np.sort(up[up >= 0.5 * (rest1 + peak)])  # NaN compares False: all finite
    # (none when the rest before was higher than this whole rise: the rise's own peak then)
    top1 = float(upper[(3 * len(upper)) // 4]) if len(upper) else peak
    band = (cfg.fit_band, cfg.fit_band)
    ramps = _ramps(sig, rest1, top1, band, cfg)
    rise, fall = ramps.rise, ramps.fall
    if rise is None or fall is None:
        # degenerate ramps (a step, or too few samples): fall back to the band crossings
        log.debug("rep fit degenerate, using band crossings")
        t_b = [float(t_s[i]) for i in ramps.indices]
        return RepFit(t_b[0], t_b[1], t_b[2], t_b[3], rest1, top1)
    # second pass: long ramps have long straight parts; widen the band to use more of them
    band = (
        _band_for(rise.time_at(top1) - rise.time_at(rest1), cfg),
        _band_for(fall.time_at(rest1) - fall.time_at(top1), cfg),
    )
    if band != (cfg.fit_band, cfg.fit_band):
        ramps2 = _ramps(sig, rest1, top1, band, cfg)
        if ramps2.rise is not None and ramps2.fall is not None:
            ramps = ramps2
            rise, fall = ramps2.rise, ramps2.fall
    peak_sm = float(sig.rise_max[-1])  # the highest smoothed sample after the detection
    rest, top = _levels(sig, rise, fall, rest1, top1, peak_sm, prev, cfg)
    x = _crossing(rise, fall)
    t_x = x[0] if x is not None else 0.5 * (rise.t0 + fall.t0)
    # (not before the samples it was fitted on: a rise from a level the fit cannot see, as at
    # the very start of a stream, would extrapolate the line back past them)
    t_start = max(rise.time_at(rest), float(t_s[0]))
    t_top = rise.time_at(top)
    t_hold_end = fall.time_at(top)
    t_end = fall.time_at(rest)
    if ramps.settled >= 0:  # it came back to another level than it started from: that one
        level = _median(m_deg[ramps.settled :], 3, sig.finite)
        if level is not None and level > rest:
            t_end = min(t_end, fall.time_at(level))
    if t_hold_end < t_top:  # the lines cross below the top level: no hold
        t_top = t_hold_end = float(np.clip(t_x, t_start, t_end))
    t_top = max(t_top, t_start)
    t_hold_end = min(max(t_hold_end, t_top), max(t_end, t_top))
    t_end = max(t_end, t_hold_end)
    return RepFit(t_start, t_top, t_hold_end, t_end, rest, top, rise, fall)
