"""Where a one-sensor hip thrust / glute bridge is judged: at lockout, held.

With one sacrum sensor the pelvis tilt is all there is: lowering the hips and arching the lower
back at the top both tilt the pelvis the same way. What tells them apart is that an
over-extended lockout happens with the hips up (the hold), while the way down is movement of the
hips. So the lumbar reading is judged only while the rep has reached its top (online phase
``hold`` or later, before it is back at rest), and either

- the reading is still: its range over the last ``STILL_WINDOW_S`` is at most
  ``STILL_RANGE_DEG`` (a controlled 2 s descent of a 20-60 deg thrust moves 10-30 deg/s, far
  beyond that), and the rep tracker is not waiting to know whether a deep level is a bottom; or
- the hips have been held up over that window (``height.HeightTracker.held``: moving slowly and
  not come down from the top), however the tilt moves. An arch begins as the hips reach the top
  and tilts the pelvis 10-15 deg in a few tenths of a second while the hips go 0.4-1.9 cm down
  at up to 10.4 cm/s; on the way down, when the tilt reaches the limit, the hips are at least
  2.7 cm down and going 14 cm/s or faster, and faster and further over the window after
  (simulated people, seeds 0-9). Here the reading judged is the level it held throughout the
  window (the one nearest 0).

Outside the samples judged the value is 0 (neutral), so an alarm also ends when the lifter
lowers the hips (``Monitor`` then judges nothing more until the reading is back within the
limit, less the hysteresis: one excursion, one alarm). The window is carried between chunks:
any chunking gives the same result. Holding still (or at a level) for the window is a dwell in
itself, so the ``Monitor`` adds only what the window lacks of the alarm dwell (nothing with the
default 0.15 s): a held arch alarms 0.15 s after the pelvis settles beyond the limit, or after
it went beyond the limit with the hips up. One-sensor alarm delay after the true crossing plus
the dwell (simulated people, ``benchmarks/bench_accuracy.py``, seeds 0-19, median / p90 / max
ms): stillness alone, hip thrust 120 / 184 / 200, bridge 130 / 201 / 250; with the hips held
up, -20 / 0 / 15 and -10 / 15 / 70.
"""

from __future__ import annotations

import numpy as np

from imu_monitor.events import Phase
from imu_monitor.processing.monitor.alarms import TIME_EPS_S
from imu_monitor.processing.monitor.reps import PhaseChange

TOP_PHASES = (Phase.HOLD, Phase.ECCENTRIC)
STILL_WINDOW_S = 0.15
"""How long the reading must have been still to be judged (s). One-sensor hip thrusts of
simulated people (``benchmarks/bench_accuracy.py``, 2026-12-06), alarm delay after the true
crossing plus the dwell, median / p90 ms over seeds 0-19, 100-119, 500-519, 3000-3019,
4000-4019 and 9000-9019: 225-255 / 285-305 at 0.3 s (1.5 deg), 145-180 / 206-227 at 0.2 s
(1 deg), 95-125 / 160-184 at 0.15 s (1 deg), with the same counts and alarms and no false
alarm in any. Seeds 0-19 only: 0.15 s at 0.75 deg 136 / 194 (a settling pelvis wobbles); 0.1 s
at 0.6 deg 144 / 212, and the bridge's worst 555 -> 610. (Measured before the windows reached
back over lost samples; with that, 0.15 s: 100-130 / 161-185.)"""
STILL_RANGE_DEG = 1.0
"""The reading's largest range over that window (deg): 6.7 deg/s on average."""


