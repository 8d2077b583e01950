"""Rep segmentation and tempo phases from the movement signal, over chunks of samples.

The movement signal (``movement_deg``) is higher towards the top of the movement; its rest level
is not assumed to be 0 (a hip thrust rests near -50 deg with the top calibrated at 0).

Detection (causal, on the raw samples, no filter lag):

- *rest*: the rest reference is the running minimum of the signal since the rest began (it
  follows the signal down at once, e.g. from the calibration at the top of a hip thrust down to
  the bottom). A rep *starts* when the signal rises ``thr_on`` above it, where ``thr_on`` is
  ``min_rise_deg`` or ``rise_fraction`` of the typical amplitude of the last reps, whichever is
  larger: the RepStarted event fires at that sample.
- *in a rep*, the online phase (for the status and for AlarmStarted.phase) is *concentric* until
  the running maximum has not grown for ``top_settle_s`` (*hold*), and *eccentric* once the signal
  is ``eccentric_fraction`` of the amplitude (at least ``thr_on / 2``) below the maximum.
- the rep is *back* when the signal falls below ``end_fraction`` of the amplitude above the rest
  reference. Its phase boundaries are then fitted (``fit_rep``, the tangent method) and the
  RepEnded event fires at the first sample at or after the fitted end, so events stay in time
  order while the end time is the fitted one.
- a rep that does not come back within ``max_rep_s`` is dropped (logged; no RepEnded), and the
  rest reference starts again from there.

Every decision depends only on the samples up to the one being decided and on the carried
state, so any chunking gives the same events as the whole array at once.
"""

from __future__ import annotations

import logging
import statistics
from collections import deque
from dataclasses import dataclass

import numpy as np

from ..events import RepEnded, RepStarted

log = logging.getLogger(__name__)

IDLE, IN_REP, ENDING = 0, 1, 2
TIME_EPS_S = 1e-9


@dataclass(frozen=True)
class RepConfig:
    """Rep detector settings. Angles in degrees of the movement signal, times in seconds."""

    min_rise_deg: float = 1.0
    """Smallest rise above the rest reference that starts a rep: the estimated pelvic roll of a
    one-sensor back kick rises only ~1.5-3 deg; noise up to ~0.2 deg rms and slow sway up to
    ~0.2 deg at rest stay below it."""
    rise_fraction: float = 0.3
    """Once reps are known, a rep starts at this fraction of their median amplitude."""
    end_fraction: float = 0.2
    """The rep is back when below this fraction of its amplitude above the rest reference."""
    eccentric_fraction: float = 0.25
    """Online phase: eccentric once this fraction of the amplitude below the running maximum."""
    top_settle_s: float = 0.15
    """Online phase: hold once the running maximum has not grown for this long."""
    fit_band: tuple[float, float] = (0.25, 0.75)
    """Part of each ramp (fractions of the amplitude) the tangent lines are fitted through
    first; a second pass widens it for long ramps (``blend_s``, ``wide_band``)."""
    blend_s: float = 0.15
    """Longest velocity blend expected at a corner; the band stays half of it clear."""
    wide_band: tuple[float, float] = (0.1, 0.9)
    """The widest band the second pass uses."""
    corner_guard_s: float = 0.08
    """Samples this close to a fitted corner are left out of the rest / top level estimates
    (the velocity blends round the corners by about half their 0.1-0.15 s length)."""
    rest_window_s: float = 0.5
    """Length of rest before the rep used for the rest level."""
    pre_window_s: float = 1.0
    """Rest before the detection used for the first rest estimate."""
    keep_s: float = 3.0
    """Rest samples kept before a detection (bounds the buffer)."""
    max_rep_s: float = 30.0
    """A rep that has not come back after this long is dropped."""
    restart_after_s: float = 6.0
    """A rep that has gone on this long, and rises again from a level above its rest, is
    dropped and a new rep starts at that rise (a session starting with a move into position,
    e.g. from standing into a hip thrust lockout and down to the bottom)."""
    amplitude_memory: int = 5
    """How many recent reps set the typical amplitude."""
    smooth_n: int = 9
    """Detection (not the fit) runs on a causal moving average over this many samples
    (45 ms at 200 Hz), so single noisy samples cannot start or end a rep."""


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


def _fit_line(t: np.ndarray, m: np.ndarray) -> Line | None:
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


