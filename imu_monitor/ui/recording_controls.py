"""The Record and Mark buttons: record the live stream to a file, put markers in it.

``RecordingControls`` owns the ``RecordingWriter`` while a recording runs; the pipeline writes
samples, gaps, events and the calibration into it, the Mark button writes markers at the latest
sample time. A recording that ends is put into the history (``app.history.index_session``, from
the live summary). Problems (a directory that cannot be written, a history that cannot be) are
notices, never exceptions.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QPushButton

from imu_monitor.app.dashboard import DashboardSession
from imu_monitor.app.history import index_session
from imu_monitor.errors import ImuMonitorError
from imu_monitor.model import Marker
from imu_monitor.storage.history import HistoryStore
from imu_monitor.storage.recording import EXTENSION, RecordingWriter

log = logging.getLogger(__name__)


class RecordingControls(QObject):
    """Drives ``record_btn`` (checkable) and ``marker_btn``. ``session``: returns the current
    ``DashboardSession`` (the window may switch sources); ``recordings_dir``: where the Record
    button writes; ``notify(text, action=...)``: shows a one-line notice.
    ``marked(Marker)``: a marker was written; ``saved(Path)``: a recording was stopped and
    closed complete; ``recording_changed(bool)``: a recording started or ended."""

    marked = Signal(object)
    saved = Signal(object)
    recording_changed = Signal(bool)

    def __init__(
        self,
        record_btn: QPushButton,
        marker_btn: QPushButton,
        *,
        session: Callable[[], DashboardSession],
        recordings_dir: Path | None,
        notify: Callable[..., Any],
        history: HistoryStore | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.record_btn = record_btn
        self.marker_btn = marker_btn
        self._session = session
        self.recordings_dir = recordings_dir
        self._notify = notify
        self.history = history
        self.recorder: RecordingWriter | None = None
        self._meta: dict[str, Any] = {}
        self._t0_s = 0.0
        record_btn.toggled.connect(self.set_recording)
        marker_btn.clicked.connect(lambda: self.add_marker("note"))

    def set_recording(self, on: bool) -> None:
        """Record button: start (a new file in ``recordings_dir``) or stop recording."""
        if on and self.recorder is None:
            stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            s = self._session().settings
            name = f"{s.user}-{s.exercise}-{stamp}{EXTENSION}"
            self.start_recording(Path(self.recordings_dir or "recordings") / name)
        elif not on and self.recorder is not None:
            self._session().pipeline.set_recorder(None)
            self.recorder.close()
            self._notify(f"recording saved: {self.recorder.path}{self._index(self.recorder)}")
            path = Path(self.recorder.path)
            self.recorder = None
            self._show(False)
            self.saved.emit(path)

    def _index(self, recorder: RecordingWriter) -> str:
        """Put the ended recording into the history; what to add to the notice."""
        if self.history is None:
            return ""
        ds = self._session()
        duration = max(0.0, self.current_t_s() - self._t0_s)
        try:
            row = index_session(
                self.history, recorder.path, self._meta, ds.pipeline.summary(), duration
            )
        except (ImuMonitorError, OSError) as e:
            self._notify(f"the session could not be put into the history: {e}", action=True)
            return ""
        return f" (in the history of {row.user})"

    def start_recording(self, path: Path) -> bool:
        """Record the stream (raw samples, events, markers, calibration) to ``path``."""
        if self.recorder is not None:
            return False
        ds = self._session()
        s = ds.settings
        meta = {
            "exercise": s.exercise,
            "user": s.user,
            "source": getattr(ds.source, "kind", "ble"),
        }
        device_cal = getattr(ds.source, "device_calibration", None)
        if device_cal:  # live --device-cal: the samples recorded are calibrated
            meta["device_calibration"] = device_cal
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.recorder = RecordingWriter(path, meta, ds.source.sensors)
            self._meta = dict(
                meta, created_utc=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
            )
            self._t0_s = self.current_t_s()
        except Exception as e:
            self._notify(f"cannot record: {e}", action=True)
            self._show(False)
            return False
        ds.pipeline.set_recorder(self.recorder)
        self._show(True)
        self._notify(f"recording to {path}")
        return True

    def recording_failed(self, notice: str) -> None:
        """The pipeline dropped the recorder after a failed write (a full disk): the file is
        already closed on its last complete record; say so and show the button as stopped."""
        self.recorder = None
        self._notify(notice, action=True)
        self._show(False)

    def current_t_s(self) -> float:
        """The latest judged sample time (recording clock), 0 before the first."""
        t = self._session().pipeline.status.t_s
        return 0.0 if math.isnan(t) else float(t)

    def add_marker(self, kind: str, **data: Any) -> None:
        """A marker at the latest sample time in the recording being written."""
        if self.recorder is not None:
            marker = Marker(self.current_t_s(), kind, None, dict(data))
            self.recorder.write_marker(marker)
            self.marked.emit(marker)
            for fn in self._session().marker_listeners:
                try:
                    fn(marker)
                except Exception:  # a broken sink must not stop the marking
                    log.exception("marker listener %r failed", fn)

    def _show(self, recording: bool) -> None:
        self.record_btn.blockSignals(True)
        self.record_btn.setChecked(recording)
        self.record_btn.blockSignals(False)
        self.record_btn.setText("■ Stop recording" if recording else "● Record")
        self.marker_btn.setEnabled(recording)
        self.recording_changed.emit(recording)
