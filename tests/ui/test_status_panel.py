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
