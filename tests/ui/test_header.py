"""The header: the session line fits the window's width on one line, and where it must wrap
it wraps between parts ("dwell 150 ms" stays together)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from PySide6.QtWidgets import QApplication

from imu_monitor.exercises import get_exercise
from imu_monitor.ui import theme
from imu_monitor.ui.header import NBSP, HeaderBar, calibrated_when, session_summary
from tests.ui.qt_marks import LAYOUT_CHATTER, fail_on_qt_warnings

pytestmark = fail_on_qt_warnings(LAYOUT_CHATTER)


def _pipeline(**calibration):
    made = {
        "method": "mixed: gravity-start-only, gravity-two-postures",
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "windows_s": {},  # a live calibration's
        "windows_guessed": False,
    }
    cal = SimpleNamespace(**(made | calibration))
    return SimpleNamespace(
        limits=get_exercise("back-kick").limits,
        placements=["sacrum", "upper_lumbar", "thigh"],
        calibration=cal,
    )


@pytest.mark.parametrize(
    ("calibration", "device_cal"),
    [
        ({}, ()),
        ({"windows_s": {"start": (105.5, 107.96)}, "windows_guessed": True}, ()),
        ({}, ("sacrum", "upper_lumbar", "thigh")),
    ],
    ids=["live", "replay of a recording without markers", "live --device-cal"],
)
def test_three_sensor_session_line_is_one_line_at_1400_px(qtbot, calibration, device_cal):
    bar = HeaderBar(devices=True, recording=True)
    qtbot.addWidget(bar)
    bar.setStyleSheet(theme.stylesheet())
    pipeline = _pipeline(**calibration)
    bar.show_session(
        "Back kick (quadruped hip extension)", session_summary(pipeline, "default", device_cal)
    )
    bar.resize(1376, 80)  # the 1400 px window less its margins
    bar.show()
    qtbot.waitExposed(bar)
    QApplication.processEvents()
    sub = bar.subtitle
    sub.ensurePolished()
    assert sub.width() >= 1300  # the line has the window's full width, not a column
    assert sub.heightForWidth(sub.width()) < 2 * sub.fontMetrics().lineSpacing(), sub.text()
    assert "dwell" + NBSP + "150" + NBSP + "ms" in bar.subtitle.text()
    assert "gravity" not in bar.subtitle.text()  # the method is jargon: not in the line


def test_parts_wrap_only_between_parts(qtbot):
    bar = HeaderBar(devices=False, recording=False)
    qtbot.addWidget(bar)
    bar.show_session("t", session_summary(_pipeline(), "a rather long user name"))
    for part in bar.subtitle.text().split("   ·   "):
        assert " " not in part


def test_a_replay_says_where_in_the_recording_its_neutral_was_captured():
    # a replay calibrates from the recording when it starts: "calibrated 14:58" was that moment
    given = _pipeline(windows_s={"start": (5.64, 7.9), "standing": (0.2, 2.8)})
    assert session_summary(given, "u")[-1] == "neutral from 5.6-7.9 s"
    guessed = _pipeline(windows_s={"start": (-0.01, 4.0)}, windows_guessed=True)
    assert session_summary(guessed, "u")[-1] == "neutral from 0.0-4.0 s (guessed)"
    live = _pipeline(windows_s={})
    assert session_summary(live, "u")[-1].startswith("neutral calibrated ")


def test_calibrated_when_is_local_time_today_else_with_the_date():
    now = dt.datetime(2026, 12, 5, 15, 0).astimezone()
    today = now.replace(hour=9, minute=7).astimezone(dt.UTC).isoformat()
    assert calibrated_when(today, now) == "09:07"
    earlier = (now - dt.timedelta(days=2)).astimezone(dt.UTC).isoformat()
    assert calibrated_when(earlier, now) == (now - dt.timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
    assert calibrated_when("not a time", now) == "not a time"


def test_device_calibrated_sensors_are_said():
    every = session_summary(_pipeline(), "u", {"sacrum": {}, "upper_lumbar": {}, "thigh": {}})
    assert every[1] == "sensors: sacrum, upper lumbar, thigh, device-calibrated"
    some = session_summary(_pipeline(), "u", {"sacrum": {}})
    assert some[1] == "sensors: sacrum, upper lumbar, thigh, device-calibrated (sacrum)"
    assert session_summary(_pipeline(), "u")[1] == "sensors: sacrum, upper lumbar, thigh"
