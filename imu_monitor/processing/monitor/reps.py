"""Rep segmentation and tempo phases from the movement signal, over chunks of samples.

The movement signal (``movement_deg``) is higher towards the top of the movement; its rest level
is not assumed to be 0 (a hip thrust rests near -50 deg with the top calibrated at 0).

Detection (causal, on a ``smooth_n``-sample moving average; the alarm path never waits for it):

- *rest*: the rest reference is the running minimum of the signal since the rest began (it
  follows the signal down at once, e.g. from the calibration at the top of a hip thrust down to
  the bottom). A rep *starts* when the signal rises ``thr_on`` above it, where ``thr_on`` is
  ``min_rise_deg`` or ``rise_fraction`` of the typical amplitude of the last reps, whichever is
  larger: the RepStarted event fires at that sample.
- *in a rep*, the online phase (for the status and for AlarmStarted.phase) is *concentric* until
  the running maximum has not grown for ``top_settle_s`` (*hold*), and *eccentric* once the signal
  is ``eccentric_fraction`` of the amplitude (at least ``thr_on / 2``) below the maximum.
- the rep is *back* when the signal falls below ``end_fraction`` of the amplitude above the rest
  reference, or has come ``settle_depth`` of it down from the top and has stopped falling
  (less than ``settle_fraction`` of it over ``settle_s``: a shallower bottom). The online phase
  is *rest* from there (a pause at the bottom is never a hold, so never judged as a lockout).
  The tangent fit (``fit_rep``) then says where the movements are and how long to wait for the
  lowering's offset (``onset.end_wait_s``; a new rise ends the wait early, and it goes on while
  the signal, below the rest the rep rose from, still falls faster than ``confirm_fraction``
  of the lowering's speed: a bottom deeper than that rest, which the fit's end does not
  reach); the phase
  boundaries are timed at movement onset / offset (``onset.onset_fit``) and the RepEnded event
  fires at that sample, its time the offset (events stay in time order).
- one sensor in a hip thrust or bridge (``height_check``): the rep signal is the pelvis' tilt,
  which an arched lockout moves as far as a shallower bottom. There, any level settled
  ``height_settle_depth`` off the top is a bottom if the hips' height (``processing.height``) came
  down (below ``HIPS_DOWN_FRACTION`` of the rep's rise), and not one if it did not; in a rep
  that rose from a bottom, a level settled only ``height_down_depth`` off the top is one if the
  hips are known to be down (a shallow bottom after an arched lockout); until the height is
  known ``height_settle_depth`` off the top (the hips still for ``height.CONFIRM_S``, or turning
  back up at a touch-and-go bottom: ``height.TURN_MIN_DEG``) the samples that far off the top are
  not judged as a lockout (the ``process`` result's wait mask). An arch can even take the
  tilt back to the rest level of a shallow bottom: a rep back there by its tilt alone waits up
  to ``height_confirm_s`` for the hips' height before it ends, and if they are up it goes on
  from its hold (``_scan_ending``; a new rise ends the wait).
- a rep that has gone on for ``restart_after_s`` and rises again from a level below its top is
  dropped and a new rep starts there (a session that begins with a move into position); once
  reps are known, only past ``restart_after_reps`` times their duration (a slower person's arch
  held at the top ends with such a rise). A rep that does not come back within ``max_rep_s`` is
  dropped too. A dropped rep gets no RepEnded; its index is used again by the next RepStarted.

The tangent fit itself is in ``fit``, the onset / offset timing in ``onset``. (Over 400 lines:
the detector's states share their carried state; split, they would pass it back and forth.)
Every decision depends only on the samples up to the one being decided and on the carried
state, so any chunking gives the same events as the whole array at once.
"""

from __future__ import annotations

import logging
import math
import statistics
from collections import deque
from dataclasses import dataclass

import numpy as np

from imu_monitor.events import Phase, RepEnded, RepStarted
from imu_monitor.processing.monitor.alarms import TIME_EPS_S
from imu_monitor.processing.monitor.config import RepConfig
from imu_monitor.processing.monitor.fit import RepFit, fit_line, fit_rep, time_slice
from imu_monitor.processing.monitor.leak import LeakEstimate
from imu_monitor.processing.monitor.onset import end_wait_s, onset_fit

log = logging.getLogger(__name__)

