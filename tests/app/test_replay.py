"""The calibration a replay is judged with, and the notes that say where it came from."""

from __future__ import annotations

import numpy as np

from imu_monitor.app.replay import recording_calibration, replay_pipeline
from imu_monitor.events import AlarmStarted
from imu_monitor.exercises import get_exercise
from imu_monitor.processing.analysis import analyze_recording
from imu_monitor.processing.calibration import GIVE_WINDOWS
from imu_monitor.simulator.config import SimulationConfig
from imu_monitor.simulator.generate import simulate_session
from tests.helpers import chunks_in_time_order


def _notes(markers: str):
    rec = simulate_session(SimulationConfig(reps=3, sensors=2, seed=5, markers=markers))
    return recording_calibration(rec, get_exercise(rec.exercise))


def test_guessed_windows_come_first_and_say_how_to_give_them():
    cal, notes = _notes("none")
    assert cal.windows_guessed
    assert notes[0].startswith("calibration windows guessed")
    assert GIVE_WINDOWS in notes[0]
    assert notes[1].startswith("calibration computed from the recording")


def test_given_windows_are_not_called_guessed():
    cal, notes = _notes("all")
    assert not cal.windows_guessed
    assert notes[0].startswith("calibration computed from the recording")
    assert any("calibration markers" in n for n in notes)
    assert not any(GIVE_WINDOWS in n or "guessed" in n for n in notes)


def test_a_replay_takes_off_the_accelerometer_offsets_analyze_would():
    """A replay judges a finished recording: the offsets measured over all of it are known,
    and without them this hip thrust's arched fourth rep read 5.1 deg of extension (limit 6):
    no alarm. With them, as ``analyze``, it alarms."""
    rec = simulate_session(
        SimulationConfig(exercise="hip-thrust", reps=4, faulty=1, sensors=2, seed=2)
    )
    cal, notes = recording_calibration(rec, get_exercise(rec.exercise))
    offsets = analyze_recording(rec).quality
    for p in rec.series:
        np.testing.assert_allclose(
            cal.sensors[p].acc_offset_m_s2, offsets[p]["acc_offset"]["offset_m_s2"], atol=1e-4
        )
    assert "accelerometer offsets measured over it taken off" in notes[0]
    pipe, _ = replay_pipeline(rec, get_exercise(rec.exercise))
    events = []
    for chunk in chunks_in_time_order(rec, np.random.default_rng(1)):
        events += pipe.feed(chunk)
    events += pipe.finish()
    alarms = [e for e in events if isinstance(e, AlarmStarted)]
    assert [a.rep for a in alarms] == [3] and alarms[0].direction == "extension"
