"""Phase boundaries at movement onset and offset, as biomechanics times a movement.

A rep is two movements: the rise (concentric) and the lowering (eccentric), each with its own
peak speed. A movement *starts* where the speed of the rep signal first rises above
``onset_fraction`` of that movement's peak speed and *ends* where it falls back below it, the
usual definition in motor-control and velocity-based-training work (thresholds of 2-10 % of the
peak are in use; 5 % here).

The crossing is found higher up, at ``detect_fraction`` (8 %), and extrapolated from there down
to the 5 % along the speed's slope (a line through the speed between the crossing and where it
reaches twice the level): the segment a rep is timed from moves a little by itself at rest, and
breathing turned the thorax of a simulated bridge at 5-8 % of the bridge's peak speed for up to
0.7 s after the legs had stopped, which a 5 % crossing counted into the lowering. Where the speed
lingers near the detection level instead of rising from it (``LINGER_RATIO``: a person slower
than the tempo breathes through a 3-4 s hold, at 7-9 % of the lowering's peak speed), the
boundary is found at twice the level and extrapolated the same way. Near its ends
a smooth (minimum-jerk) movement's speed is close to a parabola, so the extrapolation lands
within ~1 % of the movement's duration of the 5 % crossing (a few ms early at an offset, late
at an onset).

Against noise and pauses the threshold has hysteresis and a minimum duration: the speed is
below the detection threshold for a boundary only if it then stays below ``confirm_fraction``
(12 %) of the peak for at least ``min_phase_s`` (before an onset, after an offset); a shorter
dip, or one the speed comes back above 12 % from within that time, is a wobble inside the
movement. The hold is the time between the rise's end and the lowering's start (0 when they
touch).

The speed is the slope of a line fitted through the ``velocity_smooth_s`` around each sample
(a Savitzky-Golay derivative): without it, sensor noise at 200 Hz would cross 5 %
of a slow movement's peak anywhere. Where the signal is noisier than that (a small rep signal),
the threshold is raised further, above the noise measured at rest (``NOISE_FLOOR``), and
extrapolated the same way. The noise is measured in the rest before the rep; reps that follow
each other with almost no rest (touch-and-go) keep the last rep's measure (``MIN_REST_S``).
Where another angle is known to leak into the rep signal (``RepConfig.lumbar_leak``: the
pelvis' axial turn in a back kick), the session's estimate of that leak (``leak``) times that
angle's speed is taken off the speed, and the speed that a further fraction of it explains (what
the estimate may be off by) is not counted before the thresholds (the peak stays the signal's
own).
"""

from __future__ import annotations

import numpy as np

from imu_monitor.processing.monitor.config import RepConfig
from imu_monitor.processing.monitor.fit import RepFit
from imu_monitor.processing.monitor.leak import LeakEstimate

LINGER_RATIO = 2.0
"""Where the speed takes more than this many times as long to get from the detection level to
twice it as from there to four times it, it lingered near the level rather than leaving rest (a
minimum-jerk movement takes 0.6 times as long): breathing turned the thorax at 7-9 % of a slow
lowering's peak speed for up to a second of the hold before it. The boundary is then found at
twice the level and extrapolated down the same way."""
LINGER_MIN_SAMPLES = 3
"""... judged only where the second climb spans at least this many samples: at 10 Hz each climb
is a sample or none, and their ratio says nothing (a one-sensor back kick's worst phase of a rep
not flagged went 218 -> 264 ms there)."""
MAX_DETECT_FRACTION = 0.16
"""... at most this share of the peak (one doubling): extrapolating from higher up costs about
1.4 % of the movement's duration (44 ms of a 3.2 s lowering)."""

NOISE_FLOOR = 3.0
"""The onset threshold is at least this many times the speed's noise (its robust spread at rest
before the rep); the confirm level twice that: a noisy signal's boundaries come a little later
rather than at random."""
NOISE_BLOCK_S = 0.25
"""The speed's noise: the robust spread of its quietest block of this length (``_speed_noise``)."""
MIN_REST_S = 2 * NOISE_BLOCK_S
"""... measured only where the rest before the rep holds at least this long (two blocks); a
shorter rest is the end of the last movement and the start of the next: a touch-and-go hip thrust
(0.25-0.5 s at the bottom) measured a too-fast rep's lowering there as "noise" (15 deg/s), raised
the next rep's thresholds above its own lowering and timed that 2 s lowering as 0 s. The last
measure is kept then."""


