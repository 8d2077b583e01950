"""The calibration a replay is judged with, and the notes that say where it came from."""

from __future__ import annotations

from imu_monitor.app.replay import recording_calibration
from imu_monitor.exercises import get_exercise
from imu_monitor.processing.calibration import GIVE_WINDOWS
from imu_monitor.simulator.config import SimulationConfig
from imu_monitor.simulator.generate import simulate_session


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
