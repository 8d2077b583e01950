"""The batch analysis of a whole recording (``analyze_recording``) and the pieces the
streaming ``Pipeline`` shares with it: which monitor mode a sensor set gets, the sensor check,
the angle columns, and the summary block.

Batch and streaming give the same result for the same samples (tests feed recordings in random
chunk sizes through the pipeline and compare).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np

from imu_monitor.errors import CalibrationRefused, ImuMonitorError
from imu_monitor.events import MonitorMode
from imu_monitor.exercises import Exercise, Limits, get_exercise
from imu_monitor.model import Recording, SensorInfo
from imu_monitor.processing.acc_offset import (
    AccOffset,
    estimate_acc_offset,
    remove_acc_offset,
    take_off_offset,
)
from imu_monitor.processing.angles import (
    AngleSet,
    compute_angles,
    rep_signal_is_trunk,
    timed_from_pelvis,
)
from imu_monitor.processing.calibration import CAL_MARKER_START, Calibration, calibrate_recording
from imu_monitor.processing.clock_offset import estimate_clock_offset, worth_taking_off
from imu_monitor.processing.height import HeightTracker, height_checked
from imu_monitor.processing.join import join_batch
from imu_monitor.processing.monitor import MonitorResult, analyze_angles, summarize_result
from imu_monitor.processing.orientation import estimate_orientation
from imu_monitor.processing.sets import SET_MARKERS, SessionSets, judge_session

log = logging.getLogger(__name__)

MASTER = "sacrum"
"""The placement every other sensor is joined onto (its clock is the session's)."""
UPPER = "upper_lumbar"
"""The placement whose clock offset against the master is taken off (``clock_offset``)."""


def monitor_mode(exercise: Exercise, placements: list[str] | tuple[str, ...]) -> MonitorMode:
    """``lockout`` for a one-sensor lift whose trunk rotates (hip thrust, bridge), else
    ``continuous``."""
    if "upper_lumbar" not in placements and exercise.one_sensor_mode == MonitorMode.LOCKOUT:
        return MonitorMode.LOCKOUT
    return MonitorMode.CONTINUOUS


def _check_sensors(sensors: dict[str, SensorInfo] | list[str]) -> list[str]:
    placements = list(sensors)
    if MASTER not in placements:
        raise ImuMonitorError(
            f"no sacrum sensor among {placements}: the lumbar angle needs a sensor on the "
            "sacrum (placement 'sacrum')"
        )
    return [MASTER] + [p for p in placements if p != MASTER]


def _angle_columns(angles: AngleSet) -> dict[str, np.ndarray]:
    n = len(angles.t_s)
    cols = {
        "t_s": angles.t_s,
        "lumbar_flexion_deg": angles.lumbar_flexion_deg,
        "lumbar_lateral_deg": angles.lumbar_lateral_deg,
        "hip_flexion_deg": (
            angles.hip_flexion_deg if angles.hip_flexion_deg is not None else np.full(n, np.nan)
        ),
        "movement_deg": angles.movement_deg,
    }
    for p, pitch in angles.pitch_deg.items():
        cols[f"pitch_{p}_deg"] = pitch
    return cols


def summarize(
    counts: dict[str, Any],
    exercise: Exercise,
    placements: list[str],
    mode: str,
    quality: dict[str, Any],
) -> dict[str, Any]:
    """The summary block printed by ``analyze`` and at the end of a live session: what was
    judged, the monitor's counts and means (``counts``: ``summarize_result`` or a
    ``SessionTally``) and the data quality."""
    head = {"exercise": exercise.name, "sensors": placements, "judged": mode}
    return head | counts | {"quality": quality}


@dataclass
class Analysis:
    """The batch result for one recording."""

    exercise: Exercise
    placements: list[str]
    mode: str
    calibration: Calibration
    offline: bool
    angles: AngleSet
    quats: dict[str, np.ndarray]
    """Per placement, quat_ws on the master (sacrum) time base ``angles.t_s``."""
    master_index: np.ndarray
    """Index of each output row into the recording's sacrum series (valid samples only)."""
    result: MonitorResult
    quality: dict[str, Any] = field(default_factory=dict)
    set_markers: list[tuple[float, str]] = field(default_factory=list)
    """(time, kind) of the recording's ``set_start`` / ``set_end`` markers."""

    @cached_property
    def sets(self) -> SessionSets:
        """The session's sets and judged reps (``processing.sets``)."""
        return judge_session(
            self.result.events,
            self.exercise,
            limits=self.result.limits,
            mode=self.mode,
            markers=self.set_markers,
        )

    def alarms(self) -> list[dict[str, Any]]:
        """The session's alarms, finished ones, with the keys ``analyze --json`` prints."""
        return [a.to_dict() for a in self.result.alarms if a.t_end_s is not None]

    def summary(self) -> dict[str, Any]:
        return summarize(
            summarize_result(self.result.events, self.result.reps, self.result.alarms)
            | self.sets.block,
            self.exercise,
            self.placements,
            self.mode,
            self.quality,
        )


RECALIBRATED_NOTE = (
    "calibrated afresh from the live calibration's capture windows with the accelerometer "
    "offsets of the whole session (the live monitor's calibration, stored in the file, is what "
    "replay and --online use)"
)
CAPTURE_END_TOLERANCE_S = 5.0
"""A live calibration judges from a little after its capture window's end (``valid_from_s``:
the last sample each sensor had then); a start-posture marker that ends this close before it is
that calibration's capture."""


NOT_RECALIBRATED_NOTE = (
    "the live calibration's capture windows could not calibrate afresh; the live monitor's "
    "calibration is used"
)


def _calibrate_afresh(
    rec: Recording, ex: Exercise, placements: list[str], acc_offset: bool
) -> tuple[Recording, Calibration, dict[str, AccOffset]]:
    """A calibration from the recording itself (``calibrate_recording``), after each sensor's
    accelerometer offset, estimated from the whole session, is taken off (``acc_offset``): the
    corrected recording, the calibration (carrying the offsets) and the offsets."""
    offsets: dict[str, AccOffset] = {}
    if acc_offset:
        offsets = {p: estimate_acc_offset(rec.series[p]) for p in placements}
        rec = replace(
            rec,
            series=rec.series
            | {p: remove_acc_offset(rec.series[p], o) for p, o in offsets.items()},
        )
    calibration = calibrate_recording(rec, ex)
    for p, o in offsets.items():
        if o.applied and p in calibration.sensors:
            calibration.sensors[p].acc_offset_m_s2 = list(o.offset_m_s2)
    return rec, calibration, offsets


def calibrate_with_acc_offsets(rec: Recording, exercise: Exercise) -> Calibration:
    """The calibration ``analyze_recording`` makes from a recording that has none for this
    exercise: ``calibrate_recording`` after each sensor's accelerometer offset, estimated from
    the whole session, is taken off; the calibration carries the offsets, so a pipeline judging
    with it takes them off every sample (a replay)."""
    return _calibrate_afresh(rec, exercise, _check_sensors(rec.sensors), True)[1]


def _captured_in(calibration: Calibration, rec: Recording) -> bool:
    """Whether ``calibration`` was captured in this recording, over its last start-posture
    marker (the live monitor records its guided calibration's windows as markers)."""
    starts = [m for m in rec.markers_of(CAL_MARKER_START) if m.t_end_s is not None]
    if calibration.valid_from_s is None or not starts:
        return False
    lag = calibration.valid_from_s - float(starts[-1].t_end_s)
    return 0.0 <= lag <= CAPTURE_END_TOLERANCE_S


def _take_off_clock_offset(rec: Recording) -> tuple[Recording, dict[str, dict[str, Any]]]:
    """The recording with the upper-lumbar sensor's clock offset taken off its sample times
    (``clock_offset.worth_taking_off``), and what was measured (``{placement:
    ClockOffset.to_dict() and taken_off}``; empty without such a sensor)."""
    if UPPER not in rec.series or MASTER not in rec.series:
        return rec, {}
    est = estimate_clock_offset(
        rec.series[MASTER], rec.series[UPPER], rate_hz=rec.sensors[MASTER].rate_hz
    )
    taken_off = worth_taking_off(est)
    if taken_off:
        s = rec.series[UPPER]
        rec = replace(rec, series=rec.series | {UPPER: replace(s, t_s=s.t_s - est.offset_s)})
        log.info("upper_lumbar clock offset %+.0f ms taken off", 1000 * est.offset_s)
    info = est.to_dict() | {"offset_s": float(est.offset_s), "taken_off": bool(taken_off)}
    return rec, {UPPER: info}


def analyze_recording(
    rec: Recording,
    *,
    exercise: Exercise | str | None = None,
    limits: Limits | None = None,
    calibration: Calibration | None = None,
    offline: bool = True,
    acc_offset: bool = True,
    clock_offset: bool = True,
) -> Analysis:
    """Batch analysis of a whole recording.

    ``exercise``/``limits``/``calibration`` override what the recording holds (re-analysis with new
    settings; the raw data is not changed). Without a calibration argument the recording's stored
    calibration is used, else one is computed from the recording (``calibrate_recording``: its
    calibration markers, or its first still period, and its notes say which). Offline, a stored
    calibration captured in this recording (the live monitor's guided calibration, whose windows
    it records as markers) is made afresh from those windows with the whole session's
    accelerometer offsets, which the live monitor knew only from the first reps.
    ``offline`` uses vqf's forward-backward filter (the more accurate one for finished recordings).
    ``acc_offset``: calibrating from the recording itself (with either filter: the recording is
    there whole), first take each sensor's accelerometer offset off (``acc_offset``: estimated
    from the session's postures with the gyro's help), and the calibration says so
    (``SensorCalibration.acc_offset_m_s2``). A
    calibration given or stored applies to the readings less its own offsets (the live monitor's
    after its correction; none: the data as recorded). ``quality[placement]["acc_offset"]`` says
    what this analysis estimated and took off, or (``from_calibration``) the calibration's.
    ``clock_offset``: first take the upper-lumbar sensor's clock offset off its sample times
    (``clock_offset.worth_taking_off``); ``quality["upper_lumbar"]["clock_offset"]`` says what
    was measured and whether it was taken off.
    """
    ex = exercise if isinstance(exercise, Exercise) else get_exercise(exercise or rec.exercise)
    placements = _check_sensors(rec.sensors)
    clocks: dict[str, dict[str, Any]] = {}
    if clock_offset:
        rec, clocks = _take_off_clock_offset(rec)
    offsets: dict[str, AccOffset] = {}
    taken: dict[str, dict[str, Any]] = {}  # the offsets of a given calibration, for ``quality``
    fresh: tuple[Recording, Calibration, dict[str, AccOffset]] | None = None
    if calibration is None and rec.calibration is not None:
        if rec.calibration.get("exercise") == ex.name:
            calibration = Calibration.from_dict(rec.calibration)
            if offline and acc_offset and _captured_in(calibration, rec):
                try:
                    fresh = _calibrate_afresh(rec, ex, placements, acc_offset)
                    fresh[1].notes.append(RECALIBRATED_NOTE)
                except CalibrationRefused as err:
                    calibration.notes.append(f"{NOT_RECALIBRATED_NOTE}: {err}")
    if calibration is None:
        fresh = _calibrate_afresh(rec, ex, placements, acc_offset)
    if fresh is not None:
        rec, calibration, offsets = fresh
    else:
        # a calibration made with an accelerometer offset (as the live monitor's, stored in the
        # recording) applies to the readings with that offset taken off
        given = {p: o for p, o in calibration.acc_offsets().items() if p in rec.series}
        corrected = {p: take_off_offset(rec.series[p], o) for p, o in given.items()}
        rec = replace(rec, series=rec.series | corrected)
        taken = {p: {"offset_m_s2": [round(float(v), 4) for v in o]} for p, o in given.items()}
    ori = {
        p: estimate_orientation(rec.series[p], rec.sensors[p].rate_hz, offline=offline)
        for p in placements
    }
    master = ori[MASTER]
    quats = {MASTER: master.quat_ws}
    quats |= join_batch(
        master.t_s, {p: (ori[p].t_s, ori[p].quat_ws) for p in placements if p != MASTER}
    )
    angles = compute_angles(master.t_s, quats, calibration, ex)
    mode = monitor_mode(ex, placements)
    # judge from the end of the calibration capture: before it the user was getting into position
    first = 0
    if calibration.valid_from_s is not None:
        first = int(np.searchsorted(angles.t_s, calibration.valid_from_s, side="right"))
    height = held = None
    if height_checked(ex, placements, rec.sensors[MASTER].rate_hz):
        acc = rec.series[MASTER].acc_m_s2[master.index]
        tracker = HeightTracker()
        height = tracker.update(master.t_s, acc, master.quat_ws, master.turn_rate_rad_s)[first:]
        held = tracker.held[first:]
    result = analyze_angles(
        angles.t_s[first:],
        angles.lumbar_flexion_deg[first:],
        angles.movement_deg[first:],
        ex,
        limits=limits or ex.limits,
        mode=mode,
        timed_from_pelvis=timed_from_pelvis(ex, placements),
        rate_hz=rec.sensors[MASTER].rate_hz,
        height_m=height,
        hips_held=held,
        timed_from_trunk=rep_signal_is_trunk(ex, placements),
    )
    return Analysis(
        exercise=ex,
        placements=placements,
        mode=mode,
        calibration=calibration,
        offline=offline,
        angles=angles,
        quats=quats,
        master_index=master.index,
        result=result,
        quality={
            p: o.counts.to_dict()
            | ({"acc_offset": offsets[p].to_dict()} if p in offsets else {})
            | ({"acc_offset": taken[p] | {"from_calibration": True}} if p in taken else {})
            | ({"clock_offset": clocks[p]} if p in clocks else {})
            for p, o in ori.items()
        },
        set_markers=[(m.t_s, m.kind) for m in rec.markers if m.kind in SET_MARKERS],
    )
