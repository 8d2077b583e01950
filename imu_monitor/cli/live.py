"""``imu-monitor live``: monitor a live session from BLE wearables (or the simulated one).

``--headless`` prints alarms and reps as they happen and a summary at the end (``--json``: one
JSON object per line); without it the dashboard opens (``imu_monitor.ui.app.run_live``).
``--device sim`` (the default when no device is named) streams the simulated wearable through
the real bleak client code (``sources.ble_sim`` is a bleak backend).

Sensors: ``--sensors 1|2|3`` (sacrum; + upper lumbar; + thigh) or
``--sensors sacrum=NAME,upper_lumbar=NAME`` naming each placement's device (name or address,
or ``sim``).
"""

from __future__ import annotations

import argparse
import json
import logging
import queue
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from imu_monitor import __version__
from imu_monitor.app.config import user_stores
from imu_monitor.app.session import Session
from imu_monitor.app.sources import LiveSource, SimulatedPerson, live_source, parse_sensors
from imu_monitor.cli.common import add_window_options, positive_factor, window_options
from imu_monitor.cli.console import EventPrinter
from imu_monitor.exercises import EXERCISES
from imu_monitor.processing.pipeline import Pipeline
from imu_monitor.sources.base import SourceStatus
from imu_monitor.storage.recording import RecordingWriter

log = logging.getLogger(__name__)

POLL_S = 0.05
"""How often the headless main loop checks the duration and the calibration prompt (host s)."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "live",
        help="monitor a live session from BLE wearables or the simulated one",
        description="Connect the wearable(s), calibrate neutral (stand still, then hold the "
        "exercise's start position) and alarm when the lumbar spine leaves neutral.",
    )
    p.add_argument(
        "--device",
        metavar="NAME|ADDRESS|sim",
        help="the wearable (name or address from 'imu-monitor scan'); default: sim",
    )
    p.add_argument("--profile", metavar="P", help="firmware profile (default: from the scan)")
    p.add_argument(
        "--exercise", default="back-kick", choices=sorted(EXERCISES), help="default: back-kick"
    )
    p.add_argument(
        "--sensors",
        default="1",
        metavar="N|PLACEMENT=DEVICE,...",
        help="1, 2 or 3 sensors (sacrum; + upper_lumbar; + thigh), or placement=device pairs",
    )
    p.add_argument("--headless", action="store_true", help="no window: print events")
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    p.add_argument("--record", metavar="FILE", help="record the session to FILE (.imr)")
    p.add_argument("--json", action="store_true", help="with --headless: JSON lines")
    p.add_argument("--user", default="default", help="whose calibration and settings")
    add_window_options(p, with_user=False)
    p.add_argument(
        "--use-saved-calibration",
        action="store_true",
        help="reuse this user's saved calibration for the exercise instead of calibrating "
        "(only if the sensors are strapped on as before)",
    )
    p.add_argument("--no-alert", action="store_true", help="do not alert on the wearable")
    sim = p.add_argument_group("simulated wearable (--device sim)")
    sim.add_argument("--seed", type=int, default=0, help="simulated session seed")
    sim.add_argument(
        "--speed",
        type=positive_factor,
        default=1.0,
        help="simulated time per real time (default 1)",
    )
    sim.add_argument("--reps", type=int, default=10, help="reps per simulated session")
    sim.add_argument("--faulty", type=int, default=3, help="faulty reps per simulated session")
    p.set_defaults(func=run)


# ---------------------------------------------------------------------------------- headless


class _Output:
    """Prints events, status changes and calibration prompts (text or JSON lines)."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.events = EventPrinter(as_json=as_json)
        self.status: queue.Queue[SourceStatus] = queue.Queue()

    def line(self, kind: str, message: str, **data: Any) -> None:
        """``message`` for people; with --json the ``data`` (which may have its own text)."""
        if self.as_json:
            print(json.dumps({"type": kind, **data}, default=str), flush=True)
        else:
            print(message, flush=True)

    def on_status(self, status: SourceStatus) -> None:
        self.status.put(status)  # printed by the main thread

    def drain(self) -> None:
        while True:
            try:
                status = self.status.get_nowait()
            except queue.Empty:
                return
            extra = f" (attempt {status.attempt})" if status.attempt is not None else ""
            if status.battery_pct is not None:  # state "battery": the new level
                extra = f" {status.battery_pct} %"
            if status.message:
                extra += f": {status.message}"
            self.line(
                "status",
                f"{status.sensor}: {status.state.replace('_', ' ')}{extra}",
                **status.to_dict(),
            )


def build_source(args: argparse.Namespace) -> LiveSource:
    """The wearables ``--sensors`` / ``--device`` name (the simulated one: doing what the
    simulation options say)."""
    person = SimulatedPerson(args.exercise, args.seed, args.speed, args.reps, args.faulty)
    return live_source(
        parse_sensors(args.sensors, args.device), profile=args.profile, person=person
    )