PELVIS_GAP_S = 0.15
"""With two sensors in a hip thrust or bridge (``RepConfig.pelvis_check``) the rep signal is the
trunk's turn, which breathing and the spine's own small moves turn too: at the end of a hold the
spine's tilt and a breath turned it at 8-11 % of the lowering's peak speed for 0.6 s, rising
steadily into the lowering, which was timed from there, 0.37 s early in a simulated bridge (a
person 40 % slower than the tempo: 0.44 s). The pelvis' turn (the rep signal plus the lumbar
angle) is a second view of the hips' movement that breathing hardly moves. Where the pelvis'
rise ends more than this before the trunk's, or its lowering starts more than this after the
trunk's, the hold is the pelvis' (a hip movement turns both segments; one of them turning alone
is not the hips). Within it the trunk's boundaries stand: the pelvis starts its lowering a
little later and ends its rise a little earlier than the thigh does (always taking the pelvis'
added 5 ms to the median phase error)."""
PELVIS_CALM_DEG = 4.0
"""... only in a rep whose lumbar angle ranges less than this (good form: the pelvis tilts 1-3
deg with each rep): an arch at the top turns the pelvis by itself, and that rep keeps the
trunk's boundaries."""
PELVIS_PEAK_SHARE = 0.5
"""... and whose pelvis reaches at least this share of the trunk's peak speed in each movement
(else the pelvis' view is not the same movement)."""


def rep_velocity(t_s: np.ndarray, m_deg: np.ndarray, cfg: RepConfig) -> np.ndarray:
    """The rep signal's speed (deg/s, shape (n,)): the slope of a least-squares line through
    the ``velocity_smooth_s`` around each sample (a Savitzky-Golay first derivative; edges
    held, NaN filled from the last finite value), for the mean sample interval."""
    n = len(t_s)
    if n < 3 or not t_s[-1] > t_s[0]:
        return np.zeros(n)
    x = np.asarray(m_deg, dtype=np.float64)
    bad = ~np.isfinite(x)
    if bad.any():
        if bad.all():
            return np.zeros(n)
        idx = np.where(bad, -1, np.arange(n))
        idx = np.maximum.accumulate(idx)
        first = int(np.flatnonzero(~bad)[0])
        x = np.where(idx >= 0, x[np.maximum(idx, 0)], x[first])
    steps = np.diff(t_s)
    dt = float(np.median(steps))
    if not dt > 0:
        return np.zeros(n)
    uneven = bool(steps.max() > 1.5 * dt or steps.min() < 0.5 * dt)
    tu = t_s
    if uneven:  # lost samples: differentiate on an even grid, then back at the samples' times
        tu = t_s[0] + dt * np.arange(int((t_s[-1] - t_s[0]) / dt) + 1)
        x = np.interp(tu, t_s, x)
    h = max(1, int(round(0.5 * cfg.velocity_smooth_s / dt)))
    k = np.arange(-h, h + 1, dtype=np.float64)
    w = k / (float(np.dot(k, k)) * dt)
    ext = np.concatenate([np.full(h, x[0]), x, np.full(h, x[-1])])
    v = np.correlate(ext, w, mode="valid")
    return np.interp(t_s, tu, v) if uneven else v


def _cross(t: np.ndarray, s: np.ndarray, i: int, j: int, level: float) -> float:
    """Time between samples i and j where ``s`` crosses ``level`` (linear)."""
    if s[j] == s[i]:
        return float(t[j])
    f = (level - s[i]) / (s[j] - s[i])
    return float(t[i] + min(max(f, 0.0), 1.0) * (t[j] - t[i]))


def _reach(t: np.ndarray, s: np.ndarray, i: int, k: int, level: float, nominal: float) -> float:
    """How long the speed takes between ``nominal`` and ``level`` at the crossing next to
    sample ``i``: extrapolated along the line fitted through the speed between the crossing and
    where it reaches twice ``level`` (towards the peak at ``k``); 0 when that is not rising."""
    j = _reaches(s, i, k, 2.0 * level)
    a, b = (i, j) if k >= i else (j, i)
    if b - a < 2:
        return 0.0
    tt, ss = t[a : b + 1], s[a : b + 1]
    tc = tt - tt.mean()
    den = float(np.dot(tc, tc))
    slope = abs(float(np.dot(tc, ss - ss.mean())) / den) if den > 0 else 0.0
    return (level - nominal) / slope if slope > 0 else 0.0


