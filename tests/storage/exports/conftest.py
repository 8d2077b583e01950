"""A short simulated three-sensor back-kick session with faulty reps, analysed once."""

from __future__ import annotations

import pytest

from imu_monitor.processing.analysis import analyze_recording
from imu_monitor.simulator import SimulationConfig, simulate_session


@pytest.fixture(scope="package")
def session():
    rec = simulate_session(
        SimulationConfig(exercise="back-kick", reps=5, faulty=3, sensors=3, seed=3),
        created_utc="2026-12-05T10:00:00+00:00",
    )
    return rec, analyze_recording(rec)
