"""Segment and lumbar angles from sensor orientations and the calibration.

The angles use only the inclination: ``u`` = world 'up' expressed in the segment frame
(x anterior, y left, z superior; see ``model``), so the arbitrary, drifting heading of a 6D
orientation never enters them. (The one-sensor back-kick rep signal, ``axial``, also uses the
gyroscope's heading, over the few seconds since the pelvis last rested.)

- **pitch** ``= atan2(-u_x, u_z)``: rotation about the segment's y axis, positive when the
  superior end tilts anteriorly (upright 0, on all fours +90, hip-thrust lockout -90).
- **roll** (lateral tilt) ``= -asin(u_y)``: rotation about the segment's x axis, **left
  positive**: positive when the segment's left side (+y) drops, which in standing is the superior
  end tilting to the subject's left (left lateral bend). In a quadruped posture, where x points
  down, the same number is the pelvis rolling about its long axis with the left side down.

Together they are exact Euler angles of the decomposition ``R_world_segment = Rz(heading)
Rx(-roll) Ry(pitch)``: pitch stays exact whatever the roll, and neither depends on the heading.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.transform import Rotation

from .axial import AxialTracker
from .calibration import Calibration
from .exercises import Exercise
from .model import ImuMonitorError


def _rotation_matrix(q_wxyz: Sequence[float] | np.ndarray) -> np.ndarray:
    # the mounting rotation is constant for a calibration: cache it (the live path calls this
    # for every chunk of a few samples)
    return _rotation_matrix_cached(tuple(float(v) for v in np.asarray(q_wxyz).ravel()))


@functools.lru_cache(maxsize=64)
def _rotation_matrix_cached(q_wxyz: tuple[float, ...]) -> np.ndarray:
    w, x, y, z = q_wxyz
    m = Rotation.from_quat([x, y, z, w]).as_matrix()
    m.setflags(write=False)
    return m


def up_in_segment(
    quat_ws: np.ndarray, q_segment_sensor: Sequence[float] | np.ndarray
) -> np.ndarray:
    """World 'up' in the segment frame, shape (n, 3), unit vectors.

    ``quat_ws``: (n, 4) sensor-to-earth quaternions (w, x, y, z). ``q_segment_sensor``: (4,)
    (w, x, y, z) with ``v_segment = R(q) v_sensor``.
    """
    q = np.asarray(quat_ws, dtype=np.float64).reshape(-1, 4)
    w, x, y, z = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    norm2 = w * w + x * x + y * y + z * z
    # third row of R(q_ws): earth z expressed in the sensor frame
    up_sensor = (
        np.column_stack((2 * (x * z - w * y), 2 * (y * z + w * x), w * w - x * x - y * y + z * z))
        / norm2[:, None]
    )
    return up_sensor @ _rotation_matrix(q_segment_sensor).T


def pitch_roll_from_up(up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pitch and roll (degrees, see module docstring) from up vectors (n, 3) in a segment frame."""
    u = np.asarray(up, dtype=np.float64).reshape(-1, 3)
    u = u / np.linalg.norm(u, axis=1, keepdims=True)
    pitch = np.degrees(np.arctan2(-u[:, 0], u[:, 2]))
    roll = -np.degrees(np.arcsin(np.clip(u[:, 1], -1.0, 1.0)))
    return pitch, roll


def segment_pitch_roll(
    quat_ws: np.ndarray, q_segment_sensor: Sequence[float] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Segment pitch and roll in the world, degrees, each shape (n,)."""
    return pitch_roll_from_up(up_in_segment(quat_ws, q_segment_sensor))


def wrap_deg(a: np.ndarray) -> np.ndarray:
    """Angles wrapped to [-180, 180) degrees."""
    x = np.asarray(a) + 180.0
    # the common case, nothing to wrap: the remainder (the costly part) would return x unchanged
    if x.ndim == 1 and x.size and x.min() >= 0.0 and x.max() < 360.0:
        return x - 180.0
    return x % 360.0 - 180.0


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
        pitch[p], roll[p] = segment_pitch_roll(q, sc.q_segment_sensor)
        d_pitch[p] = wrap_deg(pitch[p] - sc.neutral_pitch_deg)
        d_roll[p] = wrap_deg(roll[p] - sc.neutral_roll_deg)

    if "upper_lumbar" in quats:
        flex = d_pitch["upper_lumbar"] - d_pitch["sacrum"]
        lateral = d_roll["upper_lumbar"] - d_roll["sacrum"]
    else:
        flex = -d_pitch["sacrum"]
        lateral = -d_roll["sacrum"]
    hip = d_pitch["sacrum"] - d_pitch["thigh"] if "thigh" in quats else None
    if "thigh" not in quats and exercise.one_sensor_mode == "continuous":
        # on all fours: the turn of the pelvis about its long axis (the kicking-side hip rising),
        # measured so that a pitch change (the lumbar fault) does not enter it (see ``axial``)
        sc = calibration.sensors["sacrum"]
        gravity_axial = _axial_deg(pitch["sacrum"], roll["sacrum"])
        axial0 = _axial_deg(np.array([sc.neutral_pitch_deg]), np.array([sc.neutral_roll_deg]))
        movement = (axial or AxialTracker()).update(
            t,
            quats["sacrum"],
            sc.q_segment_sensor,
            wrap_deg(gravity_axial - axial0[0]),
            d_pitch["sacrum"],
        )
    else:
        movement = movement_signal(exercise, d_pitch, d_roll)
    return AngleSet(t, flex, lateral, hip, movement, pitch, roll)


def _axial_deg(pitch_deg: np.ndarray, roll_deg: np.ndarray) -> np.ndarray:
    """Rotation about the segment's z (superior) axis as gravity shows it when that axis is
    near horizontal (on all fours): the angle of world-up in the segment's x-y plane,
    ``atan2(u_y, -u_x)``. A pitch change alone moves up within the x-z plane and leaves it
    unchanged, unlike the roll angle; combined with a turn about the vertical it does not (see
    ``axial``, which uses this only to tell a rest and until the first rest)."""
    p, r = np.radians(pitch_deg), np.radians(roll_deg)
    u_x, u_y = -np.cos(r) * np.sin(p), -np.sin(r)
    return np.degrees(np.arctan2(u_y, -u_x))


def movement_signal(
    exercise: Exercise, d_pitch: dict[str, np.ndarray], d_roll: dict[str, np.ndarray]
) -> np.ndarray:
    """The rep-detection signal (degrees, higher = nearer the top of the movement), taken from a
    segment that does NOT carry the lumbar fault wherever the sensor set has one, so a faulty
    rep's tempo is measured as well as a good one's:

    - with a thigh sensor: the thigh's pitch change (hip extension of the working leg);
    - hip thrust / bridge with an upper-lumbar sensor: ``-(upper-lumbar pitch change)``, the
      trunk's rotation (near 0 at lockout, strongly negative at the bottom);
    - back kick without a thigh sensor: the size of the pelvis' turn about its long axis (the
      kicking-side hip rises with the weight shift) since its latest rest, computed in
      ``compute_angles`` with ``axial.AxialTracker`` so that the pitch (a lumbar fault) does
      not enter it; this function's fallback is the roll change;
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


def hip_share(hip_excursion_deg: float, lumbar_excursion_deg: float) -> float:
    """Fraction (0..1) of a movement that came from the hip: |hip| / (|hip| + |lumbar|).

    Excursions in degrees (e.g. peak-to-peak within a rep). NaN when both are zero.
    """
    h, lum = abs(float(hip_excursion_deg)), abs(float(lumbar_excursion_deg))
    total = h + lum
    return float("nan") if total == 0.0 else h / total
