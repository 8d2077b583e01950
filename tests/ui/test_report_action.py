"""The dashboard's "Save report…": offered once a session is finished (a replayed file, a
stopped recording), asks for the file (the dialog's answer injected), writes the report in a
worker process and says so; a cancelled dialog writes nothing, a bad place is one notice."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from imu_monitor.app.dashboard import DashboardSession  # noqa: E402
from imu_monitor.processing.calibration import calibrate_recording  # noqa: E402
from imu_monitor.settings import Settings  # noqa: E402
from imu_monitor.sources.replay import ReplaySource, ReplayThreadSource  # noqa: E402
from imu_monitor.storage.recording import load_recording  # noqa: E402
from imu_monitor.storage.stores import SettingsStore  # noqa: E402
from imu_monitor.ui.main_window import DashboardWindow  # noqa: E402
from imu_monitor.ui.sound import AlarmSound  # noqa: E402
from tests.ui.qt_marks import WINDOW_MARKS  # noqa: E402

pytestmark = WINDOW_MARKS

RECORDING = Path(__file__).resolve().parents[2] / "recordings" / "back-kick_faulty_1sensor.imr"


def _window(qtbot, tmp_path, ds, **kw):
    snd = AlarmSound(output_problem="no audio output device (test)", cache_dir=tmp_path)
    w = DashboardWindow(ds, sound=snd, settings_store=SettingsStore(tmp_path), start=False, **kw)
    qtbot.addWidget(w)
    return w


@pytest.fixture
def replay_window(qtbot, tmp_path):
    rec = load_recording(RECORDING)
    replay = ReplaySource(rec, clock=lambda: 0.0, sleep=lambda s: None)
    ds = DashboardSession(
        ReplayThreadSource(replay), Settings(), calibration=calibrate_recording(rec),
        use_stored=False,
    )  # fmt: skip
    return _window(qtbot, tmp_path, ds, replay=replay, title=f"replay: {RECORDING.name}")


def test_a_replay_saves_its_report_where_the_dialog_says(qtbot, tmp_path, replay_window):
    w = replay_window
    btn = w.header.report_btn
    assert btn.isVisible() or not w.isVisible()
    assert btn.isEnabled() and btn.text() == "Save report…"
    asked = []
    out = tmp_path / "kick report"  # no suffix given: .html is added
    w.report.ask_path = lambda parent, suggested: asked.append(suggested) or str(out)
    with qtbot.waitSignal(w.report.saved, timeout=60_000) as got:
        btn.click()
    assert asked == [str(Path.cwd() / "back-kick_faulty_1sensor-report.html")]
    written = Path(got.args[0])
    assert written == tmp_path / "kick report.html"
    text = written.read_text(encoding="utf-8")
    assert "back-kick_faulty_1sensor.imr" in text and "Session report: Back kick" in text
    assert any(t == f"report saved: {written}" for t in w.notices.texts())
    assert btn.isEnabled() and btn.text() == "Save report…"
    w.shutdown()


def test_a_cancelled_dialog_writes_nothing(qtbot, tmp_path, replay_window):
    w = replay_window
    w.report.ask_path = lambda parent, suggested: ""
    with qtbot.assertNotEmitted(w.report.saved), qtbot.assertNotEmitted(w.report.failed):
        w.header.report_btn.click()
    assert w.report.worker is None
    assert not list(tmp_path.glob("*.html"))
    w.shutdown()


def test_a_place_that_cannot_be_written_is_one_notice(qtbot, tmp_path, replay_window):
    w = replay_window
    w.report.ask_path = lambda parent, suggested: str(tmp_path / "no" / "such" / "r.html")
    blocked = tmp_path / "no"
    blocked.write_text("a file where a folder should be")
    with qtbot.waitSignal(w.report.failed, timeout=60_000) as got:
        w.header.report_btn.click()
    assert got.args[0].startswith("report not saved:") and "\n" not in got.args[0]
    assert got.args[0] in w.notices.texts()
    assert w.header.report_btn.isEnabled()
    w.shutdown()


def test_a_live_session_offers_the_report_once_its_recording_is_stopped(qtbot, tmp_path):
    rec = load_recording(RECORDING)
    source = ReplayThreadSource(ReplaySource(rec, clock=lambda: 0.0, sleep=lambda s: None))
    ds = DashboardSession(source, Settings(), calibration=calibrate_recording(rec))
    w = _window(qtbot, tmp_path, ds, recordings_dir=tmp_path)
    btn = w.header.report_btn
    assert not btn.isEnabled() and "finished session" in btn.toolTip()
    w.show()
    qtbot.waitExposed(w)
    assert btn.isVisible() and not w.header.marker_btn.isVisible()
    recorded = tmp_path / "live.imr"
    assert w.start_recording(recorded)
    # while recording, Mark takes the report's place in the bar
    assert w.header.marker_btn.isVisible() and not btn.isVisible()
    s = rec.series["sacrum"]
    for i in range(0, len(s), 64):
        ds.pipeline.feed(s.chunk("sacrum", i, i + 64))
    assert not btn.isEnabled()
    w.header.record_btn.click()  # stop: the recording is complete
    assert btn.isEnabled() and btn.isVisible() and not w.header.marker_btn.isVisible()
    out = tmp_path / "live-report.html"
    w.report.ask_path = lambda parent, suggested: (
        str(out) if suggested == str(tmp_path / "live-report.html") else ""
    )
    with qtbot.waitSignal(w.report.saved, timeout=60_000):
        btn.click()
    assert "live.imr" in out.read_text(encoding="utf-8")
    w.shutdown()
