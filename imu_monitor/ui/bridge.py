"""Bridging the source's thread into the GUI thread.

Pipeline listeners and source status callbacks run in the thread that feeds the pipeline (BLE
event loop, simulator, replay). They must never touch widgets: ``EventBridge`` re-emits them as
Qt signals, delivered to GUI-thread slots through queued connections.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

from imu_monitor.events import Event
from imu_monitor.sources.base import SourceStatus


class EventBridge(QObject):
    """``listener`` / ``on_status`` are safe to call from any thread.

    ``event(ev, t_perf_s)``: a monitor event and the perf_counter time it was emitted (for the
    latency figures). ``source_status(status)``: a ``SourceStatus`` change
    (``connected``, ``reconnecting``, ``replaying``, ``finished``, ...).
    """

    event = Signal(object, float)
    source_status = Signal(object)

    def listener(self, ev: Event) -> None:
        """Pipeline listener: called in the feeding thread."""
        self.event.emit(ev, time.perf_counter())

    def on_status(self, status: SourceStatus) -> None:
        """Source status callback: called in the source's thread."""
        self.source_status.emit(status)

    def connect_event(self, slot: Any) -> None:
        """Connect ``slot(ev, t_perf_s)`` with a queued connection (runs in the GUI thread)."""
        self.event.connect(slot, Qt.ConnectionType.QueuedConnection)

    def connect_status(self, slot: Any) -> None:
        self.source_status.connect(slot, Qt.ConnectionType.QueuedConnection)
