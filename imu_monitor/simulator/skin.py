"""Soft-tissue artefact: a sensor taped to the skin moves against the bone under it.

Two components, per sensor and session (human-motion model, ``SimulationConfig.skin_motion``):

- *Coupled rotation*: the skin over the sacrum and lumbar spine slides as the hip moves, so the
  sensor turns against its segment by 0.3-1.2 deg (thigh sensor: 1-3 deg) over the session's
  full hip range of motion, proportionally to the hip angle (deg of sensor rotation per deg of
  hip movement = gain / range), about an axis that is mostly the segment's medio-lateral (y) axis
  (the sagittal plane) with a random tilt. Skin-marker studies report pelvis and trunk soft-tissue
  artefacts of a few millimetres, i.e. around a degree of rotation, against tens of millimetres
  on the thigh (Leardini et al. 2005, Gait Posture 21:212; Camomilla et al. 2017, J Biomech 62:3).
- *Wobble*: the soft tissue under the sensor is a damped oscillator, natural frequency 5-12 Hz,
  damping ratio 0.2-0.4, driven by the segment's linear acceleration at the sensor (in the
  segment frame: anterior-posterior acceleration tilts the sensor about y, lateral about x) with
  a static gain of 0.05-0.15 deg per m/s^2. The sensor sits 10-20 mm above the tissue's pivot,
  so the wobble's angular acceleration also reaches the accelerometer. An IMU on soft tissue
  behaves as an underdamped second-order system: 9.8 +- 2.7 Hz for a shank IMU after impacts
  (Rong & Kuo 2023, doi:10.21203/rs.3.rs-3325551/v1); lighter loads and a taped sensor on the
  back are assumed to lie in the same 5-12 Hz band.

The truth (bone) orientation is untouched: the artefact is a measurement error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.signal import bilinear, lfilter

from imu_monitor.simulator.sensors import random_unit_vector

Triple = tuple[np.ndarray, np.ndarray, np.ndarray]

COUPLED_DEG = (0.3, 1.2)
THIGH_COUPLED_DEG = (1.0, 3.0)
WOBBLE_HZ = (5.0, 12.0)
WOBBLE_DAMPING = (0.2, 0.4)
WOBBLE_GAIN_DEG_PER_M_S2 = (0.05, 0.15)
LEVER_M = (0.010, 0.020)
GRID_HZ = 400.0
"""The wobble is integrated on this uniform grid and interpolated (cubic) at the sample times."""


@dataclass
class SkinMotion:
    """One sensor's soft-tissue artefact parameters (see the module docstring)."""

    coupled_rad: float
    """Rotation over the whole hip range (signed, rad)."""
    axis: np.ndarray
    """Unit axis of the coupled rotation, segment frame, (3,)."""
    wobble_hz: float
    damping: float
    gain_rad_per_m_s2: float
    lever_m: np.ndarray
    """The sensor's position above the tissue pivot, segment frame (posterior, on the back)."""


def draw_skin_motion(rng: np.random.Generator, placement: str) -> SkinMotion:
    lo, hi = THIGH_COUPLED_DEG if placement == "thigh" else COUPLED_DEG
    coupled = math.radians(rng.uniform(lo, hi)) * float(rng.choice([-1.0, 1.0]))
    axis = np.array([0.0, 1.0, 0.0]) + 0.3 * random_unit_vector(rng)
    lever = float(rng.uniform(*LEVER_M))
    return SkinMotion(
        coupled_rad=coupled,
        axis=axis / np.linalg.norm(axis),
        wobble_hz=float(rng.uniform(*WOBBLE_HZ)),
        damping=float(rng.uniform(*WOBBLE_DAMPING)),
        gain_rad_per_m_s2=math.radians(rng.uniform(*WOBBLE_GAIN_DEG_PER_M_S2)),
        lever_m=np.array([-lever, 0.0, 0.0]) if placement != "thigh" else np.array([0, lever, 0]),
    )


def wobble_splines(skin: SkinMotion, grid_t: np.ndarray, acc_seg: np.ndarray) -> CubicSpline:
    """The wobble angles about the segment's x and y axes (rad) as a cubic spline over
    ``grid_t`` (uniform at ``GRID_HZ``), from the segment-frame acceleration ``acc_seg``
    ((n, 3), m/s^2, gravity excluded) at the sensor point on that grid."""
    w = 2.0 * math.pi * skin.wobble_hz
    b, a = bilinear([w * w], [1.0, 2.0 * skin.damping * w, w * w], fs=GRID_HZ)
    drive = np.stack([-acc_seg[:, 1], acc_seg[:, 0]], axis=-1) * skin.gain_rad_per_m_s2
    # start in the initial quasi-static deflection (unit static gain), not with a transient
    out = lfilter(b, a, drive - drive[0], axis=0) + drive[0]
    return CubicSpline(grid_t, out, axis=0)


def skin_rotation(
    skin: SkinMotion, hip_norm: Triple, wobble: CubicSpline | None, t_s: np.ndarray
) -> Triple:
    """The sensor patch's rotation against its segment as a rotation vector (rad, segment frame)
    and its first and second time derivatives, each (n, 3). ``hip_norm``: the hip angle minus its
    calibration value over the session's hip range (unitless) with its derivatives."""
    h, dh, ddh = hip_norm
    axis = skin.axis * skin.coupled_rad
    theta, dtheta, ddtheta = h[:, None] * axis, dh[:, None] * axis, ddh[:, None] * axis
    if wobble is not None:  # about the segment's x and y axes
        theta[:, :2] += wobble(t_s)
        dtheta[:, :2] += wobble(t_s, 1)
        ddtheta[:, :2] += wobble(t_s, 2)
    return theta, dtheta, ddtheta


def patch_matrices(theta: np.ndarray) -> np.ndarray:
    """Rotation matrices (n, 3, 3) of rotation vectors (n, 3) (Rodrigues)."""
    angle = np.linalg.norm(theta, axis=-1)
    small = angle < 1e-12
    safe = np.where(small, 1.0, angle)
    k = theta / safe[:, None]
    kx, ky, kz = k[:, 0], k[:, 1], k[:, 2]
    zero = np.zeros_like(kx)
    K = np.stack([zero, -kz, ky, kz, zero, -kx, -ky, kx, zero], axis=-1).reshape(-1, 3, 3)
    s, c = np.sin(angle)[:, None, None], np.cos(angle)[:, None, None]
    eye = np.broadcast_to(np.eye(3), K.shape)
    R = eye + s * K + (1.0 - c) * (K @ K)
    R[small] = np.eye(3)
    return R


def apply_skin(
    skin: SkinMotion, f_seg: np.ndarray, omega_seg: np.ndarray, rotation: Triple
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Specific force and angular velocity in the skin patch's frame ((n, 3) each), from their
    values in the segment frame and the patch rotation ``(theta, theta', theta'')``; also the
    patch rotation matrices (patch -> segment, (n, 3, 3)). The patch's angular velocity relative
    to the segment is taken as ``theta'`` (exact to first order; the angles are a few degrees at
    most, the error is below 0.1 % of the rate)."""
    theta, dtheta, ddtheta = rotation
    S = patch_matrices(theta)
    St = S.transpose(0, 2, 1)
    lever_acc = np.cross(ddtheta, skin.lever_m)  # tangential acceleration of the raised sensor
    f_patch = np.einsum("nij,nj->ni", St, f_seg + lever_acc)
    omega_patch = np.einsum("nij,nj->ni", St, omega_seg + dtheta)
    return f_patch, omega_patch, S