class LockoutGate:
    def __init__(
        self, still_window_s: float = STILL_WINDOW_S, still_range_deg: float = STILL_RANGE_DEG
    ) -> None:
        self.still_window_s = still_window_s
        self.still_range_deg = still_range_deg
        self._tail_t = np.zeros(0)
        self._tail_v = np.zeros(0)
        self._tail_up = np.zeros(0)
        self.last_judged = False
        """Whether the latest sample was judged (at a held lockout)."""

    def judged(
        self,
        t: np.ndarray,
        lum: np.ndarray,
        phase0: str,
        changes: list[PhaseChange],
        waiting: np.ndarray | None = None,
        hips_held: np.ndarray | None = None,
    ) -> np.ndarray:
        """The lumbar reading where it is judged, 0 elsewhere (arrays of shape (n,)).
        ``waiting``: (n,) bool, samples where the rep tracker does not know yet whether the
        hips came down (``RepTracker.process``): not judged. ``hips_held``: (n,) bool, where the
        hips are held up (``height.HeightTracker.held``; None: not known): a window of them is
        a held lockout too, and there the reading judged is the level held throughout the
        window (the one nearest 0), so that only a reading beyond a limit for the whole window
        alarms."""
        n = len(t)
        at_top = np.zeros(n, bool)
        phase, start = phase0, 0
        for ch in [*changes, PhaseChange(n, "", None)]:
            at_top[start : ch.index] = phase in TOP_PHASES
            phase, start = ch.phase, ch.index
        up = np.zeros(n) if hips_held is None else np.asarray(hips_held, dtype=np.float64)
        all_t = np.concatenate([self._tail_t, t])
        all_v = np.concatenate([self._tail_v, lum])
        all_up = np.concatenate([self._tail_up, up])
        k = len(self._tail_t)
        # each window reaches back to the last sample at or before its start: across lost
        # samples it spans the gap, whose two sides differ if the pelvis moved meanwhile
        back = all_t[k:] - self.still_window_s
        first = np.maximum(np.searchsorted(all_t, back + TIME_EPS_S, side="right") - 1, 0)
        out = np.zeros(n)
        top = np.flatnonzero(at_top)  # only samples at the top need the windows
        lo, hi = first[top], k + top + 1
        # NaN or inf in a window makes its range NaN or inf: not still
        high, low = window_extremes(all_v, lo, hi)
        with np.errstate(invalid="ignore"):
            judged = high - low <= self.still_range_deg
        if waiting is not None:
            judged &= ~waiting[top]
        out[top[judged]] = lum[top[judged]]
        if hips_held is not None:
            # held up over the whole window (one reaching back before the data is not): the
            # hips are not down, whatever the tilt says (``waiting`` does not apply)
            reach = all_t[lo] <= back[top] + TIME_EPS_S
            held = (window_extremes(all_up, lo, hi)[1] == 1.0) & reach
            level = np.where(low > 0.0, low, np.where(high < 0.0, high, 0.0))
            by_hips = held & ~judged & np.isfinite(level)
            out[top[by_hips]] = level[by_hips]
            judged |= by_hips
        if len(all_t):  # the next chunk's windows reach back to the sample before their start
            kk = max(int(np.searchsorted(all_t, all_t[-1] - self.still_window_s)) - 1, 0)
            self._tail_t, self._tail_v = all_t[kk:], all_v[kk:]
            self._tail_up = all_up[kk:]
        if n:  # (the last sample is judged only if it is at the top)
            self.last_judged = bool(len(top) and top[-1] == n - 1 and judged[-1])
        return out


def window_range(v: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``v[lo[i]:hi[i]].max() - v[lo[i]:hi[i]].min()`` for every i (``hi > lo``; NaN in a window
    gives NaN)."""
    mx, mn = window_extremes(v, lo, hi)
    with np.errstate(invalid="ignore"):  # inf - inf: NaN, as wanted
        return mx - mn


def window_extremes(v: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``v[lo[i]:hi[i]].max()`` and ``.min()`` for every i (``hi > lo``; NaN in a window gives
    NaN). Vectorised with a sparse table: the maxima and minima over spans of 1, 2, 4, ...
    samples; a window is covered by two (overlapping) spans of the largest power of two that fits
    in it. Exact: max and min do not round."""
    length = hi - lo
    top, bottom = np.empty(len(lo)), np.empty(len(lo))
    if len(lo) == 0:
        return top, bottom
    level = np.frexp(length)[1] - 1  # floor(log2(length))
    mx, mn = v, v
    for j in range(int(level.max()) + 1):
        if j:  # spans of 2**j samples starting at each index
            half = 1 << (j - 1)
            mx = np.maximum(mx[:-half], mx[half:])
            mn = np.minimum(mn[:-half], mn[half:])
        sel = np.flatnonzero(level == j)
        if len(sel):
            a, b = lo[sel], hi[sel] - (1 << j)
            top[sel] = np.maximum(mx[a], mx[b])
            bottom[sel] = np.minimum(mn[a], mn[b])
    return top, bottom
