"""The processing pipeline: raw chunks in, lumbar angles, monitor events and ring buffers out.

::

    chunk ─► OrientationStream (per sensor) ─► SensorJoiner ─► compute_angles ─► Monitor
      └──► LiveCalibrator (until calibrated)       RingBuffer (dashboard) ◄──┘        │
                                                          listeners, recorder ◄─ events

A guided calibration's pipeline measures the accelerometers' offsets over the first reps and
takes them off from then on (``live_acc_offset``): the filters run again and the calibration is
made again at once, so what was kept from before moves with them (the samples the join holds,
the hips' height's still moments) and the rep signal's step is faded out (``BRIDGE_S``). A
calibration that carries offsets has them taken off every chunk. With an upper-lumbar sensor,
its clock's offset against the sacrum's is measured from their movement and taken off its times
before the join (``live_clock_offset``).

``Pipeline`` is the streaming wrapper used for live data and replay;
``analysis.analyze_recording`` is the batch path over a whole recording. Both call the same
pure stage functions, so a recording fed through ``Pipeline`` in any chunking gives the events
``analyze_recording`` gives (with the same calibration and the online filter).
"""

from __future__ import annotations

import logging
import math
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from scipy.spatial.transform import Rotation

from imu_monitor.errors import CalibrationRefused, ImuMonitorError
from imu_monitor.events import (
    AccOffsetApplied,
    AlarmRecord,
    ClockOffsetApplied,
    Event,
    RecordingFailed,
    RepEnded,
    StartPostureElsewhere,
    StartPostureHeld,
)
from imu_monitor.exercises import Exercise, Limits, get_exercise
from imu_monitor.model import Gap, Marker, SampleChunk, SensorInfo
from imu_monitor.processing.acc_offset import take_off_offset
from imu_monitor.processing.analysis import (
    MASTER,
    UPPER,
    _angle_columns,
    _check_sensors,
    monitor_mode,
    summarize,
)
from imu_monitor.processing.angles import (
    compute_angles,
    rep_signal_is_pelvis_turn,
    rep_signal_is_trunk,
    timed_from_pelvis,
)
from imu_monitor.processing.buffers import RingBuffer
from imu_monitor.processing.calibration import Calibration, calibrate, capture_markers
from imu_monitor.processing.frames import segment_pitch_roll
from imu_monitor.processing.gap_fill import PairedGapFill
from imu_monitor.processing.height import HeightTracker, height_checked
from imu_monitor.processing.join import SensorJoiner
from imu_monitor.processing.live_acc_offset import LiveAccOffset, offsets_mg
from imu_monitor.processing.live_calibration import LiveCalibrator
from imu_monitor.processing.live_clock_offset import LiveClockOffset, trunk_turns_with_pelvis
from imu_monitor.processing.monitor import Monitor
from imu_monitor.processing.monitor.tally import SessionTally
from imu_monitor.processing.orientation import OrientationStream
from imu_monitor.processing.rep_signal import AxialTracker
from imu_monitor.processing.sets import SetsView, SetTracker
from imu_monitor.processing.start_gate import StartGate

log = logging.getLogger(__name__)

RECENT_EVENTS = 2000
"""Events a live pipeline keeps for the display (``Pipeline.events``); the summary counts all."""
RECENT_REPS = 1000
"""Finished reps kept for the display (``Pipeline.reps``, the reps table)."""
RECENT_ALARMS = 500
"""Alarm records kept (``Pipeline.alarms``)."""
RECENT_SETS = 200
"""Finished sets and judged reps kept (``Pipeline.sets``); the summary counts every rep."""
RECENT_GAPS = 1000
"""Data gaps listed in the summary; more are counted (``gaps_not_listed``)."""
BRIDGE_S = 2.0
"""The step an accelerometer-offset correction makes in the rep signal (the filters and the
calibration change at once; 0.1-1 deg) is taken off after it and faded out over this long (s):
at most half a degree per second, under the speed that marks a movement's onset (5 % of its
peak: 1-5 deg/s)."""


def _rotations(quat_ws: np.ndarray) -> Rotation:
    """(w, x, y, z) quaternions, (4,) or (n, 4), as rotations."""
    return Rotation.from_quat(quat_ws, scalar_first=True)


