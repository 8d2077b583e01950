"""The live filter's gyro bias from still moments (``gyro_bias.StillBias``, used by
``OrientationStream``): breathing and slow turns do not pass for bias, and the chunking does not
matter."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from imu_monitor.model import SensorSeries
from imu_monitor.processing.gyro_bias import StillBias
from imu_monitor.processing.orientation import OrientationStream

RATE = 200.0
BIAS = np.radians([0.3, -0.8, 0.2])


def _smooth(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 0.0, 1.0)
    return u**3 * (10 - 15 * u + 6 * u**2)


def _reps_with_breathing(phase: float, seconds: float = 40.0, seed: int = 0, bias=BIAS):
    """Standing still 3.5 s, then reps: 45 deg up in 1 s, 1.2 s hold, down in 1 s, 1.2 s rest
    (each rest shorter than a breath); all along, breathing turns the sensor 0.4 deg about the
    same axis at 15 breaths/min. Returns the series and the true pitch (rad)."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, seconds, 1.0 / RATE)
    cycle = np.mod(t - 3.5, 4.4)
    reps = math.radians(45.0) * (_smooth(cycle) - _smooth(cycle - 2.2))
    reps[t < 3.5] = 0.0
    pitch = reps + math.radians(0.4) * np.sin(2 * np.pi * 0.25 * t + phase)
    rot = Rotation.from_rotvec(np.column_stack((0 * t, pitch, 0 * t)))  # sensor-to-world
    acc = rot.inv().apply([0.0, 0.0, 9.81]) + rng.normal(0.0, 0.02, (len(t), 3))
    gyr = np.column_stack((0 * t, np.gradient(pitch, t), 0 * t)) + bias
    gyr += rng.normal(0.0, math.radians(0.1), gyr.shape)
    return SensorSeries(t, acc, gyr, np.arange(len(t), dtype=np.int64)), pitch


def _inclination_error_deg(quat_ws: np.ndarray, pitch: np.ndarray) -> np.ndarray:
    up = Rotation.from_quat(quat_ws, scalar_first=True).inv().apply([0.0, 0.0, 1.0])
    true_up = Rotation.from_rotvec(np.column_stack((0 * pitch, pitch, 0 * pitch))).inv()
    cos = np.sum(up * true_up.apply([0.0, 0.0, 1.0]), axis=1)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


@pytest.mark.parametrize("phase", [0.0, 1.0, 2.0, 4.0])
def test_breathing_through_short_rests_does_not_pass_for_bias(phase: float) -> None:
    series, pitch = _reps_with_breathing(phase)
    stream = OrientationStream(RATE)
    out = stream.update(series)
    assert stream.still_bias is not None and stream.still_bias.observations >= 10
    err_bias = np.degrees(np.abs(stream.still_bias.bias[[0, 1]] - BIAS[[0, 1]]))
    assert err_bias.max() < 0.1  # deg/s; one rest's mean is off by up to ~0.6
    late = series.t_s > 20.0
    assert _inclination_error_deg(out.quat_ws, pitch)[late].mean() < 0.3


def test_a_consumer_gyros_large_bias_is_found_and_used() -> None:
    # 4.5 deg/s, 3 deg/s on two axes: over the 4 deg/s still threshold before any estimate,
    # and over vqf's default bias clip (2 deg/s per axis), which leaned the inclination by
    # degrees for the whole session
    bias = np.radians([3.0, -3.0, 1.5])
    series, pitch = _reps_with_breathing(1.0, bias=bias)
    stream = OrientationStream(RATE)
    out = stream.update(series)
    assert stream.still_bias is not None and stream.still_bias.observations >= 10
    err_bias = np.degrees(np.abs(stream.still_bias.bias[[0, 1]] - bias[[0, 1]]))
    assert err_bias.max() < 0.1
    late = series.t_s > 20.0
    assert _inclination_error_deg(out.quat_ws, pitch)[late].mean() < 0.3


def test_a_slow_steady_turn_is_not_taken_for_bias() -> None:
    # 2 deg/s about a horizontal axis for 12 s: under the still threshold, but the gravity
    # direction turns with it, so the estimate stays at the true bias
    t = np.arange(0.0, 12.0, 1.0 / RATE)
    pitch = np.radians(10.0 + 2.0 * t)
    rot = Rotation.from_rotvec(np.column_stack((0 * t, pitch, 0 * t)))
    acc = rot.inv().apply([0.0, 0.0, 9.81])
    gyr = np.column_stack((0 * t, np.full_like(t, math.radians(2.0)), 0 * t)) + BIAS
    tracker = StillBias(RATE)
    for a in range(0, len(t), 25):
        tracker.feed(gyr[a : a + 25], acc[a : a + 25])
    assert tracker.observations >= 2
    np.testing.assert_allclose(np.degrees(tracker.bias), np.degrees(BIAS), atol=0.02)


def test_the_estimate_does_not_depend_on_the_chunking() -> None:
    series, _ = _reps_with_breathing(1.0, seconds=25.0)
    whole = OrientationStream(RATE)
    expected = whole.update(series).quat_ws
    rng = np.random.default_rng(3)
    stream = OrientationStream(RATE)
    parts, i = [], 0
    while i < len(series):
        j = min(len(series), i + int(rng.integers(1, 90)))
        parts.append(stream.update(series.chunk("sacrum", i, j)).quat_ws)
        i = j
    assert whole.still_bias is not None and whole.still_bias.observations >= 5
    np.testing.assert_allclose(np.concatenate(parts), expected, rtol=0, atol=1e-12)
