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

from imu_monitor.errors import ImuMonitorError
from imu_monitor.exercises import Exercise
from imu_monitor.processing.calibration import Calibration
from imu_monitor.processing.rep_signal import AxialTracker

# A rotation matrix is linear in the ten quadratic monomials of its quaternion (w, x, y, z):
# |q|^2 R(q) = sum_l m_l A_l. So is the segment's, R(q_ws) R_ss^T, and the few entries the angles
# need come out of one small matrix product per chunk (``_frame_coefficients``).
_MONOMIALS = ((0, 0), (1, 1), (2, 2), (3, 3), (0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
_WW, _XX, _YY, _ZZ, _WX, _WY, _WZ, _XY, _XZ, _YZ = range(10)


def _quaternion_matrix_terms() -> np.ndarray:
    """(10, 3, 3): the coefficient of each monomial in each entry of ``|q|^2 R(q)``."""
    a = np.zeros((10, 3, 3))
    for (i, j), terms in {
        (0, 0): {_WW: 1, _XX: 1, _YY: -1, _ZZ: -1},
        (0, 1): {_XY: 2, _WZ: -2},
        (0, 2): {_XZ: 2, _WY: 2},
        (1, 0): {_XY: 2, _WZ: 2},
        (1, 1): {_WW: 1, _XX: -1, _YY: 1, _ZZ: -1},
        (1, 2): {_YZ: 2, _WX: -2},
        (2, 0): {_XZ: 2, _WY: -2},
        (2, 1): {_YZ: 2, _WX: 2},
        (2, 2): {_WW: 1, _XX: -1, _YY: -1, _ZZ: 1},
    }.items():
        for m, c in terms.items():
            a[m, i, j] = c
    return a


_QUATERNION_TERMS = _quaternion_matrix_terms()


@functools.lru_cache(maxsize=64)
def _frame_coefficients(q_segment_sensor: tuple[float, ...]) -> np.ndarray:
    """(8, 10): rows giving, from the monomials, the segment's x axis and y axis in the world
    (rows 0-2, 3-5: columns 0 and 1 of ``|q|^2 R(q_ws) R_ss^T``), its entry (2, 2) (row 6) and
    ``|q|^2`` (row 7). Cached: the mounting is constant for a calibration and the live path
    calls this for every chunk of a few samples."""
    w, x, y, z = q_segment_sensor
    r_ss = Rotation.from_quat([x, y, z, w]).as_matrix()
    seg = _QUATERNION_TERMS @ r_ss.T  # (10, 3, 3): the terms of |q|^2 R(q_ws) R_ss^T
    rows = np.concatenate(
        (seg[:, :, 0].T, seg[:, :, 1].T, seg[:, 2:3, 2].T, [[1, 1, 1, 1] + [0] * 6])
    )
    rows.setflags(write=False)
    return rows


def segment_frame(
    quat_ws: np.ndarray, q_segment_sensor: Sequence[float] | np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The segment's x and y axes in the world and world 'up' in the segment frame: three
    (3, n) arrays of unit vectors (one per column; rows are contiguous, which the per-component
    arithmetic after this needs to be fast).

    ``quat_ws``: (n, 4) sensor-to-earth quaternions (w, x, y, z). ``q_segment_sensor``: (4,)
    (w, x, y, z) with ``v_segment = R(q) v_sensor``.
    """
    q = np.ascontiguousarray(np.asarray(quat_ws, dtype=np.float64).reshape(-1, 4).T)
    mono = np.empty((10, q.shape[1]))
    for k, (i, j) in enumerate(_MONOMIALS):
        np.multiply(q[i], q[j], out=mono[k])
    key = tuple(float(v) for v in np.asarray(q_segment_sensor).ravel())
    out = _frame_coefficients(key) @ mono
    out[:7] /= out[7]
    x_axis, y_axis = out[0:3], out[3:6]
    # up in the segment frame is row 2 of R_ws_segment: the world z components of its axes
    up = np.stack((out[2], out[5], out[6]))
    return x_axis, y_axis, up


def up_in_segment(
    quat_ws: np.ndarray, q_segment_sensor: Sequence[float] | np.ndarray
) -> np.ndarray:
    """World 'up' in the segment frame, shape (n, 3), unit vectors (see ``segment_frame``)."""
    return segment_frame(quat_ws, q_segment_sensor)[2].T


def _pitch_roll(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pitch and roll (degrees) from unit up vectors given as rows (3, n)."""
    pitch = np.degrees(np.arctan2(-u[0], u[2]))
    roll = -np.degrees(np.arcsin(np.clip(u[1], -1.0, 1.0)))
    return pitch, roll


def pitch_roll_from_up(up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pitch and roll (degrees, see module docstring) from up vectors (n, 3) in a segment frame."""
    u = np.asarray(up, dtype=np.float64).reshape(-1, 3)
    return _pitch_roll((u / np.linalg.norm(u, axis=1, keepdims=True)).T)


def segment_pitch_roll(
    quat_ws: np.ndarray, q_segment_sensor: Sequence[float] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Segment pitch and roll in the world, degrees, each shape (n,)."""
    return _pitch_roll(segment_frame(quat_ws, q_segment_sensor)[2])


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
    if "thigh" not in quats and exercise.one_sensor_mode == "continuous":
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
    return AngleSet(t, flex, lateral, hip, movement, pitch, roll)


def _axial_deg(up: np.ndarray) -> np.ndarray:
    """Rotation about the segment's z (superior) axis as gravity shows it when that axis is
    near horizontal (on all fours): the angle of world-up (rows (3, n), or one (3,)) in the
    segment's x-y plane, ``atan2(u_y, -u_x)``. A pitch change alone moves up within the x-z
    plane and leaves it unchanged, unlike the roll angle; combined with a turn about the
    vertical it does not (see ``axial``, which uses this only to tell a rest and until the first
    rest)."""
    return np.degrees(np.arctan2(up[1], -up[0]))


def _up_from_pitch_roll(pitch_deg: float, roll_deg: float) -> np.ndarray:
    """World-up (3,) in a segment frame of this pitch and roll (inverse of ``_pitch_roll``)."""
    p, r = np.radians(pitch_deg), np.radians(roll_deg)
    return np.array([-np.cos(r) * np.sin(p), -np.sin(r), np.cos(r) * np.cos(p)])


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
