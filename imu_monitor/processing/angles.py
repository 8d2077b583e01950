"""Segment and lumbar angles from sensor orientations and the calibration.

Pitch and roll of each segment follow the conventions of ``frames`` (inclination only, so the
drifting heading of a 6D orientation never enters them). (The one-sensor back-kick rep signal,
``rep_signal``, also uses the gyroscope's heading, over the few seconds since the pelvis last
rested.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from imu_monitor.errors import ImuMonitorError
from imu_monitor.exercises import Exercise
from imu_monitor.processing.calibration import Calibration, pitch_direction
from imu_monitor.processing.frames import (
    _axial_deg,
    _pitch_roll,
    _up_from_pitch_roll,
    segment_frame,
    wrap_deg,
)
from imu_monitor.processing.rep_signal import AxialTracker


@dataclass
class AngleSet:
    """Angles on one time base ``t_s`` (n,), degrees, relative to the calibrated neutral.

    ``lumbar_flexion_deg``: flexion positive. ``lumbar_lateral_deg``: left lateral bend positive.
    ``hip_flexion_deg``: flexion positive, None without a thigh sensor. ``movement_deg``: the
    rep-detection signal, higher = further towards the top of the movement (see
    ``compute_angles``). ``pitch_deg`` / ``roll_deg``: per placement, the segment's absolute pitch
    and roll in the world (not relative to neutral).
    """

    t_s: np.ndarray
    lumbar_flexion_deg: np.ndarray
    lumbar_lateral_deg: np.ndarray
    hip_flexion_deg: np.ndarray | None
    movement_deg: np.ndarray
    pitch_deg: dict[str, np.ndarray] = field(default_factory=dict)
    roll_deg: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.t_s.shape[0])


def compute_angles(
    t_s: np.ndarray,
    quats: dict[str, np.ndarray],
    calibration: Calibration,
    exercise: Exercise,
    axial: AxialTracker | None = None,
) -> AngleSet:
    """Lumbar, hip and movement angles from joined orientations.

    ``quats``: per placement, (n, 4) ``quat_ws`` on the common time base ``t_s`` (n,). Every
    placement must have a sensor calibration; ``sacrum`` is required. ``axial``: the state of
    the one-sensor back-kick rep signal when angles are computed chunk by chunk (a stream keeps
    one per session and calibration); None for a whole recording at once.

    - lumbar flexion = delta pitch(upper_lumbar) - delta pitch(sacrum), or with one sensor
      ``-delta pitch(sacrum)`` (upper lumbar taken to stay at its neutral); deltas are relative
      to the neutral captured at calibration. Lateral bend likewise with roll.
    - hip flexion = delta pitch(sacrum) - delta pitch(thigh).
    - movement: the rep-detection signal, see ``movement_signal``.
    """
    t = np.asarray(t_s, dtype=np.float64)
    if "sacrum" not in quats:
        raise ImuMonitorError(
            f"angles need the sacrum sensor; got {', '.join(quats) or 'none'} — "
            "connect or record the sacrum sensor"
        )
    pitch: dict[str, np.ndarray] = {}
    roll: dict[str, np.ndarray] = {}
    d_pitch: dict[str, np.ndarray] = {}
    d_roll: dict[str, np.ndarray] = {}
    frames: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for p, q in quats.items():
        sc = calibration.sensors.get(p)
        if sc is None:
            raise ImuMonitorError(
                f"calibration for {calibration.exercise!r} has no entry for sensor {p!r} "
                f"(has: {', '.join(calibration.sensors)}); calibrate again with this sensor on"
            )
        if q.shape != (t.shape[0], 4):
            raise ImuMonitorError(
                f"orientation of {p!r} has shape {q.shape}, expected ({t.shape[0]}, 4) on t_s"
            )
        frames[p] = segment_frame(q, sc.q_segment_sensor)
        pitch[p], roll[p] = _pitch_roll(frames[p][2])
        d_pitch[p] = wrap_deg(pitch[p] - sc.neutral_pitch_deg)
        d_roll[p] = wrap_deg(roll[p] - sc.neutral_roll_deg)

    if "upper_lumbar" in quats:
        flex = d_pitch["upper_lumbar"] - d_pitch["sacrum"]
        lateral = d_roll["upper_lumbar"] - d_roll["sacrum"]
    else:
        flex = -d_pitch["sacrum"]
        lateral = -d_roll["sacrum"]
    hip = d_pitch["sacrum"] - d_pitch["thigh"] if "thigh" in quats else None
    if rep_signal_is_pelvis_turn(exercise, list(quats)):
        # on all fours: the turn of the pelvis about its long axis (the kicking-side hip rising),
        # measured so that a pitch change (the lumbar fault) does not enter it (see ``axial``)
        sc = calibration.sensors["sacrum"]
        x_axis, y_axis, up = frames["sacrum"]
        axial0 = _axial_deg(_up_from_pitch_roll(sc.neutral_pitch_deg, sc.neutral_roll_deg))
        tracker = axial if axial is not None else AxialTracker(calibration.valid_from_s)
        movement = tracker.update(
            t, x_axis, y_axis, wrap_deg(_axial_deg(up) - axial0), d_pitch["sacrum"]
        )
    else:
        movement = movement_signal(exercise, d_pitch, d_roll)
        thigh = calibration.sensors.get("thigh")
        direction = pitch_direction(exercise.name, "thigh")
        if thigh is not None and thigh.method == "gravity-start-only" and direction is not None:
            # the thigh's turn about the vertical was assumed (standing and the start posture
            # point it the same way), so its pitch may be any mix of pitch and roll, the more
            # so the further the sensor sits from this program's mounting; its tilt from the
            # start posture is not: the rep signal is that, signed as the exercise moves it
            up0 = _up_from_pitch_roll(thigh.neutral_pitch_deg, thigh.neutral_roll_deg)
            tilt = np.degrees(np.arccos(np.clip(up0 @ frames["thigh"][2], -1.0, 1.0)))
            movement = direction * tilt
    return AngleSet(t, flex, lateral, hip, movement, pitch, roll)


def movement_signal(
    exercise: Exercise, d_pitch: dict[str, np.ndarray], d_roll: dict[str, np.ndarray]
) -> np.ndarray:
    """The rep-detection signal (degrees, higher = nearer the top of the movement), taken from a
    segment that does NOT carry the lumbar fault wherever the sensor set has one, so a faulty
    rep's tempo is measured as well as a good one's:

    - with a thigh sensor: the thigh's pitch change (hip extension of the working leg); while
      the thigh's turn about the vertical is only assumed (``gravity-start-only``: live, before
      the first rep's movement aligns it), its tilt from the start posture, signed as the
      exercise moves it (``compute_angles``);
    - hip thrust / bridge with an upper-lumbar sensor: ``-(upper-lumbar pitch change)``, the
      trunk's rotation (near 0 at lockout, strongly negative at the bottom);
    - back kick without a thigh sensor: the pelvis' turn about its long axis in the kick's
      direction (the kicking-side hip rises with the weight shift) since its latest rest,
      computed in ``compute_angles`` with ``axial.AxialTracker`` so that the pitch (a lumbar
      fault) does not enter it; this function's fallback is the roll change;
    - one sensor in a hip thrust / bridge: ``-(sacrum pitch change)``, which also carries the
      lumbar angle: one sensor cannot separate them.
    """
    if "thigh" in d_pitch:
        return d_pitch["thigh"]
    if exercise.one_sensor_mode == "continuous":
        return np.abs(d_roll["sacrum"])
    if "upper_lumbar" in d_pitch:
        return -d_pitch["upper_lumbar"]
    return -d_pitch["sacrum"]


def rep_signal_is_pelvis_turn(exercise: Exercise, placements: list[str] | tuple[str, ...]) -> bool:
    """True where the rep signal is the pelvis' turn about its long axis (``AxialTracker``): on
    all fours (a continuously judged exercise) without a thigh sensor."""
    return "thigh" not in placements and exercise.one_sensor_mode == "continuous"


def rep_signal_is_trunk(exercise: Exercise, placements: list[str] | tuple[str, ...]) -> bool:
    """True where the rep signal is the trunk's turn (``movement_signal``): a hip thrust or
    bridge with an upper-lumbar sensor and no thigh sensor. The pelvis' own turn is then the rep
    signal plus the lumbar angle (``-(sacrum pitch change)``), which the rep tracker checks a
    rep's hold against (``monitor.onset``)."""
    return (
        exercise.one_sensor_mode != "continuous"
        and "thigh" not in placements
        and "upper_lumbar" in placements
    )


