"""Calibration wizard tests (offscreen): success through both postures, refusal when moving."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from imu_monitor.app.dashboard import DashboardSession
from imu_monitor.model import Recording  # noqa: E402
from imu_monitor.settings import Settings
from imu_monitor.simulator import SimulationConfig, simulate_session  # noqa: E402
from imu_monitor.storage.stores import CalibrationStore
from imu_monitor.ui.calibration_wizard import CalibrationWizard  # noqa: E402
from tests.ui.fake_sources import IdleSource  # noqa: E402
from tests.ui.qt_marks import LAYOUT_CHATTER, fail_on_qt_warnings  # noqa: E402

pytestmark = fail_on_qt_warnings(LAYOUT_CHATTER)


@pytest.fixture(scope="module")
def rec():
    return simulate_session(SimulationConfig(reps=2, faulty=0, seed=5, motion="ramps"))


def feed(ds: DashboardSession, rec: Recording, t0: float, t1: float, n: int = 10) -> None:
    s = rec.series["sacrum"]
    i0, i1 = s.t_s.searchsorted([t0, t1])
    for i in range(i0, i1, n):
        ds.pipeline.feed(s.chunk("sacrum", i, min(i + n, i1)))


@pytest.fixture
def wizard(qtbot, rec, tmp_path):
    ds = DashboardSession(IdleSource(rec), Settings(), calibration_store=CalibrationStore(tmp_path))
    now = [0.0]
    wiz = CalibrationWizard(ds, clock=lambda: now[0], countdown_s=3.0)
    qtbot.addWidget(wiz)
    return wiz, ds, now


def test_wizard_calibrates_both_postures_and_saves(wizard, rec):
    wiz, ds, now = wizard
    standing = rec.markers_of("calibration_standing")[0]
    start = rec.markers_of("calibration_start")[0]
    assert "No saved neutral" in wiz.saved_label.text()
    wiz.begin()
    assert (wiz.phase, wiz.step) == ("countdown", "standing")
    assert wiz.countdown.text() == "3"
    assert "Stand tall" in wiz.prompt.text()
    now[0] = 3.0
    wiz.poll()
    assert wiz.phase == "hold"
    feed(ds, rec, standing.t_s, standing.t_end_s)
    now[0] = 5.5
    wiz.poll()
    assert (wiz.phase, wiz.step) == ("countdown", "start")
    assert ds.pipeline.exercise.calibration_posture in wiz.prompt.text()
    now[0] = 8.5
    wiz.poll()
    feed(ds, rec, standing.t_end_s, start.t_end_s)  # getting down, then holding still
    now[0] = 11.0
    wiz.poll()
    assert wiz.phase == "done", wiz.refusal.text()
    cal = wiz.calibration
    assert ds.pipeline.calibration is cal and ds.pipeline.calibrator is None
    saved = ds.calibration_store.load("default", "back-kick")
    assert saved is not None and saved.to_dict() == cal.to_dict()
    assert wiz.saved_path and "neutral pitch" in wiz.result.text()
    assert "Saved neutral" in wiz.saved_label.text()
    # redo starts over with the standing step
    wiz.redo_btn.click()
    assert (wiz.phase, wiz.step) == ("countdown", "standing")
    assert ds.pipeline.calibration is None


def test_wizard_refuses_when_you_move(wizard, rec):
    wiz, ds, now = wizard
    standing = rec.markers_of("calibration_standing")[0]
    start = rec.markers_of("calibration_start")[0]
    wiz.begin()
    now[0] = 3.0
    wiz.poll()
    feed(ds, rec, standing.t_end_s, start.t_s)  # getting down on all fours: moving
    now[0] = 5.5
    wiz.poll()
    assert wiz.phase == "refused"
    assert "moved" in wiz.refusal.text()
    assert not wiz.retry_btn.isHidden()
    assert ds.pipeline.calibration is None
    wiz.retry_btn.click()
    assert wiz.phase == "countdown" and wiz.refusal.text() == ""


def test_wizard_exercise_choice_is_announced(wizard, qtbot):
    wiz, ds, _ = wizard
    wiz.exercise_box.setCurrentIndex(wiz.exercise_box.findData("hip-thrust"))
    with qtbot.waitSignal(wiz.exercise_chosen) as blocker:
        wiz.begin()
    assert blocker.args == ["hip-thrust"]