def _turned(by: Rotation, quat_ws: np.ndarray) -> np.ndarray:
    """Orientations (n, 4) (w, x, y, z) turned by ``by`` in the world frame."""
    return (by * _rotations(quat_ws)).as_quat(scalar_first=True)


class DataSink(Protocol):
    """What a pipeline hands a data sink (``Pipeline.add_data_sink``; an LSL outlet), in the
    feeding thread: each chunk as fed, each sensor's orientation, the angles once calibrated."""

    def samples(self, chunk: SampleChunk) -> None: ...

    def orientation(self, sensor: str, t_s: np.ndarray, quat_ws: np.ndarray) -> None: ...

    def angles(self, columns: dict[str, np.ndarray]) -> None: ...


class AngleLog:
    """A data sink that keeps every angle the pipeline hands out (``column(name)``: one channel
    of the whole session), for a benchmark or a test that scores a live run."""

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []

    def samples(self, chunk: SampleChunk) -> None:
        pass

    def orientation(self, sensor: str, t_s: np.ndarray, quat_ws: np.ndarray) -> None:
        pass

    def angles(self, columns: dict[str, np.ndarray]) -> None:
        self.parts.append(columns)

    def column(self, name: str) -> np.ndarray:
        return np.concatenate([p[name] for p in self.parts]) if self.parts else np.zeros(0)


