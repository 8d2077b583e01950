"""The inter-sensor clock offset, measured from the movement, against offsets put in on purpose."""

from __future__ import annotations

import math

import numpy as np
import pytest

from imu_monitor.model import SensorSeries
from imu_monitor.processing.clock_offset import MIN_CORRELATION, estimate_clock_offset
from imu_monitor.simulator import SimulationConfig, simulate_session


@pytest.fixture(scope="module")
def hip_thrust():
    return simulate_session(
        SimulationConfig(exercise="hip-thrust", reps=8, faulty=2, sensors=3, seed=3)
    )


def _shifted(s: SensorSeries, by_s: float) -> SensorSeries:
    return SensorSeries(s.t_s + by_s, s.acc_m_s2, s.gyr_rad_s, s.seq)


@pytest.mark.parametrize("placement", ["upper_lumbar", "thigh"])
@pytest.mark.parametrize("offset_s", [0.0, 0.04, -0.1, 0.3])
def test_an_offset_put_in_is_found(hip_thrust, placement, offset_s):
    s = hip_thrust.series
    got = estimate_clock_offset(s["sacrum"], _shifted(s[placement], offset_s), rate_hz=200.0)
    assert got.measurable, got.reason
    assert got.correlation >= MIN_CORRELATION
    # the thigh leads the pelvis by a few ms in this movement; the upper trunk turns with it
    assert got.offset_s == pytest.approx(offset_s, abs=0.008 if placement == "thigh" else 0.003)


def test_sensors_that_do_not_turn_together_are_not_measurable():
    rng = np.random.default_rng(0)
    t = np.arange(0, 120, 0.005)
    moving = np.zeros((len(t), 3))
    moving[:, 1] = np.sin(2 * np.pi * t / 5.0) ** 8  # reps
    noise = np.zeros((len(t), 3)) + rng.normal(0, 0.01, (len(t), 3))
    acc = np.tile([0.0, 0.0, 9.81], (len(t), 1))
    got = estimate_clock_offset(
        SensorSeries(t, acc, moving), SensorSeries(t, acc, noise), rate_hz=200.0
    )
    assert not got.measurable
    assert math.isnan(got.offset_s)
    assert "hardly matches" in got.reason


def test_too_little_common_data_is_not_measurable(hip_thrust):
    s = hip_thrust.series
    got = estimate_clock_offset(
        s["sacrum"], s["upper_lumbar"], rate_hz=200.0, t_from_s=float(s["sacrum"].t_s[-1]) - 1.0
    )
    assert not got.measurable and "share only" in got.reason