def _centred_mean(x: np.ndarray, k: int) -> np.ndarray:
    """Moving average over ``k`` samples centred on each sample (edges padded), NaN-free."""
    ok = np.isfinite(x)
    if not ok.all():
        x = np.where(ok, x, np.median(x[ok]) if ok.any() else 0.0)
    h = k // 2
    if h < 1 or len(x) == 0:
        return x
    ext = np.concatenate([np.full(h, x[0]), x, np.full(h, x[-1])])
    return np.convolve(ext, np.full(2 * h + 1, 1.0 / (2 * h + 1)), mode="valid")


def _crossing(a: Line, b: Line) -> tuple[float, float] | None:
    """Time and value where two lines meet (None if parallel)."""
    if a.slope == b.slope:
        return None
    t = (b.m0 - a.m0 + a.slope * a.t0 - b.slope * b.t0) / (a.slope - b.slope)
    return t, a.value_at(t)


def _median(x: np.ndarray, min_count: int) -> float | None:
    """Median of the finite values, or None if fewer than ``min_count``."""
    x = np.sort(x[np.isfinite(x)])
    k = len(x)
    if k < min_count or k == 0:
        return None
    return float(x[k // 2]) if k % 2 else 0.5 * float(x[k // 2 - 1] + x[k // 2])


@dataclass
class _Ramps:
    rise: Line | None
    fall: Line | None
    indices: tuple[int, int, int, int]
    """Band edges: rising low, rising high, falling high, falling low."""


def _ramps(
    t_s: np.ndarray,
    m_deg: np.ndarray,
    sm: np.ndarray,
    k_detect: int,
    rest: float,
    top: float,
    band: tuple[tuple[float, float], tuple[float, float]],
) -> _Ramps:
    """Least-squares lines through the band of the rising and the falling ramp."""
    n = len(t_s)
    amp = top - rest
    (lo_u, hi_u), (lo_d, hi_d) = [(rest + a * amp, rest + b * amp) for a, b in band]
    # rising: the last sample <= lo before the first sample >= hi (after the detection)
    rel = np.flatnonzero(sm[k_detect:] >= hi_u)
    i_hi_up = k_detect + (int(rel[0]) if len(rel) else int(np.argmax(sm[k_detect:])))
    below = np.flatnonzero(sm[:i_hi_up] <= lo_u)
    i_lo_up = int(below[-1]) if len(below) else 0
    # falling: the last sample >= hi, then the first sample <= lo after it
    above = np.flatnonzero(sm >= hi_d)
    i_hi_dn = max(int(above[-1]) if len(above) else i_hi_up, i_hi_up)
    after = np.flatnonzero(sm[i_hi_dn:] <= lo_d)
    i_lo_dn = i_hi_dn + int(after[0]) if len(after) else n - 1
    rise = _fit_line(t_s[i_lo_up : i_hi_up + 1], m_deg[i_lo_up : i_hi_up + 1])
    fall = _fit_line(t_s[i_hi_dn : i_lo_dn + 1], m_deg[i_hi_dn : i_lo_dn + 1])
    return _Ramps(
        rise if rise is not None and rise.slope > 0 else None,
        fall if fall is not None and fall.slope < 0 else None,
        (i_lo_up, i_hi_up, i_hi_dn, i_lo_dn),
    )


def _band_for(ramp_s: float, cfg: RepConfig) -> tuple[float, float]:
    """The fit band for a ramp lasting ``ramp_s``: clear of the corners' blends (half of
    ``blend_s`` at each end, plus a margin), never narrower than ``fit_band`` nor wider than
    ``wide_band``."""
    if not ramp_s > 0:
        return cfg.fit_band
    edge = 0.5 * cfg.blend_s / ramp_s + 0.05
    lo = float(np.clip(edge, cfg.wide_band[0], cfg.fit_band[0]))
    hi = float(np.clip(1.0 - edge, cfg.fit_band[1], cfg.wide_band[1]))
    return lo, hi


def _levels(
    t_s: np.ndarray,
    m_deg: np.ndarray,
    rise: Line,
    fall: Line,
    rest1: float,
    top1: float,
    peak: float,
    prev: RepFit | None,
    cfg: RepConfig,
) -> tuple[float, float]:
    """Rest and top levels (degrees) around fitted ramps (see ``fit_rep``)."""
    g = cfg.corner_guard_s
    # rest level: the rest before the foot of the rising line (after the previous rep's end)
    t_foot = rise.time_at(rest1)
    t_after_prev = prev.t_end_s + g if prev is not None else -np.inf
    win = (t_s >= max(t_foot - g - cfg.rest_window_s, t_after_prev)) & (t_s <= t_foot - g)
    rest = _median(m_deg[win], 3)
    if rest is None and prev is not None and prev.fall is not None:
        v = _crossing(prev.fall, rise)
        if v is not None:
            near = m_deg[(t_s >= v[0] - 2 * g) & (t_s <= v[0] + 2 * g)]
            lowest = float(np.nanmin(near)) if np.isfinite(near).any() else v[1]
            rest = 0.5 * (max(lowest, v[1]) + v[1])
    if rest is None:
        rest = rest1
    # top level: the hold between the corners, else between the peak and the lines' crossing

    def hold_level(level: float) -> float | None:
        hold = (t_s >= rise.time_at(level) + g) & (t_s <= fall.time_at(level) - g)
        return _median(m_deg[hold], 3)

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
    peak = float(np.nanmax(up))
    # first level estimates: rest from the low half of the samples before the detection,
    # top from the upper quartile of the samples above half way
    pre_t, pre_m = t_s[:k_detect], m_deg[:k_detect]
    half_rise = rest_ref_deg + 0.5 * (float(m_deg[k_detect]) - rest_ref_deg)
    sel = (pre_t >= t_s[k_detect] - cfg.pre_window_s) & (pre_m <= half_rise)
    rest1 = _median(pre_m[sel], 3)
    if rest1 is None:
        rest1 = rest_ref_deg
    upper = np.sort(up[up >= 0.5 * (rest1 + peak)])  # NaN compares False: all finite
    top1 = float(upper[(3 * len(upper)) // 4])
    # band edges are found on a centred moving average, so noise does not shrink the band;
    # the lines are fitted through the raw samples
    sm = _centred_mean(m_deg, cfg.smooth_n)
    band = (cfg.fit_band, cfg.fit_band)
    ramps = _ramps(t_s, m_deg, sm, k_detect, rest1, top1, band)
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
        ramps2 = _ramps(t_s, m_deg, sm, k_detect, rest1, top1, band)
        if ramps2.rise is not None and ramps2.fall is not None:
            rise, fall = ramps2.rise, ramps2.fall
    peak_sm = float(np.max(sm[k_detect:]))
    rest, top = _levels(t_s, m_deg, rise, fall, rest1, top1, peak_sm, prev, cfg)
    x = _crossing(rise, fall)
    t_x = x[0] if x is not None else 0.5 * (rise.t0 + fall.t0)
    t_start = rise.time_at(rest)
    t_top = rise.time_at(top)
    t_hold_end = fall.time_at(top)
    t_end = fall.time_at(rest)
    if t_hold_end < t_top:  # the lines cross below the top level: no hold
        t_top = t_hold_end = float(np.clip(t_x, t_start, t_end))
    t_top = max(t_top, t_start)
    t_hold_end = min(max(t_hold_end, t_top), max(t_end, t_top))
    t_end = max(t_end, t_hold_end)
    return RepFit(t_start, t_top, t_hold_end, t_end, rest, top, rise, fall)


@dataclass
class PhaseChange:
    """The online phase from sample ``index`` (into the chunk) on."""

    index: int
    phase: str
    rep: int | None


@dataclass
class RepOutput:
    """A rep event found in a chunk, at sample ``index`` (into the chunk)."""

    index: int
    event: RepStarted | RepEnded


class RepTracker:
    """Rep segmentation state carried between chunks (see the module docstring).

    ``min_rep_s``: a rep shorter than this (fitted start to end) is flagged too fast.
    ``judged``: copied into RepEnded.judged.
    """

    def __init__(self, cfg: RepConfig, min_rep_s: float, judged: str) -> None:
        self.cfg = cfg
        self.min_rep_s = float(min_rep_s)
        self.judged = judged
        self.state = IDLE
        self.phase = "rest"
        self.rep: int | None = None
        self.reps_done = 0
        self._amplitudes: deque[float] = deque(maxlen=cfg.amplitude_memory)
        self.thr_on = float(cfg.min_rise_deg)
        # rest
        self._rest_ref = np.inf
        self._t_idle_start = -np.inf
        # in a rep
        self._rep_rest_ref = 0.0
        self._rep_idle_start = -np.inf
        self._t_detect = 0.0
        self._run_max = -np.inf
        self._t_last_max = 0.0
        self._watch_min = np.inf
        """Lowest (smoothed) level since the rep reached its top (hold or eccentric)."""
        # ending
        self._fit: RepFit | None = None
        self._prev_fit: RepFit | None = None
        self._lum_max = -np.inf
        self._lum_min = np.inf
        # recent samples (rest before the rep and the rep): lists of arrays
        self._buf_t: list[np.ndarray] = []
        self._buf_m: list[np.ndarray] = []
        self._buf_l: list[np.ndarray] = []
        self._t_prev = -np.inf
        """Time of the last sample of the previous chunk."""
        self._tail: np.ndarray | None = None
        """The last ``smooth_n - 1`` (NaN-filled) samples, for the moving average."""
        self._last_finite = 0.0

    # -- chunk processing ----------------------------------------------------------------------
    def process(
        self, t_s: np.ndarray, m_deg: np.ndarray, lumbar_deg: np.ndarray
    ) -> tuple[list[PhaseChange], list[RepOutput]]:
        """Run the detector over one chunk (all arrays shape (n,)); returns the online phase
        changes and the rep events, each in sample order."""
        n = len(t_s)
        changes: list[PhaseChange] = []
        events: list[RepOutput] = []
        ms = self._smooth(m_deg)
        p = 0
        while p < n:
            if self.state == IDLE:
                p = self._scan_idle(t_s, ms, p, changes, events)
            elif self.state == IN_REP:
                p = self._scan_rep(t_s, m_deg, ms, lumbar_deg, p, changes, events)
            else:
                p = self._scan_ending(t_s, m_deg, lumbar_deg, p, changes, events)
        if n:
            self._buf_t.append(t_s)
            self._buf_m.append(m_deg)
            self._buf_l.append(lumbar_deg)
            self._trim(float(t_s[-1]))
            self._t_prev = float(t_s[-1])
        return changes, events

    def _smooth(self, m: np.ndarray) -> np.ndarray:
        """Causal moving average over ``smooth_n`` samples; NaN holds the last value. Summed
        slice by slice in a fixed order, so any chunking gives bit-identical results."""
        x = m.copy()
        bad = ~np.isfinite(x)
        if bad.any():
            idx = np.where(bad, -1, np.arange(len(x)))
            idx = np.maximum.accumulate(idx)
            x = np.where(idx >= 0, x[np.maximum(idx, 0)], self._last_finite)
        if len(x):
            self._last_finite = float(x[-1])
        k = self.cfg.smooth_n
        if k <= 1 or len(x) == 0:
            return x
        if self._tail is None:
            self._tail = np.full(k - 1, x[0])
        ext = np.concatenate([self._tail, x])
        acc = ext[0 : len(x)].copy()
        for j in range(1, k):
            acc += ext[j : j + len(x)]
        self._tail = ext[len(ext) - (k - 1) :]
        return acc / k

    def _scan_idle(
        self,
        t: np.ndarray,
        m: np.ndarray,
        p: int,
        changes: list[PhaseChange],
        events: list[RepOutput],
    ) -> int:
        seg = m[p:]
        cmin = np.fmin(np.fmin.accumulate(seg), self._rest_ref)
        hit = seg > cmin + self.thr_on
        if not hit.any():
            self._rest_ref = float(cmin[-1])
            return len(m)
        k = int(np.argmax(hit))
        i = p + k
        self._rest_ref = float(cmin[k])
        self._start_rep(i, t, m, self._rest_ref, self._t_idle_start, changes, events)
        return i + 1

    def _start_rep(
        self,
        i: int,
        t: np.ndarray,
        ms: np.ndarray,
        rest_ref: float,
        idle_start: float,
        changes: list[PhaseChange],
        events: list[RepOutput],
    ) -> None:
        """A rep starts at sample ``i``. Its index is the number of reps ended so far, so a
        dropped rep's index is used again by the next one."""
        self.state = IN_REP
        self.phase = "concentric"
        self.rep = self.reps_done
        self._rep_rest_ref = rest_ref
        self._rep_idle_start = idle_start
        self._t_detect = float(t[i])
        self._run_max = float(ms[i])
        self._t_last_max = float(t[i])
        self._watch_min = np.inf
        changes.append(PhaseChange(i, "concentric", self.rep))
        events.append(RepOutput(i, RepStarted(t_s=float(t[i]), index=self.rep)))

    def _scan_rep(
        self,
        t: np.ndarray,
        m: np.ndarray,
        ms: np.ndarray,
        lum: np.ndarray,
        p: int,
        changes: list[PhaseChange],
        events: list[RepOutput],
    ) -> int:
        cfg = self.cfg
        n = len(m)
        seg, ts = ms[p:], t[p:]
        cmax = np.fmax(np.fmax.accumulate(seg), self._run_max)
        prev = np.empty_like(cmax)
        prev[0] = self._run_max
        prev[1:] = cmax[:-1]
        new = seg > prev
        last = np.maximum.accumulate(np.where(new, np.arange(len(seg)), -1))
        t_last = np.where(last >= 0, ts[np.maximum(last, 0)], self._t_last_max)
        amp = cmax - self._rep_rest_ref
        ecc = seg < cmax - np.maximum(0.5 * self.thr_on, cfg.eccentric_fraction * amp)
        end = seg < self._rep_rest_ref + cfg.end_fraction * amp
        timeout = ts - self._t_detect > cfg.max_rep_s

        def first(mask: np.ndarray) -> int:
            return p + int(np.argmax(mask)) if mask.any() else n

        i_end, i_to = first(end), first(timeout)
        i_ecc = p if self.phase == "eccentric" else first(ecc)
        if self.phase == "concentric":
            i_hold = first(ts - t_last >= cfg.top_settle_s - TIME_EPS_S)
        else:
            i_hold = p
        # a new rise from a level below the top, before the rep is back at its rest level: the
        # rep never came back (e.g. getting into a hip thrust from standing); start again there
        i_watch = min(i_hold, i_ecc)
        i_rs, watch_min = n, self._watch_min
        if i_watch < n:
            sub = seg[i_watch - p :]
            start_min = self._watch_min if self.phase != "concentric" else np.inf
            cmin = np.fmin(np.fmin.accumulate(sub), start_min)
            rise = sub > cmin + self.thr_on
            # only a long "rep" (not a dip during the hold of a faulty rep, which a single
            # sensor sees as movement) is started again
            rise &= ts[i_watch - p :] - self._t_detect >= cfg.restart_after_s
            i_rs = first(np.concatenate([np.zeros(i_watch - p, bool), rise]))
            watch_min = float(cmin[min(i_rs, n - 1) - i_watch])
        stop = min(i_end, i_to, i_rs)
        if self.phase == "concentric" and i_hold < min(i_ecc, stop, n):
            self.phase = "hold"
            changes.append(PhaseChange(i_hold, "hold", self.rep))
        if self.phase != "eccentric" and i_ecc <= stop and i_ecc < n:
            self.phase = "eccentric"
            changes.append(PhaseChange(i_ecc, "eccentric", self.rep))
        self._watch_min = watch_min
        last_i = min(stop, n - 1) - p
        self._run_max = float(cmax[last_i])
        self._t_last_max = float(t_last[last_i])
        if stop == n:
            return n
        if i_end <= stop:
            self._trigger(t, m, lum, i_end)
            return i_end
        if i_to <= stop:
            log.info(
                "rep %s dropped: not back at rest %.0f s after it started (t=%.2f s)",
                self.rep,
                cfg.max_rep_s,
                float(t[i_to]),
            )
            self._to_rest(i_to, float(t[i_to]), changes)
            return i_to
        log.info(
            "rep %s dropped: a new rise began before it was back at rest (t=%.2f s)",
            self.rep,
            float(t[i_rs]),
        )
        self._start_rep(i_rs, t, ms, watch_min, self._t_idle_start, changes, events)
        return i_rs + 1

    def _fit_upto(self, t: np.ndarray, m: np.ndarray, lum: np.ndarray, i: int) -> None:
        """Fit the rep's phases from the buffer and the chunk up to sample ``i`` (inclusive);
        sets ``_fit`` and the lumbar peaks so far within the fitted rep."""
        bt = np.concatenate([*self._buf_t, t[: i + 1]])
        bm = np.concatenate([*self._buf_m, m[: i + 1]])
        bl = np.concatenate([*self._buf_l, lum[: i + 1]])
        t_from = max(self._rep_idle_start, self._t_detect - self.cfg.keep_s)
        j0 = int(np.searchsorted(bt, t_from))
        bt, bm, bl = bt[j0:], bm[j0:], bl[j0:]
        k_det = int(np.searchsorted(bt, self._t_detect))
        prev = self._prev_fit
        if prev is not None and prev.t_end_s < self._t_detect - self.cfg.keep_s:
            prev = None
        fit = fit_rep(bt, bm, k_det, self._rep_rest_ref, self.cfg, prev)
        self._fit = fit
        self._lum_max, self._lum_min = -np.inf, np.inf
        self._track_lumbar(bl[(bt >= fit.t_start_s) & (bt <= fit.t_end_s)])

    def _trigger(self, t: np.ndarray, m: np.ndarray, lum: np.ndarray, i: int) -> None:
        """The rep is back (below ``end_fraction``): fit it; the fit gives the end to wait for."""
        self._fit_upto(t, m, lum, i)
        self.state = ENDING

    def _scan_ending(
        self,
        t: np.ndarray,
        m: np.ndarray,
        lum: np.ndarray,
        p: int,
        changes: list[PhaseChange],
        events: list[RepOutput],
    ) -> int:
        """Wait for the fitted end, then emit the rep (its time is the fitted end, at or before
        this sample)."""
        assert self._fit is not None
        n = len(t)
        e = max(int(np.searchsorted(t, self._fit.t_end_s - TIME_EPS_S)), p)
        if e >= n:
            self._track_lumbar(lum[p:n])
            return n
        self._track_lumbar(lum[p:e])
        events.append(RepOutput(e, self._rep_ended(min(self._fit.t_end_s, float(t[e])))))
        self._to_rest(e, float(t[e]), changes)
        return e

    def _rep_ended(self, t_end_s: float) -> RepEnded:
        fit = self._fit
        assert fit is not None and self.rep is not None
        self.reps_done += 1
        self._prev_fit = fit
        amp = fit.top_deg - fit.rest_deg
        if amp > 0:
            self._amplitudes.append(amp)
            typical = statistics.median(self._amplitudes)
            self.thr_on = max(self.cfg.min_rise_deg, self.cfg.rise_fraction * typical)
        duration = t_end_s - fit.t_start_s
        return RepEnded(
            t_s=t_end_s,
            index=self.rep,
            t_start_s=fit.t_start_s,
            t_top_s=fit.t_top_s,
            t_hold_end_s=fit.t_hold_end_s,
            concentric_s=fit.t_top_s - fit.t_start_s,
            hold_s=fit.t_hold_end_s - fit.t_top_s,
            eccentric_s=t_end_s - fit.t_hold_end_s,
            peak_flexion_deg=max(0.0, self._lum_max),
            peak_extension_deg=max(0.0, -self._lum_min),
            alarmed=False,  # the Monitor fills this in from its alarms
            too_fast=duration < self.min_rep_s,
            judged=self.judged,
        )

    def finish(self) -> RepEnded | None:
        """End of stream: a rep already found back (waiting for its fitted end time) is ended at
        that time; a rep still out is dropped."""
        out = None
        if self.state == ENDING and self._fit is not None:
            out = self._rep_ended(self._fit.t_end_s)
        elif self.state == IN_REP:
            log.info("rep %s not finished at the end of the stream: not counted", self.rep)
        self.state = IDLE
        self.phase = "rest"
        self.rep = None
        return out

    # -- helpers -------------------------------------------------------------------------------
    def _to_rest(self, i: int, t_i: float, changes: list[PhaseChange]) -> None:
        self.state = IDLE
        self.phase = "rest"
        self.rep = None
        self._fit = None
        self._rest_ref = np.inf
        self._t_idle_start = t_i
        changes.append(PhaseChange(i, "rest", None))

    def _track_lumbar(self, x: np.ndarray) -> None:
        x = x[np.isfinite(x)]
        if len(x):
            self._lum_max = max(self._lum_max, float(x.max()))
            self._lum_min = min(self._lum_min, float(x.min()))

    def _trim(self, t_last: float) -> None:
        """Drop buffered samples no later decision can need."""
        if self.state == IDLE:
            t_from = t_last - self.cfg.keep_s
        else:
            t_from = self._t_detect - self.cfg.keep_s  # _trigger uses nothing older
        while self._buf_t and len(self._buf_t[0]) and self._buf_t[0][-1] < t_from:
            self._buf_t.pop(0)
            self._buf_m.pop(0)
            self._buf_l.pop(0)
        if len(self._buf_t) > 64:  # many small chunks: join them to keep concatenation cheap
            self._buf_t = [np.concatenate(self._buf_t)]
            self._buf_m = [np.concatenate(self._buf_m)]
            self._buf_l = [np.concatenate(self._buf_l)]