def movement_bounds(
    t: np.ndarray,
    s: np.ndarray,
    k: int,
    lo: int,
    hi: int,
    cfg: RepConfig,
    noise: float = 0.0,
    floor: np.ndarray | None = None,
) -> tuple[float, float]:
    """Onset and offset (s) of the movement whose speed ``s`` (signed so that the movement is
    positive) peaks at sample ``k``, searched within samples ``[lo, hi)`` (the module
    docstring's thresholds, never below ``NOISE_FLOOR`` times the speed's ``noise``). Where the
    speed never drops below the threshold within the range, the range's end is the boundary.
    ``floor``: speed per sample that is not the movement's (taken off before the thresholds;
    the peak is the speed's own)."""
    peak = float(s[k])
    if floor is not None:
        s = s - floor
    nominal = cfg.onset_fraction * peak
    level = max(nominal, cfg.detect_fraction * peak, NOISE_FLOOR * noise)
    confirm = max(cfg.confirm_fraction * peak, 2.0 * NOISE_FLOOR * noise)
    levels = (level, confirm, nominal, peak)
    return _bound(t, s, k, (lo, hi), -1, levels, cfg), _bound(t, s, k, (lo, hi), 1, levels, cfg)


def _bound(
    t: np.ndarray,
    s: np.ndarray,
    k: int,
    span: tuple[int, int],
    step: int,
    levels: tuple[float, float, float, float],
    cfg: RepConfig,
) -> float:
    """The onset (``step`` -1) or offset (``step`` 1) of the movement peaking at ``k``, within
    samples ``span`` (lo, hi). ``levels``: (detection level, confirm level, nominal level, peak
    speed): found at the detection level and extrapolated down to the nominal
    (``movement_bounds``); where the speed lingers near the detection level (``LINGER_RATIO``) it
    is found again at twice that level, up to ``MAX_DETECT_FRACTION`` of the peak."""
    level, confirm, nominal, peak = levels
    lo, hi = span
    while True:
        i = _crossing(t, s, k, span, step, (level, confirm), cfg)
        if i is None:
            return float(t[lo]) if step < 0 else float(t[hi - 1])
        if 2.0 * level <= MAX_DETECT_FRACTION * peak * (1.0 + 1e-9):
            j2 = _reaches(s, i, k, 2.0 * level)
            j4 = _reaches(s, j2, k, 4.0 * level)
            to_twice, then = abs(float(t[j2] - t[i])), abs(float(t[j4] - t[j2]))
            resolved = abs(j4 - j2) >= LINGER_MIN_SAMPLES
            if s[j4] >= 4.0 * level and resolved and to_twice > LINGER_RATIO * then:
                # (the confirm level stays 1.5 times the detection level, as 12 % to 8 %)
                level, confirm = 2.0 * level, max(confirm, 3.0 * level)
                continue
        inner = i - step  # the sample next to the crossing on the movement's side
        bound = _cross(t, s, min(i, inner), max(i, inner), level)
        if level > nominal:  # found higher up: extrapolate down to the nominal, away from k
            bound += step * _reach(t, s, inner, k, level, nominal)
        return min(max(bound, float(t[lo])), float(t[hi - 1]))


def _reaches(s: np.ndarray, i: int, k: int, level: float) -> int:
    """The first sample from ``i`` towards the peak at ``k`` where ``s`` reaches ``level``
    (``k`` if none before it)."""
    step = 1 if k >= i else -1
    j = i
    while j != k and s[j] < level:
        j += step
    return j


