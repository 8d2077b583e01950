"""Truth as biomechanics defines it: joint angle and onset/offset phase boundaries."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from imu_monitor.model import TruthRep
from imu_monitor.simulator.tracks import MinimumJerkTrack
from imu_monitor.simulator.truth import joint_flexion_deg, movement_on_off, phase_truth


def test_joint_flexion_ignores_how_the_pair_is_turned_in_the_world() -> None:
    rng = np.random.default_rng(1)
    common = Rotation.random(50, random_state=2).as_matrix()
    flex = rng.uniform(-20.0, 20.0, 50)
    R_lower = common
    R_upper = common @ Rotation.from_euler("y", flex[:, None], degrees=True).as_matrix()
    np.testing.assert_allclose(joint_flexion_deg(R_lower, R_upper), flex, atol=1e-9)
    # a lateral bend and an axial twist on top do not read as flexion
    twist = Rotation.from_euler("YXZ", np.c_[flex, 0 * flex + 5.0, 0 * flex + 8.0], degrees=True)
    np.testing.assert_allclose(
        joint_flexion_deg(R_lower, common @ twist.as_matrix()), flex, atol=1e-9
    )


def test_onset_and_offset_at_five_percent_of_peak_speed() -> None:
    T = 1.5
    track = MinimumJerkTrack(np.array([1.0, 1.0 + T, 3.0, 5.0]), np.array([0.0, 80.0, 80.0, 0.0]))
    t = np.arange(0.0, 6.0, 0.005)
    y, v, _ = track.evaluate(t)
    on, off = movement_on_off(t, v, 1.0, 1.0 + T, 0.05)
    # minimum jerk: speed = 5 % of its peak at s(1-s) = sqrt(0.05/16), s = 0.0593
    s = (1.0 - np.sqrt(1.0 - 4.0 * np.sqrt(0.05 / 16.0))) / 2.0
    assert on == pytest.approx(1.0 + s * T, abs=0.002)
    assert off == pytest.approx(1.0 + (1.0 - s) * T, abs=0.002)
    reps = phase_truth(t, y, [TruthRep(0, 1.0, 1.0 + T, 3.0, 5.0, None)], 0.05)
    r = reps[0]
    assert r.t_top_s - r.t_start_s == pytest.approx((1 - 2 * s) * T, abs=0.004)
    assert r.t_end_s - r.t_hold_end_s == pytest.approx((1 - 2 * s) * 2.0, abs=0.004)
    assert r.t_hold_end_s - r.t_top_s == pytest.approx(3.0 - (1.0 + T) + 2 * s * 1.75, abs=0.004)
    # a higher threshold shortens the movements
    later = movement_on_off(t, v, 1.0, 1.0 + T, 0.10)
    assert later[0] > on and later[1] < off
