"""The "Save report…" button: the session report (``report``) of the finished session, written
where the user chooses.

A session is finished when there is a complete recording of it: a replayed file from the start,
a live session once its recording is stopped (``RecordingControls.saved``). The button asks for
the file with a ``QFileDialog`` (``ask_path`` is the seam tests replace), then analyses and
writes in a worker *process* (an hour-long session takes a few seconds): the window never waits.
Not a thread: a thread drawing the plots while the window runs hung the dashboard twice in 1050
tests (both threads waiting, the CPU idle: the worker's garbage collection finalising Qt objects
of the GUI thread while that thread waited for the interpreter lock, as far as we can tell).
A timer in the GUI thread polls the job; ``saved(path)`` or ``failed(reason)`` follow, and
both become a notice.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QPushButton, QWidget

from imu_monitor.exercises import Exercise
from imu_monitor.model import Recording
from imu_monitor.report.write import write_report_job

log = logging.getLogger(__name__)

UNAVAILABLE_TIP = "a report needs a finished session: stop the recording (or replay a file) first"
POLL_MS = 100
"""How often the GUI thread looks whether the report is written."""


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
        self.worker: Future | None = None
        """The report being written (None: none yet)."""
        self._pool: ProcessPoolExecutor | None = None
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._check)
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
        if self.session is None or (self.worker is not None and not self.worker.done()):
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
        if self._pool is None:  # a fresh interpreter: never a copy of this Qt process
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        try:
            self.worker = self._pool.submit(
                write_report_job, self.session, self.name, out, self._exercise()
            )
        except RuntimeError as e:  # the pool is broken or shut down
            self._pool = None
            self._on_failed(f"report not saved: the report process could not start ({e})")
            return False
        self._poll.start()
        return True

    def _check(self) -> None:
        """GUI thread, every ``POLL_MS``: once the job is done, say how it went."""
        job = self.worker
        if job is None or not job.done():
            return
        self._poll.stop()
        try:
            ok, text = job.result()
        except Exception as e:  # a bug or a killed process must not kill the window
            log.error("report failed: %s: %s", type(e).__name__, e)
            self._pool = None  # a broken pool cannot take another job
            self.failed.emit(f"report not saved: unexpected {type(e).__name__}: {e}")
            return
        (self.saved if ok else self.failed).emit(text)

    def shutdown(self) -> None:
        """Stop the report process, if any (the window is closing)."""
        self._poll.stop()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

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