def _crossing(
    t: np.ndarray,
    s: np.ndarray,
    k: int,
    span: tuple[int, int],
    step: int,
    levels: tuple[float, float],
    cfg: RepConfig,
) -> int | None:
    """The sample at the boundary, None where the speed never drops below ``level`` within
    ``span`` (lo, hi); ``levels``: (level, confirm). For an onset (``step`` -1) the last sample
    below ``level`` before ``k`` that the speed stayed below ``confirm`` for ``min_phase_s``
    before; for an offset (``step`` 1) the first after ``k`` it stays below ``confirm`` for
    ``min_phase_s`` after. A dip that the speed comes back above ``confirm`` from within that
    time is a pause inside the movement."""
    (lo, hi), (level, confirm) = span, levels
    if step < 0:
        i = k
        while i > lo:
            below = np.flatnonzero(s[lo:i] < level)
            if len(below) == 0:
                return None
            a = lo + int(below[-1])  # the last sample below the level before i
            w0 = int(t.searchsorted(t[a] - cfg.min_phase_s))
            loud = np.flatnonzero(s[max(w0, lo) : a + 1] >= confirm)
            if len(loud) == 0:
                return a
            i = max(w0, lo) + int(loud[-1])  # a pause within the movement: look before it
        return None
    j = k
    while j < hi - 1:
        below = np.flatnonzero(s[j + 1 : hi] < level)
        if len(below) == 0:
            return None
        b = j + 1 + int(below[0])
        w1 = int(t.searchsorted(t[b] + cfg.min_phase_s, "right"))
        loud = np.flatnonzero(s[b : min(w1, hi)] >= confirm)
        if len(loud) == 0:
            return b
        j = b + int(loud[0])
    return None


