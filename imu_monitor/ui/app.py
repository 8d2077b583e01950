"""Opening the dashboard: ``run_live`` (BLE or simulated wearables) and ``run_replay``.

The sources, stores and pipelines come built from ``imu_monitor.app``; this module only makes
the Qt application and the window. ``WindowOptions``: ``exit_after_s`` closes the window after
that many seconds; ``screenshot`` saves a PNG of the window just before closing (with no
display, the offscreen platform is chosen, so the UI can be checked on a headless machine).
"""

from __future__ import annotations

import gc
import logging
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QTimer
from PySide6.QtWidgets import QApplication

from imu_monitor.app.calibrated_source import DeviceCalibratedSource, settings_calibrated
from imu_monitor.app.dashboard import DashboardSession
from imu_monitor.app.platform import use_offscreen_for_screenshot
from imu_monitor.app.sources import LiveSource, Replay
from imu_monitor.errors import ScreenshotError
from imu_monitor.model import Recording
from imu_monitor.processing.pipeline import Pipeline
from imu_monitor.settings import Settings
from imu_monitor.storage.history import HistoryStore
from imu_monitor.storage.stores import CalibrationStore, SettingsStore
from imu_monitor.ui.device_panel import DevicePanel
from imu_monitor.ui.gui_gc import collect_on_gui_thread
from imu_monitor.ui.main_window import DashboardWindow
from imu_monitor.ui.notices import show_calibration_notes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WindowOptions:
    """``exit_after_s``: close the window after this many seconds (None: when the user does);
    ``screenshot``: save a PNG of the window on exit."""

    exit_after_s: float | None = None
    screenshot: Path | None = None

    def prepare(self) -> None:
        """Before the QApplication exists: offscreen rendering for a screenshot without a
        display."""
        if self.screenshot is not None:
            use_offscreen_for_screenshot()


def application() -> Any:
    """The QApplication (created once); from then on Python's cyclic garbage is collected on
    the GUI thread only (``gui_gc``)."""
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "imu-monitor"])
        app.setApplicationName("imu-monitor")
        app.setApplicationDisplayName("imu-monitor")
    collect_on_gui_thread()
    return app


def save_screenshot(window: Any, path: str | Path) -> Path:
    """Render ``window`` (after a final frame) to a PNG at ``path``."""
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    window.tick()
    pixmap = window.grab()
    if not pixmap.save(str(path), "PNG"):
        raise ScreenshotError(f"cannot write the screenshot {path}; check the directory")
    return path


def run_window(
    window: Any, options: WindowOptions, *, before_exit: Callable[[], None] | None = None
) -> int:
    """Show ``window`` and run the event loop; honours ``--exit-after`` and ``--screenshot``.
    Ctrl-C and SIGTERM close the window as its close button does (recording ended, screenshot
    taken); the exit code is then 130 / 143."""
    app = application()
    window.show()
    errors: list[Exception] = []
    received: list[int] = []
    exit_after = options.exit_after_s
    screenshot = options.screenshot

    def finish() -> None:
        try:
            if before_exit is not None:
                before_exit()
            if screenshot:
                p = save_screenshot(window, screenshot)
                print(f"screenshot: {p}")
        except Exception as e:  # reported after the loop ends
            errors.append(e)
        window.close()
        app.quit()

    def on_signal(signum: int, frame: object) -> None:
        received.append(signum)
        QTimer.singleShot(0, finish)

    if exit_after is not None:
        QTimer.singleShot(int(max(0.0, exit_after) * 1000), finish)
    elif screenshot:
        app.aboutToQuit.connect(lambda: save_screenshot(window, screenshot))
    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    wake = QTimer()  # Python runs its signal handlers only when it gets control
    wake.timeout.connect(lambda: None)
    wake.start(200)
    try:
        app.exec()
    finally:
        wake.stop()
        for s, h in previous.items():
            signal.signal(s, h)
    window.shutdown()
    dispose(window)
    if errors:
        raise errors[0]
    return 128 + received[0] if received else 0


def dispose(window: Any) -> None:
    """Delete ``window`` and its children now, and collect the Python garbage they leave, while
    the QApplication still exists. Left to the interpreter's exit, a widget that a reference
    cycle keeps alive (automatic collection is off for good, ``gui_gc``) is destroyed in
    whatever order finalisation takes, possibly after the application: PySide's classic crash at
    exit. ``replay --exit-after 0.5 --screenshot`` in a fresh clone's test run once ended on
    SIGSEGV after it had printed its screenshot line (``tests/ui/test_sound.py``; no stack, and
    not seen again in about 700 runs)."""
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


