"""Frame conventions: segment axes, world 'up' in a segment, and pitch/roll from it.

Segment frame: x anterior, y left, z superior (see ``model``). The angles use only the
inclination: ``u`` = world 'up' expressed in the segment frame, so the arbitrary, drifting
heading of a 6D orientation never enters them.

- **pitch** ``= atan2(-u_x, u_z)``: rotation about the segment's y axis, positive when the
  superior end tilts anteriorly (upright 0, on all fours +90, hip-thrust lockout -90).
- **roll** (lateral tilt) ``= -asin(u_y)``: rotation about the segment's x axis, **left
  positive**: positive when the segment's left side (+y) drops, which in standing is the superior
  end tilting to the subject's left (left lateral bend). In a quadruped posture, where x points
  down, the same number is the pelvis rolling about its long axis with the left side down.

Together they are exact Euler angles of the decomposition ``R_world_segment = Rz(heading)
Rx(-roll) Ry(pitch)``: pitch stays exact whatever the roll, and neither depends on the heading.
Used by calibration (neutral pitch/roll), angles and the rep signal; imports nothing of the
package but numpy and scipy.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from scipy.spatial.transform import Rotation

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
    r_ss = Rotation.from_quat(q_segment_sensor, scalar_first=True).as_matrix()
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


def angle_between_deg(a: np.ndarray, b: np.ndarray) -> float:
    """The angle between two vectors (degrees), e.g. two directions of gravity."""
    cos = np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def wrap_deg(a: np.ndarray) -> np.ndarray:
    """Angles wrapped to [-180, 180) degrees."""
    x = np.asarray(a) + 180.0
    # the common case, nothing to wrap: the remainder (the costly part) would return x unchanged
    if x.ndim == 1 and x.size and x.min() >= 0.0 and x.max() < 360.0:
        return x - 180.0
    return x % 360.0 - 180.0


AXIS_NAMES = "xyz"


def axes_matrix(spec: str) -> np.ndarray:
    """The rotation ``M`` (3, 3) with ``v_project = M v_sensor`` for a sensor whose axes are
    labelled otherwise than ours: ``spec`` names, for the project's x, y and z axes in turn, the
    sensor axis (signed) that points that way, e.g. ``-x,y,-z`` (turned 180 deg about y) or
    ``z,y,-x`` (its -x axis is our z). Each axis once and right-handed (a proper rotation, not a
    mirror image: the gyro would turn the wrong way); ``ValueError`` says what is wrong."""
    parts = [p.strip().lower() for p in spec.split(",")]
    m = np.zeros((3, 3))
    for row, part in enumerate(parts[:3]):
        sign, name = (-1.0, part[1:]) if part.startswith("-") else (1.0, part.removeprefix("+"))
        if len(name) != 1 or name not in AXIS_NAMES:
            raise ValueError(f"{part!r} is not an axis; name three of x, y, z, each signed + or -")
        m[row, AXIS_NAMES.index(name)] = sign
    if len(parts) != 3:
        raise ValueError(f"{spec!r}: name three axes (our x, y, z), e.g. -x,y,-z")
    if (np.abs(m).sum(axis=0) != 1).any():
        raise ValueError(f"{spec!r} names an axis twice; each of x, y, z must appear once")
    if np.linalg.det(m) < 0:
        raise ValueError(
            f"{spec!r} is a mirror image (left-handed), not a rotation; change one sign"
        )
    return m


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