class Pipeline:
    """Streaming processing of one session. ``feed`` is thread-safe.

    The monitoring never depends on the recorder: when handing it anything fails (a full disk),
    the recording stops there (the recorder is closed and dropped), one ``RecordingFailed``
    event goes to the listeners, and every chunk goes on being judged.

    A burst lost by one of the two lumbar sensors is bridged with the other one's turn as far as
    its samples have arrived (``gap_fill``), so the result then depends on the order the
    sensors' chunks arrive in; ``gap_fill=False`` bridges every gap on a line, and the pipeline
    gives exactly what ``analyze_recording(offline=False)`` gives, in any chunking.
    """

    def __init__(
        self,
        exercise: Exercise | str,
        sensors: dict[str, SensorInfo],
        *,
        calibration: Calibration | None = None,
        limits: Limits | None = None,
        user: str = "default",
        recorder: Any | None = None,
        history_s: float = 60.0,
        wait_for_start: bool = False,
        gap_fill: bool = True,
    ) -> None:
        self.exercise = get_exercise(exercise) if isinstance(exercise, str) else exercise
        self.placements = _check_sensors(sensors)
        self.sensors = {p: sensors[p] for p in self.placements}
        self.limits = limits or self.exercise.limits
        self.user = user
        self.recorder = recorder
        self._recording_since = -math.inf  # the latest sample time when the recorder started
        self.mode = monitor_mode(self.exercise, self.placements)
        self._lock = threading.RLock()
        self._listeners: list[Callable[[Event], None]] = []
        self._sinks: list[DataSink] = []
        self._orientation = {p: OrientationStream(self.sensors[p].rate_hz) for p in self.placements}
        self._gap_fill = PairedGapFill(self.placements if gap_fill else [])
        self._gap_fill.attach(self._orientation)
        self._joiner = SensorJoiner(self.placements, master=MASTER)
        self._height = self._new_height()
        self.monitor = self._new_monitor()
        rate = self.sensors[MASTER].rate_hz
        channels = ["lumbar_flexion_deg", "lumbar_lateral_deg", "hip_flexion_deg", "movement_deg"]
        channels += [f"pitch_{p}_deg" for p in self.placements]
        self.buffer = RingBuffer(channels, capacity=int(history_s * rate * 1.1) + 16)
        # bounded: a session of any length keeps the same memory; the summary is from the tally
        self.events: deque[Event] = deque(maxlen=RECENT_EVENTS)
        """The latest events (``RECENT_EVENTS``)."""
        self._earlier_alarms: deque[AlarmRecord] = deque(maxlen=RECENT_ALARMS)
        """Alarms of monitors replaced by ``reset()`` (the latest)."""
        self.reps: deque[RepEnded] = deque(maxlen=RECENT_REPS)
        """The latest finished reps (``RECENT_REPS``)."""
        self.gaps: deque[Gap] = deque(maxlen=RECENT_GAPS)
        self.gaps_total = 0
        self.tally = SessionTally()
        """The session's counts and means (every event, however many)."""
        self.sets = SetTracker(
            self.exercise, limits=self.limits, mode=self.mode, memory=RECENT_SETS
        )
        """Sets and good reps (``processing.sets``)."""
        self.calibration: Calibration | None = None
        self.calibration_markers: list[Marker] = []
        """The windows of the latest guided calibration (``capture_markers``): they go into the
        recording with the calibration, so that ``analyze`` can calibrate afresh from them."""
        self.calibrator: LiveCalibrator | None = None
        self._acc_offsets: dict[str, np.ndarray] = {}  # taken off each chunk (the calibration's)
        self._acc_fix: LiveAccOffset | None = None  # the correction after the first reps, if due
        self._clock_fix = (  # the clock offset's measures, while due (``live_clock_offset``)
            LiveClockOffset(MASTER, UPPER, self.sensors[MASTER].rate_hz)
            if UPPER in self.placements and trunk_turns_with_pelvis(self.exercise)
            else None
        )
        self._clock_shift: dict[str, float] = {}
        """Taken off each sensor's sample times before the join (s; ``live_clock_offset``)."""
        self._last_joined: tuple[float, dict[str, np.ndarray]] | None = None
        """The latest joined sample judged: its time and each sensor's orientation."""
        self._bridge: tuple[float, float] | None = None
        """(time, step): the rep signal's step at an accelerometer-offset correction, taken off
        the signal after it and faded out over ``BRIDGE_S`` (``_bridging``)."""
        self._axial = AxialTracker()
        self._start_gate: StartGate | None = None
        """With a saved calibration (``wait_for_start``): judging waits for the calibration
        posture (``start_gate``)."""
        self.samples_in = {p: 0 for p in self.placements}
        self._t_latest = float("nan")
        self._t_fed = {p: float("nan") for p in self.placements}  # each sensor's last sample
        self._notices: list[Event] = []  # RecordingFailed events of the current feed() call
        if calibration is not None:
            self.set_calibration(calibration)
            if wait_for_start and calibration.valid_from_s is None:
                neutral = calibration.sensors[MASTER]
                self._start_gate = StartGate(neutral.neutral_pitch_deg, neutral.neutral_roll_deg)
        else:
            self.start_calibration()

    # -- configuration ------------------------------------------------------------------------
    def add_listener(self, fn: Callable[[Event], None]) -> None:
        """``fn(event)`` is called in the feeding thread the moment an event happens."""
        self._listeners.append(fn)

    def add_data_sink(self, sink: DataSink) -> None:
        """``sink`` gets the samples, orientations and angles (``DataSink``) as they come."""
        self._sinks.append(sink)

    def set_calibration(self, calibration: Calibration) -> None:
        """Judge with ``calibration`` from now on (its accelerometer offsets, if it has any, are
        taken off every sample). A guided calibration in progress is dropped."""
        with self._lock:
            self._acc_fix = None
            self._bridge = None
            self._start_gate = None
            self.calibration_markers = []
            self._use_calibration(calibration)

    def _use_calibration(self, calibration: Calibration) -> None:
        self.calibration = calibration
        self.calibrator = None
        self._acc_offsets = calibration.acc_offsets()
        self._axial = AxialTracker(calibration.valid_from_s)
        self.monitor.new_calibration()  # (new axes: a new leak into the pelvis' turn)
        if self.recorder is not None:
            self._record(self.recorder.set_calibration, calibration.to_dict())

    def _calibrated_live(self, calibration: Calibration) -> None:
        """The guided calibration finished: judge with it; its captures are kept for the
        accelerometer-offset correction after the first reps (``live_acc_offset``)."""
        windows = self.calibrator.captured if self.calibrator is not None else {}
        # The sensors are still now, but a filter may not have settled since the turn into the
        # start posture (its gyro's scale and bias errors): each takes its inclination afresh,
        # as the acc-derived neutral did, so the angles do not drift off it in the first seconds;
        # judging starts once every sensor's filter has been taken afresh (a sample period after
        # the last sample each had before, so that no joined sample interpolates an old one).
        for stream in self._orientation.values():
            stream.reinit_inclination()
        t_cal = 0.0 if calibration.valid_from_s is None else calibration.valid_from_s
        for ev in self._measure_clock_offset(t_cal):  # (a notice: this may not be in a feed)
            self._notices.append(ev)
            self._publish([ev])
        fed = [
            t - self._clock_shift.get(p, 0.0) for p, t in self._t_fed.items() if math.isfinite(t)
        ]
        if calibration.valid_from_s is not None and fed:
            period = 1.0 / min(s.rate_hz for s in self.sensors.values())
            calibration.valid_from_s = max(calibration.valid_from_s, max(fed) + period)
        self._use_calibration(calibration)
        self._mark_captures(windows)
        if self._acc_fix is not None and self._acc_fix.calibrated(windows):
            # the stand-to-start turn gives the offsets before the first rep (live_acc_offset)
            for ev in self._correct_acc_offset(self._acc_fix, t_cal):
                self._notices.append(ev)
                self._publish([ev])

    def _mark_captures(self, windows: dict[str, dict[str, Any]]) -> None:
        """Keep the guided calibration's windows as markers and record them, if the recording
        holds their data (it began before them)."""
        # the span every sensor's capture covers (each was checked still over its own)
        spans = {
            step: (
                max(float(s.t_s[0]) for s in series.values()),
                min(float(s.t_s[-1]) for s in series.values()),
            )
            for step, series in windows.items()
            if series and all(len(s) for s in series.values())
        }
        if "start" not in spans:
            return
        self.calibration_markers = capture_markers(
            self.exercise, spans["start"], spans.get("standing")
        )
        if self.recorder is not None:
            for marker in self.calibration_markers:
                if marker.t_s > self._recording_since:
                    self._record(self.recorder.write_marker, marker)

    def start_calibration(self, with_standing: bool = True) -> LiveCalibrator:
        """(Re)start the guided calibration; angles pause until it completes."""
        with self._lock:
            self.calibrator = LiveCalibrator(
                self.exercise, self.placements, user=self.user, with_standing=with_standing
            )
            self.calibration = None
            self._acc_offsets = {}
            # (not where the rep signal is the pelvis' turn: on all fours the sensors stay near
            # the start posture, where the offsets change nothing, and the refiltered sensor would
            # move the turn's reference under a rep: a rep timed 0.84 s off in simulated kicks)
            self._acc_fix = (
                None
                if rep_signal_is_pelvis_turn(self.exercise, self.placements)
                else LiveAccOffset(self.placements)
            )
            return self.calibrator

    def set_recorder(self, recorder: Any | None) -> None:
        """Start (a ``RecordingWriter``) or stop (None) recording from the next chunk on; the
        calibration in force goes into the new recording."""
        with self._lock:
            self.recorder = recorder
            self._recording_since = self._t_latest if math.isfinite(self._t_latest) else -math.inf
            if recorder is not None and self.calibration is not None:
                self._record(recorder.set_calibration, self.calibration.to_dict())

    def capture_calibration(self) -> Calibration | None:
        """Capture the guided calibration's current step from the last seconds of data now
        (a wizard's countdown ended). Raises ``CalibrationRefused`` with the reason; when the
        last step is captured the pipeline takes the calibration and returns it. Without a
        calibration in progress, returns the calibration in force."""
        with self._lock:  # the feeding thread appends to the calibrator's windows under it
            if self.calibrator is None:
                return self.calibration
            cal = self.calibrator.capture_now()
            if cal is not None:
                self._calibrated_live(cal)
            return cal

    @property
    def status(self):  # MonitorStatus
        return self.monitor.status

    # -- data in ------------------------------------------------------------------------------
    def feed(self, chunk: SampleChunk) -> list[Event]:
        """Process one chunk of one sensor; returns the events it caused."""
        if chunk.sensor not in self._orientation or len(chunk) == 0:
            return []
        with self._lock:
            self._notices = []
            stream = self._orientation[chunk.sensor]
            events = []
            for ready in self._gap_fill.arrived(
                chunk, stream.quality.state.t_s, 1.0 / stream.rate_hz
            ):  # (a chunk after a lost burst may wait for the other lumbar sensor's: gap_fill)
                events += self._feed(ready)
            return self._notices + events if self._notices else events

    def _feed(self, chunk: SampleChunk) -> list[Event]:
        self.samples_in[chunk.sensor] += len(chunk)
        t_end = float(chunk.t_s[-1])
        if not self._t_latest >= t_end:  # (NaN at first)
            self._t_latest = t_end
        if self.recorder is not None:
            self._record(self.recorder.write_chunk, chunk)
        if self._acc_fix is not None:
            self._acc_fix.log(chunk)
        if self._clock_fix is not None:
            self._clock_fix.log(chunk)
        if self.calibrator is not None:
            cal = self.calibrator.feed(chunk)
            if cal is not None:
                self._calibrated_live(cal)
        raw = chunk
        offset = self._acc_offsets.get(chunk.sensor)
        if offset is not None:
            chunk = take_off_offset(chunk, offset)
        ori = self._orientation[chunk.sensor].update(chunk)
        self._gap_fill.log(chunk.sensor, ori.t_s, chunk.gyr_rad_s[ori.index], ori.quat_ws)
        height = held = None
        if self._height is not None:  # one sensor (the master): the join passes its samples on
            height = self._height.update(
                ori.t_s, chunk.acc_m_s2[ori.index], ori.quat_ws, ori.turn_rate_rad_s
            )
            held = self._height.held
        self._t_fed[chunk.sensor] = t_end
        if self._sinks:
            self._to_sinks(raw, ori.t_s, ori.quat_ws)
        shift = self._clock_shift.get(chunk.sensor)
        t_join = ori.t_s if shift is None else ori.t_s - shift
        t, quats = self._joiner.push(chunk.sensor, t_join, ori.quat_ws)
        if len(t) == 0 or self.calibration is None:
            return []
        if height is not None and len(height) != len(t):
            height = held = None  # (not the master's samples as they came: cannot happen with one)
        if self._start_gate is not None and not self._held_start(t, quats[MASTER]):
            return []
        valid_from = self.calibration.valid_from_s
        if valid_from is not None and t[0] <= valid_from:
            # still inside the calibration capture: nothing to judge yet (as in the batch path)
            keep = int(np.searchsorted(t, valid_from, side="right"))
            t, quats = t[keep:], {p: q[keep:] for p, q in quats.items()}
            height = None if height is None else height[keep:]
            held = None if held is None else held[keep:]
            if len(t) == 0:
                return []
        angles = compute_angles(t, quats, self.calibration, self.exercise, self._axial)
        if self._bridge is not None:
            angles.movement_deg = angles.movement_deg - self._bridging(t)
            if t[-1] >= self._bridge[0] + BRIDGE_S:
                self._bridge = None
        self._last_joined = (float(t[-1]), {p: q[-1] for p, q in quats.items()})
        columns = _angle_columns(angles)
        self.buffer.append(columns)
        for sink in self._sinks:
            try:
                sink.angles(columns)
            except Exception:  # a broken sink must not stop the stream
                log.exception("data sink %r failed", sink)
        events = self.monitor.update(
            t, angles.lumbar_flexion_deg, angles.movement_deg, height, held
        )
        self._publish(events)
        fix = self._acc_fix
        if fix is not None and any(isinstance(e, RepEnded) for e in events) and fix.rep_ended():
            extra = self._correct_acc_offset(fix, float(t[-1]))
            self._publish(extra)
            events = events + extra
        clock = self._clock_fix
        if clock is not None and any(isinstance(e, RepEnded) for e in events) and clock.rep_ended():
            extra = self._measure_clock_offset(float(t[-1]))
            self._publish(extra)
            events = events + extra
        return events

    @property
    def waiting_for_start(self) -> bool:
        """With a saved calibration: the calibration posture has not been held yet, nothing is
        judged (``start_gate``)."""
        return self._start_gate is not None

    def _held_start(self, t: np.ndarray, quat_master: np.ndarray) -> bool:
        """Feed the start gate; once the posture is held, judge from there on (True)."""
        assert self._start_gate is not None and self.calibration is not None
        q = self.calibration.sensors[MASTER].q_segment_sensor
        pitch, roll = segment_pitch_roll(quat_master, q)
        gate = self._start_gate
        t_held = gate.update(t, pitch, roll)
        if t_held is None:
            if gate.held_elsewhere is not None:  # once: say why nothing is judged yet
                ev = StartPostureElsewhere(float(t[-1]), gate.held_elsewhere)
                gate.held_elsewhere = None
                self._notices.append(ev)
                self._publish([ev])
            return False
        self._start_gate = None
        self.calibration.valid_from_s = t_held
        self._axial = AxialTracker(t_held)  # the first rest: the posture just held
        if self.recorder is not None:  # a replay or an analysis of the file judges from here too
            self._record(self.recorder.set_calibration, self.calibration.to_dict())
        ev = StartPostureHeld(t_held)
        self._notices.append(ev)
        self._publish([ev])
        return True

    def _measure_clock_offset(self, t_s: float) -> list[Event]:
        """A measure of ``live_clock_offset``: a changed offset is taken off the upper sensor's
        times from here (the samples the join holds too); the event that says so."""
        fix = self._clock_fix
        if fix is None:
            return []
        new = fix.measure()
        if fix.finished:
            self._clock_fix = None
        if new is None or fix.latest is None:
            return []
        old = self._clock_shift.get(fix.other, 0.0)
        self._clock_shift[fix.other] = new
        self._joiner.shift(fix.other, old - new)
        ev = ClockOffsetApplied(
            t_s=t_s,
            sensor=fix.other,
            offset_ms=round(1000.0 * float(new), 1),
            correlation=round(float(fix.latest.correlation), 3),
            reps=fix.reps,
        )
        log.info("%s", ev.notice())
        return [ev]

    def _correct_acc_offset(self, fix: LiveAccOffset, t_s: float) -> list[Event]:
        """A correction of ``live_acc_offset``: measure, recalibrate, refilter."""
        if fix.finished:
            self._acc_fix = None
        offsets = {p: o for p, o in fix.estimate().items() if o.applied}
        old = self.calibration
        if old is None:
            return []
        # a sensor the two postures could not align (the thigh in a back kick is vertical in
        # both) is aligned from the reps' movement now (``calibration``'s functional axis), and
        # again from more of it at each correction
        assumed = [p for p, s in old.sensors.items() if s.method == "gravity-start-only"]
        moved = [p for p, s in old.sensors.items() if s.method.startswith("functional-axis")]
        if not offsets and not assumed:
            log.info("accelerometer offsets: none to take off after %d reps", fix.reps)
            return []
        windows = fix.corrected_windows(offsets)
        try:
            cal = calibrate(
                self.exercise,
                start=windows["start"],
                standing=windows.get("standing"),
                motion=fix.motion(offsets) if assumed or moved else None,
            )
        except CalibrationRefused as e:  # the corrected captures no longer pass: keep the old
            log.warning("accelerometer offsets not taken off: %s", e)
            return []
        aligned = [p for p in assumed if cal.sensors[p].method != "gravity-start-only"]
        if not offsets and not aligned:
            log.info("after %d reps: no offsets to take off, no sensor aligned anew", fix.reps)
            return []
        if aligned:
            log.info("aligned from the movement of the first %d reps: %s", fix.reps, aligned)
        cal.user, cal.valid_from_s = old.user, old.valid_from_s
        mg = offsets_mg(offsets)
        for p, o in offsets.items():
            cal.sensors[p].acc_offset_m_s2 = list(o.offset_m_s2)
        applied = AccOffsetApplied(t_s=t_s, offsets_mg=mg, reps=fix.reps)
        if offsets:
            cal.notes.append(
                f"accelerometer offsets measured over {applied.measured_over} and taken off "
                "(mg, sensor axes): "
                + "; ".join(f"{p} {', '.join(f'{v:+.0f}' for v in xyz)}" for p, xyz in mg.items())
            )
        turned: dict[str, Rotation] = {}  # each filter's change of orientation, world frame
        for p in self.placements if offsets else ():  # the filters as if the offsets had been
            # off from the start
            stream = OrientationStream(self.sensors[p].rate_hz)
            stream.update(fix.series(p, offsets.get(p)))
            stream.quality = self._orientation[p].quality  # (its counts cover the whole session)
            turned[p] = (
                _rotations(stream.latest()) * _rotations(self._orientation[p].latest()).inv()
            )
            self._orientation[p] = stream
            self._joiner.turn(p, lambda q, by=turned[p]: _turned(by, q))
        self._gap_fill.attach(self._orientation)
        self._bridge_step(old, cal, turned)
        axial, before = self._axial, self._acc_offsets
        self._use_calibration(cal)
        self._axial = axial  # (the rep signal's rests stay as they were)
        if self._height is not None:  # (its samples so far had the offset in use before)
            zero = np.zeros(3)
            delta = self._acc_offsets.get(MASTER, zero) - before.get(MASTER, zero)
            if np.any(delta):
                self._height.offset_changed(delta)
        if not offsets:
            return []
        log.info("accelerometer offsets taken off: %s", mg)
        return [applied]

    def _bridge_step(self, old: Calibration, new: Calibration, turned: dict[str, Rotation]) -> None:
        """The rep signal's step where a correction changes the calibration (``new`` for
        ``old``) and the filters (each turned by ``turned``): at the latest joined sample, the
        signal as the new ones give it less as the old ones gave it (plus what is left of an
        earlier step). A step is no movement, but a rep's onset is timed from the signal's
        speed: a correction at the end of a rep a touch-and-go rest before the next had put
        that rep's onset at the step, 0.54 s early (a thigh sensor's back kick, live)."""
        if self._last_joined is None:
            return
        t_last, joined = self._last_joined
        if set(joined) - set(new.sensors):
            return
        t = np.array([t_last])
        now = {p: q[None] for p, q in joined.items()}
        moved = {p: _turned(turned[p], q) if p in turned else q for p, q in now.items()}
        before = compute_angles(t, now, old, self.exercise)
        after = compute_angles(t, moved, new, self.exercise)
        step = float(after.movement_deg[0] - before.movement_deg[0])
        if math.isfinite(step):  # (with what is left of an earlier step)
            self._bridge = (t_last, step + float(self._bridging(t)[0]))

    def _bridging(self, t: np.ndarray) -> np.ndarray:
        """What is taken off the rep signal at times ``t`` (``_bridge``): the step of the latest
        correction after it, fading linearly to nothing over ``BRIDGE_S``."""
        if self._bridge is None:
            return np.zeros(len(t))
        t0, step = self._bridge
        fade = np.clip(1.0 - (t - t0) / BRIDGE_S, 0.0, 1.0)
        return step * np.where(t > t0, fade, 0.0)

    def _to_sinks(self, chunk: SampleChunk, t_s: np.ndarray, quat_ws: np.ndarray) -> None:
        for sink in self._sinks:
            try:
                sink.samples(chunk)
                if len(t_s):
                    sink.orientation(chunk.sensor, t_s, quat_ws)
            except Exception:  # a broken sink must not stop the stream
                log.exception("data sink %r failed", sink)

    def reset(self) -> None:
        """Forget the stream's state (filters, sensor join, monitor, traces), keep the
        calibration and the events so far: for a replay that jumps (seek, loop)."""
        with self._lock:
            self.finish()
            self._orientation = {
                p: OrientationStream(self.sensors[p].rate_hz) for p in self.placements
            }
            self._gap_fill = PairedGapFill(self.placements if self._gap_fill.active else [])
            self._gap_fill.attach(self._orientation)
            self._joiner = SensorJoiner(self.placements, master=MASTER)
            self._height = self._new_height()
            self._axial = AxialTracker(self.calibration.valid_from_s if self.calibration else None)
            self._acc_fix = None  # (the time jumped: its samples no longer follow on)
            self._bridge, self._last_joined = None, None
            if self._clock_fix is not None:  # (the same; the offset in use stays)
                self._clock_fix.stop()
                self._clock_fix = None
            self._earlier_alarms.extend(self.monitor.alarms)
            self.monitor = self._new_monitor()
            self.buffer.clear()

    def mark_gap(self, gap: Gap) -> None:
        with self._lock:
            self.gaps.append(gap)
            self.gaps_total += 1
            if self.recorder is not None:
                self._record(self.recorder.write_gap, gap)

    def sets_view(self, recent: int = 0) -> SetsView:
        """Good reps, the last rep's judgement (and the latest ``recent``) and the sets, copied
        under the lock (for the dashboard's thread)."""
        with self._lock:
            return self.sets.view(recent)

    def mark_set(self, t_s: float, kind: str = "set_start") -> None:
        """A ``set_start`` / ``set_end`` marker (a button, a replayed recording's markers):
        splits the sets as in the batch analysis."""
        with self._lock:
            self.sets.add_marker(t_s, kind)

    def finish(self) -> list[Event]:
        with self._lock:
            released = [e for c in self._gap_fill.release_all() for e in self._feed(c)]
            events = self.monitor.finish()
            self._publish(events)
            self.sets.finish()
            return released + events

    def _publish(self, events: list[Event]) -> None:
        for ev in events:
            self.events.append(ev)
            self.tally.add(ev)
            self.sets.add(ev)
            if isinstance(ev, RepEnded):
                self.reps.append(ev)
            if self.recorder is not None:
                self._record(self.recorder.write_event, ev.to_dict())
            for fn in self._listeners:
                try:
                    fn(ev)
                except Exception:  # a broken sink must not stop the stream
                    log.exception("event listener %r failed", fn)

    def _record(self, write: Callable[..., Any], *args: Any) -> None:
        """Hand something to the recorder; if that fails, stop the recording (class docstring)."""
        recorder = self.recorder
        try:
            write(*args)
        except Exception as err:  # whatever the recorder raised, the monitoring goes on
            if self.recorder is recorder:
                self._recording_failed(recorder, err)

    def _recording_failed(self, recorder: Any, err: Exception) -> None:
        self.recorder = None
        reason = str(err) if isinstance(err, ImuMonitorError) else f"{type(err).__name__}: {err}"
        log.info("recording stopped: %s", reason)
        try:
            recorder.close()  # (cuts the file back to its last complete record)
        except Exception as close_err:
            log.debug("closing the failed recording: %s", close_err)
        ev = RecordingFailed(
            t_s=self._t_latest, file=str(getattr(recorder, "path", "") or ""), reason=reason
        )
        self._notices.append(ev)
        self._publish([ev])

    # -- data out -----------------------------------------------------------------------------
    def window(self, seconds: float) -> dict[str, np.ndarray]:
        """The latest ``seconds`` of angles (copies; safe from any thread)."""
        return self.buffer.window(seconds)

    def quality(self) -> dict[str, dict[str, Any]]:
        return {p: s.counts.to_dict() for p, s in self._orientation.items()}

    @property
    def alarms(self) -> list[AlarmRecord]:
        """The session's latest alarms (``RECENT_ALARMS``; the summary counts every one)."""
        recent = [*self._earlier_alarms, *self.monitor.alarms]
        return recent[-RECENT_ALARMS:]

    def summary(self) -> dict[str, Any]:
        with self._lock:
            counts = self.tally.to_dict() | self.sets.to_dict()
            out = summarize(counts, self.exercise, self.placements, self.mode, self.quality()) | {
                "gaps": [g.to_dict() for g in self.gaps],
                "samples": dict(self.samples_in),
            }
            if self.gaps_total > len(self.gaps):
                out["gaps_not_listed"] = self.gaps_total - len(self.gaps)
            return out

    def _new_monitor(self) -> Monitor:
        return Monitor(
            self.exercise,
            limits=self.limits,
            mode=self.mode,
            alarm_memory=RECENT_ALARMS,
            timed_from_pelvis=timed_from_pelvis(self.exercise, self.placements),
            rate_hz=self.sensors[MASTER].rate_hz,
            height_check=self._height is not None,
            timed_from_trunk=rep_signal_is_trunk(self.exercise, self.placements),
        )

    def _new_height(self) -> HeightTracker | None:
        """The hips' height, where the rep signal is the sacrum's own tilt (``height``)."""
        if height_checked(self.exercise, self.placements, self.sensors[MASTER].rate_hz):
            return HeightTracker()
        return None
