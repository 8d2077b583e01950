"""Bridging the source's thread into the GUI thread.

Pipeline listeners and source status callbacks run in the thread that feeds the pipeline (BLE
event loop, simulator, replay). They must never touch widgets, nor make Qt calls: ``EventBridge``
hands them to the GUI thread through a ``GuiInbox`` (plain Python and a socket, ``ui/inbox``),
and emits them there as Qt signals.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QObject, Signal

from imu_monitor.events import Event
from imu_monitor.sources.base import SourceStatus
from imu_monitor.ui.inbox import GuiInbox


class EventBridge(QObject):
    """``listener`` / ``on_status`` are safe to call from any thread; make the bridge in the GUI
    thread, where its signals are emitted.

    ``event(ev, t_perf_s)``: a monitor event and the perf_counter time it was emitted (for the
    latency figures). ``source_status(status)``: a ``SourceStatus`` change
    (``connected``, ``reconnecting``, ``replaying``, ``finished``, ...).
    """

    event = Signal(object, float)
    source_status = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.inbox = GuiInbox(self)

    def listener(self, ev: Event) -> None:
        """Pipeline listener: called in the feeding thread."""
        self.inbox.post(self.event.emit, ev, time.perf_counter())

    def on_status(self, status: SourceStatus) -> None:
        """Source status callback: called in the source's thread."""
        self.inbox.post(self.source_status.emit, status)

    def connect_event(self, slot: Any) -> None:
        """Connect ``slot(ev, t_perf_s)`` (it runs in the GUI thread)."""
        self.event.connect(slot)

    def connect_status(self, slot: Any) -> None:
        self.source_status.connect(slot)

    def close(self) -> None:
        """Deliver nothing more (the window is shutting down; idempotent)."""
        self.inbox.close()
