"""The imperfections of a simulated wearable: mounting, gyro bias, noise, timing jitter, drops;
for the human-motion model also accelerometer offset and scale errors, gyro bias drift and
packet loss in bursts (``HumanSensorErrors``, ``burst_drop_mask``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy.spatial.transform import Rotation

from imu_monitor.model import PLACEMENTS
from imu_monitor.simulator.tracks import SmoothTrack, sway_track


@dataclass
class SensorErrors:
    """Per-sensor constants drawn once per session.

    ``mounting``: rotation sensor -> segment (``v_segment = mounting.apply(v_sensor)``).
    ``gyro_bias_rad_s``: constant gyro bias in the sensor frame, shape (3,).
    """

    mounting: Rotation
    gyro_bias_rad_s: np.ndarray

    @property
    def mounting_quat_wxyz(self) -> list[float]:
        return [float(v) for v in self.mounting.as_quat(scalar_first=True)]


def random_unit_vector(rng: np.random.Generator) -> np.ndarray:
    v = rng.normal(size=3)
    return v / np.linalg.norm(v)


def draw_sensor_errors(
    rng: np.random.Generator, mounting_max_deg: float, gyro_bias_max_deg_s: float
) -> SensorErrors:
    """Mounting: angle uniform in [0, mounting_max_deg] about a random axis. Gyro bias: random
    direction, magnitude uniform in [0.5, gyro_bias_max_deg_s] deg/s (or [0, max] if max < 0.5)."""
    angle = math.radians(rng.uniform(0.0, max(mounting_max_deg, 0.0)))
    mounting = Rotation.from_rotvec(random_unit_vector(rng) * angle)
    lo = min(0.5, gyro_bias_max_deg_s)
    bias_deg_s = rng.uniform(lo, max(gyro_bias_max_deg_s, lo))
    bias = random_unit_vector(rng) * math.radians(bias_deg_s)
    return SensorErrors(mounting, bias)


class ErrorRanges(Protocol):
    """What ``sensor_errors_for`` reads of a ``config.SimulationConfig``."""

    seed: int
    mounting_max_deg: float
    gyro_bias_max_deg_s: float


def sensor_errors_for(
    config: ErrorRanges, placement: str
) -> tuple[np.random.Generator, SensorErrors]:
    """The seeded generator and the constant errors of one sensor (independent of the sensor set,
    so the sacrum sensor is the same with 1, 2 or 3 sensors)."""
    rng = np.random.default_rng([int(config.seed), 1, PLACEMENTS.index(placement)])
    return rng, draw_sensor_errors(rng, config.mounting_max_deg, config.gyro_bias_max_deg_s)


def sample_times(rng: np.random.Generator, n: int, rate_hz: float, jitter_s: float) -> np.ndarray:
    """True sample times (s, shape (n,)): ``k / rate_hz`` plus Gaussian jitter of std
    ``jitter_s``, clipped to +-0.45 sample periods so the times stay strictly increasing."""
    t = np.arange(n, dtype=np.float64) / rate_hz
    if jitter_s > 0.0:
        half = 0.45 / rate_hz
        t = t + np.clip(rng.normal(0.0, jitter_s, n), -half, half)
    return t


def drop_mask(
    rng: np.random.Generator, n: int, fraction: float, run_probability: float = 0.2
) -> np.ndarray:
    """Boolean mask (shape (n,)) of the samples to drop: about ``fraction * n`` samples, as
    single samples and, with ``run_probability`` per event, runs of 2-5 consecutive samples."""
    drop = np.zeros(n, dtype=bool)
    if fraction <= 0.0 or n < 2:
        return drop
    lengths_mean = (1.0 - run_probability) + run_probability * 3.5
    events = int(round(fraction * n / lengths_mean))
    if events == 0:
        return drop
    starts = rng.integers(1, n, events)  # never the first sample
    lengths = np.where(rng.random(events) < run_probability, rng.integers(2, 6, events), 1)
    idx = np.repeat(starts, lengths) + (
        np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    )
    drop[idx[idx < n]] = True
    return drop


ACC_OFFSET_SD_M_S2 = 0.015 * 9.80665
"""Accelerometer zero-g offset per axis: Gaussian, sd 15 mg (0.147 m/s^2). Consumer MEMS parts
are specified at +-40 to +-80 mg before any calibration (e.g. Bosch BMI160 +-40 mg, InvenSense
MPU-6050 +-50 mg x/y, +-80 mg z); 15 mg is what remains after a factory trim."""
ACC_SCALE_RANGE = (0.01, 0.02)
"""Accelerometer sensitivity error per axis: 1-2 % of the reading, random sign (datasheets
give +-1 to +-3 % sensitivity tolerance)."""
GYRO_SCALE_RANGE = (0.005, 0.015)
"""Gyroscope sensitivity error per axis: 0.5-1.5 % of the rate, random sign (datasheets give
+-1 % typical for Bosch's BMI160 and up to +-3 % for InvenSense's MPU-6050 scale factor). A
45 deg turn then reads 0.2-0.7 deg off: the gyro is not a perfect reference either."""
GYRO_DRIFT_DEG_S = (0.05, 0.3)
"""Gyro bias warm-up drift: the bias moves by this much (deg/s, random direction) towards its
settled value with a time constant of ``GYRO_DRIFT_TAU_S`` after power-on."""
GYRO_DRIFT_TAU_S = (30.0, 120.0)
GYRO_WANDER_DEG_S = 0.03
"""Bias instability: the bias also wanders within +-0.03 deg/s per axis, changing every 5-15 s
(the order of the 10-30 deg/h bias instability of consumer MEMS gyros)."""
BURST_SAMPLES = (4, 8)
"""Lost BLE notifications: each carries several samples, so samples go missing in bursts of
4-8 consecutive samples."""


@dataclass
class HumanSensorErrors:
    """The further errors of a sensor in the human-motion model, per session and sensor.

    ``acc_offset_m_s2``, ``acc_scale``: (3,) in the sensor frame (reading = (1 + scale) * true +
    offset). ``gyro_scale``: (3,), reading = (1 + gyro_scale) * true rate + bias.
    ``drift_rad_s`` (3,), ``drift_tau_s``: gyro bias warm-up drift; ``wander``: three tracks
    (rad/s) of bias instability.
    """

    acc_offset_m_s2: np.ndarray
    acc_scale: np.ndarray
    drift_rad_s: np.ndarray
    drift_tau_s: float
    wander: list[SmoothTrack]
    gyro_scale: np.ndarray

    def gyro_bias_change(self, t_s: np.ndarray) -> np.ndarray:
        """Bias minus its value at power-on (rad/s, (n, 3)) at times ``t_s`` (s)."""
        warm = (1.0 - np.exp(-np.asarray(t_s) / self.drift_tau_s))[:, None] * self.drift_rad_s
        return warm + np.stack([w.evaluate(t_s, False)[0] for w in self.wander], axis=-1)


def draw_human_sensor_errors(
    rng: np.random.Generator,
    duration_s: float,
    acc_errors: bool,
    gyro_drift: bool,
    gyro_scale: bool = True,
    acc_offset_sd_m_s2: float = ACC_OFFSET_SD_M_S2,
    gyro_scale_range: tuple[float, float] = GYRO_SCALE_RANGE,
) -> HumanSensorErrors:
    """Draw the errors above (the accelerometer offsets with sd ``acc_offset_sd_m_s2``, the gyro
    scale errors from ``gyro_scale_range``); a switched-off group is exactly zero (the draws
    still happen, so the other groups do not change; the gyro scale is drawn last, after it was
    added)."""
    offset = rng.normal(0.0, 1.0, 3) * acc_offset_sd_m_s2
    scale = rng.uniform(*ACC_SCALE_RANGE, 3) * rng.choice([-1.0, 1.0], 3)
    drift = random_unit_vector(rng) * math.radians(rng.uniform(*GYRO_DRIFT_DEG_S))
    tau = float(rng.uniform(*GYRO_DRIFT_TAU_S))
    wander = [
        sway_track(rng, math.radians(GYRO_WANDER_DEG_S), duration_s, (5.0, 15.0)) for _ in range(3)
    ]
    g_scale = rng.uniform(*gyro_scale_range, 3) * rng.choice([-1.0, 1.0], 3)
    if not gyro_scale:
        g_scale = np.zeros(3)
    if not acc_errors:
        offset, scale = np.zeros(3), np.zeros(3)
    if not gyro_drift:
        drift = np.zeros(3)
        wander = [sway_track(rng, 0.0, duration_s, (5.0, 15.0)) for _ in range(3)]
    return HumanSensorErrors(offset, scale, drift, tau, wander, g_scale)


def burst_drop_mask(
    rng: np.random.Generator, n: int, fraction: float, burst: tuple[int, int] = BURST_SAMPLES
) -> np.ndarray:
    """Boolean mask (shape (n,)) of the samples to drop: about ``fraction * n`` samples in
    bursts of ``burst`` (inclusive) consecutive samples; never the first sample."""
    drop = np.zeros(n, dtype=bool)
    mean_len = 0.5 * (burst[0] + burst[1])
    events = int(round(fraction * n / mean_len)) if n > 1 else 0
    if events <= 0:
        return drop
    starts = rng.integers(1, n, events)
    lengths = rng.integers(burst[0], burst[1] + 1, events)
    for s, length in zip(starts, lengths, strict=True):
        drop[s : s + length] = True
    return drop
