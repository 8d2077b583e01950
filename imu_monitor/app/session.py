"""A running session: one source (``sources.base.Source``) feeding one pipeline.

The session wires the source's callbacks to the pipeline and, when an alarm starts, asks the
source to raise the wearable's own alert.
"""

from __future__ import annotations

import logging

from imu_monitor.events import AlarmStarted, Event
from imu_monitor.processing.pipeline import Pipeline
from imu_monitor.sources.base import Source, SourceState, SourceStatus, StatusCallback

log = logging.getLogger(__name__)


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
        self.status: dict[str, SourceStatus] = {}
        """The latest status per sensor placement ("" for the whole source)."""
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

    def _status(self, status: SourceStatus) -> None:
        if status.state == SourceState.JUMP:  # a replay was seeked or looped: times jump
            self.pipeline.reset()
        self.status[status.sensor] = status
        if self._on_status is not None:
            self._on_status(status)

    def start(self) -> None:
        self.source.start(self.pipeline.feed, self.pipeline.mark_gap, self._status)

    def stop(self) -> list[Event]:
        self.source.stop()
        return self.pipeline.finish()
