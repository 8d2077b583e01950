"""A simulated wearable put down still in a pose (as ``imu-monitor check-device`` asks a user):
it then reads gravity along the axis pointing up, its gyro bias and sensor noise, instead of the
motion of the person wearing it.

Sensor frame of the simulated wearable (``model``'s convention: a sensor at rest reads
+9.81 m/s^2 along the axis pointing up): z out of the label face, x along the long side, y along
the short side. So ``flat`` (label up) reads +g on z and ``long_edge`` (standing on its long
edge) reads +g on y.
"""

from __future__ import annotations

import numpy as np

from imu_monitor.model import GRAVITY_M_S2

POSES: dict[str, tuple[float, float, float]] = {
    "flat": (0.0, 0.0, 1.0),
    "long_edge": (0.0, 1.0, 0.0),
}
"""Pose -> the sensor axis pointing up."""
ACC_NOISE_M_S2 = 0.02
GYRO_NOISE_RAD_S = np.deg2rad(0.1)
GYRO_BIAS_MAX_RAD_S = np.deg2rad(0.5)


def gyro_bias(seed: int) -> np.ndarray:
    """The device's gyro bias (rad/s, each axis within +-0.5 deg/s), fixed by ``seed``."""
    rng = np.random.default_rng([seed, 0xB1A5])
    return rng.uniform(-GYRO_BIAS_MAX_RAD_S, GYRO_BIAS_MAX_RAD_S, 3)


def resting_samples(pose: str, k0: int, k1: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """acc (m/s^2) and gyro (rad/s), each (k1 - k0, 3), of a device lying still in ``pose``;
    the noise of sample ``k`` depends only on ``seed`` and ``k``."""
    up = np.asarray(POSES[pose], dtype=np.float64)
    n = k1 - k0
    rng = np.random.default_rng([seed, k0])
    acc = GRAVITY_M_S2 * up + rng.normal(0.0, ACC_NOISE_M_S2, (n, 3))
    gyr = gyro_bias(seed) + rng.normal(0.0, GYRO_NOISE_RAD_S, (n, 3))
    return acc, gyr