def run(args: argparse.Namespace) -> int:
    if not args.headless:
        return run_dashboard(args)
    return run_headless(args)


def run_dashboard(args: argparse.Namespace) -> int:
    # the UI is imported only here, so that headless sessions never load Qt
    from imu_monitor.ui.app import run_live

    live = build_source(args)
    settings_store, cal_store = user_stores(args.config_dir, simulated=live.world is not None)
    settings = settings_store.load(args.user)
    settings.exercise = args.exercise
    return run_live(
        live,
        settings,
        settings_store=settings_store,
        calibration_store=cal_store,
        options=window_options(args),
        wearable_alerts=not args.no_alert,
        record=None if args.record is None else Path(args.record),
        profile=args.profile,
    )


def run_headless(args: argparse.Namespace) -> int:
    out = _Output(args.json)
    live = build_source(args)
    source, world = live.source, live.world
    source.open()  # scan + connect: errors name the device and what was found
    recorder = None
    try:
        if args.record:
            meta = {
                "format_version": 1,
                "exercise": args.exercise,
                "source": "sim" if world is not None else "ble",
                "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
                "app_version": __version__,
                "user": args.user,
            }
            if world is not None:
                meta["simulation"] = {"seed": args.seed, "reps": args.reps, "faulty": args.faulty}
            recorder = RecordingWriter(args.record, meta, source.sensors)
        _, store = user_stores(args.config_dir, simulated=world is not None)
        saved = store.load(args.user, args.exercise) if args.use_saved_calibration else None
        if saved is not None:
            saved.valid_from_s = None  # made in an earlier session: judge from the start
            text = f"using the saved calibration of {saved.created_utc} ({saved.method})"
            out.line("calibration", text, step="done", text=text)
        elif args.use_saved_calibration:
            text = f"no saved calibration for user {args.user!r} and {args.exercise}: calibrating"
            out.line("calibration", text, step="standing", text=text)
        pipeline = Pipeline(
            args.exercise, source.sensors, calibration=saved, user=args.user, recorder=recorder
        )
        pipeline.add_listener(out.events)
        session = Session(
            source, pipeline, wearable_alerts=not args.no_alert, on_status=out.on_status
        )
        for s in source.sensors.values():
            out.line(
                "connected",
                f"{s.placement}: {s.device} ({s.profile}, {s.rate_hz:g} Hz)",
                **s.to_dict(),
            )
        if pipeline.mode == "lockout":
            out.line(
                "note",
                f"note: {pipeline.exercise.one_sensor_note}",
                text=pipeline.exercise.one_sensor_note,
            )
        session.start()
        prompt = None
        # the simulated wearable may run faster than processing keeps up: go by its data
        elapsed = source.stream_time if world is not None else source.session_time
        try:
            while args.duration is None or elapsed() < args.duration:
                time.sleep(POLL_S)
                out.drain()
                cal = pipeline.calibrator
                text = cal.prompt if cal is not None else None
                if text is not None and text != prompt:
                    out.line("calibration", text, step=cal.step, prompt=text)
                if cal is None and prompt is not None:
                    path = store.save(pipeline.calibration)
                    out.line(
                        "calibration",
                        f"Calibrated: monitoring (saved to {path})",
                        step="done",
                        saved=str(path),
                    )
                prompt = text
        except KeyboardInterrupt:
            pass
        session.stop()
        out.drain()
    finally:
        if recorder is not None:
            recorder.close()
        source.stop()
    summary = pipeline.summary()
    summary["duration_s"] = round(elapsed(), 3)
    summary["sensors_stats"] = source.stats()
    summary["wearable_alerts"] = len(session.alerts_sent)
    if args.record:
        summary["recording"] = args.record
    if args.json:
        print(json.dumps({"type": "summary", **summary}, default=_jsonable), flush=True)
    else:
        print(
            f"summary: {summary['reps']} reps, {summary['reps_alarmed']} alarmed, "
            f"{summary['reps_too_fast']} too fast, {summary['alarms']} alarms, "
            f"{summary['wearable_alerts']} wearable alerts, {summary['duration_s']:.1f} s"
        )
        for p, st in summary["sensors_stats"].items():
            lat = st["latency_ms"]
            p99 = f"{lat['p99']:.2f} ms" if lat["p99"] is not None else "n/a"
            pct = st.get("battery_pct")
            battery = f"{pct} %" if pct is not None else "unknown"
            print(
                f"  {p}: {st['samples']} samples, {st['packets']} packets, "
                f"loss {100 * st['loss_fraction']:.1f} %, {st['malformed_total']} malformed, "
                f"{st['reconnects']} reconnects, {st['effective_rate_hz']:.1f} Hz, "
                f"latency p99 {p99}, battery {battery}"
            )
        if args.record:
            print(f"  recorded to {args.record}")
    return 0


def _jsonable(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
