"""The "Save report…" button: the session report (``report``) of the finished session, written
where the user chooses.

A session is finished when there is a complete recording of it: a replayed file from the start,
a live session once its recording is stopped (``RecordingControls.saved``). The button asks for
the file with a ``QFileDialog`` (``ask_path`` is the seam tests replace), then analyses and
writes on a worker thread (an hour-long session takes a few seconds): the window never waits.
``saved(path)`` or ``failed(reason)`` comes back in the GUI thread; both become a notice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QPushButton, QWidget

from imu_monitor.errors import ImuMonitorError
from imu_monitor.exercises import Exercise
from imu_monitor.model import Recording
from imu_monitor.report.write import write_session_report
from imu_monitor.storage.recording import load_recording

log = logging.getLogger(__name__)

UNAVAILABLE_TIP = "a report needs a finished session: stop the recording (or replay a file) first"


def ask_with_dialog(parent: QWidget | None, suggested: str) -> str:
    """The file the user picks in a save dialog ('' when cancelled)."""
    path, _ = QFileDialog.getSaveFileName(
        parent, "Save session report", suggested, "HTML report (*.html)"
    )
    return path


class ReportSaver(QObject):
    """Drives ``button``. ``exercise``: returns the exercise (with the limits and set rules)
    the dashboard judges with, used when the session is of that exercise; ``notify(text,
    action=...)``: shows a notice. ``ask_path(parent, suggested) -> str``: the dialog."""

    saved = Signal(str)
    failed = Signal(str)

    def __init__(
        self,
        button: QPushButton,
        *,
        exercise: Callable[[], Exercise],
        notify: Callable[..., Any],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.button = button
        self._exercise = exercise
        self._notify = notify
        self._parent = parent
        self.ask_path: Callable[[QWidget | None, str], str] = ask_with_dialog
        self.session: Recording | Path | None = None
        self.name = ""
        self.worker: threading.Thread | None = None
        button.clicked.connect(lambda: self.save())
        self.saved.connect(self._on_saved)
        self.failed.connect(self._on_failed)
        self._show()

    def set_session(self, session: Recording | Path, name: str) -> None:
        """A finished session to report on: a recording in memory or a recording file;
        ``name`` is how the report names it."""
        self.session = session
        self.name = name
        self._show()

    def suggested_path(self) -> str:
        stem = Path(self.name).stem or "session"
        folder = self.session.parent if isinstance(self.session, Path) else Path.cwd()
        return str(folder / f"{stem}-report.html")

    def save(self, path: str | Path | None = None) -> bool:
        """Write the report to ``path`` (None: ask); False when there is nothing to report on,
        the dialog was cancelled, or a report is being written."""
        if self.session is None or (self.worker is not None and self.worker.is_alive()):
            return False
        if path is None:
            path = self.ask_path(self._parent, self.suggested_path())
            if not path:
                return False
        out = Path(path)
        if out.suffix.lower() not in (".html", ".htm"):
            out = out.with_name(out.name + ".html")
        self.button.setEnabled(False)
        self.button.setText("Writing report…")
        self.worker = threading.Thread(
            target=self._write,
            args=(self.session, self.name, out, self._exercise()),
            name="report",
            daemon=True,
        )
        self.worker.start()
        return True

    def _write(self, session: Recording | Path, name: str, out: Path, exercise: Exercise) -> None:
        """Worker thread: load, analyse, write; the result goes back as a signal."""
        try:
            rec = load_recording(session) if isinstance(session, Path) else session
            if exercise.name == rec.exercise:  # judged as the dashboard judges it
                write_session_report(rec, out, source=name, exercise=exercise,
                                     limits=exercise.limits)  # fmt: skip
            else:  # another exercise's recording: its own defaults
                write_session_report(rec, out, source=name)
        except (ImuMonitorError, OSError) as e:
            self.failed.emit(f"report not saved: {e}")
            return
        except Exception as e:  # a bug must not kill the window: say it in one line
            log.exception("report failed")
            self.failed.emit(f"report not saved: unexpected {type(e).__name__}: {e}")
            return
        self.saved.emit(str(out))

    def _on_saved(self, path: str) -> None:
        self._show()
        self._notify(f"report saved: {path}")

    def _on_failed(self, reason: str) -> None:
        self._show()
        self._notify(reason, action=True)

    def _show(self) -> None:
        self.button.setText("Save report…")
        self.button.setEnabled(self.session is not None)
        self.button.setToolTip(
            f"write the session report of {self.name} (one HTML file)"
            if self.session is not None
            else UNAVAILABLE_TIP
        )