class DashboardLsl:
    """The live dashboard's LSL outlets: ``lsl(sensors, pipeline, wait)`` opens them fed by a
    session; when the device panel switches wearables (``DashboardWindow.session_listeners``)
    they close and reopen for the new session's sensors, without waiting for a recorder."""

    def __init__(self, lsl: Callable[..., Any]) -> None:
        self._lsl = lsl
        self.outlets: Any | None = None

    def open(self, session: DashboardSession, wait: bool = False) -> None:
        self.close()
        self.outlets = self._lsl(session.source.sensors, session.pipeline, wait)
        if self.outlets is not None:
            session.marker_listeners.append(self.outlets.marker)

    def close(self) -> None:
        if self.outlets is not None:
            self.outlets.close()
            self.outlets = None


def run_live(
    live: LiveSource,
    settings: Settings,
    *,
    settings_store: SettingsStore,
    calibration_store: CalibrationStore,
    options: WindowOptions,
    wearable_alerts: bool = True,
    use_stored: bool = True,
    record: Path | None = None,
    recordings_dir: Path = Path("recordings"),
    title: str | None = None,
    profile: str | None = None,
    lsl: Callable[..., Any] | None = None,
    history: HistoryStore | None = None,
    procedure_source: Callable[[dict[str, str]], Any] | None = None,
) -> int:
    """The dashboard on BLE wearables or the simulated one. ``live.source`` is opened here,
    before the window (errors name the device); ``record`` records from the start, the Record
    button at any time; recordings are indexed into ``history`` when they end.
    ``lsl(sensors, pipeline, wait)``: opens LSL outlets fed by the session (``wait``: for
    ``--lsl-wait``'s recorder; not when the device panel switches wearables, where the outlets
    reopen for the new sensors without holding the window up). ``procedure_source(devices)``:
    those wearables doing the device calibration's procedure (the Devices panel's Device
    calibration…, whose folders go into ``recordings_dir``)."""
    options.prepare()
    application()
    source, world = live.source, live.world
    source.open()  # scan + connect (blocking, a few seconds at most)
    notes: list[str] = []
    if not isinstance(source, DeviceCalibratedSource):  # --device-cal takes the settings' place
        source, notes = settings_calibrated(source, settings.device_cal_folder)
    try:
        ds = DashboardSession(
            source,
            settings,
            calibration_store=calibration_store,
            wearable_alerts=wearable_alerts,
            use_stored=use_stored,
        )

        def device_panel(window: Any) -> DevicePanel:
            return DevicePanel(
                window,
                world=world,
                profile=profile,
                procedure_source=procedure_source,
                calibration_dir=recordings_dir,
            )

        window = DashboardWindow(
            ds,
            settings_store=settings_store,
            recordings_dir=recordings_dir,
            device_panel_factory=device_panel,
            history=history,
            title=title or ("simulated wearable" if world is not None else "live"),
            start=False,
        )
        for note in notes:  # the settings' device calibration folder, where it did not fit
            window.notices.notify(note, action=True)
        if record is not None:
            window.start_recording(record)
        outlets = None if lsl is None else DashboardLsl(lsl)
        if outlets is not None:
            outlets.open(ds, wait=True)
            window.session_listeners.append(outlets.open)
        ds.start()
    except BaseException:
        source.stop()  # (a calibrated source stops the one it wraps)
        raise
    try:
        return run_window(window, options)
    finally:
        if outlets is not None:
            outlets.close()


def run_replay(
    rec: Recording,
    replay: Replay,
    pipeline: Pipeline,
    settings: Settings,
    *,
    options: WindowOptions,
    notes: list[str],
    rep_starts: list[float],
    title: str,
    lsl: Callable[[dict, Any], Any] | None = None,
) -> int:
    """The dashboard on a recording, with replay controls (``replay.player``); ``lsl`` as for
    ``run_live``."""
    options.prepare()
    application()
    ds = DashboardSession(
        replay.source,
        settings,
        calibration=pipeline.calibration,
        use_stored=False,
        wearable_alerts=False,
        gap_fill=False,  # (a replay judges as analyze does)
    )
    window = DashboardWindow(ds, replay=replay.player, rep_starts=rep_starts, title=title)
    show_calibration_notes(window.notices, notes)  # a guess on the line, the rest in details
    outlets = None if lsl is None else lsl(rec.sensors, ds.pipeline)
    try:
        return run_window(window, options)
    finally:
        if outlets is not None:
            outlets.close()