IDLE, IN_REP, ENDING = 0, 1, 2
DOWN, UP, MOVING = "down", "up", "moving"
"""Where the hips are at a settled level (``RepTracker._hips``)."""
MIN_RISE_M = 0.03
"""A rise of the hips under this (3 cm) decides nothing (``RepTracker._hips``)."""
HIPS_DOWN_FRACTION = 0.5
"""The hips are back down below this fraction of the rep's rise. ``benchmarks/bench_height.py``
on simulated bridges (bottoms 15 % shallower or deeper than the last, arches of 9-15 deg): a
bottom at most 0.27 of the rise up (true 0.24), an arch's hold at least 0.65 of the session's
typical rise (true 0.84; 0.80 in a hip thrust)."""
RISE_PER_RAD_M = 0.3
"""Before any rise is known (the session's first rep, held nowhere near its top), the hips' rise
is taken as this (m) per radian of the rep's tilt: the sacrum turns about the shoulders' support
(0.35-0.5 m away in adults) across a trunk inclination whose cosine is 0.8-0.95, so 0.28-0.47
m/rad; near the least of that. A bottom (at most 0.27 of the true rise) stays under
``HIPS_DOWN_FRACTION`` of the estimate and an arch's hold (0.65 of it or more) over it for a
true 0.23-0.55 m/rad (the simulated people: 0.24-0.30 in a hip thrust, 0.35-0.43 in a bridge).
Without it, such a rep's arch was a bottom: the rep split in two."""
SCAN_SPAN = 1024
"""Samples a scan looks ahead at first (``RepTracker.process``)."""


Columns = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""A stretch of samples: time, rep signal, lumbar angle, the hips' height."""


@dataclass
class PhaseChange:
    """The online phase from sample ``index`` (into the chunk) on."""

    index: int
    phase: Phase
    rep: int | None


@dataclass
class RepOutput:
    """A rep event found in a chunk, at sample ``index`` (into the chunk)."""

    index: int
    event: RepStarted | RepEnded


