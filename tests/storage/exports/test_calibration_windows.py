"""The exports say which calibration their angles rest on: its capture windows, and whether the
analysis had to guess them (a recording without calibration markers)."""

from __future__ import annotations

import json

import pytest

from imu_monitor.cli.main import main
from imu_monitor.processing.analysis import analyze_recording
from imu_monitor.processing.calibration import Calibration
from imu_monitor.simulator.config import SimulationConfig
from imu_monitor.simulator.generate import simulate_session
from imu_monitor.storage.exports.tables import GUESSED_WINDOW, capture_window, session_spans
from imu_monitor.storage.recording import save_recording


def _analysed(markers: str):
    rec = simulate_session(SimulationConfig(reps=3, sensors=2, seed=5, markers=markers))
    return rec, analyze_recording(rec, offline=True)


@pytest.fixture(scope="module")
def guessed():
    return _analysed("none")


def test_guessed_windows_are_events_beside_the_angles(guessed):
    rec, an = guessed
    cal = an.calibration
    assert cal.windows_guessed and set(cal.windows_s) == {"start", "standing"}
    start, standing = cal.windows_s["start"], cal.windows_s["standing"]
    # standing, then the start posture, which ends before the first rep
    assert standing[1] <= start[0] < start[1] < rec.truth.reps[0].t_start_s
    t0 = float(an.angles.t_s[0])
    spans = {s.trial_type: s for s in session_spans(rec, an, t0)}
    for kind, (a, b) in (("calibration_start", start), ("calibration_standing", standing)):
        assert spans[kind].value == GUESSED_WINDOW
        assert spans[kind].onset_s == pytest.approx(a - t0)
        assert spans[kind].duration_s == pytest.approx(b - a)
    # an OpenSense calibration row is taken over the guessed standing capture
    a, b, what = capture_window(rec, an)
    assert (a, b) == standing and "guessed" in what


def test_given_windows_are_the_markers_and_not_called_guessed():
    rec, an = _analysed("all")
    cal = an.calibration
    assert not cal.windows_guessed
    for kind, key in (("calibration_start", "start"), ("calibration_standing", "standing")):
        (m,) = rec.markers_of(kind)
        assert cal.windows_s[key] == (m.t_s, m.t_end_s)
    values = [s.value for s in session_spans(rec, an, float(an.angles.t_s[0]))]
    assert GUESSED_WINDOW not in values


def test_the_windows_survive_a_calibration_round_trip_and_older_files_have_none(guessed):
    cal = guessed[1].calibration
    back = Calibration.from_dict(json.loads(json.dumps(cal.to_dict())))
    assert back.windows_s == cal.windows_s and back.windows_guessed
    old = cal.to_dict()
    del old["windows_s"]
    assert Calibration.from_dict(old).windows_s == {}


def test_the_csv_export_meta_says_what_the_angles_rest_on(guessed, tmp_path):
    rec, an = guessed
    path = tmp_path / "s.imr"
    save_recording(rec, path)
    assert main(["export", str(path), "--csv", str(tmp_path / "s.csv")]) == 0
    doc = json.loads((tmp_path / "s.meta.json").read_text())
    assert doc["calibration"] is None  # nothing was calibrated while recording
    angles = doc["angles_calibration"]
    assert angles["windows_guessed"] is True
    assert angles["windows_s"]["start"] == pytest.approx(list(an.calibration.windows_s["start"]))
    assert angles["notes"][0].startswith("calibration windows guessed")
