"""The recording's markers on the replay timeline: drawn at their times, listed in the
tooltip, and a place to jump to."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from imu_monitor.model import Marker
from imu_monitor.sources.replay import ReplaySource
from imu_monitor.storage.recording import load_recording
from imu_monitor.ui.replay_controls import ReplayControls, marker_label, timeline_marks
from tests.ui.qt_marks import LAYOUT_CHATTER, fail_on_qt_warnings

pytestmark = fail_on_qt_warnings(LAYOUT_CHATTER)

RECORDING = Path(__file__).resolve().parents[2] / "recordings" / "back-kick_faulty_3sensors.imr"


@pytest.fixture(scope="module")
def rec():
    r = load_recording(RECORDING)
    r.markers.append(Marker(30.0, "note", None, {"text": "felt a twinge"}))
    return r


def test_markers_are_on_the_timeline_and_can_be_jumped_to(qtbot, rec):
    replay = ReplaySource(rec, speed=1.0, clock=lambda: 0.0, sleep=lambda s: None)
    rc = ReplayControls(replay, [])
    qtbot.addWidget(rc)
    rc.resize(1376, 60)
    rc.show()
    qtbot.waitExposed(rc)
    QApplication.processEvents()
    labels = [m.label for m in rc.marks]
    assert "set start" in labels and "note: felt a twinge" in labels
    assert len(rc.marks) == len(rec.markers)
    track = rc.marker_track
    assert track.isVisible() and track.height() > 0
    assert abs(track.width() - rc.slider.width()) <= 1  # same x scale as the slider
    note = next(m for m in rc.marks if m.label.startswith("note"))
    assert note.start_s == pytest.approx(30.0 - replay.t0_s)
    frac = (track.x_of(note.start_s) - track.x_of(0.0)) / (
        track.x_of(replay.duration_s) - track.x_of(0.0)
    )
    assert frac == pytest.approx(note.start_s / replay.duration_s)
    assert "note: felt a twinge" in track.toolTip()
    i = next(k for k in range(rc.rep_box.count()) if rc.rep_box.itemText(k).startswith("note"))
    rc.rep_box.activated.emit(i)
    assert replay.position_s == pytest.approx(note.start_s)
    assert rc.rep_box.currentIndex() == 0


def test_marker_names_in_words():
    assert marker_label("set_start") == "set start"
    assert marker_label("calibration_standing") == "standing"
    marks = timeline_marks([Marker(5.0, "set_end"), Marker(2.0, "calibration_start", 4.0)], 1.0)
    assert [(m.start_s, m.end_s, m.label) for m in marks] == [
        (1.0, 3.0, "start posture"),
        (4.0, None, "set end"),
    ]


def test_no_markers_no_track(qtbot, rec):
    bare = load_recording(RECORDING)
    bare.markers.clear()
    rc = ReplayControls(ReplaySource(bare, clock=lambda: 0.0, sleep=lambda s: None), [1.0])
    qtbot.addWidget(rc)
    assert rc.marker_track.height() == 0 and rc.rep_box.itemText(0) == "jump to rep…"


def test_at_the_end_there_is_nothing_to_pause(qtbot, rec):
    # a finished replay had still offered "Pause"
    replay = ReplaySource(rec, speed=None, clock=lambda: 0.0, sleep=lambda s: None)
    rc = ReplayControls(replay, [])
    qtbot.addWidget(rc)
    assert rc.play_btn.text() == "❚❚ Pause" and rc.play_btn.isEnabled()
    for _ in replay.chunks():  # played to the end
        pass
    rc.refresh()
    assert rc.play_btn.text() == "■ Ended" and not rc.play_btn.isEnabled()
