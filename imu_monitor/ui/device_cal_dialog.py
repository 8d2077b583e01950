"""The device calibration from the dashboard (Devices > Device calibration…): the session's
wearables do the Ferraris procedure (README, "Device calibration"), the dialog ticks off each
hold and turn as it is found, then measures the calibration into a folder that the settings
remember, and the wearables rejoin the session calibrated with it.

The wearables leave the session while they do it (a wearable streams to one client, and a box
turned on a table is no lumbar spine to judge): ``leave_session`` when Start is pressed,
``return_to_session(folder or None)`` once when the dialog closes. Connecting, looking for holds
and turns (a few tenths of a second on minutes of samples) and measuring (imucal) run in worker
threads that hand their results over through a ``GuiInbox``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QCloseEvent, QColor, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from imu_monitor.app.procedure import (
    FIGURE_COLUMNS,
    PARTS,
    STEPS,
    ProcedureRecorder,
    coarse_gyro_note,
    figure_row,
    measure_sensors,
    part_heading,
    procedure_meta,
    write_calibrations,
)
from imu_monitor.errors import ImuMonitorError
from imu_monitor.storage.recording import load_recording
from imu_monitor.ui import theme
from imu_monitor.ui.inbox import GuiInbox

log = logging.getLogger(__name__)

CHECK_EVERY_S = 1.0
"""How often the streamed samples are searched for new holds and turns (s)."""
PROCEDURE_FILE = "procedure.imr"
"""The recording of the procedure, kept in the calibration's folder beside its files."""


