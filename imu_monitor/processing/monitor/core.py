"""The monitor: lumbar angle and movement signal in, alarm and rep events out.

``Monitor`` is the streaming wrapper (state carried between chunks); ``analyze_angles`` runs a
whole session through it in blocks. Any chunking gives the same events (a test checks random
chunk sizes, including 0 and 1).

Modes:

- ``continuous``: flexion and extension are judged all the time (back kick, bird dog; and every
  exercise with an upper-lumbar sensor).
- ``lockout``: one sacrum sensor in a hip thrust / glute bridge. The neutral is calibrated at the
  lockout (top) position, and the trunk rotates 20-60 deg with the hips, which a single sensor
  cannot tell from lumbar movement. So only *extension* beyond the lockout neutral is judged,
  and only *at lockout*: while the rep is at its top and held still (``lockout.LockoutGate``).
  Elsewhere the reading is hip movement and never alarms; flexion is never judged.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from imu_monitor.errors import MonitorError
from imu_monitor.events import (
    AlarmEnded,
    AlarmRecord,
    AlarmStarted,
    Direction,
    Event,
    MonitorMode,
    MonitorState,
    Phase,
    RepEnded,
)
from imu_monitor.exercises import Exercise, Limits
from imu_monitor.processing.monitor.alarms import IDLE, AlarmTransition, DirectionAlarm
from imu_monitor.processing.monitor.config import RepConfig
from imu_monitor.processing.monitor.lockout import TOP_PHASES, LockoutGate
from imu_monitor.processing.monitor.reps import PhaseChange, RepTracker
from imu_monitor.processing.monitor.tally import summarize_result

log = logging.getLogger(__name__)

PELVIS_TURN_LEAK = 0.01
"""``RepConfig.lumbar_leak`` where the rep signal is the pelvis' axial turn (a back kick timed
from the pelvis). A 1.1-deg error in the calibrated pelvic axes turns 2 % of a lumbar fault's
pitch into the axial turn: 0.5 deg/s at a fault's 25 deg/s, where a kick's onset and offset are
at 0.25-0.35 deg/s (5 % of its peak). The session's own reps measure that leak (``leak``: within
about 0.5 %, RMS, of the simulated sessions' leaks) and it is taken off the turn's speed; this
allowance covers what the estimate leaves. On simulated people (``benchmarks/bench_accuracy.py``,
one sensor, ten sets of 20 held-out sessions, 2026-12-07) 1 % left the fewest of the 200
sessions with a phase off by more than 200 ms (0.5 %: 9; 1 %: 8; 1.5 %: 22; of these the
slow-tempo set's 5, 6 and 11, whose reps without a fault are as far off); a larger allowance
hides more of a kick's own slow start and end where the lumbar angle moves then. Faulty reps
stay flagged ``tempo_approximate``."""

PELVIS_TURN_SETTLE_DEPTH = 0.4
"""``RepConfig.settle_depth`` where the rep signal is the pelvis' axial turn: each rest is where
the pelvis comes to rest, and people do not rest the same way each time. Rests a degree apart
(the simulator's ``rest_variation_deg`` 1.0) against kicks of 3-7 deg put the next rest 40-60 %
of a small kick above the last, so the rep came only 40-60 % of its amplitude back down; at 0.65
it never ended, was dropped 6 s later and lost (one sensor, seeds 0-19 ; 500-519: 16 ; 15 of 20
sessions exact -> 20 ; 20 at 0.4; 20 ; 18 at 0.5). With the default rests (half a degree)
nothing changes."""

PITCH_MIN_RISE_DEG = 3.0
"""``RepConfig.min_rise_deg`` where the rep signal is a segment's pitch (the thigh, the trunk, or
one sensor's pelvic tilt in a hip thrust or bridge): such a rep moves it 15-60 deg, and once reps
are known a rep starts at 30 % of their amplitude (5 deg and more) anyway. Before the first rep,
the 1 deg that the pelvis' turn in a back kick needs was met by a rest settling after the move
into the start position: the trunk on the floor before a simulated two-sensor bridge rose 1.45
deg in 2 s live (breathing and the orientation filter converging after a 30 deg move; offline,
0.97), a rep started there and the first real rep was lost."""

MODES: tuple[str, ...] = tuple(MonitorMode)
STATES: tuple[str, ...] = tuple(MonitorState)
BATCH_BLOCK = 16384
"""Samples per block when ``analyze_angles`` feeds the monitor."""

# order of events found at the same sample: a rep that ended (its time is at or before the
# sample), then alarm ends, rep starts, alarm starts
_PRIO_REP_ENDED, _PRIO_ALARM_END, _PRIO_REP_STARTED, _PRIO_ALARM_START = 0, 1, 2, 3


@dataclass
class MonitorStatus:
    """The monitor's view of the latest sample.

    ``state``: ``neutral``, ``warning`` (beyond ``warning_fraction`` of a judged limit, or beyond
    a limit but not yet for the dwell time), ``alarm``, or in lockout mode ``moving`` (not at a
    held lockout: the reading is hip movement and is not judged). ``direction``: ``flexion`` /
    ``extension`` for a warning or alarm, else None. ``angle_deg``: lumbar angle (flexion
    positive). ``phase``: online rep phase (``rest``, ``concentric``, ``hold``, ``eccentric``);
    ``rep_index``: the rep in progress (0-based) or None; ``reps_done``: reps ended so far.
    ``t_s``: time of the latest sample (NaN before the first).
    """

    state: MonitorState = MonitorState.NEUTRAL
    direction: Direction | None = None
    angle_deg: float = float("nan")
    phase: Phase = Phase.REST
    rep_index: int | None = None
    reps_done: int = 0
    t_s: float = float("nan")


@dataclass
class MonitorResult:
    """The batch result: every event in time order, the finished reps, the alarms, a summary,
    and the limits and mode used. ``pelvis_leak``: where the reps were timed from the pelvis'
    turn, the session's estimate of the lumbar angle's leak into it (``Monitor.pelvis_leak``)."""

    events: list[Event]
    reps: list[RepEnded]
    alarms: list[AlarmRecord]
    summary: dict[str, Any]
    limits: Limits
    mode: MonitorMode = MonitorMode.CONTINUOUS
    pelvis_leak: float | None = None


def check_limits(limits: Limits) -> Limits:
    """Raise ``MonitorError`` (naming the field) if the limits cannot work."""
    if not (limits.flexion_deg > 0 and limits.extension_deg > 0):
        raise MonitorError(
            f"Limits.flexion_deg / extension_deg must be > 0 degrees (got "
            f"{limits.flexion_deg}, {limits.extension_deg}); set positive magnitudes"
        )
    if not limits.dwell_s >= 0:
        raise MonitorError(f"Limits.dwell_s must be >= 0 s (got {limits.dwell_s})")
    if not 0 <= limits.hysteresis_deg <= limits.flexion_deg + limits.extension_deg:
        raise MonitorError(
            f"Limits.hysteresis_deg must be between 0 and flexion_deg + extension_deg "
            f"(got {limits.hysteresis_deg}); use a few degrees"
        )
    if not 0 < limits.warning_fraction <= 1:
        raise MonitorError(
            f"Limits.warning_fraction must be in (0, 1] (got {limits.warning_fraction})"
        )
    return limits


class Monitor:
    """Alarm state machine and rep segmentation over a stream of angle chunks.

    ``exercise``: sets the default limits and the tempo (``min_rep_s`` for too-fast reps).
    ``limits``: overrides ``exercise.limits``. ``mode``: ``continuous`` or ``lockout`` (module
    docstring). ``reps``: rep detector settings (``RepConfig``; defaults suit every movement
    signal ``angles`` produces). ``alarm_memory``: how many of the latest alarm records
    ``alarms`` keeps (None: all, for a batch result; a live session keeps a bounded window and
    counts the rest elsewhere). ``timed_from_pelvis``: the movement signal comes from the pelvis
    (``angles.timed_from_pelvis``; always so in lockout mode), so the phase split of a rep that
    alarmed or whose lumbar angle went past the warning fraction of a limit is flagged
    ``tempo_approximate``. ``rate_hz``: the signals' nominal sample rate, which the rep detector's
    smoothing is set for (``RepConfig.for_rate``; without it, or with ``reps`` given, as is).
    ``height_check``: the movement signal is the sacrum's own tilt (one sensor in a hip thrust or
    bridge) and ``update`` gets the sensor's height, which tells a bottom from an arched lockout
    (``processing.height``). ``timed_from_trunk``: the movement signal is the trunk's turn and
    the lumbar angle the trunk's less the pelvis' (``angles.rep_signal_is_trunk``): the rep
    tracker checks each rep's hold against the pelvis' turn (``RepConfig.pelvis_check``).
    """

    def __init__(
        self,
        exercise: Exercise,
        *,
        limits: Limits | None = None,
        mode: MonitorMode | str = MonitorMode.CONTINUOUS,
        reps: RepConfig | None = None,
        alarm_memory: int | None = None,
        timed_from_pelvis: bool = False,
        rate_hz: float | None = None,
        height_check: bool = False,
        timed_from_trunk: bool = False,
    ) -> None:
        if mode not in MODES:
            raise MonitorError(f"unknown monitor mode {mode!r}; use one of {', '.join(MODES)}")
        self.exercise = exercise
        self.limits = check_limits(limits or exercise.limits)
        self.mode = MonitorMode(mode)
        self.timed_from_pelvis = timed_from_pelvis or self.mode == MonitorMode.LOCKOUT
        lim = self.limits
        self._lockout = LockoutGate() if mode == MonitorMode.LOCKOUT else None
        dwell = lim.dwell_s
        if self._lockout is not None:
            # a reading is judged only once it has been held still for the gate's window, which
            # is a dwell already: only what the window lacks of the dwell is added
            dwell = max(0.0, dwell - self._lockout.still_window_s)
        self._dirs: list[DirectionAlarm] = []
        if mode == MonitorMode.CONTINUOUS:
            self._dirs.append(
                DirectionAlarm(Direction.FLEXION, 1.0, lim.flexion_deg, dwell, lim.hysteresis_deg)
            )
        self._dirs.append(
            DirectionAlarm(Direction.EXTENSION, -1.0, lim.extension_deg, dwell, lim.hysteresis_deg)
        )
        rep_cfg = reps or RepConfig()
        if reps is None and rate_hz is not None and rate_hz > 0:
            rep_cfg = rep_cfg.for_rate(rate_hz)
        pelvis_turn = timed_from_pelvis and self.mode == MonitorMode.CONTINUOUS
        if pelvis_turn and rep_cfg.lumbar_leak == 0:
            # the rep signal is the pelvis' axial turn, which the lumbar angle leaks into
            rep_cfg = replace(rep_cfg, lumbar_leak=PELVIS_TURN_LEAK)
        if pelvis_turn and reps is None:
            rep_cfg = replace(
                rep_cfg,
                settle_depth=PELVIS_TURN_SETTLE_DEPTH,
                first_settle_depth=PELVIS_TURN_SETTLE_DEPTH,
            )
        if timed_from_trunk:  # a property of the signals, like the leak above
            rep_cfg = replace(rep_cfg, pelvis_check=True)
        if reps is None and not pelvis_turn:
            rep_cfg = replace(rep_cfg, min_rise_deg=PITCH_MIN_RISE_DEG)
        self._reps = RepTracker(
            rep_cfg, exercise.tempo.min_rep_s, judged=mode, height_check=height_check
        )
        self._judged_min = 0.0  # lowest judged reading since the last rep ended (lockout mode)
        self._rearm = False
        """Lockout mode: the gate ended an alarm while the reading stayed beyond the release
        level; nothing is judged until it has come back within it (``_lockout_transitions``)."""
        self.status = MonitorStatus()
        self.alarms: list[AlarmRecord] | deque[AlarmRecord] = (
            [] if alarm_memory is None else deque(maxlen=alarm_memory)
        )
        """Every alarm so far, or the latest ``alarm_memory`` (``t_end_s`` None while open)."""
        self._open: dict[str, dict[str, Any]] = {}
        self._t_last = -np.inf
        self._t_last_event = -np.inf

    # -- public --------------------------------------------------------------------------------
    def update(
        self,
        t_s: np.ndarray,
        lumbar_deg: np.ndarray,
        movement_deg: np.ndarray,
        height_m: np.ndarray | None = None,
        hips_held: np.ndarray | None = None,
    ) -> list[Event]:
        """Feed one chunk and return the events it caused, in time order.

        ``t_s``: shape (n,), seconds, non-decreasing (also across chunks). ``lumbar_deg``: lumbar
        flexion relative to the calibrated neutral (flexion positive), degrees. ``movement_deg``:
        the rep-detection signal (higher = nearer the top), degrees. NaN means no reading.
        ``height_m``: with ``height_check``, the sacrum's height at still samples and NaN
        elsewhere (``height.HeightTracker``), metres; None: not known. ``hips_held``: with
        ``height_check``, whether the hips are held up at each sample
        (``height.HeightTracker.held``): in lockout mode the rep's top is judged there too
        (``lockout.LockoutGate``); None: not known.
        """
        t, lum, mov = self._check(t_s, lumbar_deg, movement_deg)
        if height_m is not None:
            height_m = np.asarray(height_m, dtype=np.float64)
            if height_m.shape != t.shape:
                raise MonitorError(
                    f"Monitor.update: height_m must have the shape of t_s {t.shape} "
                    f"(got {height_m.shape})"
                )
        if hips_held is not None:
            hips_held = np.asarray(hips_held, dtype=bool)
            if hips_held.shape != t.shape:
                raise MonitorError(
                    f"Monitor.update: hips_held must have the shape of t_s {t.shape} "
                    f"(got {hips_held.shape})"
                )
        n = len(t)
        if n == 0:
            return []
        phase0, rep0 = self._reps.phase, self._reps.rep
        items: list[tuple[int, int, int, Any]] = []
        changes, rep_out, waiting = self._reps.process(t, mov, lum, height_m)
        judged = lum
        if self._lockout is not None:
            judged = self._lockout.judged(t, lum, phase0, changes, waiting, hips_held)
            self._lockout_peaks(judged, rep_out)
        transitions = (
            self._lockout_transitions(t, lum, judged, changes)
            if self._lockout is not None
            else [tr for d in self._dirs for tr in d.process(t, judged)]
        )
        for tr in transitions:
            prio = _PRIO_ALARM_START if tr.kind == "start" else _PRIO_ALARM_END
            items.append((tr.index, prio, len(items), tr))
        for ro in rep_out:
            prio = _PRIO_REP_ENDED if isinstance(ro.event, RepEnded) else _PRIO_REP_STARTED
            items.append((ro.index, prio, len(items), ro.event))
        items.sort(key=lambda it: it[:3])
        events: list[Event] = []
        ci, phase, rep = 0, phase0, rep0
        for index, _prio, _seq, obj in items:
            while ci < len(changes) and changes[ci].index <= index:
                phase, rep = changes[ci].phase, changes[ci].rep
                ci += 1
            if isinstance(obj, AlarmTransition):
                events.append(self._alarm_event(obj, phase, rep))
            else:
                if isinstance(obj, RepEnded):
                    self._finish_rep(obj)
                events.append(obj)
            self._t_last_event = events[-1].t_s
        self._t_last = float(t[-1])
        self._update_status(float(t[-1]), float(lum[-1]))
        return events

    @property
    def pelvis_leak(self) -> float | None:
        """Where reps are timed from the pelvis' turn: the share of the lumbar angle's movement
        the reps so far show leaking into it (``leak``; a fraction, signed; about the pelvic
        axes' calibration error in radians). None otherwise."""
        leak = self._reps.leak
        return None if leak is None else leak.value

    def new_calibration(self) -> None:
        """The sensors were calibrated anew (a guided capture, or the accelerometer offsets taken
        off after the first reps): a leak into the pelvis' turn is measured afresh."""
        self._reps.new_calibration()

    def finish(self) -> list[Event]:
        """End of the stream: an open alarm ends at the last sample; a rep already back at rest
        (waiting for its fitted end time) ends; a rep still out is dropped."""
        events: list[Event] = []
        for d in self._dirs:
            tr = d.finish(self._t_last, 0)
            if tr is not None:
                events.append(self._alarm_event(tr, self._reps.phase, self._reps.rep))
        rep = self._reps.finish()
        if rep is not None:
            self._finish_rep(rep)
            events.append(rep)
        if np.isfinite(self._t_last):
            self._update_status(self._t_last, self.status.angle_deg)
        return events

    # -- internals -----------------------------------------------------------------------------
    def _lockout_transitions(
        self, t: np.ndarray, lum: np.ndarray, judged: np.ndarray, changes: list[PhaseChange]
    ) -> list[AlarmTransition]:
        """Lockout mode's extension alarm over the ``judged`` reading. When the gate stops
        judging (the pelvis moves) it ends an alarm, but where the reading itself is still
        beyond the release level (the limit less the hysteresis) the excursion goes on: nothing
        more is judged until the reading has come back within that level, or the rep has left
        its top (``changes``). Otherwise an arch let go of towards the limit alarmed a second
        time where the tilt turned to go down (still within 1 deg for the gate's window): 11 of
        40 simulated one-sensor hip thrusts' arches alarmed twice, a second buzz 0.02-0.05 s
        long. (Until the reading alone: a session whose good lockouts all read past the release
        level, its neutral off, then judged none after its first alarm.)"""
        d = self._dirs[0]
        released = d.sign * lum < d.release_deg  # (NaN: not released)
        for ch in changes:  # a rep back at rest or rising again starts afresh
            if ch.phase not in TOP_PHASES and ch.index < len(released):
                released[ch.index] = True
        out: list[AlarmTransition] = []
        p, n = 0, len(t)
        while p < n:
            if self._rearm:
                back = p + int(np.argmax(released[p:])) if released[p:].any() else n
                if back == n:
                    break
                self._rearm, p = False, back
            trs = d.process(t[p:], judged[p:])
            ended = [
                tr
                for tr in trs
                if tr.kind == "end" and judged[p + tr.index] == 0.0 and not released[p + tr.index]
            ]
            cut = ended[0].index if ended else n - p
            out += [replace(tr, index=p + tr.index) for tr in trs if tr.index <= cut]
            if not ended:
                break
            d.state = IDLE  # (as the end left it: what came after is judged again)
            self._rearm, p = True, p + cut + 1
        return out

    def _lockout_peaks(self, judged: np.ndarray, rep_out: list[Any]) -> None:
        """In lockout mode a rep's excursion is what was judged: the extension at the held
        lockout (the bottom of a one-sensor hip thrust reads as 'extension' but is the hips)."""
        start = 0
        for ro in rep_out:
            if isinstance(ro.event, RepEnded):
                seg = judged[start : ro.index + 1]
                low = min(self._judged_min, float(np.nanmin(seg)) if len(seg) else 0.0)
                ro.event.peak_extension_deg = max(0.0, -low)
                ro.event.peak_flexion_deg = 0.0
                self._judged_min = 0.0
                start = ro.index + 1
        rest = judged[start:]
        if len(rest):
            self._judged_min = min(self._judged_min, float(np.nanmin(rest)))

    def _check(
        self, t_s: np.ndarray, lumbar_deg: np.ndarray, movement_deg: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t = np.asarray(t_s, dtype=np.float64)
        lum = np.asarray(lumbar_deg, dtype=np.float64)
        mov = np.asarray(movement_deg, dtype=np.float64)
        if t.ndim != 1 or lum.shape != t.shape or mov.shape != t.shape:
            raise MonitorError(
                f"Monitor.update: t_s, lumbar_deg and movement_deg must be 1-D arrays of the "
                f"same length (got shapes {t.shape}, {lum.shape}, {mov.shape})"
            )
        if len(t) and (t[0] < self._t_last or (len(t) > 1 and np.any(np.diff(t) < 0))):
            raise MonitorError(
                "Monitor.update: t_s goes backwards (at or after "
                f"t={max(self._t_last, float(t[0])):.3f} s); feed samples in time order and "
                "start a new Monitor for a new session"
            )
        return t, lum, mov

    def _alarm_event(self, tr: AlarmTransition, phase: str, rep: int | None) -> Event:
        lim = self.limits
        if tr.kind == "start":
            limit = lim.flexion_deg if tr.direction == "flexion" else -lim.extension_deg
            entry = AlarmRecord(
                t_start_s=tr.t_s,
                direction=tr.direction,
                peak_deg=tr.angle_deg,
                phase=Phase(phase),
                rep=rep,
                t_crossed_s=tr.t_crossed_s,
            )
            self.alarms.append(entry)
            self._open[tr.direction] = entry
            return AlarmStarted(
                t_s=tr.t_s,
                direction=tr.direction,
                angle_deg=tr.angle_deg,
                limit_deg=float(limit),
                phase=phase,
                rep=rep,
                t_crossed_s=tr.t_crossed_s,
            )
        entry = self._open.pop(tr.direction)
        duration = tr.t_s - tr.t_fired_s
        entry.t_end_s, entry.peak_deg, entry.duration_s = tr.t_s, tr.peak_deg, duration
        return AlarmEnded(
            t_s=tr.t_s,
            direction=tr.direction,
            peak_deg=tr.peak_deg,
            duration_s=duration,
            rep=entry.rep,
        )

    def _finish_rep(self, rep: RepEnded) -> None:
        """Keep events in time order (a rep's fitted end can fall before an alarm event of the
        last few samples: the end then moves to that event) and fill in ``alarmed`` and
        ``tempo_approximate``."""
        t_end = rep.t_s
        if rep.t_s < self._t_last_event:  # the event after that one; the phases as fitted
            rep.t_s = self._t_last_event
        rep.alarmed = self._alarmed(rep.t_start_s, t_end)
        rep.tempo_approximate = self.timed_from_pelvis and (rep.alarmed or self._moved_far(rep))

    def _moved_far(self, rep: RepEnded) -> bool:
        """Did the rep's lumbar angle go past the warning fraction of a limit (continuous mode:
        a fault that moved the pelvis, alarmed or not)?"""
        if self.mode == MonitorMode.LOCKOUT:
            return False  # the reading off the top is the lowering itself
        lim, w = self.limits, self.limits.warning_fraction
        return rep.peak_flexion_deg > w * lim.flexion_deg or rep.peak_extension_deg > (
            w * lim.extension_deg
        )

    def _alarmed(self, t_start: float, t_end: float) -> bool:
        """Did an alarm (fired before ``t_end``) overlap ``[t_start, t_end]``? Alarms never
        overlap each other, so the scan stops at the first one that ended before the rep."""
        for a in reversed(self.alarms):
            if a.t_start_s >= t_end:
                continue
            return a.t_end_s is None or a.t_end_s > t_start
        return False

    def _update_status(self, t: float, angle: float) -> None:
        state, direction = MonitorState.NEUTRAL, None
        active = [d for d in self._dirs if d.active]
        pending = [d for d in self._dirs if d.pending]
        if active:
            state, direction = MonitorState.ALARM, active[0].direction
        elif pending:
            state, direction = MonitorState.WARNING, pending[0].direction
        elif self._lockout is not None and not self._lockout.last_judged:
            state = (
                MonitorState.MOVING
            )  # one sensor, hips moving: nothing is judged until the lockout
        else:
            frac = self.limits.warning_fraction
            for d in self._dirs:
                if d.sign * angle > frac * d.limit_deg:
                    state, direction = MonitorState.WARNING, d.direction
        s = self.status
        s.state, s.direction, s.angle_deg, s.t_s = state, direction, angle, t
        s.phase, s.rep_index, s.reps_done = self._reps.phase, self._reps.rep, self._reps.reps_done


def analyze_angles(
    t_s: np.ndarray,
    lumbar_deg: np.ndarray,
    movement_deg: np.ndarray,
    exercise: Exercise,
    *,
    limits: Limits | None = None,
    mode: MonitorMode | str = MonitorMode.CONTINUOUS,
    reps: RepConfig | None = None,
    timed_from_pelvis: bool = False,
    rate_hz: float | None = None,
    height_m: np.ndarray | None = None,
    hips_held: np.ndarray | None = None,
    timed_from_trunk: bool = False,
) -> MonitorResult:
    """Batch analysis of a whole session (arrays as in ``Monitor.update``, shape (n,)).
    ``height_m``: given, the monitor checks the hips' height (``Monitor``'s ``height_check``);
    ``hips_held``: with it, where the hips are held up (``Monitor.update``).

    Gives exactly the events a ``Monitor`` fed the same samples in any chunking gives, plus
    ``finish()``.
    """
    mon = Monitor(
        exercise,
        limits=limits,
        mode=mode,
        reps=reps,
        timed_from_pelvis=timed_from_pelvis,
        rate_hz=rate_hz,
        height_check=height_m is not None,
        timed_from_trunk=timed_from_trunk,
    )
    t = np.asarray(t_s, dtype=np.float64)
    lum = np.asarray(lumbar_deg, dtype=np.float64)
    mov = np.asarray(movement_deg, dtype=np.float64)
    events: list[Event] = []
    for i in range(0, len(t), BATCH_BLOCK):
        j = i + BATCH_BLOCK
        h = None if height_m is None else height_m[i:j]
        held = None if hips_held is None else hips_held[i:j]
        events += mon.update(t[i:j], lum[i:j], mov[i:j], h, held)
    if len(t) == 0:
        mon.update(t, lum, mov)  # still checks the shapes
    events += mon.finish()
    rep_list = [e for e in events if isinstance(e, RepEnded)]
    alarms = [replace(a) for a in mon.alarms]
    return MonitorResult(
        events=events,
        reps=rep_list,
        alarms=alarms,
        summary=summarize_result(events, rep_list, alarms),
        limits=mon.limits,
        mode=mode,
        pelvis_leak=mon.pelvis_leak,
    )


__all__ = [
    "MODES",
    "STATES",
    "Monitor",
    "MonitorError",
    "MonitorResult",
    "MonitorStatus",
    "analyze_angles",
    "check_limits",
    "summarize_result",
]
