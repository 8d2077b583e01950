"""The sensor line: a steady rate (the nominal one, not a half-second count), each sensor's
part on one line, device names in the tooltip."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from imu_monitor.model import SensorInfo
from imu_monitor.sources.base import SourceState, SourceStatus
from imu_monitor.ui.header import NBSP
from imu_monitor.ui.sensor_strip import SensorStrip, link_stats_parts

pytestmark = [pytest.mark.qt_log_level_fail("WARNING")]


class CountingPipeline:
    """Just what the line reads from a pipeline: placements, sensors, samples_in, quality."""

    def __init__(self, rate_hz: float):
        self.placements = ["sacrum", "upper_lumbar", "thigh"]
        self.sensors = {p: SensorInfo(p, rate_hz=rate_hz) for p in self.placements}
        self.samples_in = dict.fromkeys(self.placements, 0)

    def quality(self):
        return {p: {"samples_missing": 3, "samples_in": 997} for p in self.placements}


def test_replay_rate_is_the_recordings_not_a_half_second_count(qtbot):
    strip = SensorStrip()
    qtbot.addWidget(strip)
    p = CountingPipeline(200.0)
    ds = SimpleNamespace(source=object(), pipeline=p)
    # a replay delivers 8-sample chunks: 13 chunks (104 samples) in one 0.512 s strip period
    # counted as 203 Hz; at 4x replay speed the count says 800 Hz
    for i, (t, n) in enumerate([(0.0, 0), (0.512, 104), (1.024, 512)]):
        for name in p.placements:
            p.samples_in[name] = n
        strip.refresh(ds, t)
        if i:
            assert strip.text().count("200" + NBSP + "Hz") == 3, strip.text()
    assert "203" not in strip.text() and "800" not in strip.text()
    assert "loss" + NBSP + "0.3" + NBSP + "%" in strip.text()


def test_without_a_nominal_rate_the_mean_rate_is_shown(qtbot):
    strip = SensorStrip()
    qtbot.addWidget(strip)
    p = CountingPipeline(0.0)
    ds = SimpleNamespace(source=object(), pipeline=p)
    for t, n in [(0.0, 0), (0.512, 104), (1.024, 200), (10.0, 2000)]:
        for name in p.placements:
            p.samples_in[name] = n
        strip.refresh(ds, t)
    assert strip.text().startswith(NBSP.join(["sacrum:", "200", "Hz"]))


def test_ble_line_keeps_each_sensor_together_and_names_devices_in_the_tooltip(qtbot):
    stats = {
        p: {
            "device": f"LumbarIMU-{p}-1",
            "state": "streaming" if p != "thigh" else "reconnecting",
            "effective_rate_hz": 200.0,
            "loss_fraction": 0.0,
            "battery_pct": 60,
        }
        for p in ("sacrum", "upper_lumbar", "thigh")
    }
    strip = SensorStrip()
    qtbot.addWidget(strip)
    strip.refresh(SimpleNamespace(source=SimpleNamespace(stats=lambda: stats)), 0.0)
    parts = strip.text().split("   ·   ")
    assert len(parts) == 3
    assert all(" " not in part for part in parts)  # no break inside a sensor's part
    assert parts[0] == NBSP.join("sacrum: 200 Hz, loss 0.0 %, battery 60 %".split(" "))
    assert "reconnecting" in parts[2]  # an unusual state is shown, streaming is not
    assert "LumbarIMU-thigh-1" in strip.toolTip() and "LumbarIMU" not in strip.text()
    assert link_stats_parts(stats)[0].startswith("sacrum (LumbarIMU-sacrum-1): streaming")


def test_a_battery_status_shows_its_level_and_a_lost_link_its_state(qtbot):
    # the line once read a "battery" key the sources never sent: the level never showed
    strip = SensorStrip()
    qtbot.addWidget(strip)
    ds = SimpleNamespace(source=object(), pipeline=CountingPipeline(200.0))
    strip.set_state(SourceStatus(SourceState.STREAMING, sensor="sacrum"))
    strip.set_state(SourceStatus(SourceState.BATTERY, sensor="sacrum", battery_pct=42))
    strip.set_state(SourceStatus(SourceState.LINK_LOST, sensor="thigh"))
    strip.refresh(ds, 0.0)
    text = strip.text().replace(NBSP, " ")
    assert "sacrum: 200 Hz, loss 0.3 %, battery 42 %" in text, text
    assert "thigh: 200 Hz, loss 0.3 %, link lost" in text, text
