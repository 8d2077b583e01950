"""The wearable alert line under the status: how long ago, then gone."""

from __future__ import annotations

from imu_monitor.ui.status_panel import WEARABLE_ALERT_SHOWN_S, wearable_alert_text


def test_wearable_alert_says_how_long_ago_and_expires():
    alert = (11.5, "extension")
    assert wearable_alert_text(None, 20.0) == ""
    assert wearable_alert_text(alert, 11.5) == "wearable alert sent: extension, just now"
    assert wearable_alert_text(alert, 14.6) == "wearable alert sent: extension, 3 s ago"
    assert wearable_alert_text(alert, 11.5 + WEARABLE_ALERT_SHOWN_S + 0.1) == ""
    assert wearable_alert_text(alert, 5.0) == ""  # a replay seek back before the alert
    assert wearable_alert_text(alert, float("nan")) == "wearable alert sent: extension, just now"


def _pipeline(samples: int, t_s: float = float("nan")):
    from types import SimpleNamespace

    return SimpleNamespace(
        calibrator=None,
        calibration=object(),
        status=SimpleNamespace(t_s=t_s, state="neutral", direction=None, angle_deg=0.5),
        samples_in={"sacrum": samples},
    )


def test_waiting_says_why(qtbot):
    from imu_monitor.ui.status_panel import JUDGING_STARTS, StatusPanel, status_view_for

    panel = StatusPanel()
    qtbot.addWidget(panel)
    panel.show_view(status_view_for(_pipeline(0)))
    assert panel.detail.text() == "waiting for data from the wearable"
    panel.show_view(status_view_for(_pipeline(800)))  # a replay before its calibration's end
    assert panel.headline.text() == "WAITING" and panel.detail.text() == JUDGING_STARTS
    panel.show_view(status_view_for(_pipeline(900, 9.0)))
    assert panel.headline.text() == "NEUTRAL"
