"""The session behind the dashboard: one source feeding a pipeline that settings can replace.

``PipelineSwitch`` stands in for a ``Pipeline`` inside a ``Session``. The pipeline behind it can be
swapped (new exercise or limits from the settings, a seek or loop in a replay) without stopping
the source: listeners and the recorder carry over. ``DashboardSession`` builds pipelines from
``Settings`` and the calibration store. No Qt here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from imu_monitor.app.session import Session
from imu_monitor.events import Event
from imu_monitor.model import Gap, Marker, SampleChunk
from imu_monitor.processing.calibration import Calibration
from imu_monitor.processing.live_calibration import LiveCalibrator
from imu_monitor.processing.pipeline import DataSink, Pipeline
from imu_monitor.settings import Settings
from imu_monitor.sources.base import Source, SourceStatus, StatusCallback
from imu_monitor.storage.stores import CalibrationStore

log = logging.getLogger(__name__)


class PipelineSwitch:
    """A ``Pipeline`` look-alike forwarding to the current pipeline (thread-safe swap)."""

    def __init__(self, pipeline: Pipeline) -> None:
        self._lock = threading.Lock()
        self._current = pipeline
        self._listeners: list[Callable[[Event], None]] = []
        self._sinks: list[DataSink] = []
        self.generation = 0
        """Incremented at every swap (the UI clears per-pipeline displays when it changes)."""

    @property
    def current(self) -> Pipeline:
        return self._current

    def add_listener(self, fn: Callable[[Event], None]) -> None:
        with self._lock:
            self._listeners.append(fn)
            self._current.add_listener(fn)

    def add_data_sink(self, sink: DataSink) -> None:
        with self._lock:
            self._sinks.append(sink)
            self._current.add_data_sink(sink)

    def replace(self, pipeline: Pipeline) -> None:
        """Feed ``pipeline`` from now on; it gets the listeners, data sinks and the recorder."""
        with self._lock:
            for fn in self._listeners:
                pipeline.add_listener(fn)
            for sink in self._sinks:
                pipeline.add_data_sink(sink)
            if pipeline.recorder is None and self._current.recorder is not None:
                pipeline.recorder = self._current.recorder
            self._current = pipeline
            self.generation += 1

    def set_recorder(self, recorder: Any | None) -> None:
        """Start (a ``RecordingWriter``) or stop (None) recording the stream."""
        with self._lock:
            self._current.set_recorder(recorder)

    def feed(self, chunk: SampleChunk) -> list[Event]:
        with self._lock:
            p = self._current
        return p.feed(chunk)

    def mark_gap(self, gap: Gap) -> None:
        self._current.mark_gap(gap)

    def finish(self) -> list[Event]:
        return self._current.finish()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._current, name)


class DashboardSession:
    """Source + switchable pipeline + ``Session`` (wearable alerts), built from ``Settings``.

    ``calibration_store``: where calibrations are loaded from / saved to; a stored calibration
    of the user and exercise is used at once (unless ``use_stored`` is False), else the
    pipeline starts the guided calibration.
    """

    def __init__(
        self,
        source: Source,
        settings: Settings,
        *,
        calibration_store: CalibrationStore | None = None,
        calibration: Calibration | None = None,
        wearable_alerts: bool = True,
        use_stored: bool = True,
        history_s: float = 60.0,
        gap_fill: bool = True,
    ) -> None:
        self.source = source
        self.gap_fill = gap_fill
        """Bridge a lumbar sensor's lost burst with the other one's turn (``Pipeline``): live,
        not in a replay, which judges as ``analyze`` does."""
        self.settings = settings
        self.calibration_store = calibration_store
        self.history_s = history_s
        self.use_stored = use_stored
        self.status_listeners: list[StatusCallback] = []
        self.marker_listeners: list[Callable[[Marker], None]] = []
        """Called with each marker the user sets (the LSL outlets)."""
        self._saved: tuple[Calibration, str] | None = None
        self.pipeline = PipelineSwitch(self.build_pipeline(calibration))
        self.session = Session(
            source,
            self.pipeline,  # type: ignore[arg-type]
            wearable_alerts=wearable_alerts,
            on_status=self._on_status,
        )
        self.running = False

    def _on_status(self, status: SourceStatus) -> None:
        """Source status (source thread): passed on to the listeners (the window's bridge)."""
        for fn in list(self.status_listeners):
            try:
                fn(status)
            except Exception:
                log.exception("status listener %r failed", fn)

    def stored_calibration(self) -> Calibration | None:
        if self.calibration_store is None or not self.use_stored:
            return None
        try:
            cal = self.calibration_store.load(self.settings.user, self.settings.exercise)
        except Exception as e:  # a broken file must not stop the session: calibrate again
            log.warning("stored calibration unusable: %s", e)
            return None
        if cal is not None:
            cal.valid_from_s = None  # a time of the session it was made in: none of this one
        return cal

    def build_pipeline(self, calibration: Calibration | None = None) -> Pipeline:
        ex = self.settings.resolved_exercise()
        cal = calibration if calibration is not None else self.stored_calibration()
        if cal is not None and cal.exercise != ex.name:
            cal = None
        return Pipeline(
            ex,
            self.source.sensors,
            calibration=cal,
            limits=ex.limits,
            user=self.settings.user,
            history_s=self.history_s,
            # a stored neutral (an earlier session's): judged once its posture is held
            wait_for_start=calibration is None and cal is not None,
            gap_fill=self.gap_fill,
        )

    def apply_settings(self, settings: Settings) -> None:
        """Swap in a pipeline for new settings; the calibration is kept if the exercise is
        the same (and the user), else the stored one is used or a guided calibration starts."""
        old = self.pipeline.current
        self.settings = settings
        keep = (
            old.calibration
            if old.exercise.name == settings.exercise and old.user == settings.user
            else None
        )
        self.pipeline.replace(self.build_pipeline(keep))

    def restart_pipeline(self) -> None:
        """A fresh pipeline with the same calibration (after a replay seek or loop: time jumps)."""
        self.pipeline.replace(self.build_pipeline(self.pipeline.current.calibration))

    def save_calibration(self, cal: Calibration) -> str | None:
        """Save ``cal`` to the store; returns the path (None without a store)."""
        if self.calibration_store is None:
            return None
        if self._saved is not None and self._saved[0] is cal:
            return self._saved[1]
        cal.user = self.settings.user
        path = str(self.calibration_store.save(cal))
        self._saved = (cal, path)
        return path

    def start_calibration(self) -> LiveCalibrator:
        """Restart the guided calibration (standing, then the start posture)."""
        return self.pipeline.current.start_calibration()

    def capture_calibration(self) -> Calibration | None:
        """Capture the guided calibration's current step from the last seconds of data, now
        (the wizard's countdown ended); raises ``CalibrationRefused`` with the reason. When
        the last step is captured the pipeline takes the calibration and it is returned."""
        return self.pipeline.current.capture_calibration()

    def wearable_tick_supported(self) -> bool:
        """Whether a connected wearable's firmware profile has a ``tick`` alert (the tempo
        cue's beat); sources without profiles (replays, imports) have none."""
        links = getattr(self.source, "links", None) or {}
        return any("tick" in getattr(link.profile, "alerts", {}) for link in links.values())

    def send_tick(self) -> bool:
        """Send the wearable's ``tick`` (never blocks); False when no profile has one."""
        if not self.wearable_tick_supported():
            return False
        try:
            self.source.alert("tick")
        except Exception:  # the cue on the computer must not depend on it
            log.exception("wearable tick failed")
            return False
        return True

    def start(self) -> None:
        if not self.running:
            self.session.start()
            self.running = True

    def stop(self) -> None:
        if self.running:
            self.running = False
            self.session.stop()
