"""Soft-tissue artefact: the coupled rotation's size and the wobble's resonance and gain."""

from __future__ import annotations

import math

import numpy as np
import pytest

from imu_monitor.simulator.skin import (
    COUPLED_DEG,
    GRID_HZ,
    apply_skin,
    draw_skin_motion,
    skin_rotation,
    wobble_splines,
)


def test_coupled_rotation_over_the_hip_range_is_a_degree_or_so() -> None:
    for seed in range(20):
        skin = draw_skin_motion(np.random.default_rng(seed), "sacrum")
        h = np.array([0.0, 0.5, 1.0])
        theta, dtheta, _ = skin_rotation(skin, (h, np.ones(3), np.zeros(3)), None, h)
        turned = math.degrees(float(np.linalg.norm(theta[-1] - theta[0])))
        assert COUPLED_DEG[0] - 1e-9 <= turned <= COUPLED_DEG[1] + 1e-9
        # mostly a sagittal rotation (about the segment's y axis)
        assert abs(skin.axis[1]) > 0.9
        np.testing.assert_allclose(dtheta[0], theta[-1] - theta[0])


def test_wobble_rings_at_its_resonance_with_the_static_gain() -> None:
    skin = draw_skin_motion(np.random.default_rng(3), "upper_lumbar")
    t = np.arange(0.0, 3.0, 1.0 / GRID_HZ)
    acc = np.zeros((len(t), 3))
    acc[t >= 1.0, 0] = 1.0  # a step of 1 m/s^2 forward
    spline = wobble_splines(skin, t, acc)
    about_y = spline(t)[:, 1]
    assert about_y[-1] == pytest.approx(skin.gain_rad_per_m_s2, rel=0.01)
    ring = about_y[t > 1.0] - skin.gain_rad_per_m_s2
    crossings = np.flatnonzero(np.diff(np.sign(ring)) != 0)
    period = 2.0 * np.median(np.diff(crossings)) / GRID_HZ
    damped_hz = skin.wobble_hz * math.sqrt(1.0 - skin.damping**2)
    assert 1.0 / period == pytest.approx(damped_hz, rel=0.05)
    assert 5.0 <= skin.wobble_hz <= 12.0


def test_apply_skin_turns_the_readings_into_the_patch_frame() -> None:
    skin = draw_skin_motion(np.random.default_rng(5), "sacrum")
    theta = np.array([[0.0, math.radians(1.0), 0.0]])
    f, w, S = apply_skin(
        skin, np.array([[0.0, 0.0, 9.8]]), np.zeros((1, 3)), (theta, 0 * theta, 0 * theta)
    )
    # gravity seen by a sensor pitched 1 deg: a forward component of 9.8 sin(1 deg) ... negative
    assert f[0, 0] == pytest.approx(-9.8 * math.sin(math.radians(1.0)), rel=1e-9)
    assert np.linalg.norm(f) == pytest.approx(9.8)
    np.testing.assert_allclose(S[0] @ S[0].T, np.eye(3), atol=1e-12)
    assert np.all(w == 0.0)