def _speed_noise(t: np.ndarray, v: np.ndarray, rest_s: float) -> float | None:
    """The speed's noise at rest: the robust spread (1.4826 x median absolute deviation) of the
    quietest ``NOISE_BLOCK_S`` of the rest before the rep (``v``: its speed; it may hold other
    movement, e.g. getting into position); 0 without a block of samples; None where the rest
    lasted ``rest_s`` < ``MIN_REST_S``."""
    if rest_s < MIN_REST_S:
        return None
    n = len(v)
    if n < 10 or not t[-1] > t[0]:
        return 0.0
    per = max(10, int(NOISE_BLOCK_S * (len(t) - 1) / float(t[-1] - t[0])))
    if n < per:
        return 0.0
    blocks = v[: (n // per) * per].reshape(-1, per)
    med = np.median(blocks, axis=1, keepdims=True)
    return 1.4826 * float(np.median(np.abs(blocks - med), axis=1).min())


def onset_fit(
    t: np.ndarray,
    m: np.ndarray,
    fit: RepFit,
    t_from: float,
    cfg: RepConfig,
    lumbar: np.ndarray | None = None,
    last_noise: float = 0.0,
    leak: LeakEstimate | None = None,
) -> tuple[RepFit, float]:
    """The rep's phase boundaries at movement onset / offset (``t``, ``m``: the rest before the
    rep, the rep and the samples after its end; ``fit``: the tangent fit, which says where each
    movement's peak speed is looked for; ``t_from``: no boundary before it, the previous rep's
    end; ``lumbar``: the lumbar angle at the same samples, for ``cfg.lumbar_leak``;
    ``last_noise``: the speed's noise measured before the last rep; ``leak``: the session's
    estimate of the lumbar angle's leak into ``m``, whose share is taken off the speed first, the
    allowance then covering what the estimate leaves). Without a rising and a falling peak speed
    the tangent fit is kept. Returns the fit and the speed's noise used (the next rep's
    ``last_noise``)."""
    n = len(t)
    if n < 5:
        return fit, last_noise
    v = rep_velocity(t, m, cfg)
    pad = cfg.min_phase_s
    lo = int(t.searchsorted(t_from, "right")) if t_from == t_from else 0
    lo = min(lo, n - 1)

    def span(t0: float, t1: float) -> tuple[int, int]:
        a = max(int(t.searchsorted(t0 - pad)), lo)
        b = int(t.searchsorted(t1 + pad, "right"))
        return a, max(b, a + 1)

    a, b = span(fit.t_start_s, fit.t_top_s)
    c, d = span(fit.t_hold_end_s, fit.t_end_s)
    if a >= n or c >= n:
        return fit, last_noise
    floor = None
    if cfg.lumbar_leak > 0 and lumbar is not None:
        v_lumbar = rep_velocity(t, lumbar, cfg)
        if leak is not None:
            dt = float(t[-1] - t[0]) / (n - 1)
            seen = lumbar[a:d][np.isfinite(lumbar[a:d])]
            moved = float(np.ptp(seen)) if len(seen) else 0.0
            v = v - leak.for_rep(v[a:d], v_lumbar[a:d], dt, moved) * v_lumbar
        floor = cfg.lumbar_leak * np.abs(v_lumbar)
    measured = _speed_noise(t, v[lo:a], float(t[a] - t[lo]))
    noise = last_noise if measured is None else measured
    k_up = a + int(np.argmax(v[a:b]))
    k_dn = c + int(np.argmin(v[c:d]))
    if not (v[k_up] > 0 and v[k_dn] < 0 and k_up < k_dn):
        return fit, noise
    start, top = movement_bounds(t, v, k_up, lo, k_dn + 1, cfg, noise, floor)
    hold_end, end = movement_bounds(t, -v, k_dn, k_up, n, cfg, noise, floor)
    if cfg.pelvis_check and lumbar is not None:
        top, hold_end = _pelvis_hold(
            t, m + lumbar, lumbar, v, (k_up, k_dn), (lo, a, b, c, d), (top, hold_end), cfg, noise
        )
    if hold_end < top:  # the movements touch: no hold, the turn where the speed changes sign
        flip = k_up + int(np.flatnonzero(v[k_up : k_dn + 1] <= 0)[0])
        top = hold_end = _cross(t, v, flip - 1, flip, 0.0)
    fitted = RepFit(
        start, top, hold_end, max(end, hold_end), fit.rest_deg, fit.top_deg, fit.rise, fit.fall
    )
    return fitted, noise


def _pelvis_hold(
    t: np.ndarray,
    pelvis: np.ndarray,
    lumbar: np.ndarray,
    v: np.ndarray,
    peaks: tuple[int, int],
    spans: tuple[int, int, int, int, int],
    hold: tuple[float, float],
    cfg: RepConfig,
    noise: float,
) -> tuple[float, float]:
    """The hold (top, hold end) checked against the pelvis' turn (``PELVIS_GAP_S``):
    ``pelvis``: its turn at the samples ``t``; ``v``: the rep signal's speed, peaking at
    ``peaks`` (rise, lowering); ``spans``: (``lo``, and the two movements' search ranges
    ``a:b``, ``c:d``); ``hold``: the rep signal's top and hold end; ``noise``: the rep signal's
    speed noise, kept where the rest before the rep is too short to measure the pelvis'."""
    top, hold_end = hold
    k_up, k_dn = peaks
    lo, a, b, c, d = spans
    seen = lumbar[a:d][np.isfinite(lumbar[a:d])]
    if not len(seen) or float(np.ptp(seen)) >= PELVIS_CALM_DEG:
        return hold
    vp = rep_velocity(t, pelvis, cfg)
    j_up = a + int(np.argmax(vp[a:b]))
    j_dn = c + int(np.argmin(vp[c:d]))
    same = vp[j_up] > PELVIS_PEAK_SHARE * v[k_up] and -vp[j_dn] > PELVIS_PEAK_SHARE * -v[k_dn]
    if not same or j_up >= j_dn:
        return hold
    measured = _speed_noise(t, vp[lo:a], float(t[a] - t[lo]))
    p_noise = noise if measured is None else measured
    p_top = movement_bounds(t, vp, j_up, lo, j_dn + 1, cfg, p_noise)[1]
    p_hold_end = movement_bounds(t, -vp, j_dn, j_up, len(t), cfg, p_noise)[0]
    if top - p_top > PELVIS_GAP_S:
        top = p_top
    if p_hold_end - hold_end > PELVIS_GAP_S:
        hold_end = p_hold_end
    return top, hold_end


def end_wait_s(fit: RepFit, cfg: RepConfig) -> float:
    """How long after the tangent fit's end to wait for the lowering's offset to be in the
    samples: the offset of a smooth (minimum-jerk-like) lowering comes about a third of the
    tangent fall's duration after its end; then the offset must be confirmed quiet
    (``min_phase_s``) and the smoothing needs half its window."""
    fall_s = max(fit.t_end_s - fit.t_hold_end_s, 0.0)
    w = min(max(cfg.end_wait_fraction * fall_s, cfg.end_wait_min_s), cfg.end_wait_max_s)
    return w + cfg.min_phase_s + 0.5 * cfg.velocity_smooth_s
