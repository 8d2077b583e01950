"""Sessions the report tests share (simulated, so their truth is known)."""

from __future__ import annotations

import pytest

from imu_monitor.model import Marker
from imu_monitor.processing.analysis import analyze_recording
from imu_monitor.simulator import SimulationConfig, simulate_session


@pytest.fixture(scope="package")
def back_kick():
    """Two sensors, 12 reps with 4 lumbar faults; a user name and a marker note that are
    HTML."""
    rec = simulate_session(
        SimulationConfig(exercise="back-kick", reps=12, faulty=4, sensors=2, seed=5),
        created_utc="2026-12-05T10:00:00+00:00",
    )
    rec.meta["user"] = "<script>alert('ann')</script> & Bob"
    rec.markers.append(Marker(20.0, "note", None, {"text": '<img src=x onerror="boom">'}))
    return rec, analyze_recording(rec)
