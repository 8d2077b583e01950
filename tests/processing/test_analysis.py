"""``analyze_recording``: what it takes off the recorded data before the angles."""

from __future__ import annotations

import pytest

from imu_monitor.processing.analysis import analyze_recording


def test_the_upper_lumbar_sensors_clock_offset_is_taken_off():
    """Two wearables put on the session clock from their own first notifications can sit tens of
    milliseconds apart; in a hip thrust, whose trunk turns fast, 40 ms read as false extension
    alarms. ``analyze`` measures the offset from the movement and takes it off."""
    from imu_monitor.model import SensorSeries
    from imu_monitor.simulator import SimulationConfig, simulate_session
    from imu_monitor.simulator.scoring import session_goals

    config = SimulationConfig(exercise="hip-thrust", reps=10, faulty=4, sensors=2, seed=3)
    rec = simulate_session(config)
    s = rec.series["upper_lumbar"]
    rec.series["upper_lumbar"] = SensorSeries(s.t_s + 0.04, s.acc_m_s2, s.gyr_rad_s, s.seq)
    kept = session_goals(analyze_recording(rec, clock_offset=False), rec.truth, rec.meta)
    analysis = analyze_recording(rec)
    fixed = session_goals(analysis, rec.truth, rec.meta)
    assert kept["false_alarms"] >= 1 and kept["rmse_deg"] > 1.5
    assert fixed["false_alarms"] == 0 and fixed["rmse_deg"] < 0.8
    clock = analysis.quality["upper_lumbar"]["clock_offset"]
    assert clock["taken_off"] and clock["offset_s"] == pytest.approx(0.04, abs=0.008)
    # without an offset put in, the times stay as recorded
    plain = analyze_recording(simulate_session(config))
    assert not plain.quality["upper_lumbar"]["clock_offset"]["taken_off"]