class RepTracker:
    """Rep segmentation state carried between chunks (see the module docstring).

    ``min_rep_s``: a rep shorter than this (fitted start to end) is flagged too fast.
    ``judged``: copied into RepEnded.judged. ``height_check``: the rep signal is the pelvis'
    tilt and ``process`` gets the sensor's height (``processing.height``): a settled level is a
    bottom only if the hips came down, so an arched lockout is not one.
    """

    def __init__(
        self, cfg: RepConfig, min_rep_s: float, judged: str, height_check: bool = False
    ) -> None:
        self.cfg = cfg
        self.min_rep_s = float(min_rep_s)
        self.judged = judged
        self.height_check = height_check
        self._recheck_t = -np.inf
        """A settled level where the hips were up (or moving) is looked at again from then on."""
        self._rises: deque[float] = deque(maxlen=cfg.amplitude_memory)
        """The hips' rise in recent reps (m), for a rep without a still moment at its top."""
        self._waiting_now = False
        """Waiting to know where the hips are at the latest sample (``_height_end``)."""
        self._off_top = False
        """Whether the latest sample was well off the rep's top (``height_settle_depth``)."""
        self._wait_mask = np.zeros(0, bool)
        """The chunk being processed: its samples where the tracker waits (``process``)."""
        self.state = IDLE
        self.phase = Phase.REST
        self.rep: int | None = None
        self.reps_done = 0
        self._amplitudes: deque[float] = deque(maxlen=cfg.amplitude_memory)
        self._durations: deque[float] = deque(maxlen=cfg.amplitude_memory)
        """Recent reps' durations (s), for ``restart_after_reps``."""
        self.thr_on = float(cfg.min_rise_deg)
        # rest
        self._rest_ref = np.inf
        self._t_idle_start = -np.inf
        self._seen_max = -np.inf
        """Highest (smoothed) level seen before the first rep ended (``_from_bottom``)."""
        # in a rep
        self._rep_rest_ref = 0.0
        self._from_bottom = False
        """The rep rose from a rest the signal had come down into (from the calibration at the
        top of a hip thrust): that rest is a bottom, so ``settle_depth`` ends the rep even
        before any rep is known (``first_settle_depth`` is for a rise from where the signal
        began: a move into position from standing)."""
        self._rep_idle_start = -np.inf
        self._t_detect = 0.0
        self._run_max = -np.inf
        self._t_last_max = 0.0
        self._watch_min = np.inf
        """Lowest (smoothed) level since the rep reached its top (hold or eccentric)."""
        # ending
        self._t_wait = 0.0
        """The rep ends at the first sample at or after this (``onset.end_wait_s``)."""
        self._end_min = np.inf
        """Lowest (smoothed) level while ending: the rest reference after it."""
        self._end_rep: int | None = None
        """Index of the rep that is ending (its online phase is rest already)."""
        self._rise_kept = False
        """``_trigger`` kept the rep's rise (``_rises``)."""
        self._confirm_by = math.inf
        """``height_check``: the rep came back by its tilt alone (``low``); until this time (s)
        the hips' height may still say they are up (``_scan_ending``)."""
        self._fit: RepFit | None = None
        self._prev_fit: RepFit | None = None
        self._speed_noise = 0.0
        """The rep signal's speed noise at the last rest long enough to measure it
        (``onset.MIN_REST_S``)."""
        self.leak = LeakEstimate() if cfg.lumbar_leak > 0 else None
        """Where the lumbar angle leaks into the rep signal (``RepConfig.lumbar_leak``): the
        session's estimate of that leak, from the reps so far (``leak``)."""
        self._lum_max = -np.inf
        self._lum_min = np.inf
        # recent samples (rest before the rep and the rep): lists of arrays
        self._buf_t: list[np.ndarray] = []
        self._buf_m: list[np.ndarray] = []
        self._buf_l: list[np.ndarray] = []
        self._buf_h: list[np.ndarray] = []
        self._t_prev = -np.inf
        """Time of the last sample of the previous chunk."""
        self._tail_t = np.zeros(0)
        self._tail_s = np.zeros(0)
        """The smoothed signal's last ``2 settle_s`` before this chunk (the settled test)."""
        self._tail: np.ndarray | None = None
        """The last ``smooth_n - 1`` (NaN-filled) samples, for the moving average."""
        self._last_finite = 0.0

    # -- chunk processing ----------------------------------------------------------------------
    def process(
        self,
        t_s: np.ndarray,
        m_deg: np.ndarray,
        lumbar_deg: np.ndarray,
        height_m: np.ndarray | None = None,
    ) -> tuple[list[PhaseChange], list[RepOutput], np.ndarray]:
        """Run the detector over one chunk (all arrays shape (n,)); returns the online phase
        changes and the rep events, each in sample order, and where it waited to know whether
        the hips came down ((n,) bool; the lockout is not judged there): with
        ``height_check`` until their height tells, otherwise at a level deep enough to end the
        rep until it has settled there. ``height_m``: for
        ``height_check``, the hips' height at still samples, NaN elsewhere
        (``height.HeightTracker``; None: not known)."""
        n = len(t_s)
        self._wait_mask = np.zeros(n, bool)
        if height_m is None:
            height_m = np.full(n, np.nan)
        changes: list[PhaseChange] = []
        events: list[RepOutput] = []
        ms = self._smooth(m_deg)
        p, span = 0, SCAN_SPAN
        while p < n:
            # scan a window, not the rest of the chunk, for the next decision: a long chunk holds
            # many reps, and re-scanning all of it for each would cost O(chunk) per rep. A window
            # end is a chunk end to the scanners (any chunking gives the same events); the window
            # doubles while nothing happens in it.
            q = min(n, p + span)
            t, m, s = t_s[:q], m_deg[:q], ms[:q]
            cols = (t, m, lumbar_deg[:q], height_m[:q])
            state = self.state
            if state == IDLE:
                p = self._scan_idle(t, s, p, changes, events)
            elif state == IN_REP:
                p = self._scan_rep(cols, s, p, changes, events)
            else:
                p = self._scan_ending(cols, s, p, changes, events)
            span = 2 * span if p == q and self.state == state else SCAN_SPAN
        if n:
            self._buf_t.append(t_s)
            self._buf_m.append(m_deg)
            self._buf_l.append(lumbar_deg)
            self._buf_h.append(height_m)
            self._trim(float(t_s[-1]))
            self._t_prev = float(t_s[-1])
            # the last settle_s of the smoothed signal, for the settled-bottom test
            tt = np.concatenate([self._tail_t, t_s])
            ss = np.concatenate([self._tail_s, ms])
            k = max(int(tt.searchsorted(tt[-1] - 2.0 * self.cfg.settle_s)) - 1, 0)
            self._tail_t, self._tail_s = tt[k:].copy(), ss[k:].copy()
        return changes, events, self._wait_mask

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
            if not self._amplitudes:
                self._seen_max = float(np.fmax(np.fmax.reduce(seg), self._seen_max))
            return len(m)
        k = int(hit.argmax())
        i = p + k
        self._rest_ref = float(cmin[k])
        if not self._amplitudes and k:  # (before the rise: the level the rest came down from)
            self._seen_max = float(np.fmax(np.fmax.reduce(seg[:k]), self._seen_max))
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
        self.phase = Phase.CONCENTRIC
        self.rep = self.reps_done
        if not self._amplitudes and self.state == IN_REP:  # started again: the dropped rep's top
            self._seen_max = max(self._seen_max, self._run_max)
        self._from_bottom = self._seen_max - rest_ref >= self.thr_on
        self.state = IN_REP
        self._rep_rest_ref = rest_ref
        self._rep_idle_start = idle_start
        self._t_detect = float(t[i])
        self._run_max = float(ms[i])
        self._t_last_max = float(t[i])
        self._watch_min = np.inf
        self._waiting_now, self._off_top = False, False
        changes.append(PhaseChange(i, Phase.CONCENTRIC, self.rep))
        events.append(RepOutput(i, RepStarted(t_s=float(t[i]), index=self.rep)))

    def _scan_rep(
        self,
        cols: Columns,
        ms: np.ndarray,
        p: int,
        changes: list[PhaseChange],
        events: list[RepOutput],
    ) -> int:
        cfg = self.cfg
        t = cols[0]
        n = len(t)
        seg, ts = ms[p:], t[p:]
        cmax = np.fmax(np.fmax.accumulate(seg), self._run_max)
        amp = cmax - self._rep_rest_ref
        low = seg < self._rep_rest_ref + cfg.end_fraction * amp
        # ... or settled at a shallower bottom: well down from the top and no longer falling
        # (the depth varies from rep to rep, and the rest level moves)
        ext_t = np.concatenate([self._tail_t, t])
        ext_s = np.concatenate([self._tail_s, ms])
        back = ext_s[ext_t.searchsorted(ts - cfg.settle_s)]
        settled = (back - seg < cfg.settle_fraction * amp) & (ts - cfg.settle_s >= ext_t[0])
        # before any rep is known, deeper unless the rep rose from a bottom (``_from_bottom``):
        # a move into position (standing, up to the top where the calibration is, down to the
        # bottom) is not a rep
        from_bottom = self._amplitudes or self._from_bottom
        depth = cfg.settle_depth if from_bottom else cfg.first_settle_depth
        deep = seg < cmax - depth * amp
        if self.height_check:  # any settled level well off the top may be a bottom: the hips'
            # height decides below (an arched lockout can tilt the pelvis as far as a bottom)
            down = seg < cmax - cfg.height_settle_depth * amp
            # (shallower only where the hips are known to be down: ``_height_end``)
            ask = down | (bool(from_bottom) & (seg < cmax - cfg.height_down_depth * amp))
            end = (low | (settled & ask)) & (ts >= self._recheck_t)
        else:
            end = low | (settled & deep)
        # the time tests are monotonic in time: when the window's last sample does not pass,
        # none does
        since_detect = float(ts[-1]) - self._t_detect

        def first(mask: np.ndarray, off: int = 0) -> int:
            j = int(mask.argmax())  # 0 when nothing is set
            return p + off + j if mask[j] else n

        i_end = first(end)
        verdicts: list[tuple[int, str | None]] = []
        if self.height_check:
            i_end = self._height_end(cols, p, i_end, end, low, deep, cmax, amp, verdicts)
        i_to = first(ts - self._t_detect > cfg.max_rep_s) if since_detect > cfg.max_rep_s else n
        if self.phase == Phase.ECCENTRIC:
            i_ecc = p
        else:
            ecc = seg < cmax - np.maximum(0.5 * self.thr_on, cfg.eccentric_fraction * amp)
            i_ecc = first(ecc)
        t_last = None  # concentric: the time of the latest new maximum at each sample
        if self.phase == Phase.CONCENTRIC:
            # where the running maximum first reached its value at each sample; still the carried
            # value: reached before this window
            t_last = ts[cmax.searchsorted(cmax)]
            t_last[cmax == self._run_max] = self._t_last_max
            i_hold = first(ts - t_last >= cfg.top_settle_s - TIME_EPS_S)
        else:
            i_hold = p
        # a new rise from a level below the top, before the rep is back at its rest level: the
        # rep never came back (e.g. getting into a hip thrust from standing); start again there
        i_watch = min(i_hold, i_ecc)
        i_rs, watch_min = n, self._watch_min
        if i_watch < n:
            sub = seg[i_watch - p :]
            start_min = self._watch_min if self.phase != Phase.CONCENTRIC else np.inf
            # only a long "rep" (not a dip during the hold of a faulty rep, which a single
            # sensor sees as movement) is started again
            restart_s = cfg.restart_after_s
            if self._durations:  # a person slower than the tempo: an arch ends later in the rep
                typical_s = statistics.median(self._durations)
                restart_s = max(restart_s, cfg.restart_after_reps * typical_s)
            if since_detect >= restart_s:
                cmin = np.fmin(np.fmin.accumulate(sub), start_min)
                rise = sub > cmin + self.thr_on
                rise &= ts[i_watch - p :] - self._t_detect >= restart_s
                i_rs = first(rise, i_watch - p)
                watch_min = float(cmin[min(i_rs, n - 1) - i_watch])
            else:
                watch_min = float(np.fmin(np.fmin.reduce(sub), start_min))
        stop = min(i_end, i_to, i_rs)
        if self.height_check:
            # not judged as a lockout from half the reps' typical amplitude off the top, where
            # that is less than half this rise: a rise from a rest deeper than the reps' bottoms
            # (lying back between sets) can come down to a bottom half the rise off the top, and
            # the pelvis settling into it is still before it is that far down
            wait_down = down
            if self._amplitudes:
                typical = statistics.median(self._amplitudes)
                wait_down = seg < cmax - cfg.height_settle_depth * np.minimum(amp, typical)
            self._mark_waiting(p, stop, wait_down, verdicts)
        else:  # a level this far down may be the bottom, until it settles and the rep ends
            # there: not judged meanwhile (``settle_s`` is longer than the lockout's stillness
            # window, which had taken a paused shallower bottom for an arched lockout)
            self._wait_mask[p:stop] |= deep[: stop - p]
        if self.phase == Phase.CONCENTRIC and i_hold < min(i_ecc, stop, n):
            self.phase = Phase.HOLD
            changes.append(PhaseChange(i_hold, Phase.HOLD, self.rep))
        if self.phase != Phase.ECCENTRIC and i_ecc <= stop and i_ecc < n:
            self.phase = Phase.ECCENTRIC
            changes.append(PhaseChange(i_ecc, Phase.ECCENTRIC, self.rep))
        self._watch_min = watch_min
        last_i = min(stop, n - 1) - p
        self._run_max = float(cmax[last_i])
        if t_last is not None:  # (only the concentric phase uses it)
            self._t_last_max = float(t_last[last_i])
        if stop == n:
            return n
        if i_end <= stop:
            self._trigger(cols, i_end)
            if self.height_check and low[i_end - p]:  # (``_scan_ending``)
                self._confirm_by = float(t[i_end]) + self.cfg.height_confirm_s
            # back near the rest level: the online phase is rest from here (a pause at the
            # bottom is never a hold or a lockout), though the rep ends once its offset is known
            self.phase = Phase.REST
            self._end_rep, self.rep = self.rep, None
            changes.append(PhaseChange(i_end, Phase.REST, None))
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

    def _samples_upto(self, cols: Columns, i: int) -> Columns:
        """The rep's samples (time, rep signal, lumbar angle, height): the
        buffer and the chunk's ``cols`` up to sample ``i`` (inclusive), from the rest before
        the rep on."""
        t_from = max(self._rep_idle_start, self._t_detect - self.cfg.keep_s)
        # the buffered chunks and this one up to i, from the first sample at or after t_from
        # (only the pieces that reach t_from are joined)
        pieces = [
            *zip(self._buf_t, self._buf_m, self._buf_l, self._buf_h, strict=True),
            tuple(x[: i + 1] for x in cols),
        ]
        k = 0
        while k < len(pieces) - 1 and not (len(pieces[k][0]) and pieces[k][0][-1] >= t_from):
            k += 1
        j0 = int(pieces[k][0].searchsorted(t_from))
        pieces[k] = tuple(x[j0:] for x in pieces[k])
        if k == len(pieces) - 1:  # all in this chunk (fit_rep does not write to its input)
            return pieces[k]
        bt, bm, bl, ba = (np.concatenate(col) for col in zip(*pieces[k:], strict=True))
        return bt, bm, bl, ba

    def _height_end(
        self,
        cols: Columns,
        p: int,
        i_end: int,
        end: np.ndarray,
        low: np.ndarray,
        deep: np.ndarray,
        cmax: np.ndarray,
        amp: np.ndarray,
        verdicts: list[tuple[int, str | None]],
    ) -> int:
        """``height_check``: where the rep is back, of the candidates ``end`` (from ``p``; the
        first is ``i_end``). A settled level is a bottom if the hips came down; where they are
        up (an arched lockout) or the heights cannot tell and the level is not ``deep``, it is
        looked at again ``height_recheck_s`` later. Appends each (sample, verdict) to
        ``verdicts``."""
        t = cols[0]
        n = len(t)
        ts = t[p:]
        while i_end < n:
            j = i_end - p
            verdict = self._hips(cols, i_end, float(cmax[j]), float(amp[j]))
            verdicts.append((i_end, verdict))
            if low[j] and verdict != UP:  # back to the rest level, unless the hips are up
                break
            if verdict == DOWN or (verdict is None and deep[j]):
                break
            self._recheck_t = float(t[i_end]) + self.cfg.height_recheck_s
            k = int(ts.searchsorted(self._recheck_t))
            j = int(end[k:].argmax()) if k < len(ts) else 0
            i_end = p + k + j if k < len(ts) and end[k + j] else n
        return i_end

    def _mark_waiting(
        self, p: int, stop: int, down: np.ndarray, verdicts: list[tuple[int, str | None]]
    ) -> None:
        """Mark in ``_wait_mask`` the samples from ``p`` to ``stop`` (exclusive) well off the
        top (``down``, from ``p``) from where the signal got there until a verdict says the
        hips are up or the heights cannot tell (a "moving" verdict keeps it waiting): the
        lockout is not judged there, as it may be the bottom. State carried across windows."""
        off_top = down[: stop - p]
        entered = off_top & ~np.concatenate([[self._off_top], off_top[:-1]])
        code = np.where(off_top, np.where(entered, 1, -1), 0)  # -1: as the sample before
        for i, verdict in verdicts:
            if i < stop and off_top[i - p]:  # (a level asked about nearer the top is judged)
                code[i - p] = 1 if verdict == MOVING else 0
        at = np.maximum.accumulate(np.where(code >= 0, np.arange(len(code)), -1))
        state = np.where(at >= 0, code[np.maximum(at, 0)], 1 if self._waiting_now else 0)
        self._wait_mask[p:stop] |= state == 1
        if len(state):
            self._waiting_now = bool(state[-1] == 1)
            self._off_top = bool(off_top[-1])

    def _rest_height(self, bt: np.ndarray, bh: np.ndarray) -> float | None:
        """The hips' height at the last still moment before the rep was detected."""
        before = np.flatnonzero(np.isfinite(bh) & (bt < self._t_detect))
        return float(bh[before[-1]]) if len(before) else None

    def _near_level(self, bm: np.ndarray, top_deg: float, amp_deg: float) -> np.ndarray:
        """The samples near the rep's top (less than ``height_settle_depth`` off it)."""
        return bm >= top_deg - self.cfg.height_settle_depth * amp_deg

    def _near_top(self, bt: np.ndarray, bh: np.ndarray, near_level: np.ndarray) -> np.ndarray:
        """The rep's still samples near its top (``near_level``)."""
        return np.isfinite(bh) & (bt >= self._t_detect) & near_level

    @staticmethod
    def _rise(bh: np.ndarray, rest: float | None, near_top: np.ndarray) -> float | None:
        """The hips' rise from the rest before the rep (``rest``) to its highest still moment
        near the top (``near_top``; None without either)."""
        if rest is None or not near_top.any():
            return None
        return float(bh[near_top].max()) - rest

    def _record_rise(self, cols: Columns, i: int) -> bool:
        """The rep is back: keep its rise, for a rep without a still moment at its top (True
        if one was kept)."""
        bt, bm, _, bh = self._samples_upto(cols, i)
        if not np.isfinite(bm).any():
            return False
        top = float(np.nanmax(bm))
        near_top = self._near_top(bt, bh, self._near_level(bm, top, top - self._rep_rest_ref))
        rise = self._rise(bh, self._rest_height(bt, bh), near_top)
        if rise is not None:
            self._rises.append(rise)
        return rise is not None

    def _hips(self, cols: Columns, i: int, top_deg: float, amp_deg: float) -> str | None:
        """Where are the hips, whose tilt has settled at sample ``i``? ``DOWN``: below
        ``HIPS_DOWN_FRACTION`` of the rep's rise from the rest before the rep (to its highest
        still moment near the top, else the recent reps' rise, else ``RISE_PER_RAD_M`` of the
        rep's tilt); without a height in the rest before the rep (one touch-and-go bottom after
        another), more than the rest of that rise down from the rep's highest still moment near
        the top; ``UP``; ``MOVING``: not known since the level came off the top yet. None when
        the heights cannot tell (none known, neither a still moment before the rep nor one near
        its top, a rise under ``MIN_RISE_M``)."""
        bt, bm, _, bh = self._samples_upto(cols, i)
        known = np.isfinite(bh)
        rest = self._rest_height(bt, bh)
        near_level = self._near_level(bm, top_deg, amp_deg)
        near_top = self._near_top(bt, bh, near_level)
        if rest is None and not near_top.any():
            return None
        height = float(bh[-1])
        if not known[-1]:  # moving: the latest height known since the level came this far off
            # the top (a turning point of a bottom never held still, touch-and-go; or a still
            # moment since left)
            near = np.flatnonzero(near_level)
            k0 = int(near[-1]) + 1 if len(near) else 0
            since = np.flatnonzero(known[k0:])
            if not len(since):
                return MOVING
            height = float(bh[k0 + since[-1]])
        rise = self._rise(bh, rest, near_top)
        if rise is None and self._rises:
            rise = statistics.median(self._rises)
        if rise is None:
            rise = RISE_PER_RAD_M * math.radians(amp_deg)
        if rise < MIN_RISE_M:
            return None
        if rest is None:  # from the top down instead
            drop = float(bh[near_top].max()) - height
            return DOWN if drop > (1.0 - HIPS_DOWN_FRACTION) * rise else UP
        return UP if height - rest > HIPS_DOWN_FRACTION * rise else DOWN

    def _fit_upto(self, cols: Columns, i: int) -> None:
        """Fit the rep's phases (the tangent method) from the buffer and the chunk up to sample
        ``i`` (inclusive); sets ``_fit`` and the lumbar peaks so far within the fitted rep."""
        bt, bm, bl, _ = self._samples_upto(cols, i)
        k_det = int(bt.searchsorted(self._t_detect))
        prev = self._prev_fit
        if prev is not None and prev.t_end_s < self._t_detect - self.cfg.keep_s:
            prev = None
        fit = fit_rep(bt, bm, k_det, self._rep_rest_ref, self.cfg, prev)
        self._fit = fit
        self._lum_max, self._lum_min = -np.inf, np.inf
        self._track_lumbar(bl[time_slice(bt, fit.t_start_s, fit.t_end_s)])

    def _trigger(self, cols: Columns, i: int) -> None:
        """The rep is back (below ``end_fraction``): fit it (tangent method); the fit says how
        long to wait for the lowering's offset (``onset.end_wait_s``)."""
        self._fit_upto(cols, i)
        if self.height_check:
            self._rise_kept = self._record_rise(cols, i)
        assert self._fit is not None
        self._t_wait = self._fit.t_end_s + end_wait_s(self._fit, self.cfg)
        self._end_min = np.inf
        self.state = ENDING

    def _onset_upto(self, cols: Columns, i: int) -> None:
        """The phase boundaries at movement onset / offset (``onset``) from the samples up to
        ``i``, the tangent fit saying where the movements are; the lumbar peaks within them."""
        assert self._fit is not None
        bt, bm, bl, _ = self._samples_upto(cols, i)
        prev = self._prev_fit
        t_from = prev.t_end_s if prev is not None else -np.inf
        fit, self._speed_noise = onset_fit(
            bt, bm, self._fit, t_from, self.cfg, bl, self._speed_noise, self.leak
        )
        self._fit = fit
        self._lum_max, self._lum_min = -np.inf, np.inf
        self._track_lumbar(bl[time_slice(bt, fit.t_start_s, fit.t_end_s)])

    def _scan_ending(
        self,
        cols: Columns,
        ms: np.ndarray,
        p: int,
        changes: list[PhaseChange],
        events: list[RepOutput],
    ) -> int:
        """Wait until the lowering's offset is in the samples (or a new rise begins), then time
        the phases at movement onset / offset and emit the rep (its time is the offset, at or
        before this sample). The rest reference starts from the lowest level reached, so a
        rise that began while waiting is a rise."""
        assert self._fit is not None
        t = cols[0]
        n = len(t)
        if self._confirm_by < math.inf:
            up = self._hips_up_again(cols, ms, p)
            if up is None:
                return n  # (waiting for the hips' height)
            if up < n:
                self._back_up(up, t, changes)
                return up
        e = max(int(t.searchsorted(self._t_wait - TIME_EPS_S)), p)
        seg = ms[p : min(e + 1, n)]
        if len(seg):  # a new rise before the wait is over ends the wait there
            low = np.fmin(np.fmin.accumulate(seg), self._end_min)
            rise = np.flatnonzero(seg > low + self.thr_on)
            if len(rise):
                e = p + int(rise[0])
                seg, low = seg[: rise[0] + 1], low[: rise[0] + 1]
            self._end_min = float(low[-1])
        if e >= n:
            return n
        if self._still_lowering(cols, e):
            # the bottom lies deeper than the rest the rep rose from, and the fit's end (where
            # its falling line meets that rest) came before the lowering's: wait on
            self._t_wait = float(t[e]) + self.cfg.min_phase_s + self.cfg.velocity_smooth_s
            return e + 1
        self._onset_upto(cols, e)
        t_end = min(self._fit.t_end_s, float(t[e]))
        events.append(RepOutput(e, self._rep_ended(t_end)))
        self._to_rest(e, t_end, changes)
        self._rest_ref = self._end_min
        return e

    def _still_lowering(self, cols: Columns, e: int) -> bool:
        """Whether the rep signal, already below the rest the rep rose from (the fit's rest
        level), is still falling at sample ``e`` at more than ``confirm_fraction`` of the
        lowering's speed (the fitted falling line's slope), over the last
        ``velocity_smooth_s``; never past ``max_rep_s`` from the rep's detection. Not where a
        lumbar angle leaks into the signal (``leak``: the pelvis' turn a back kick is timed
        from): a faulty rep's lumbar movement goes on moving it after the kick, which put a
        slower person's offset 0.2 s late."""
        fit = self._fit
        fall = fit.fall if fit is not None else None
        t_e = float(cols[0][e])
        if self.leak is not None or fall is None or not fall.slope < 0:
            return False
        if t_e - self._t_detect > self.cfg.max_rep_s:
            return False
        bt, bm, _, _ = self._samples_upto(cols, e)
        if not bm[-1] < fit.rest_deg:
            return False
        w = bt >= t_e - self.cfg.velocity_smooth_s
        line = fit_line(bt[w], bm[w])
        return line is not None and line.slope < self.cfg.confirm_fraction * fall.slope

    def _hips_up_again(self, cols: Columns, ms: np.ndarray, p: int) -> int | None:
        """A rep back by its tilt alone (``_confirm_by``): the sample from ``p`` where the hips'
        height says they are up (the rep goes on); ``len(t)`` when it does not (a bottom, the
        heights cannot tell, or a new rise or ``_confirm_by`` came first: the rep ends as
        usual); None while waiting for more samples."""
        t, h = cols[0], cols[3]
        n = len(t)
        d = int(t.searchsorted(self._confirm_by - TIME_EPS_S))
        seg = ms[p : min(d + 1, n)]
        low = np.fmin(np.fmin.accumulate(seg), self._end_min) if len(seg) else seg
        rise = np.flatnonzero(seg > low + self.thr_on)
        known = np.flatnonzero(np.isfinite(h[p : min(d + 1, n)]))
        if len(known) and (not len(rise) or known[0] < rise[0]):
            i = p + int(known[0])
            verdict = self._hips(cols, i, self._run_max, self._run_max - self._rep_rest_ref)
            self._confirm_by = math.inf
            return i if verdict == UP else n
        if len(rise) or d < n:
            self._confirm_by = math.inf
            return n
        if len(low):  # (the rest reference after the rep: as ``_scan_ending`` keeps it)
            self._end_min = float(low[-1])
        return None

    def _back_up(self, i: int, t: np.ndarray, changes: list[PhaseChange]) -> None:
        """The rep that came back by its tilt alone has the hips up at sample ``i``: an arched
        lockout, not a bottom. It goes on from its hold."""
        self.state = IN_REP
        self.rep, self._end_rep = self._end_rep, None
        self.phase = Phase.HOLD
        self._fit = None
        self._recheck_t = float(t[i]) + self.cfg.height_recheck_s
        if self._rise_kept:  # (kept again when the rep is back)
            self._rises.pop()
            self._rise_kept = False
        changes.append(PhaseChange(i, Phase.HOLD, self.rep))

    def new_calibration(self) -> None:
        """The sensors were calibrated anew: the lumbar angle's leak into the rep signal, which
        the calibrated axes make, is measured afresh from the next reps (``leak``)."""
        if self.leak is not None:
            self.leak = LeakEstimate()

    def _rep_ended(self, t_end_s: float) -> RepEnded:
        fit = self._fit
        assert fit is not None and self._end_rep is not None
        self.reps_done += 1
        if self.leak is not None:
            self.leak.commit()
        self._prev_fit = fit
        amp = fit.top_deg - fit.rest_deg
        if amp > 0:
            self._amplitudes.append(amp)
            typical = statistics.median(self._amplitudes)
            self.thr_on = max(self.cfg.min_rise_deg, self.cfg.rise_fraction * typical)
        duration = t_end_s - fit.t_start_s
        self._durations.append(duration)
        return RepEnded(
            t_s=t_end_s,
            index=self._end_rep,
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
            if self._buf_t:  # the samples so far (the stream ended while waiting)
                bufs = (self._buf_t, self._buf_m, self._buf_l, self._buf_h)
                last = tuple(b[-1] for b in bufs)
                self._buf_t, self._buf_m, self._buf_l, self._buf_h = (b[:-1] for b in bufs)
                self._onset_upto(last, len(last[0]) - 1)
            out = self._rep_ended(self._fit.t_end_s)
        elif self.state == IN_REP:
            log.info("rep %s not finished at the end of the stream: not counted", self.rep)
        self.state = IDLE
        self.phase = Phase.REST
        self.rep = None
        self._confirm_by = math.inf
        return out

    # -- helpers -------------------------------------------------------------------------------
    def _to_rest(self, i: int, t_i: float, changes: list[PhaseChange]) -> None:
        self.state = IDLE
        self.phase = Phase.REST
        self.rep = None
        self._fit = None
        self._rest_ref = np.inf
        self._t_idle_start = t_i
        changes.append(PhaseChange(i, Phase.REST, None))

    def _track_lumbar(self, x: np.ndarray) -> None:
        if len(x) == 0:
            return
        hi, lo = float(np.fmax.reduce(x)), float(np.fmin.reduce(x))  # NaN only if all are
        if not (math.isfinite(hi) and math.isfinite(lo)):  # NaN or inf among them
            x = x[np.isfinite(x)]
            if len(x) == 0:
                return
            hi, lo = float(x.max()), float(x.min())
        self._lum_max = max(self._lum_max, hi)
        self._lum_min = min(self._lum_min, lo)

    def _trim(self, t_last: float) -> None:
        """Drop buffered samples no later decision can need (older than ``t_from``): whole
        chunks, and when many small chunks are joined into one array, its part before
        ``t_from`` too (a joined array always ends recently, so dropping only whole chunks
        would keep the session's every sample)."""
        if self.state == IDLE:
            t_from = t_last - self.cfg.keep_s
        else:
            t_from = self._t_detect - self.cfg.keep_s  # _trigger uses nothing older
        while self._buf_t and len(self._buf_t[0]) and self._buf_t[0][-1] < t_from:
            self._buf_t.pop(0)
            self._buf_m.pop(0)
            self._buf_l.pop(0)
            self._buf_h.pop(0)
        if len(self._buf_t) > 64:  # many small chunks: join them to keep concatenation cheap
            # (a fresh array from the first needed sample on: a slice would keep the old one)
            j0 = int(self._buf_t[0].searchsorted(t_from))
            for buf in (self._buf_t, self._buf_m, self._buf_l, self._buf_h):
                buf[0] = buf[0][j0:]
                buf[:] = [np.concatenate(buf)]