class DeviceCalDialog(QDialog):
    """``sensors``: the placements calibrated. ``open_source()``: the wearables, opened,
    streaming the procedure (blocking; run in a worker). ``new_folder()``: an unused folder for
    one attempt (its procedure recording and ``<sensor>.json``). ``leave_session()`` and
    ``return_to_session(folder | None)``: see the module; ``folder`` when the person chose to use
    the calibration measured."""

    opened = Signal(object, str)
    progressed = Signal(object, object)
    measured = Signal(object, str)

    def __init__(
        self,
        sensors: list[str],
        *,
        open_source: Callable[[], Any],
        new_folder: Callable[[], Path],
        leave_session: Callable[[], None],
        return_to_session: Callable[[Path | None], None],
        source_kind: str = "ble",
        check_every_s: float = CHECK_EVERY_S,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Device calibration")
        self.setStyleSheet(theme.stylesheet())
        self.resize(1180, 560)
        self.sensors = list(sensors)
        self._open_source = open_source
        self._new_folder = new_folder
        self._leave_session = leave_session
        self._return_to_session = return_to_session
        self._source_kind = source_kind
        self._check_every_s = check_every_s
        self.recorder: ProcedureRecorder | None = None
        self.folder: Path | None = None
        self._left = False
        self._returned = False
        self._watch_stop = threading.Event()
        self._attempt = 0

        lay = QVBoxLayout(self)
        steps = QLabel(
            STEPS + " The wearables leave the session meanwhile and rejoin it when this closes."
        )
        steps.setWordWrap(True)
        lay.addWidget(steps)
        self.table = QTableWidget(len(self.sensors), len(PARTS))
        self.table.setHorizontalHeaderLabels([part_heading(k) for k in PARTS])
        self.table.setVerticalHeaderLabels([s.replace("_", " ") for s in self.sensors])
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for i in range(len(self.sensors)):
            for j in range(len(PARTS)):
                item = QTableWidgetItem("")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(i, j, item)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        lay.addWidget(self.table)
        self.state = QLabel("Press Start with the wearables on the table.")
        self.state.setWordWrap(True)
        lay.addWidget(self.state)
        self.link = QLabel("")
        self.link.setObjectName("dim")
        lay.addWidget(self.link)
        # one column per sensor, one row per figure (as the command prints them, turned)
        self.results = QTableWidget(len(FIGURE_COLUMNS) - 1, 0)
        self.results.setVerticalHeaderLabels(list(FIGURE_COLUMNS[1:]))
        self.results.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.results.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.results.hide()
        lay.addWidget(self.results, 100)
        lay.addStretch(1)

        row = QHBoxLayout()
        self.start_btn = QPushButton("Start")
        self.start_btn.clicked.connect(self.start)
        self.stop_btn = QPushButton("Stop")
        self.stop_btn.setEnabled(False)
        self.stop_btn.clicked.connect(self.stop)
        self.use_btn = QPushButton("Use this calibration")
        self.use_btn.setEnabled(False)
        self.use_btn.clicked.connect(self.use)
        self.close_btn = QPushButton("Close")
        self.close_btn.clicked.connect(self.close)
        for b in (self.start_btn, self.stop_btn):
            row.addWidget(b)
        row.addStretch(1)
        for b in (self.use_btn, self.close_btn):
            row.addWidget(b)
        lay.addLayout(row)

        self._inbox = GuiInbox(self)
        self.opened.connect(self._opened)
        self.progressed.connect(self._progressed)
        self.measured.connect(self._measured)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt name
        """The progress table as tall as its rows (known once the style sheet applies)."""
        super().showEvent(event)
        t = self.table
        height = t.horizontalHeader().height() + t.verticalHeader().length()
        t.setFixedHeight(height + 2 * t.frameWidth())

    # -- recording ----------------------------------------------------------------------------
    def start(self) -> None:
        """Take the wearables from the session and connect them for the procedure."""
        if not self._left:
            self._leave_session()
            self._left = True
        self._attempt += 1
        self.folder = None
        self.use_btn.setEnabled(False)
        self.results.hide()
        self.start_btn.setEnabled(False)
        self.stop_btn.setEnabled(False)
        self._mark({})
        self.state.setText("connecting the wearables…")
        attempt = self._attempt

        def work() -> None:
            try:
                source = self._open_source()
            except Exception as e:  # shown in the dialog: out of range, Bluetooth off, ...
                self._inbox.post(self.opened.emit, (attempt, None), str(e))
                return
            self._inbox.post(self.opened.emit, (attempt, source), "")

        threading.Thread(target=work, name="device-cal-connect", daemon=True).start()

    def _opened(self, attempt_source: tuple[int, Any], error: str) -> None:
        attempt, source = attempt_source
        if attempt != self._attempt or self._returned:  # closed meanwhile
            if source is not None:
                source.stop()
            return
        if source is None:
            self.start_btn.setEnabled(True)
            self.start_btn.setText("Start again")
            self.state.setText(f"could not connect: {error}")
            return
        try:
            folder = self._new_folder()
            folder.mkdir(parents=True, exist_ok=True)
            self.recorder = ProcedureRecorder(
                source, folder / PROCEDURE_FILE, procedure_meta(self._source_kind)
            )
        except (OSError, ImuMonitorError) as e:
            source.stop()
            self.start_btn.setEnabled(True)
            self.state.setText(f"cannot record the procedure: {e}")
            return
        self.folder = folder
        self.recorder.start(self._on_status)
        self.stop_btn.setEnabled(True)
        self.state.setText(
            "recording: rest the box on each face for 4 s, and turn it once round with the "
            "+x, +y and +z axis up"
        )
        self._watch_stop = threading.Event()
        threading.Thread(
            target=self._watch,
            args=(self.recorder, self._watch_stop),
            name="device-cal-check",
            daemon=True,
        ).start()

    def _on_status(self, status: Any) -> None:  # the source's thread
        """A link's news (a wearable reconnecting, ...) shown under the state, as the command
        prints it."""
        if status.message:
            text = f"{status.sensor or 'source'}: {status.message}"
            log.info("%s", text)
            self._inbox.post(self.link.setText, text)

    def _watch(self, recorder: ProcedureRecorder, stop: threading.Event) -> None:
        """Worker: look for holds and turns every ``check_every_s`` until all are found."""
        while not stop.wait(self._check_every_s):
            try:
                recorder.check()
            except Exception as e:  # a stream too broken to search: logged, recording goes on
                log.warning("device calibration: %s", e)
                continue
            found = {s: dict(parts) for s, parts in recorder.found.items()}
            self._inbox.post(self.progressed.emit, recorder, found)
            if recorder.complete:
                return

    def _progressed(self, recorder: ProcedureRecorder, found: dict[str, dict[str, str]]) -> None:
        if recorder is not self.recorder:
            return
        self._mark(found)
        if recorder.complete:
            self._finish(measure=True)

    def _mark(self, found: dict[str, dict[str, str]]) -> None:
        done = QBrush(QColor(theme.NEUTRAL))
        for i, sensor in enumerate(self.sensors):
            for j, key in enumerate(PARTS):
                item = self.table.item(i, j)
                said = found.get(sensor, {}).get(key)
                item.setText("✓" if said else "")
                item.setToolTip(said or "not yet")
                if said:
                    item.setBackground(done)
                else:
                    item.setData(Qt.ItemDataRole.BackgroundRole, None)

    def stop(self) -> None:
        """Stop recording before the procedure is complete (the recording is kept)."""
        if self.recorder is not None:
            self._finish(measure=False)

    def _finish(self, *, measure: bool) -> None:
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return
        self._watch_stop.set()
        recorder.stop()
        self.stop_btn.setEnabled(False)
        self.start_btn.setText("Start again")
        if not measure:
            lacking = "; ".join(
                f"{s.replace('_', ' ')} lacks {', '.join(t)}" for s, t in recorder.todo.items() if t
            )
            self.state.setText(f"stopped: {lacking}. The recording is kept in {recorder.out}")
            self.start_btn.setEnabled(True)
            return
        self.state.setText("every hold and turn found: measuring…")
        out, folder, sensors = recorder.out, recorder.out.parent, list(recorder.sensors)

        def work() -> None:
            try:
                rec = load_recording(out)
                results = measure_sensors(rec, sensors, procedure_file=str(out))
                write_calibrations(results, {s: folder / f"{s}.json" for s in results})
            except Exception as e:  # e.g. a turn that lost too many samples: record again
                self._inbox.post(self.measured.emit, None, str(e))
                return
            self._inbox.post(self.measured.emit, results, "")

        threading.Thread(target=work, name="device-cal-measure", daemon=True).start()

    def _measured(self, results: dict[str, Any] | None, error: str) -> None:
        self.start_btn.setEnabled(True)
        if results is None:
            self.state.setText(f"could not measure: {error}")
            self.folder = None
            return
        self.results.setColumnCount(len(results))
        self.results.setHorizontalHeaderLabels([s.replace("_", " ") for s in results])
        for j, (sensor, cal) in enumerate(results.items()):
            for i, text in enumerate(figure_row(sensor, cal.figures)[1:]):
                self.results.setItem(i, j, QTableWidgetItem(text))
        self.results.show()
        notes = [n for s, c in results.items() if (n := coarse_gyro_note(s, c.figures))]
        self.state.setText(
            f"measured and saved in {self.folder}. 'Use this calibration' remembers it in the "
            "settings and reconnects the wearables calibrated with it."
            + "".join(f"\nNote: {n}." for n in notes)
        )
        self.use_btn.setEnabled(True)
        self.use_btn.setDefault(True)

    # -- leaving ------------------------------------------------------------------------------
    def use(self) -> None:
        self._back(self.folder)
        self.accept()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt name
        self._back(None)
        super().closeEvent(event)

    def done(self, result: int) -> None:  # Esc, accept, reject
        self._back(None)
        super().done(result)

    def abandon(self) -> None:
        """The dashboard is closing: stop what streams, without handing the wearables back."""
        self._returned = True
        self._watch_stop.set()
        recorder, self.recorder = self.recorder, None
        if recorder is not None:
            recorder.stop()

    def _back(self, folder: Path | None) -> None:
        """Stop what still streams and hand the wearables back to the session (once)."""
        if self._returned:
            return
        self.abandon()
        if self._left:
            self._return_to_session(folder)
