"""Calls from other threads, run in the GUI thread, without a Qt call off the GUI thread.

The wearables feed the pipeline from their own threads, and the device panel scans and connects
from worker threads. Their results must reach widgets in the GUI thread. A Qt signal emitted
from such a thread (a queued connection) makes that thread take Qt's locks (the connection's,
the receiver thread's event queue) and copy Python arguments, which needs the GIL; a thread that
holds one of Qt's locks and waits for the GIL, while the GUI thread holds the GIL and waits for
that lock, hangs both for good. Such a hang, with the collector in the stream's thread, is what
``gui_gc`` records; the dashboard's CI run then hung once more in the same test
(``tests/ui/test_main_window.py``'s alarm test, 2026-12-07) with no stack printed, and a stress
run here (about 780 000 emits from a thread against about 200 000 rounds of deleting a QObject
and a QMenu with Python slots in the GUI thread) did not hang. Rather than bet on which Qt calls
are safe off the GUI thread, none is made there.

``GuiInbox`` makes the hand-over plain Python and the operating system: ``post`` appends the call
to a deque (thread-safe) and writes a byte to a socket pair; a ``QSocketNotifier`` made in the
GUI thread wakes it, and it runs the calls in order. The wake costs one ``send`` and adds no
polling delay.
"""

from __future__ import annotations

import logging
import socket
from collections import deque
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QSocketNotifier

log = logging.getLogger(__name__)


class GuiInbox(QObject):
    """``post(fn, *args)`` from any thread: ``fn(*args)`` runs in the thread that made the inbox
    (make it in the GUI thread), in the order posted. ``close`` (idempotent) drops what is left."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._calls: deque[tuple[Callable[..., Any], tuple[Any, ...]]] = deque()
        self._rx, self._tx = socket.socketpair()
        self._rx.setblocking(False)
        self._tx.setblocking(False)
        self._closed = False
        self._notifier = QSocketNotifier(self._rx.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self.run_posted)

    def post(self, fn: Callable[..., Any], *args: Any) -> None:
        """Any thread: run ``fn(*args)`` in the GUI thread soon (nothing, once closed)."""
        if self._closed:
            return
        self._calls.append((fn, args))  # before the wake: a drain that sees the byte sees this
        try:
            self._tx.send(b"\x01")
        except OSError:  # the buffer full of wakes not yet read (one will do), or closed meanwhile
            pass

    def run_posted(self) -> None:
        """GUI thread: run every call posted so far. A call that raises does not stop the rest;
        the first error is raised again afterwards (Qt's exception hook reports it)."""
        try:
            while self._rx.recv(4096):
                pass
        except (BlockingIOError, OSError):  # nothing more to read / closed
            pass
        error: BaseException | None = None
        while self._calls:
            fn, args = self._calls.popleft()
            try:
                fn(*args)
            except Exception as e:
                if error is None:
                    error = e
                else:
                    log.exception("posted call %r failed", fn)
        if error is not None:
            raise error

    def pending(self) -> int:
        """Calls posted and not yet run."""
        return len(self._calls)

    def close(self) -> None:
        """GUI thread: stop waking; calls posted later are dropped."""
        if self._closed:
            return
        self._closed = True
        self._notifier.setEnabled(False)
        self._calls.clear()
        self._tx.close()
        self._rx.close()
