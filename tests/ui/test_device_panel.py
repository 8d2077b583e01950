"""Device panel (offscreen): the battery level per sensor, from the real BLE client on the
simulated wearable, and the low-battery highlight."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtWidgets import QWidget  # noqa: E402

from imu_monitor.sources.ble import ReconnectPolicy, sim_source  # noqa: E402
from imu_monitor.sources.sim import make_world
from imu_monitor.ui import theme  # noqa: E402
from imu_monitor.ui.device_panel import STATUS_COLUMNS, DevicePanel  # noqa: E402
from imu_monitor.ui.sensor_strip import format_link_stats  # noqa: E402

pytestmark = pytest.mark.qt_log_level_fail("WARNING")

BATTERY_COL = STATUS_COLUMNS.index("battery")


class StatsSource:
    """A source that only reports link statistics."""

    def __init__(self, stats: dict[str, dict]) -> None:
        self.sensors = {}
        self._stats = stats

    def stats(self) -> dict[str, dict]:
        return self._stats


def panel_for(qtbot, source) -> DevicePanel:
    window = QWidget()
    window.ds = SimpleNamespace(source=source)
    qtbot.addWidget(window)
    panel = DevicePanel(window, parent=window)
    panel.timer.stop()  # refreshed by hand
    return panel


def row_texts(panel: DevicePanel) -> list[list[str]]:
    t = panel.status_table
    return [[t.item(i, j).text() for j in range(t.columnCount())] for i in range(t.rowCount())]


def test_panel_shows_the_battery_the_client_reads_from_the_sim_device(qtbot):
    world = make_world(placements=("sacrum", "thigh"), speed=50.0, reps=1, faulty=0, seed=5)
    fast = ReconnectPolicy(initial_delay_s=0.002, max_delay_s=0.05, scan_timeout_s=2.0)
    src = sim_source(world, policy=fast)
    src.start(lambda c: None, lambda g: None, lambda status: None)
    try:
        deadline = time.monotonic() + 10.0
        while any(st["battery_pct"] is None for st in src.stats().values()):
            assert time.monotonic() < deadline, "no battery level read"
            time.sleep(0.005)
        panel = panel_for(qtbot, src)
        panel.refresh_status()
        rows = {r[0]: r for r in row_texts(panel)}
    finally:
        src.stop()
    assert set(rows) == {"sacrum", "thigh"}
    for dev in world.devices.values():
        assert rows[dev.placement][BATTERY_COL] == f"{dev.battery_level(0.0)} %"
    line = format_link_stats(src.stats())
    for dev in world.devices.values():
        assert f"battery {dev.battery_level(0.0)} %" in line


def test_low_battery_is_highlighted_and_unknown_is_a_dash(qtbot):
    stats = {
        "sacrum": {"device": "A", "address": "1", "state": "streaming", "battery_pct": 12},
        "thigh": {"device": "B", "address": "2", "state": "streaming", "battery_pct": None},
    }
    source = StatsSource(stats)
    panel = panel_for(qtbot, source)
    panel.refresh_status()
    low = panel.status_table.item(0, BATTERY_COL)
    unknown = panel.status_table.item(1, BATTERY_COL)
    assert low.text() == "12 % low" and low.font().bold()
    assert low.foreground().color().name() == theme.FLEXION
    assert unknown.text() == "–" and not unknown.font().bold()
    stats["sacrum"]["battery_pct"] = 80  # charged and back: the highlight goes
    panel.refresh_status()
    assert low.text() == "80 %" and not low.font().bold()
    assert low.foreground().color().name() != theme.FLEXION
    assert "battery 12 % LOW" in format_link_stats({"sacrum": {"battery_pct": 12}})
    assert "battery" not in format_link_stats({"thigh": {"battery_pct": None}})
