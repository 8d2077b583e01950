"""The device panel: scan, pick a device per placement, connect; per-sensor link status.

Scanning and connecting block (bleak runs on its own loop thread behind ``BleSource``), so they
run in a worker thread and report back through queued signals; the window keeps updating
meanwhile. The status table refreshes from ``BleSource.stats()`` twice a second: state
(connected, streaming, reconnecting, ...), effective rate, loss, reconnects, and the battery
level where the firmware profile gives it (below ``LOW_BATTERY_PCT`` highlighted).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from imu_monitor.app.sources import chosen_devices_source, scan_wearables
from imu_monitor.model import PLACEMENTS
from imu_monitor.ui import theme
from imu_monitor.ui.device_cal_dialog import DeviceCalDialog
from imu_monitor.ui.inbox import GuiInbox

log = logging.getLogger(__name__)

SCAN_S = 4.0
STATUS_COLUMNS = ("sensor", "device", "state", "rate", "loss", "reconnects", "battery")
LOW_BATTERY_PCT = 15
"""Battery levels below this (percent) are highlighted."""


def battery_text(pct: int | None) -> str:
    """``87 %``; ``12 % low`` below ``LOW_BATTERY_PCT``; ``–`` when unknown."""
    if pct is None:
        return "–"
    return f"{pct} % low" if pct < LOW_BATTERY_PCT else f"{pct} %"


def opened(source: Any) -> Any:
    """``source``, opened (scan and connect: blocking); stopped again if that fails, and the
    error raised."""
    try:
        source.open()
    except BaseException:
        source.stop()
        raise
    return source


class DevicePanel(QDialog):
    """``window``: the ``DashboardWindow`` (its session's source is shown and replaced);
    ``world``: the simulated world when the source is the simulated wearable (scans then see
    its devices), else None (the platform's Bluetooth). ``profile``: force a firmware profile.
    ``procedure_source(devices)``: the (unopened) source of the session's wearables
    ({placement: device}) doing the device calibration's procedure (the simulated ones: their
    procedure), for Device calibration…; its folders go into ``calibration_dir``."""

    scanned = Signal(list, str)
    connected = Signal(object, str)

    def __init__(
        self,
        window: Any,
        *,
        world: Any | None = None,
        profile: str | None = None,
        scan_s: float = SCAN_S,
        procedure_source: Callable[[dict[str, str]], Any] | None = None,
        calibration_dir: Path = Path("recordings"),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent or window)
        self.setWindowTitle("Devices")
        self.setStyleSheet(theme.stylesheet())
        self.resize(820, 560)
        self.window_ = window
        self.world = world
        self.profile = profile
        self.scan_s = scan_s
        self.procedure_source = procedure_source
        self.calibration_dir = calibration_dir
        self.cal_dialog: DeviceCalDialog | None = None
        self.found: list[Any] = []
        lay = QVBoxLayout(self)

        row = QHBoxLayout()
        self.scan_btn = QPushButton("Scan")
        self.scan_btn.clicked.connect(self.scan)
        self.scan_state = QLabel("")
        self.scan_state.setObjectName("dim")
        row.addWidget(self.scan_btn)
        row.addWidget(self.scan_state, 1)
        lay.addLayout(row)
        self.found_table = QTableWidget(0, 4)
        self.found_table.setHorizontalHeaderLabels(["name", "address", "RSSI", "profile"])
        self.found_table.horizontalHeader().setStretchLastSection(True)
        lay.addWidget(self.found_table, 1)

        form = QFormLayout()
        self.pick: dict[str, QComboBox] = {}
        for p in PLACEMENTS:
            box = QComboBox()
            box.addItem("— none —", None)
            self.pick[p] = box
            form.addRow(p.replace("_", " "), box)
        lay.addLayout(form)
        crow = QHBoxLayout()
        self.connect_btn = QPushButton("Connect")
        self.connect_btn.setEnabled(False)
        self.connect_btn.clicked.connect(self.connect_selected)
        self.connect_state = QLabel("")
        self.connect_state.setWordWrap(True)
        crow.addWidget(self.connect_btn)
        crow.addWidget(self.connect_state, 1)
        self.calibrate_btn = QPushButton("Device calibration…")
        self.calibrate_btn.setToolTip(
            "measure the connected wearables' own calibration: six faces and three turns on a "
            "table (README, 'Device calibration')"
        )
        self.calibrate_btn.setEnabled(procedure_source is not None)
        self.calibrate_btn.clicked.connect(self.calibrate_devices)
        crow.addWidget(self.calibrate_btn)
        lay.addLayout(crow)

        lay.addWidget(QLabel("Connected sensors"))
        self.status_table = QTableWidget(0, len(STATUS_COLUMNS))
        self.status_table.setHorizontalHeaderLabels(list(STATUS_COLUMNS))
        self.status_table.horizontalHeader().setStretchLastSection(True)
        lay.addWidget(self.status_table, 1)

        # the scan and the connection run in worker threads, which hand their results over
        # through the inbox (no Qt call off the GUI thread)
        self._inbox = GuiInbox(self)
        self.scanned.connect(self._scan_done)
        self.connected.connect(self._connect_done)
        self.timer = QTimer(self)
        self.timer.setInterval(500)
        self.timer.timeout.connect(self.refresh_status)
        self.timer.start()
        self.refresh_status()

    # -- scan ---------------------------------------------------------------------------------
    def scan(self) -> None:
        """Scan for ``scan_s`` seconds in a worker thread."""
        self.scan_btn.setEnabled(False)
        self.scan_state.setText(f"scanning for {self.scan_s:g} s…")

        def work() -> None:
            try:
                found = scan_wearables(self.scan_s, self.world)
                self._inbox.post(self.scanned.emit, found, "")
            except Exception as e:  # shown in the panel: no adapter, Bluetooth off, ...
                self._inbox.post(self.scanned.emit, [], str(e))

        threading.Thread(target=work, name="device-scan", daemon=True).start()

    def _scan_done(self, found: list[Any], error: str) -> None:
        self.scan_btn.setEnabled(True)
        self.found = list(found)
        if error:
            self.scan_state.setText(f"scan failed: {error}")
        else:
            self.scan_state.setText(f"{len(found)} device(s) found")
        self.found_table.setRowCount(len(found))
        for i, d in enumerate(found):
            for j, v in enumerate(
                (
                    d.name or "(no name)",
                    d.address,
                    f"{d.rssi} dBm",
                    d.profile or "no matching profile",
                )
            ):
                self.found_table.setItem(i, j, QTableWidgetItem(v))
        for box in self.pick.values():
            current = box.currentData()
            box.clear()
            box.addItem("— none —", None)
            for d in found:
                box.addItem(d.describe(), d.address)
            idx = box.findData(current)
            box.setCurrentIndex(max(0, idx))
        # suggest: the device already at a placement, else in order for the sacrum
        current = self.window_.ds.source.sensors
        for p, info in current.items():
            for i, d in enumerate(found):
                if info.device in (d.name, d.address):
                    self.pick[p].setCurrentIndex(i + 1)
        if found and self.pick["sacrum"].currentData() is None:
            self.pick["sacrum"].setCurrentIndex(1)
        self.connect_btn.setEnabled(bool(found))

    # -- connect ------------------------------------------------------------------------------
    def selection(self) -> dict[str, str]:
        """placement -> device address, for the placements with a device picked."""
        return {p: box.currentData() for p, box in self.pick.items() if box.currentData()}

    def connect_selected(self) -> None:
        chosen = self.selection()
        if "sacrum" not in chosen:
            self.connect_state.setText("pick a device for the sacrum: the lumbar angle needs it")
            return
        if len(set(chosen.values())) != len(chosen):
            self.connect_state.setText("one device per placement: the same device is picked twice")
            return
        self._connect(chosen)

    def _connect(self, chosen: dict[str, str]) -> None:
        """Connect ``chosen`` ({placement: device}) in a worker; the session switches to them."""
        self.connect_btn.setEnabled(False)
        self.connect_state.setText("connecting…")

        def work() -> None:
            try:
                source = opened(
                    chosen_devices_source(chosen, profile=self.profile, world=self.world)
                )
            except Exception as e:
                self._inbox.post(self.connected.emit, None, str(e))
                return
            self._inbox.post(self.connected.emit, source, "")

        threading.Thread(target=work, name="device-connect", daemon=True).start()

    def _connect_done(self, source: Any, error: str) -> None:
        self.connect_btn.setEnabled(True)
        if source is None:
            self.connect_state.setText(f"could not connect: {error}")
            return
        try:
            self.window_.switch_source(source)
        except Exception as e:
            source.stop()
            self.connect_state.setText(f"could not start: {e}")
            return
        names = ", ".join(f"{p}: {i.device}" for p, i in source.sensors.items())
        self.connect_state.setText(f"connected ({names})")
        self.refresh_status()

    # -- device calibration -------------------------------------------------------------------
    def calibrate_devices(self) -> None:
        """The session's wearables do the device calibration's procedure (``DeviceCalDialog``)
        and then rejoin the session, calibrated with it when the person chose to use it."""
        if self.procedure_source is None:
            return
        if self.cal_dialog is not None and self.cal_dialog.isVisible():
            self.cal_dialog.raise_()  # one procedure at a time
            return
        make = self.procedure_source
        devices = {p: info.device for p, info in self.window_.ds.source.sensors.items()}

        def back(folder: Path | None) -> None:
            if folder is not None:
                self.window_.use_device_cal_folder(folder)
            self._connect(devices)

        self.cal_dialog = DeviceCalDialog(
            list(devices),
            open_source=lambda: opened(make(devices)),
            new_folder=self._new_calibration_folder,
            leave_session=self.window_.pause_for_device_cal,
            return_to_session=back,
            source_kind="sim" if self.world is not None else "ble",
            parent=self,
        )
        self.cal_dialog.show()

    def shutdown(self) -> None:
        """The dashboard is closing: a procedure still streaming stops."""
        if self.cal_dialog is not None:
            self.cal_dialog.abandon()

    def _new_calibration_folder(self) -> Path:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        folder = self.calibration_dir / f"device-calibration-{stamp}"
        n = 1
        while folder.exists():
            n += 1
            folder = self.calibration_dir / f"device-calibration-{stamp}-{n}"
        return folder.resolve()

    # -- status -------------------------------------------------------------------------------
    def refresh_status(self) -> None:
        stats_fn = getattr(self.window_.ds.source, "stats", None)
        try:
            stats = stats_fn() if stats_fn is not None else {}
        except Exception:
            stats = {}
        self.status_table.setRowCount(len(stats))
        battery_col = STATUS_COLUMNS.index("battery")
        for i, (p, st) in enumerate(stats.items()):
            pct = st.get("battery_pct")
            values = (
                p.replace("_", " "),
                f"{st.get('device') or ''} [{st.get('address', '')}]",
                str(st.get("state", "?")),
                f"{st.get('effective_rate_hz', 0.0):.0f} Hz",
                f"{100.0 * st.get('loss_fraction', 0.0):.1f} %",
                str(st.get("reconnects", 0)),
                battery_text(pct),
            )
            for j, v in enumerate(values):
                item = self.status_table.item(i, j)
                if item is None:
                    item = QTableWidgetItem(v)
                    self.status_table.setItem(i, j, item)
                elif item.text() != v:
                    item.setText(v)
            self._mark_battery(self.status_table.item(i, battery_col), pct)

    @staticmethod
    def _mark_battery(item: QTableWidgetItem, pct: int | None) -> None:
        """Low battery in the flexion colour, bold, with a tooltip saying what to do."""
        low = pct is not None and pct < LOW_BATTERY_PCT
        font = QFont(item.font())
        font.setBold(low)
        item.setFont(font)
        if low:
            item.setForeground(QBrush(QColor(theme.FLEXION)))
            item.setToolTip("battery low: charge the wearable before the next session")
        else:
            item.setData(Qt.ItemDataRole.ForegroundRole, None)
            item.setToolTip("" if pct is not None else "battery level unknown")
