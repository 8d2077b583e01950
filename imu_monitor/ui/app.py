"""Entry points that open the dashboard: ``run_demo``, ``run_live``, ``run_replay``.

Each takes the parsed CLI arguments. Common options: ``--exit-after S`` closes the window after S
seconds; ``--screenshot FILE`` saves a PNG of the window just before closing (with no display and
no ``QT_QPA_PLATFORM`` set, the offscreen platform is chosen automatically, so the UI can be
checked on a headless machine).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from imu_monitor.errors import ImuMonitorError, ScreenshotError

log = logging.getLogger(__name__)


def add_window_options(p: argparse.ArgumentParser, *, with_user: bool = True) -> None:
    """``--exit-after``, ``--screenshot``, ``--user`` (unless the command has its own) and
    ``--config-dir`` (for the dashboard)."""
    p.add_argument("--exit-after", type=float, metavar="S", help="close the window after S s")
    p.add_argument("--screenshot", metavar="PNG", help="save a PNG of the window on exit")
    add_config_options(p, with_user=with_user)


def add_config_options(p: argparse.ArgumentParser, *, with_user: bool = True) -> None:
    if with_user:
        p.add_argument(
            "--user", help="whose settings and calibrations to use (default: the last one)"
        )
    p.add_argument(
        "--config-dir",
        type=Path,
        help="settings/calibration directory (default: the platform's user config directory)",
    )


def prepare_platform(args: argparse.Namespace) -> None:
    """Choose the offscreen Qt platform when a screenshot is asked for and there is no display."""
    if getattr(args, "screenshot", None) and "QT_QPA_PLATFORM" not in os.environ:
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and (
            sys.platform.startswith("linux")
        ):
            os.environ["QT_QPA_PLATFORM"] = "offscreen"


def application() -> Any:
    """The QApplication (created once)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "imu-monitor"])
        app.setApplicationName("imu-monitor")
        app.setApplicationDisplayName("imu-monitor")
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
    window: Any, args: argparse.Namespace, *, before_exit: Callable[[], None] | None = None
) -> int:
    """Show ``window`` and run the event loop; honours ``--exit-after`` and ``--screenshot``."""
    from PySide6.QtCore import QTimer

    app = application()
    window.show()
    errors: list[Exception] = []
    exit_after = getattr(args, "exit_after", None)
    screenshot = getattr(args, "screenshot", None)

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

    if exit_after is not None:
        QTimer.singleShot(int(max(0.0, exit_after) * 1000), finish)
    elif screenshot:
        app.aboutToQuit.connect(lambda: save_screenshot(window, screenshot))
    app.exec()
    window.shutdown()
    if errors:
        raise errors[0]
    return 0


def _stores(args: argparse.Namespace) -> tuple[Any, Any]:
    """Settings and calibration stores under ``--config-dir`` (default: the platform's)."""
    from imu_monitor.storage.stores import CalibrationStore, SettingsStore

    base = getattr(args, "config_dir", None)
    return SettingsStore(base), CalibrationStore(
        None if base is None else Path(base) / "calibrations"
    )


def _settings(args: argparse.Namespace, store: Any, exercise: str | None = None) -> Any:
    settings = store.load(getattr(args, "user", None))
    if exercise is not None:
        settings.exercise = exercise
    o = settings.overrides()
    for arg, field_name in (
        ("flexion_limit", "flexion_deg"),
        ("extension_limit", "extension_deg"),
        ("dwell", "dwell_s"),
    ):
        value = getattr(args, arg, None)
        if value is not None:
            setattr(o, field_name, float(value))
    return settings


# -- live and demo --------------------------------------------------------------------------------


