"""Neutral capture and sensor-to-segment alignment.

(Over 400 lines: the two alignment methods, the live and the recorded captures and the stored
form share their checks and notes; split, each part would need the others.)

A sensor is strapped on with an unknown rotation (``q_segment_sensor``, up to ~25 deg off its
nominal mounting, where sensor axes = segment axes). That rotation must not leak into the angles:
in particular, a sacrum sensor rotated about the trunk's vertical would read the pelvic roll of
a good back kick as flexion. Two ways to find it, chosen per sensor:

- **gravity-two-postures** (method A): the mean accelerometer direction is world-up in two known
  postures: standing (up = segment +z) and the exercise's calibration posture (up =
  ``exercise.up_in_segment()``; for the thigh at ``exercise.thigh_start_pitch_deg``). Two vector
  pairs fix the rotation (Wahba's problem, ``scipy.spatial.transform.Rotation.align_vectors``):
  standing is matched exactly (so pitch 0 = the pelvis as it is when standing), the calibration
  posture fixes the rotation about it. The pitch axis is the normal of the two up vectors, so it
  is right even when the real postures differ from the nominal pitches, as long as the subject
  does not lean sideways in one of them.
- **functional-axis** (method B), where the two postures give (nearly) the same gravity
  direction (the thigh in a back kick is vertical in both) or there is no standing capture: the
  principal axis of the gyro during the movement is the segment's y axis, its sign fixed by the
  direction the exercise moves the segment (e.g. the back kick moves the thigh into hip
  extension, so its pitch increases). For a trunk sensor in an exercise whose trunk should not
  pitch (the back kick), the principal axis is the pelvic roll (long, z) axis instead.
- **gravity-start-only**: only one gravity direction and no usable movement: the smallest
  rotation taking the measured up onto the nominal one, i.e. the mounting's rotation about the
  vertical is assumed nominal. The notes say so.

The neutral pitch/roll of each sensor is the segment's pitch/roll in the calibration posture
(mean accelerometer direction, mapped into the segment frame).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from imu_monitor.errors import CalibrationRefused, ImuMonitorError
from imu_monitor.exercises import Exercise, get_exercise
from imu_monitor.model import Marker, Recording, SensorSeries
from imu_monitor.processing.frames import angle_between_deg, pitch_roll_from_up, wrap_deg
from imu_monitor.processing.orientation import estimate_orientation, estimate_rate_hz
from imu_monitor.processing.posture_pair import standing_and_start
from imu_monitor.processing.stillness import (
    EDGE_TOLERANCE,
    MIN_STILL_S,
    _finite,
    check_still,
    check_still_over,
    find_still_periods,
    window,
)

log = logging.getLogger(__name__)

MOTION_WINDOW_S = 60.0
"""How much of the movement after the calibration capture the functional axis uses (method B):
about ten reps define the axis and its sign; the whole session would only cost an orientation
pass over it (a sixth of the analysis time of a 10-minute three-sensor back kick)."""
MIN_POSTURE_CHANGE_DEG = 20.0
"""Two postures whose up directions differ less than this cannot fix the rotation about up."""

CAL_MARKER_STANDING = "calibration_standing"
CAL_MARKER_START = "calibration_start"
GIVE_WINDOWS = "imu-monitor calibrate FILE --stand A-B --pose C-D"
"""How a user gives the calibration windows of a recording (seconds), said whenever they were
guessed."""


def capture_markers(
    exercise: Exercise,
    start: tuple[float, float],
    standing: tuple[float, float] | None = None,
) -> list[Marker]:
    """The calibration markers of capture windows (session seconds, from, to): standing first,
    then the start posture (what ``calibrate_recording`` reads back)."""
    markers = []
    if standing is not None:
        markers.append(
            Marker(standing[0], CAL_MARKER_STANDING, standing[1], {"posture": "standing"})
        )
    markers.append(
        Marker(
            start[0],
            CAL_MARKER_START,
            start[1],
            {"exercise": exercise.name, "posture": exercise.calibration_posture},
        )
    )
    return markers


# Direction the movement takes a segment's pitch from the calibration posture (+1 increases):
# back kick: the thigh goes into hip extension (its pitch increases), the trunk should not pitch;
# hip thrust / bridge: calibrated at lockout, the movement goes down: the pelvis and lumbar pitch
# increase towards upright, the thigh pitch decreases (the hip drops below the knee line).
_PITCH_DIRECTION: dict[str, dict[str, int]] = {
    "back-kick": {"thigh": +1},
    "hip-thrust": {"sacrum": +1, "upper_lumbar": +1, "thigh": -1},
    "glute-bridge": {"sacrum": +1, "upper_lumbar": +1, "thigh": -1},
}


def pitch_direction(exercise: str, placement: str) -> int | None:
    """+1 / -1: the way the exercise's movement changes the segment's pitch away from the
    calibration posture (None: it should not pitch, or is not known)."""
    return _PITCH_DIRECTION.get(exercise, {}).get(placement)


@dataclass
class SensorCalibration:
    """Calibration of one sensor.

    ``q_segment_sensor``: (w, x, y, z), ``v_segment = R(q) v_sensor``. ``neutral_pitch_deg`` /
    ``neutral_roll_deg``: the segment's pitch/roll (``angles`` conventions) in the calibration
    posture. ``method``: ``gravity-two-postures``, ``functional-axis`` or ``gravity-start-only``.
    ``acc_offset_m_s2``: the accelerometer offset (sensor frame) this calibration was made with
    (``acc_offset``): whatever uses the calibration takes it off the sensor's readings first;
    None: the readings were used as they are.
    """

    q_segment_sensor: list[float]
    neutral_pitch_deg: float
    neutral_roll_deg: float
    method: str
    acc_offset_m_s2: list[float] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "q_segment_sensor": [float(v) for v in self.q_segment_sensor],
            "neutral_pitch_deg": float(self.neutral_pitch_deg),
            "neutral_roll_deg": float(self.neutral_roll_deg),
            "method": self.method,
        }
        if self.acc_offset_m_s2 is not None:
            out["acc_offset_m_s2"] = [float(v) for v in self.acc_offset_m_s2]
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SensorCalibration:
        q = [float(v) for v in d["q_segment_sensor"]]
        if len(q) != 4:
            raise ImuMonitorError(f"q_segment_sensor must have 4 numbers (w, x, y, z), got {q}")
        offset = d.get("acc_offset_m_s2")
        if offset is not None:
            offset = [float(v) for v in offset]
            if len(offset) != 3 or not all(math.isfinite(v) for v in offset):
                raise ImuMonitorError(
                    f"acc_offset_m_s2 must be 3 finite numbers (x, y, z), got {offset}"
                )
        return cls(
            q,
            float(d["neutral_pitch_deg"]),
            float(d["neutral_roll_deg"]),
            str(d["method"]),
            offset,
        )


@dataclass
class Calibration:
    """The calibration of one user for one exercise: per placement, alignment and neutral."""

    exercise: str
    user: str
    created_utc: str
    sensors: dict[str, SensorCalibration]
    method: str
    notes: list[str] = field(default_factory=list)
    valid_from_s: float | None = None
    """Session time at which the calibration capture ended (the end of the still start-posture
    window), when it was made from this session's data; judging starts there."""
    windows_guessed: bool = False
    """The capture windows were guessed from the recording's still periods (it had no
    calibration markers); every output says so (``GIVE_WINDOWS``)."""
    windows_s: dict[str, tuple[float, float]] = field(default_factory=dict)
    """The capture windows it was made from (session seconds), when made from a recording:
    ``start`` (the start posture) and, if there was one, ``standing``; the exports write them
    beside the angles, guessed or not."""

    def acc_offsets(self) -> dict[str, np.ndarray]:
        """Per placement, the accelerometer offset to take off its readings (m/s^2; only the
        sensors calibrated with one)."""
        return {
            p: np.asarray(s.acc_offset_m_s2, dtype=np.float64)
            for p, s in self.sensors.items()
            if s.acc_offset_m_s2 is not None
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid_from_s": self.valid_from_s,
            "exercise": self.exercise,
            "user": self.user,
            "created_utc": self.created_utc,
            "method": self.method,
            "notes": list(self.notes),
            "windows_guessed": self.windows_guessed,
            "windows_s": {k: [float(a), float(b)] for k, (a, b) in self.windows_s.items()},
            "sensors": {p: s.to_dict() for p, s in self.sensors.items()},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Calibration:
        try:
            return cls(
                exercise=str(d["exercise"]),
                user=str(d.get("user", "")),
                created_utc=str(d.get("created_utc", "")),
                sensors={
                    str(p): SensorCalibration.from_dict(s) for p, s in dict(d["sensors"]).items()
                },
                method=str(d.get("method", "")),
                notes=[str(n) for n in d.get("notes", [])],
                valid_from_s=(None if d.get("valid_from_s") is None else float(d["valid_from_s"])),
                windows_guessed=bool(d.get("windows_guessed", False)),
                windows_s={
                    str(k): (float(w[0]), float(w[1]))
                    for k, w in dict(d.get("windows_s") or {}).items()
                },
            )
        except (KeyError, TypeError, ValueError) as e:
            raise ImuMonitorError(
                f"calibration data is incomplete or malformed ({type(e).__name__}: {e}); "
                "calibrate again"
            ) from e


# -- alignment -----------------------------------------------------------------------------------


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _up_nominal(exercise: Exercise, placement: str) -> np.ndarray:
    """World-up in the segment frame in the calibration posture (nominal)."""
    if placement == "thigh":
        return exercise.up_in_segment(exercise.thigh_start_pitch_deg)
    return exercise.up_in_segment()


def _align(primary: tuple[np.ndarray, np.ndarray], secondary: tuple[np.ndarray, np.ndarray]):
    """Rotation (sensor -> segment) matching ``primary`` exactly and ``secondary`` best.

    Each pair is (vector in segment frame, same vector in sensor frame)."""
    rot, _ = Rotation.align_vectors(
        [primary[0], secondary[0]], [primary[1], secondary[1]], weights=[np.inf, 1.0]
    )
    return rot


def _principal_axis(gyr: np.ndarray, normal: np.ndarray) -> tuple[np.ndarray, float]:
    """Principal rotation axis of ``gyr`` (n, 3) within the plane normal to ``normal``, and how
    dominant it is (ratio of the first to the second singular value; large = planar)."""
    n = _unit(normal)
    g = gyr - np.outer(gyr @ n, n)
    _, s, vt = np.linalg.svd(g, full_matrices=False)
    ratio = float(s[0] / max(s[1], 1e-12))
    return _unit(vt[0] - np.dot(vt[0], n) * n), ratio


def _functional(
    exercise: Exercise,
    placement: str,
    up_seg: np.ndarray,
    up_sens: np.ndarray,
    motion: SensorSeries,
    prior: Rotation,
) -> tuple[Rotation, str] | None:
    """Method B; None when the movement does not define the axis well."""

    t, acc, gyr = _finite(motion)
    if len(t) < 50:
        return None
    moving = np.linalg.norm(gyr - np.median(gyr, axis=0), axis=1) > math.radians(3.0)
    if moving.sum() < 20:
        return None
    axis, ratio = _principal_axis(gyr[moving], up_sens)
    if ratio < 2.0:
        return None
    direction = _PITCH_DIRECTION.get(exercise.name, {}).get(placement)
    y_seg = np.array([0.0, 1.0, 0.0])
    if direction is None:
        # a trunk sensor in an exercise whose trunk should not pitch: the axis is the roll axis,
        # lying in the plane normal to up; its sign is not fixed by the movement (left or right
        # leg), so take the one nearest the nominal mounting
        z_in_plane = _unit(np.cross(y_seg, up_seg))  # segment axis normal to y and up
        a_seg = prior.apply(axis)
        if abs(a_seg @ z_in_plane) < abs(a_seg @ y_seg):
            return None  # it pitched more than it rolled: the axis is ambiguous
        sign = 1.0 if a_seg @ z_in_plane > 0 else -1.0
        return _align((up_seg, up_sens), (z_in_plane, sign * axis)), "functional-axis (roll)"
    rot = _align((up_seg, up_sens), (y_seg, axis))
    # sign: the pitch must move in the exercise's direction during the movement
    quat = estimate_orientation(motion, estimate_rate_hz(t)).quat_ws
    up_sensor_t = Rotation.from_quat(quat, scalar_first=True).inv().apply([0.0, 0.0, 1.0])
    pitch, _ = pitch_roll_from_up(rot.apply(up_sensor_t))
    p0, _ = pitch_roll_from_up(up_seg[None, :])
    change = float(np.mean(wrap_deg(pitch - p0[0])))
    if change * direction < 0:
        rot = _align((up_seg, up_sens), (y_seg, -axis))
    return rot, "functional-axis"


def _as_list(rot: Rotation) -> list[float]:
    return [float(v) for v in rot.as_quat(canonical=True, scalar_first=True)]


def _calibrate_sensor(
    exercise: Exercise,
    placement: str,
    start: SensorSeries,
    standing: SensorSeries | None,
    motion: SensorSeries | None,
    notes: list[str],
) -> SensorCalibration:

    up_sens = _unit(_finite(start)[1].mean(axis=0))
    up_seg = _up_nominal(exercise, placement)
    prior = Rotation.align_vectors([up_seg], [up_sens])[0]  # smallest rotation: nominal yaw
    rot: Rotation | None = None
    method = ""
    if standing is not None:
        stand_sens = _unit(_finite(standing)[1].mean(axis=0))
        z_seg = np.array([0.0, 0.0, 1.0])
        change = angle_between_deg(stand_sens, up_sens)
        if (
            angle_between_deg(up_seg, z_seg) >= MIN_POSTURE_CHANGE_DEG
            and change >= MIN_POSTURE_CHANGE_DEG
        ):
            rot = _align((z_seg, stand_sens), (up_seg, up_sens))
            method = "gravity-two-postures"
        else:
            notes.append(
                f"{placement}: standing and the calibration posture point it the same way "
                f"({change:.0f} deg apart), so gravity cannot fix its alignment"
            )
    if rot is None and motion is not None:
        found = _functional(exercise, placement, up_seg, up_sens, motion, prior)
        if found is not None:
            rot, method = found
            notes.append(f"{placement}: aligned by the rotation axis of the movement ({method})")
        else:
            notes.append(f"{placement}: the movement does not show a clear rotation axis")
    if rot is None:
        rot, method = prior, "gravity-start-only"
        notes.append(
            f"{placement}: aligned by gravity in the calibration posture only; its rotation "
            "about the vertical is assumed nominal (sensor axes = segment axes), so a strap "
            "turned about that axis can mix roll into pitch. Calibrate with the standing step."
        )
    pitch, roll = pitch_roll_from_up(rot.apply(up_sens)[None, :])
    return SensorCalibration(_as_list(rot), float(pitch[0]), float(roll[0]), method)


def _refuse_if_moving(exercise: Exercise, placement: str, series: SensorSeries, step: str) -> None:
    # (as the live capture checks it: a window the stream accepted is not refused here for the
    # samples a lost notification took off its edge)
    rep = check_still(series, min_duration_s=EDGE_TOLERANCE * MIN_STILL_S)
    if not rep.ok:
        posture = "standing upright" if step == "standing" else exercise.calibration_posture
        raise CalibrationRefused(
            f"calibration refused: sensor {placement!r} moved during the {step} capture: "
            f"{rep.reason}. Hold still ({posture}) for {MIN_STILL_S:g} s or more and calibrate "
            "again."
        )


def calibrate(
    exercise: Exercise,
    start: dict[str, SensorSeries],
    standing: dict[str, SensorSeries] | None = None,
    motion: dict[str, SensorSeries] | None = None,
) -> Calibration:
    """Calibrate every sensor in ``start`` (the still calibration-posture capture).

    ``standing``: an optional still standing capture of the same sensors (method A).
    ``motion``: optional movement data (reps) for the functional axis (method B).
    Raises ``CalibrationRefused`` when a sensor moved during a capture.
    """
    if "sacrum" not in start:
        raise ImuMonitorError(
            f"calibration needs the sacrum sensor; the capture has {', '.join(start) or 'none'}"
        )
    for p, s in start.items():
        _refuse_if_moving(exercise, p, s, "calibration-posture")
        if standing is not None and p in standing:
            _refuse_if_moving(exercise, p, standing[p], "standing")
    notes: list[str] = []
    sensors = {
        p: _calibrate_sensor(
            exercise,
            p,
            s,
            None if standing is None else standing.get(p),
            None if motion is None else motion.get(p),
            notes,
        )
        for p, s in start.items()
    }
    methods = sorted({s.method for s in sensors.values()})
    return Calibration(
        exercise=exercise.name,
        user="",
        created_utc=datetime.now(UTC).isoformat(timespec="seconds"),
        sensors=sensors,
        method=methods[0] if len(methods) == 1 else "mixed: " + ", ".join(methods),
        notes=notes,
    )


# -- from a recording ----------------------------------------------------------------------------

SPINE_PLACEMENTS: tuple[str, ...] = ("sacrum", "upper_lumbar")
"""The sensors whose common still posture is the lumbar neutral (a guessed start posture needs
them still at once; any other sensor's own still period will do)."""
START_MAX_GYRO_DEG_S = 3.0
"""A start posture guessed from a recording without markers must be this still (the gyro's
99th-percentile deviation, deg/s; ``stillness.check_still``): half the limit of a guided capture,
under the 4-5 deg/s a good back kick turns the sacrum at, well over a breathing person's sway."""
START_MAX_ACC_DEV_M_S2 = 0.2
"""... and its smoothed acceleration within this of its mean (m/s^2, about 1.2 deg of tilt)."""
START_END_MARGIN_S = 0.5
"""The guessed window ends this long (or 2 % of its length, if more) before its stillness test
failed: the test fails only once the movement has gone on for a moment."""


def calibrate_recording(rec: Recording, exercise: Exercise | None = None) -> Calibration:
    """Calibrate from a recording.

    With the markers ``calibration_standing`` / ``calibration_start`` (windows ``t_s``..``t_end_s``)
    those captures are used, and the data after the start capture is the movement for the
    functional axis. Without them (imported files) the first still period (>= 2 s) whose sacrum
    gravity direction fits the calibration posture is the start posture, an earlier still period
    that fits standing is the standing capture, and the movement after it gives the functional
    axis; the notes say what was used.
    """
    ex = exercise or get_exercise(rec.exercise)
    series = {p: s for p, s in rec.series.items() if len(s)}
    if "sacrum" not in series:
        raise ImuMonitorError("the recording has no sacrum data; it cannot be calibrated")
    notes: list[str] = []
    starts = [m for m in rec.markers_of(CAL_MARKER_START) if m.t_end_s is not None]
    stands = [m for m in rec.markers_of(CAL_MARKER_STANDING) if m.t_end_s is not None]
    t_end = max(float(s.t_s[-1]) for s in series.values())
    if starts:
        m = starts[-1]
        start = {p: window(s, m.t_s, float(m.t_end_s)) for p, s in series.items()}
        standing = None
        if stands:
            ms = stands[-1]
            standing = {p: window(s, ms.t_s, float(ms.t_end_s)) for p, s in series.items()}
        motion = _motion_after(series, float(m.t_end_s), t_end)
        windows = {"start": (float(m.t_s), float(m.t_end_s))}
        if stands:
            windows["standing"] = (float(stands[-1].t_s), float(stands[-1].t_end_s))
        notes.append(
            f"from the recording's calibration markers: start posture {m.t_s:.1f}-{m.t_end_s:.1f} s"
            + (f", standing {stands[-1].t_s:.1f}-{stands[-1].t_end_s:.1f} s" if stands else "")
        )
    else:
        # the start posture is guessed: a stricter stillness test, so a window cannot run on
        # into the first reps (a good kick moves the sacrum only 2-5 deg at 4-5 deg/s)
        # the spine's sensors must be still at once (their neutral is one posture); any other
        # sensor (the thigh) may take its own still period (``_own_window``)
        spine = [p for p in SPINE_PLACEMENTS if p in series]
        periods = find_still_periods(
            rec,
            max_gyro_deg_s=START_MAX_GYRO_DEG_S,
            max_acc_dev_m_s2=START_MAX_ACC_DEV_M_S2,
            placements=spine,
        )
        strict = bool(periods)
        if not strict:
            periods = find_still_periods(rec, placements=spine)
        if not periods:
            raise CalibrationRefused(
                "the recording has no calibration markers and no still period of "
                f"{MIN_STILL_S:g} s or more to calibrate from; record a calibration "
                f"({ex.calibration_posture}, held still) first"
            )
        up_start = _up_nominal(ex, "sacrum")
        z_seg = np.array([0.0, 0.0, 1.0])
        ups = [_unit(window(series["sacrum"], a, b).acc_m_s2.mean(axis=0)) for a, b in periods]
        # as a nominally mounted sensor shows them: the first period whose gravity fits the
        # calibration posture, and an earlier one that fits standing
        c = next((k for k, up in enumerate(ups) if angle_between_deg(up, up_start) <= 45.0), None)
        st = next((k for k in range(c or 0) if angle_between_deg(ups[k], z_seg) <= 45.0), None)
        # whatever the mounting: the turn between them and the posture the reps return to. It
        # decides where gravity found no start posture, a later one than it (a sensor mounted
        # otherwise can show a hip thrust's bottom as ours shows its lockout), or took its
        # standing for the start posture; it is not let move the start posture to a later set
        # (a person who stands up between sets and had no standing step before the first)
        turn = angle_between_deg(up_start, z_seg)
        pair = standing_and_start(series["sacrum"], periods, ups, turn)
        if pair is not None and (c is None or pair[1] < c or pair[0] == c):
            seen = angle_between_deg(ups[pair[0]], ups[pair[1]])
            notes.append(
                "the sacrum sensor's gravity does not point as it does for this program's "
                "mounting: standing and the calibration posture were told apart by the turn "
                f"between them ({seen:.0f} deg; {turn:.0f} expected) and by the posture the "
                "reps return to"
            )
            st, c = pair
        elif pair is not None and pair[1] == c and st is None:
            st = pair[0]  # the start posture gravity found, and a standing a turn from it
        chosen = None if c is None else periods[c]
        stand_period = None if st is None else periods[st]
        if chosen is None:
            chosen = periods[0]
            stand_period = None
            notes.append(
                "no still period looks like the calibration posture for a nominally mounted "
                "sensor; the first still period was used"
            )
        t0, t1 = chosen
        # end before the first movement: the window's test fails a little after it began
        # (never shorter than the capture's own test needs: a period under MIN_STILL_S is kept
        # whole, as its stillness test passed it; a shorter window was refused)
        t1 = max(t1 - max(START_END_MARGIN_S, 0.02 * (t1 - t0)), min(t1, t0 + MIN_STILL_S))
        if not strict:
            notes.append(
                "no still period passed the stricter test for a guessed start posture (gyro "
                f"within {START_MAX_GYRO_DEG_S:g} deg/s, acceleration within "
                f"{START_MAX_ACC_DEV_M_S2:g} m/s^2); the ordinary one was used: the posture "
                "may include movement"
            )
        start = {
            p: window(s, t0, t1) if p in spine else _own_window(rec, p, t0, t1, notes)
            for p, s in series.items()
        }
        standing = None
        if stand_period is not None:
            standing = {p: window(s, *stand_period) for p, s in series.items()}
            notes.append(
                f"standing posture taken from the still period {tenth_s(stand_period[0])}-"
                f"{tenth_s(stand_period[1])} s"
            )
        motion = _motion_after(series, t1, t_end)
        windows = {"start": (float(t0), float(t1))}
        if stand_period is not None:
            windows["standing"] = (float(stand_period[0]), float(stand_period[1]))
        guessed = (
            f"calibration windows guessed (no calibration markers): the still period "
            f"{tenth_s(t0)}-{tenth_s(t1)} s was taken as the calibration posture "
            f"({ex.calibration_posture})"
            + (
                f" and {tenth_s(stand_period[0])}-{tenth_s(stand_period[1])} s as standing"
                if stand_period is not None
                else ""
            )
            + f"; to give the windows: {GIVE_WINDOWS}"
        )
        notes.insert(0, guessed)
    cal = calibrate(ex, start, standing, motion)
    cal.windows_guessed = not starts
    cal.windows_s = windows
    cal.valid_from_s = float(start["sacrum"].t_s[-1]) if len(start["sacrum"]) else None
    cal.notes = notes + cal.notes
    cal.user = str(rec.meta.get("user", ""))
    return cal


def _own_window(
    rec: Recording, placement: str, t0: float, t1: float, notes: list[str]
) -> SensorSeries:
    """The start-posture capture of a sensor off the spine (the thigh) for the guessed window
    ``t0``-``t1`` of the spine's sensors: that window if this sensor was still in it too, else
    the sensor's own still period nearest before it (or, failing that, the first after it), so
    that a leg moved while the back was still costs the hip angle's neutral at most, never the
    lumbar one."""
    series = rec.series[placement]
    if check_still_over(series, t0, t1).ok:
        return window(series, t0, t1)
    periods = find_still_periods(rec, placements=[placement])
    before = [p for p in periods if p[0] < t1]
    after = [p for p in periods if p[0] >= t1]
    if not before and not after:
        return window(series, t0, t1)  # ``calibrate`` refuses it with the sensor's own reason
    a, b = before[-1] if before else after[0]
    notes.append(
        f"the {placement} sensor was not still during the start posture "
        f"{tenth_s(t0)}-{tenth_s(t1)} s; "
        f"its neutral was taken from its own still period {tenth_s(a)}-{tenth_s(b)} s"
    )
    return window(series, a, b)


def tenth_s(t: float) -> str:
    """A time (s) as notes and the dashboard give it, to 0.1 s (a first sample a microsecond
    before 0 is "0.0", not "-0.0")."""
    return f"{round(t, 1) + 0.0:.1f}"


def _motion_after(
    series: dict[str, SensorSeries], t0: float, t_end: float
) -> dict[str, SensorSeries]:
    """The movement after a calibration capture that the functional axis is found from: the
    first ``MOTION_WINDOW_S`` of it."""
    return {p: window(s, t0, min(t_end, t0 + MOTION_WINDOW_S)) for p, s in series.items()}
