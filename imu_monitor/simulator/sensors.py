"""The imperfections of a simulated wearable: mounting, gyro bias, noise, timing jitter, drops."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation


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
        x, y, z, w = self.mounting.as_quat()
        return [float(w), float(x), float(y), float(z)]


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
