"""A running session: one source (``sources.base.Source``) feeding one pipeline.

The session wires the source's callbacks to the pipeline and, when an alarm starts, asks the
source to raise the wearable's own alert.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from imu_monitor.events import AlarmStarted, Event
from imu_monitor.model import SampleChunk
from imu_monitor.processing.pipeline import Pipeline
from imu_monitor.sources.base import Source, SourceState, SourceStatus, StatusCallback

log = logging.getLogger(__name__)


CalibrationCallback = Callable[[str, str], None]
"""``fn(step, prompt)``: the guided calibration entered ``step`` ("standing", "start" or "done");
``prompt`` is what to tell the user."""


def calibration_step(pipeline: Pipeline) -> tuple[str | None, str]:
    """The pipeline's guided-calibration step and its prompt ("done" once calibrated; None with
    neither a calibration nor a calibrator)."""
    cal = pipeline.calibrator
    if cal is not None:
        return cal.step, cal.prompt
    if pipeline.calibration is not None:
        return "done", "Calibrated: neutral captured"
    return None, ""


class Session:
    """Source -> pipeline, with wearable alerts, status and calibration-step callbacks.

    ``on_calibration`` is called in the feeding thread right after the chunk that moved the
    guided calibration to a new step, so no step is missed however fast the data comes;
    ``before_feed(chunk)`` in the feeding thread before each chunk is processed.
    """

    def __init__(
        self,
        source: Source,
        pipeline: Pipeline,
        *,
        wearable_alerts: bool = True,
        on_status: StatusCallback | None = None,
        on_calibration: CalibrationCallback | None = None,
        before_feed: Callable[[SampleChunk], None] | None = None,
    ) -> None:
        self.source = source
        self.pipeline = pipeline
        self.wearable_alerts = wearable_alerts
        self.status: dict[str, SourceStatus] = {}
        """The latest status per sensor placement ("" for the whole source)."""
        self._on_status = on_status
        self._on_calibration = on_calibration
        self._before_feed = before_feed
        self._step = calibration_step(pipeline)[0]
        self.alerts_sent: list[tuple[float, str]] = []
        pipeline.add_listener(self._on_event)

    def _feed(self, chunk: SampleChunk) -> list[Event]:
        if self._before_feed is not None:
            try:
                self._before_feed(chunk)
            except Exception:  # a broken sink must not stop the stream
                log.exception("before_feed hook %r failed", self._before_feed)
        events = self.pipeline.feed(chunk)
        if self._on_calibration is not None:
            step, prompt = calibration_step(self.pipeline)
            if step != self._step:
                self._step = step
                if step is not None:
                    try:
                        self._on_calibration(step, prompt)
                    except Exception:
                        log.exception("calibration callback %r failed", self._on_calibration)
        return events

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
        hooks = self._on_calibration is not None or self._before_feed is not None
        feed = self._feed if hooks else self.pipeline.feed
        self.source.start(feed, self.pipeline.mark_gap, self._status)

    def stop(self) -> list[Event]:
        self.source.stop()
        return self.pipeline.finish()