def rep_signal_is_sacrum_tilt(exercise: Exercise, placements: list[str] | tuple[str, ...]) -> bool:
    """True where the rep signal is the sacrum's own tilt (``movement_signal``): one sensor in a
    hip thrust or bridge, whose lumbar fault at the top tilts the pelvis as lowering the hips
    does (the monitor then checks the hips' height, ``monitor.height``)."""
    return (
        exercise.one_sensor_mode != "continuous"
        and "thigh" not in placements
        and "upper_lumbar" not in placements
    )


def timed_from_pelvis(exercise: Exercise, placements: list[str] | tuple[str, ...]) -> bool:
    """Whether ``movement_signal`` comes from the pelvis (the sacrum sensor) for this sensor
    set: a lumbar fault moves that signal too, so a faulty rep's phase split is approximate."""
    if "thigh" in placements:
        return False
    return exercise.one_sensor_mode == "continuous" or "upper_lumbar" not in placements


def hip_share(hip_excursion_deg: float, lumbar_excursion_deg: float) -> float:
    """Fraction (0..1) of a movement that came from the hip: |hip| / (|hip| + |lumbar|).

    Excursions in degrees (e.g. peak-to-peak within a rep). NaN when both are zero.
    """
    h, lum = abs(float(hip_excursion_deg)), abs(float(lumbar_excursion_deg))
    total = h + lum
    return float("nan") if total == 0.0 else h / total
