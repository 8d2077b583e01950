"""Rigid-segment kinematics: orientations, body angular rates and point accelerations.

A segment's world orientation is ``R = Rz(heading) Ry(pitch) Rx(roll) Rz(yaw)`` (intrinsic
rotations, segment frame x anterior, y left, z superior, world z up), so ``pitch`` is the
rotation about the segment's own y axis (positive: superior end tilts anteriorly), ``roll`` the
lateral tilt about its own x axis and ``yaw`` the axial rotation about its own z axis. The body
angular velocity and acceleration are computed analytically from the angle derivatives, so the
simulated gyroscope is the exact derivative of the generated orientation.

All angles here are radians; shapes are (n,) for angles, (n, 3) for vectors, (n, 3, 3) for
rotation matrices (``v_world = R @ v_segment``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class SegmentState:
    """Orientation ``R`` (n, 3, 3), body angular velocity ``omega`` (rad/s) and body angular
    acceleration ``alpha`` (rad/s^2), both (n, 3) in the segment frame."""

    R: np.ndarray
    omega: np.ndarray
    alpha: np.ndarray


def rz_matrix(angle_rad: float) -> np.ndarray:
    """Rotation about world z by ``angle_rad``, shape (3, 3)."""
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def rotation_matrices(
    heading_rad: float, pitch: np.ndarray, roll: np.ndarray, yaw: np.ndarray
) -> np.ndarray:
    """``Rz(heading) Ry(pitch) Rx(roll) Rz(yaw)`` for angle arrays (rad, (n,)) -> (n, 3, 3)."""
    return _rotation_matrices(
        heading_rad,
        np.cos(pitch),
        np.sin(pitch),
        np.cos(roll),
        np.sin(roll),
        np.cos(yaw),
        np.sin(yaw),
    )


def _rotation_matrices(
    heading_rad: float,
    cp: np.ndarray,
    sp: np.ndarray,
    cr: np.ndarray,
    sr: np.ndarray,
    cy: np.ndarray,
    sy: np.ndarray,
) -> np.ndarray:
    ch, sh = math.cos(heading_rad), math.sin(heading_rad)
    # rows of Ry(p) Rx(r) Rz(y); the heading mixes rows 0 and 1
    spsr, cpsr = sp * sr, cp * sr
    r0 = (cp * cy + spsr * sy, spsr * cy - cp * sy, sp * cr)
    r1 = (cr * sy, cr * cy, -sr)
    r2 = (cpsr * sy - sp * cy, sp * sy + cpsr * cy, cp * cr)
    out = [ch * a - sh * b for a, b in zip(r0, r1, strict=True)]
    out += [sh * a + ch * b for a, b in zip(r0, r1, strict=True)]
    out += list(r2)
    return np.stack(out, axis=-1).reshape(-1, 3, 3)


def segment_state(
    heading_rad: float,
    pitch: tuple[np.ndarray, np.ndarray, np.ndarray],
    roll: tuple[np.ndarray, np.ndarray, np.ndarray],
    yaw: tuple[np.ndarray, np.ndarray, np.ndarray],
    with_rates: bool = True,
) -> SegmentState:
    """Orientation and body rates from (angle, rate, acceleration) triples in rad, rad/s, rad/s^2.

    ``omega = (Rx(r) Rz(y))^T [0, p', 0] + Rz(y)^T [r', 0, 0] + [0, 0, y']``, and ``alpha`` its
    time derivative (for body-frame vectors the body angular acceleration is ``d omega / dt``).
    """
    p, dp, ddp = pitch
    r, dr, ddr = roll
    y, dy, ddy = yaw
    cr, sr, cy, sy = np.cos(r), np.sin(r), np.cos(y), np.sin(y)
    R = _rotation_matrices(heading_rad, np.cos(p), np.sin(p), cr, sr, cy, sy)
    if not with_rates:
        n = p.shape[0]
        return SegmentState(R, np.zeros((n, 3)), np.zeros((n, 3)))
    omega = np.stack(
        [dr * cy + dp * cr * sy, -dr * sy + dp * cr * cy, -dp * sr + dy],
        axis=-1,
    )
    alpha = np.stack(
        [
            ddr * cy - dr * dy * sy + ddp * cr * sy - dp * dr * sr * sy + dp * dy * cr * cy,
            -ddr * sy - dr * dy * cy + ddp * cr * cy - dp * dr * sr * cy - dp * dy * cr * sy,
            -ddp * sr - dp * dr * cr + ddy,
        ],
        axis=-1,
    )
    return SegmentState(R, omega, alpha)


def offset_acceleration(state: SegmentState, offset_m: np.ndarray) -> np.ndarray:
    """World acceleration (m/s^2, (n, 3)) of a point fixed at ``offset_m`` (segment frame, (3,))
    relative to the segment's pivot, due to the segment's rotation:
    ``R (alpha x o + omega x (omega x o))``."""
    ox, oy, oz = (float(c) for c in offset_m)
    ax, ay, az = state.alpha[:, 0], state.alpha[:, 1], state.alpha[:, 2]
    wx, wy, wz = state.omega[:, 0], state.omega[:, 1], state.omega[:, 2]
    # omega x o, then omega x (omega x o) + alpha x o
    cx, cy, cz = wy * oz - wz * oy, wz * ox - wx * oz, wx * oy - wy * ox
    bx = ay * oz - az * oy + wy * cz - wz * cy
    by = az * ox - ax * oz + wz * cx - wx * cz
    bz = ax * oy - ay * ox + wx * cy - wy * cx
    R = state.R
    return np.stack(
        [
            R[:, 0, 0] * bx + R[:, 0, 1] * by + R[:, 0, 2] * bz,
            R[:, 1, 0] * bx + R[:, 1, 1] * by + R[:, 1, 2] * bz,
            R[:, 2, 0] * bx + R[:, 2, 1] * by + R[:, 2, 2] * bz,
        ],
        axis=-1,
    )


def offset_position(state: SegmentState, offset_m: np.ndarray) -> np.ndarray:
    """World displacement (m, (n, 3)) of ``offset_m`` (segment frame) from the segment's pivot."""
    return state.R @ np.asarray(offset_m, dtype=np.float64)


def sagittal_pitch_deg(R: np.ndarray) -> np.ndarray:
    """Pitch of a segment in the world (deg, (n,)): the angle of world 'up' in the segment's
    sagittal (x-z) plane, ``atan2(-up_x, up_z)`` with ``up = R^T e_z``. Equals the ``pitch`` angle
    of ``segment_state`` when roll and yaw are zero, is defined through +-90 deg (on all fours,
    hip-thrust lockout), and ignores roll about a vertical axis. Unwrapped over time."""
    up = R[:, 2, :]  # third row of R = R^T e_z
    return np.degrees(np.unwrap(np.arctan2(-up[:, 0], up[:, 2])))


def relative_lateral_deg(R_lower: np.ndarray, R_upper: np.ndarray) -> np.ndarray:
    """Lateral bend of the upper segment relative to the lower one (deg, left positive): the tilt
    of the upper segment's z axis towards the lower segment's +y axis in its frontal plane."""
    z_up = np.matmul(R_lower.transpose(0, 2, 1), R_upper[:, :, 2:3])[:, :, 0]  # R_lower^T z_up
    return np.degrees(np.arctan2(z_up[:, 1], z_up[:, 2]))
