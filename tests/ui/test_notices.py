"""Notices collapse into one line that says what to do, with the details on click."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

from imu_monitor.processing.calibration import GIVE_WINDOWS, Calibration, SensorCalibration
from imu_monitor.ui.notices import NoticeBar, calibration_notice, show_calibration_notes
from tests.ui.qt_marks import LAYOUT_CHATTER, fail_on_qt_warnings

pytestmark = fail_on_qt_warnings(LAYOUT_CHATTER)

JARGON = [
    "calibration computed from the recording (mixed: functional-axis, gravity-two-postures)",
    "from the recording's calibration markers: start posture 5.8-8.2 s, standing 0.0-2.7 s",
    "thigh: standing and the calibration posture point it the same way (0 deg apart), so "
    "gravity cannot fix its alignment",
    "thigh: aligned by the rotation axis of the movement (functional-axis)",
]


def _bar(qtbot):
    """A bar in a shown window (the bar itself shows only with something to say)."""
    window = QWidget()
    qtbot.addWidget(window)
    bar = NoticeBar(window)
    QVBoxLayout(window).addWidget(bar)
    window.resize(1376, 200)
    window.show()
    qtbot.waitExposed(window)
    bar.window_ = window  # keep the window alive with the bar
    return bar


def _height(bar):
    QApplication.processEvents()
    return bar.sizeHint().height()


def test_many_notices_take_one_line_and_the_action_is_on_it(qtbot):
    bar = _bar(qtbot)
    bar.notify("no audio output device found: alarms are shown on screen only")
    one = _height(bar)
    bar.add_details(JARGON)
    advice = "Calibrate with the standing step for a better alignment: stand tall, hold still."
    bar.notify(advice, action=True, details=["sacrum: aligned by gravity ... nominal"])
    bar.notify("recording saved: x.imr")
    assert _height(bar) == one  # still one line
    assert bar.line.full_text() == advice  # what to do wins over newer information
    assert bar.details.isHidden()
    assert bar.details_btn.text() == "details (7)"
    qtbot.mouseClick(bar.line, Qt.MouseButton.LeftButton)  # a click on the line
    assert not bar.details.isHidden()
    shown = bar.details.text()
    for t in [*JARGON, "recording saved: x.imr", "no audio output device found"]:
        assert t in shown
    assert advice not in shown
    assert bar.details_btn.text() == "hide (7)"
    bar.details_btn.click()
    assert bar.details.isHidden()


def test_same_text_once_and_dismiss_hides_the_bar(qtbot):
    bar = _bar(qtbot)
    assert bar.isHidden()
    assert bar.notify("a") and not bar.notify("a")
    assert bar.texts() == ["a"] and not bar.isHidden()
    assert bar.details_btn.isHidden()  # nothing more to show
    bar.close_btn.click()
    assert bar.texts() == [] and bar.isHidden()


def _cal(methods):
    sensors = {p: SensorCalibration([1.0, 0.0, 0.0, 0.0], 0.0, 0.0, m) for p, m in methods.items()}
    return Calibration("back-kick", "u", "2026-12-05T10:00:00+00:00", sensors, "x", ["n1"])


def test_calibration_notice_says_what_to_do():
    assert calibration_notice(None) is None
    assert calibration_notice(_cal({"sacrum": "gravity-two-postures"})) is None
    assert calibration_notice(_cal({"thigh": "functional-axis"})) is None
    no_standing = calibration_notice(_cal({"sacrum": "gravity-start-only"}))
    assert no_standing.startswith("Calibrate with the standing step for a better alignment")
    strap = calibration_notice(
        _cal({"sacrum": "gravity-two-postures", "thigh": "gravity-start-only"})
    )
    assert "thigh strap straight" in strap and "gravity" not in strap


def test_a_line_cut_short_is_whole_in_the_details(qtbot):
    bar = _bar(qtbot)
    long = "One sensor cannot tell lumbar from hip extension: " + "only the lockout is judged. " * 8
    bar.notify(long)
    QApplication.processEvents()
    assert bar.line.elided and bar.line.text().endswith("…")
    assert bar.line.toolTip() == long
    assert not bar.details_btn.isHidden() and bar.detail_lines() == [long]
    bar.window_.resize(4000, 200)  # room for all of it: nothing more to show
    QApplication.processEvents()
    assert not bar.line.elided and bar.detail_lines() == [] and bar.details_btn.isHidden()


def test_a_guessed_calibration_takes_the_line_and_says_how_to_give_the_windows(qtbot):
    bar = _bar(qtbot)
    bar.notify("no audio output device found: alarms are shown on screen only")
    guessed = (
        "calibration windows guessed (no calibration markers): the still period 5.5-9.2 s was "
        f"taken as the calibration posture; to give the windows: {GIVE_WINDOWS}"
    )
    show_calibration_notes(bar, [guessed, *JARGON])
    assert bar.line.full_text() == guessed
    assert "imu-monitor calibrate FILE --stand A-B --pose C-D" in bar.line.full_text()
    assert all(t in bar.detail_lines() for t in JARGON)


def test_calibration_notes_without_a_guess_stay_in_the_details(qtbot):
    bar = _bar(qtbot)
    bar.notify("no audio output device found: alarms are shown on screen only")
    show_calibration_notes(bar, JARGON)
    assert bar.line.full_text().startswith("no audio output")