def run_live(args: argparse.Namespace) -> int:
    """``imu-monitor live`` without ``--headless``: the dashboard on BLE wearables (or the
    simulated one, ``--device sim``). Connects before the window opens (errors name the
    device); ``--record FILE`` records from the start, the Record button at any time."""
    prepare_platform(args)
    app = application()
    from imu_monitor.app.dashboard import DashboardSession
    from imu_monitor.cli.live import build_source
    from imu_monitor.ui.main_window import DashboardWindow

    settings_store, cal_store = _stores(args)
    settings = _settings(args, settings_store, exercise=args.exercise)
    source, world = build_source(args)
    source.kind = "sim" if world is not None else "ble"  # type: ignore[attr-defined]
    source.open()  # scan + connect (blocking, a few seconds at most)
    try:
        ds = DashboardSession(
            source,
            settings,
            calibration_store=cal_store,
            wearable_alerts=not getattr(args, "no_alert", False),
            use_stored=getattr(args, "use_stored", True),
        )
        window = DashboardWindow(
            ds,
            settings_store=settings_store,
            recordings_dir=Path(getattr(args, "recordings_dir", None) or "recordings"),
            device_panel_factory=_device_panel_factory(args, world),
            title=getattr(args, "title", None) or ("simulated wearable" if world else "live"),
            start=False,
        )
        if getattr(args, "record", None):
            window.start_recording(Path(args.record))
        ds.start()
    except BaseException:
        source.stop()
        raise
    del app
    return run_window(window, args)


def _device_panel_factory(args: argparse.Namespace, world: Any) -> Callable[[Any], Any]:
    def make(window: Any) -> Any:
        from imu_monitor.ui.device_panel import DevicePanel

        return DevicePanel(window, world=world, profile=getattr(args, "profile", None))

    return make


def run_demo(args: argparse.Namespace) -> int:
    """``imu-monitor demo``: the dashboard on the simulated wearable (the real BLE client code
    against the simulated bleak backend) doing reps with some faulty ones. The wearer stands,
    gets into the start position (the guided calibration captures both), then the reps run
    in a loop. Calibrations go to a separate demo store so they never replace real ones."""
    live_args = argparse.Namespace(**vars(args))
    defaults = {
        "device": "sim",
        "profile": None,
        "sensors": str(args.sensors),
        "record": None,
        "no_alert": False,
        "title": "demo: simulated wearable",
        "use_stored": False,
    }
    for k, v in defaults.items():
        if not hasattr(live_args, k) or k == "sensors":
            setattr(live_args, k, v)
    if getattr(args, "config_dir", None) is None:
        import platformdirs

        live_args.config_dir = Path(platformdirs.user_config_dir("imu-monitor")) / "demo"
    return run_live(live_args)


# -- replay ---------------------------------------------------------------------------------------


def rep_starts_of(rec: Any, calibration: Any = None) -> list[float]:
    """Rep start times (recording clock): the recorded events, else the simulation's truth,
    else a quick batch analysis of the recording."""
    starts = [float(e["t_start_s"]) for e in rec.events if e.get("type") == "rep_ended"]
    if starts:
        return starts
    if rec.truth is not None and rec.truth.reps:
        return [float(r.t_start_s) for r in rec.truth.reps]
    try:
        from imu_monitor.processing.pipeline import analyze_recording

        analysis = analyze_recording(rec, calibration=calibration, offline=False)
        return [float(r.t_start_s) for r in analysis.result.reps]
    except ImuMonitorError as e:
        log.warning("no rep list for the replay controls: %s", e)
        return []


def run_replay(args: argparse.Namespace) -> int:
    """``imu-monitor replay FILE``: the dashboard on a recording, with replay controls."""
    prepare_platform(args)
    app = application()
    from imu_monitor.app.dashboard import DashboardSession
    from imu_monitor.cli.replay import replay_pipeline
    from imu_monitor.sources.replay import ReplaySource, ReplayThreadSource
    from imu_monitor.storage.recording import load_recording
    from imu_monitor.ui.main_window import DashboardWindow

    rec = load_recording(args.file)
    pipeline, notes = replay_pipeline(rec, args)
    settings_store, _ = _stores(args)
    settings = _settings(args, settings_store, exercise=pipeline.exercise.name)
    replay = ReplaySource(rec, speed=args.speed, loop=args.loop)
    if args.start:
        replay.seek(args.start)
    source = ReplayThreadSource(replay)
    ds = DashboardSession(
        source, settings, calibration=pipeline.calibration, use_stored=False, wearable_alerts=False
    )
    window = DashboardWindow(
        ds,
        replay=replay,
        rep_starts=rep_starts_of(rec, pipeline.calibration),
        title=f"replay: {Path(args.file).name}",
    )
    window.notices.add_details(notes)  # technical: behind the notice line's "details"
    del app
    return run_window(window, args)
