"""A running session: one source feeding one pipeline, with the threads that takes.

Every source (BLE devices through bleak, the simulated wearable, a replayed recording) implements
``Source``: it starts its own thread and calls back with chunks, gaps and status changes. The
session wires those callbacks to the pipeline and, when an alarm starts, asks the source to raise
the wearable's own alert.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from imu_monitor.events import AlarmStarted, Event
from imu_monitor.model import Gap, SampleChunk, SensorInfo
from imu_monitor.processing.pipeline import Pipeline

log = logging.getLogger(__name__)

ChunkCallback = Callable[[SampleChunk], None]
GapCallback = Callable[[Gap], None]
StatusCallback = Callable[[str, dict[str, Any]], None]


class Source(Protocol):
    """What every data source implements."""

    sensors: dict[str, SensorInfo]

    def start(
        self, on_chunk: ChunkCallback, on_gap: GapCallback, on_status: StatusCallback
    ) -> None:
        """Start streaming in the source's own thread; returns at once."""

    def stop(self) -> None:
        """Stop streaming and join the thread (an intentional stop, not a dropped link)."""

    def alert(self, direction: str) -> None:
        """Raise the wearable's own alert (sound, LED, vibration) if it has one; never blocks."""


class ReplayThreadSource:
    """Adapts ``sources.replay.ReplaySource`` (a blocking chunk generator) to ``Source``."""

    def __init__(self, replay: Any) -> None:
        self.replay = replay
        self.sensors = dict(replay.rec.sensors)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.finished = threading.Event()

    def start(
        self, on_chunk: ChunkCallback, on_gap: GapCallback, on_status: StatusCallback
    ) -> None:
        self.replay.on_gap = on_gap
        self.replay.on_jump = lambda pos: on_status("jump", {"position_s": pos})

        def run() -> None:
            on_status("replaying", {"duration_s": self.replay.duration_s})
            try:
                for chunk in self.replay.chunks():
                    if self._stop.is_set():
                        break
                    on_chunk(chunk)
            finally:
                self.finished.set()
                on_status("finished", {})

        self._thread = threading.Thread(target=run, name="replay", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.replay.loop = False
        if self.replay.paused:
            self.replay.resume()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def alert(self, direction: str) -> None:
        """A recording has no wearable to alert."""


class Session:
    """Source -> pipeline, with wearable alerts and status callbacks."""

    def __init__(
        self,
        source: Source,
        pipeline: Pipeline,
        *,
        wearable_alerts: bool = True,
        on_status: StatusCallback | None = None,
    ) -> None:
        self.source = source
        self.pipeline = pipeline
        self.wearable_alerts = wearable_alerts
        self.status: dict[str, tuple[str, dict[str, Any]]] = {}
        self._on_status = on_status
        self.alerts_sent: list[tuple[float, str]] = []
        pipeline.add_listener(self._on_event)

    def _on_event(self, ev: Event) -> None:
        if self.wearable_alerts and isinstance(ev, AlarmStarted):
            try:
                self.source.alert(ev.direction)
                self.alerts_sent.append((ev.t_s, ev.direction))
            except Exception:  # the alarm on screen and in sound must not depend on it
                log.exception("wearable alert failed")

    def _status(self, state: str, info: dict[str, Any]) -> None:
        if state == "jump":  # a replay was seeked or looped: times jump
            self.pipeline.reset()
        self.status[info.get("sensor", "")] = (state, info)
        if self._on_status is not None:
            self._on_status(state, info)

    def start(self) -> None:
        self.source.start(self.pipeline.feed, self.pipeline.mark_gap, self._status)

    def stop(self) -> list[Event]:
        self.source.stop()
        return self.pipeline.finish()
