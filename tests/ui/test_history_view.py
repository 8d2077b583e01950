"""The History view, the user box and a dashboard recording reaching the history (offscreen)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from imu_monitor.app.dashboard import DashboardSession
from imu_monitor.processing.calibration import calibrate_recording
from imu_monitor.settings import Settings
from imu_monitor.simulator import SimulationConfig, simulate_session
from imu_monitor.storage.history import HistoryStore, SessionRow, file_sha256
from imu_monitor.storage.stores import CalibrationStore, SettingsStore
from imu_monitor.ui.history_view import HistoryView, session_time
from imu_monitor.ui.main_window import DashboardWindow
from imu_monitor.ui.sound import AlarmSound
from imu_monitor.ui.user_picker import ADD_USER
from tests.ui.fake_sources import IdleSource
from tests.ui.qt_marks import WINDOW_MARKS

pytestmark = WINDOW_MARKS


def _row(i, user="ann", exercise="back-kick", good=None, tempo=None, reps=10):
    return SessionRow(
        user=user,
        date=f"2026-11-{i + 1:02d}T09:00:00+00:00",
        exercise=exercise,
        sensors=("sacrum",),
        duration_s=600.0,
        reps=reps,
        alarms=2,
        peak_flexion_deg=10.0 + i,
        peak_extension_deg=5.0 + i,
        path=f"/r/{user}{i}.imr",
        sha256=f"{user}-{exercise}-{i}",
        good_reps=good,
        tempo_adherence=tempo,
    )


def _ys(curve):
    y = curve.getData()[1]
    return [] if y is None else list(y)


def test_progress_per_exercise_with_gaps_for_missing_values(qtbot, tmp_path):
    store = HistoryStore(tmp_path)
    store.add_many(
        [
            _row(0, good=None, tempo=None),  # analysed before good reps were counted
            _row(1, good=6, tempo=0.5),
            _row(2, good=9, tempo=0.9),
            _row(3, exercise="hip-thrust", good=4, tempo=0.25, reps=8),
            _row(4, user="bo", good=1),
        ]
    )
    view = HistoryView(store, "ann", "back-kick")
    qtbot.addWidget(view)
    good = _ys(view.curves["good_rep_rate"])
    assert math.isnan(good[0]) and good[1:] == [60.0, 90.0]
    assert _ys(view.curves["flexion"]) == [10.0, 11.0, 12.0]
    assert _ys(view.curves["extension"]) == [-5.0, -6.0, -7.0]  # extension shown negative
    tempo = _ys(view.curves["tempo"])
    assert math.isnan(tempo[0]) and tempo[1:] == [50.0, 90.0]
    xs = list(view.curves["flexion"].getData()[0])
    assert xs == [session_time(r) for r in store.sessions("ann", "back-kick")]
    assert np.all(np.diff(xs) > 0)
    assert "3 sessions" in view.caption.text() and "15 good" in view.caption.text()
    assert [view.exercise_box.itemText(i) for i in range(view.exercise_box.count())] == [
        "back-kick",
        "hip-thrust",
    ]
    view.exercise_box.setCurrentText("hip-thrust")
    assert _ys(view.curves["good_rep_rate"]) == [50.0]
    view.show_user("bo")
    assert view.exercise_box.currentText() == "back-kick"
    assert _ys(view.curves["good_rep_rate"]) == [10.0]
    view.show_user("cy")
    assert _ys(view.curves["flexion"]) == [] and "No sessions of cy" in view.caption.text()


@pytest.fixture(scope="module")
def kick():
    rec = simulate_session(SimulationConfig(reps=4, faulty=2, seed=3, motion="ramps"))
    return rec, calibrate_recording(rec)


def _window(qtbot, tmp_path, rec, settings, cal_store, **kw):
    ds = DashboardSession(IdleSource(rec), settings, calibration_store=cal_store)
    w = DashboardWindow(
        ds,
        sound=AlarmSound(output_problem="no audio (test)", cache_dir=tmp_path),
        settings_store=SettingsStore(tmp_path / "cfg"),
        start=False,
        **kw,
    )
    qtbot.addWidget(w)
    return w, ds


def test_a_dashboard_recording_is_indexed_when_it_ends(qtbot, kick, tmp_path):
    rec, cal = kick
    history = HistoryStore(tmp_path / "data")
    cal_store = CalibrationStore(tmp_path / "cal")
    cal.user = "ann"
    cal_store.save(cal)
    w, ds = _window(
        qtbot, tmp_path, rec, Settings(user="ann"), cal_store, recordings_dir=tmp_path,
        history=history,
    )  # fmt: skip
    out = tmp_path / "session.imr"
    assert w.start_recording(out)
    s = rec.series["sacrum"]
    for i in range(0, len(s), 8):
        ds.pipeline.feed(s.chunk("sacrum", i, i + 8))
    w.header.record_btn.click()  # stop
    (row,) = history.sessions(user="ann")
    summary = ds.pipeline.summary()
    assert row.sha256 == file_sha256(out) and row.reps == summary["reps"] > 0
    assert (row.alarms, row.source, row.user) == (summary["alarms"], "ble", "ann")
    assert (row.good_reps, row.sets) == (summary["good_reps"], summary["sets_count"])
    assert row.tempo_adherence is not None
    assert row.duration_s == pytest.approx(rec.duration_s, abs=1.0)
    assert any("in the history of ann" in t for t in w.notices.texts())
    w.header.history_btn.click()
    assert w.history_view is not None and w.history_view.rows == [row]
    w.shutdown()


def test_switching_user_switches_settings_calibration_and_history(qtbot, kick, tmp_path):
    rec, cal = kick
    history = HistoryStore(tmp_path / "data")
    history.add_many([_row(0, user="ann", good=5), _row(1, user="bo", good=7)])
    settings_store = SettingsStore(tmp_path / "cfg")
    settings_store.save(Settings(user="bo", sound_on=False))
    cal_store = CalibrationStore(tmp_path / "cal")
    cal.user = "ann"
    cal_store.save(cal)  # ann is calibrated for back kicks, bo is not
    w, ds = _window(qtbot, tmp_path, rec, Settings(user="ann"), cal_store, history=history)
    box = w.header.user_box
    assert [box.itemText(i) for i in range(box.count())] == ["ann", "bo", ADD_USER]
    assert ds.pipeline.calibration is not None and ds.pipeline.calibrator is None
    w.open_history()
    assert _ys(w.history_view.curves["good_rep_rate"]) == [50.0]

    box.activated.emit(1)  # pick bo
    assert ds.settings.user == "bo" and ds.settings.sound_on is False  # bo's own settings
    assert w.sound.muted
    assert ds.pipeline.calibration is None and ds.pipeline.calibrator is not None  # calibrate
    assert _ys(w.history_view.curves["good_rep_rate"]) == [70.0]
    assert settings_store.last_user() == "bo"
    assert "user bo" in w.header.subtitle.text().replace("\u00a0", " ")

    w.users._ask_name = lambda: "  Cy   Dee "
    box.activated.emit(box.findText(ADD_USER))  # a new user: the current settings, own name
    assert ds.settings.user == "Cy Dee" and ds.settings.sound_on is False
    assert settings_store.has("Cy Dee") and box.currentText() == "Cy Dee"
    assert w.history_view.rows == []

    w.users._ask_name = lambda: None  # cancelled: nothing changes
    box.activated.emit(box.findText(ADD_USER))
    assert ds.settings.user == "Cy Dee" and box.currentText() == "Cy Dee"

    box.activated.emit(box.findText("ann"))  # back: ann's calibration is used again
    assert ds.pipeline.calibration is not None and ds.pipeline.calibration.user == "ann"
    assert _ys(w.history_view.curves["good_rep_rate"]) == [50.0]
    w.shutdown()


def test_switching_user_ends_the_recording_first(qtbot, kick, tmp_path):
    rec, _ = kick
    history = HistoryStore(tmp_path / "data")
    w, ds = _window(
        qtbot, tmp_path, rec, Settings(user="ann"), CalibrationStore(tmp_path / "cal"),
        recordings_dir=tmp_path, history=history,
    )  # fmt: skip
    assert w.start_recording(tmp_path / "a.imr")
    w.users.add_user("bo")
    assert w.recorder is None and not w.header.record_btn.isChecked()
    assert [r.user for r in history.sessions()] == ["ann"]  # filed under who recorded it
    w.shutdown()
