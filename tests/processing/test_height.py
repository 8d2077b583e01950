"""The hips' height from one sensor (``processing.height``)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from imu_monitor.processing.height import (
    STANDARD_GRAVITY_M_S2,
    HeightTracker,
    height_usable,
    vertical_acc_m_s2,
)

RATE_HZ = 200.0


def minimum_jerk(t: np.ndarray, t0: float, duration: float) -> tuple[np.ndarray, ...]:
    """Position 0 -> 1 over [t0, t0 + duration] (minimum jerk), with its 2nd derivative."""
    s = np.clip((t - t0) / duration, 0.0, 1.0)
    pos = 10 * s**3 - 15 * s**4 + 6 * s**5
    acc = (60 * s - 180 * s**2 + 120 * s**3) / duration**2
    acc[(t < t0) | (t > t0 + duration)] = 0.0
    return pos, acc


def lift_session(offset_m_s2=(0.15, -0.05, 0.1), z_scale=0.015, noise=0.02, seed=0):
    """A sacrum sensor lying still, its hips rising 15 cm in 1 s while it pitches 25 deg, held
    1.5 s, lowered 12 cm in 2 s (pitching back), held: readings with an accelerometer offset,
    a scale error and noise; the true orientations; the true heights."""
    t = np.arange(0.0, 8.0, 1.0 / RATE_HZ)
    up_pos, up_acc = minimum_jerk(t, 1.0, 1.0)
    down_pos, down_acc = minimum_jerk(t, 3.5, 2.0)
    z = 0.15 * up_pos - 0.12 * down_pos
    az = 0.15 * up_acc - 0.12 * down_acc
    pitch = 25.0 * up_pos - 25.0 * down_pos
    rot = Rotation.from_euler("y", pitch[:, None], degrees=True)  # sensor -> world
    specific_force = np.stack([np.zeros_like(t), np.zeros_like(t), az + STANDARD_GRAVITY_M_S2], 1)
    acc = rot.inv().apply(specific_force)
    acc[:, 2] *= 1.0 + z_scale
    acc += np.asarray(offset_m_s2) + np.random.default_rng(seed).normal(0.0, noise, acc.shape)
    quat = rot.as_quat()[:, [3, 0, 1, 2]]  # (w, x, y, z)
    return t, acc, quat, z


def test_vertical_acc_of_a_turned_sensor():
    rot = Rotation.from_euler("xy", [[20.0, 35.0], [-10.0, 80.0]], degrees=True)
    force = np.array([[0.0, 0.0, STANDARD_GRAVITY_M_S2 + 1.5], [0.4, 0.0, STANDARD_GRAVITY_M_S2]])
    acc = rot.inv().apply(force)
    quat = rot.as_quat()[:, [3, 0, 1, 2]]
    assert vertical_acc_m_s2(quat, acc) == pytest.approx([1.5, 0.0], abs=1e-9)


def test_height_between_still_moments_despite_offset_and_scale_error():
    t, acc, quat, z = lift_session()
    h = HeightTracker().update(t, acc, quat)
    still_top = (t > 2.6) & (t < 3.4)
    still_bottom = t > 6.2
    assert np.isfinite(h[still_top]).all() and np.isfinite(h[still_bottom]).all()
    assert np.isnan(h[(t > 1.1) & (t < 1.9)]).all()  # moving: not known
    assert np.isnan(h[t < 0.2]).all()  # before the first still moment
    first = h[np.isfinite(h)][0]
    assert h[still_top].mean() - first == pytest.approx(0.15, abs=0.01)
    assert h[still_bottom].mean() - first == pytest.approx(0.03, abs=0.01)


def test_a_constant_bias_would_not_do():
    """What the interpolation along the turn is for: the same session measured with the bias of
    the still moment before each movement only is off by several centimetres."""
    t, acc, quat, _ = lift_session(noise=0.0)
    tracker = HeightTracker()
    h = tracker.update(t, acc, quat)
    # the bias the sensor reads differs between the postures by the turned offset and scale
    lying, pitched = (
        vertical_acc_m_s2(quat[:1], acc[:1]),
        vertical_acc_m_s2(quat[[int(3.0 * RATE_HZ)]], acc[[int(3.0 * RATE_HZ)]]),
    )
    assert abs(float(pitched[0] - lying[0])) > 0.05  # so a constant bias would drift
    first = h[np.isfinite(h)][0]
    assert h[-1] - first == pytest.approx(0.03, abs=0.005)


def test_any_chunking_gives_the_same_heights():
    t, acc, quat, _ = lift_session()
    whole = HeightTracker().update(t, acc, quat)
    rng = np.random.default_rng(3)
    for _ in range(3):
        tracker, parts, i = HeightTracker(), [], 0
        while i < len(t):
            k = int(rng.choice([0, 1, 2, 7, 10, 33, 150]))
            parts.append(tracker.update(t[i : i + k], acc[i : i + k], quat[i : i + k]))
            i += k
        np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_a_slow_sensor_gives_no_height():
    assert height_usable(52.0) and height_usable(25.0)
    assert not height_usable(10.0)
