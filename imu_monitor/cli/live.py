"""``imu-monitor live``: monitor a live session from BLE wearables (or the simulated one).

``--headless`` prints alarms and reps as they happen and a summary at the end (``--json``: one
JSON object per line); without it the dashboard opens (``imu_monitor.ui.app.run_live``).
``--device sim`` (the default when no device is named) streams the simulated wearable through
the real bleak client code (``sources.sim`` is a bleak backend).

Sensors: ``--sensors 1|2|3`` (sacrum; + upper lumbar; + thigh) or
``--sensors sacrum=NAME,upper_lumbar=NAME`` naming each placement's device (name or address,
or ``sim``).
"""

from __future__ import annotations

import argparse
import logging
import queue
import sys
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from imu_monitor import __version__
from imu_monitor.app.calibrated_source import DeviceCalibratedSource, calibrations_in
from imu_monitor.app.config import history_store, user_stores
from imu_monitor.app.history import index_session
from imu_monitor.app.platform import has_display
from imu_monitor.app.session import Session
from imu_monitor.app.sources import (
    LiveSource,
    SimulatedPerson,
    live_source,
    parse_sensors,
    procedure_wearables,
)
from imu_monitor.cli.common import (
    add_force_option,
    add_window_options,
    check_output,
    check_profile_option,
    count,
    dashboard,
    exit_code_after,
    for_user,
    json_line,
    positive_factor,
    positive_number,
    window_options,
)
from imu_monitor.cli.console import EventPrinter, Output
from imu_monitor.cli.history import add_history_options
from imu_monitor.cli.lsl_option import add_lsl_options, check_lsl_options, open_lsl
from imu_monitor.errors import ImuMonitorError, UsageError
from imu_monitor.exercises import EXERCISES
from imu_monitor.processing.pipeline import Pipeline
from imu_monitor.processing.quality import slow_rate_note
from imu_monitor.processing.start_gate import PROMPT as START_PROMPT
from imu_monitor.sources.base import SourceStatus
from imu_monitor.storage.recording import RecordingWriter

log = logging.getLogger(__name__)

WAKE_S = 0.05
"""How often the headless main loop wakes without news to check the duration (host s); the
calibration steps and status changes themselves arrive on a queue, none is missed."""


FAULTY = 3
"""The simulated wearer's faulty reps per session unless ``--faulty`` says otherwise."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "live",
        help="monitor a live session from BLE wearables or the simulated one",
        description="Connect the wearable(s), calibrate neutral (stand still, then hold the "
        "exercise's start position) and alarm when the lumbar spine leaves neutral.",
    )
    add_wearable_options(p)
    p.add_argument(
        "--exercise", default="back-kick", choices=sorted(EXERCISES), help="default: back-kick"
    )
    p.add_argument("--headless", action="store_true", help="no window: print events")
    p.add_argument(
        "--duration",
        type=positive_number("seconds"),
        metavar="S",
        help="stop after S seconds (default: at Ctrl-C)",
    )
    p.add_argument("--record", metavar="FILE", help="record the session to FILE (.imr)")
    add_force_option(p)
    p.add_argument("--json", action="store_true", help="with --headless: JSON lines")
    p.add_argument("--user", default="default", help="whose calibration and settings")
    add_window_options(p, with_user=False)
    add_history_options(p)
    p.add_argument(
        "--use-saved-calibration",
        action="store_true",
        help="reuse this user's saved calibration for the exercise instead of calibrating "
        "(only if the sensors are strapped on as before)",
    )
    p.add_argument(
        "--tempo-cue",
        action="store_true",
        help="dashboard: a short tick at each phase change the target tempo asks for (up, hold, "
        "down), on the computer's sound and, where its profile has one, the wearable's tick",
    )
    p.add_argument("--no-alert", action="store_true", help="do not alert on the wearable")
    p.add_argument(
        "--device-cal",
        metavar="DIR",
        help="calibrate each wearable's samples with its <sensor>.json in DIR, written by "
        "'device-cal measure' (README, 'Device calibration'); the recording says so",
    )
    add_lsl_options(p)
    add_simulated_wearer_options(p.add_argument_group("simulated wearable (--device sim)"))
    p.set_defaults(func=run)


def add_simulated_wearer_options(group: Any) -> None:
    """``--seed``, ``--speed``, ``--reps`` and ``--faulty``: the simulated wearer's session
    (``live``; ``device-cal record``, whose wearables are then live's; ``build_source`` and
    ``check_simulation`` read them)."""
    group.add_argument("--seed", type=int, default=0, help="simulated session seed")
    group.add_argument(
        "--speed",
        type=positive_factor,
        default=1.0,
        help="simulated time per real time (default 1)",
    )
    group.add_argument("--reps", type=count(1), default=10, help="reps per simulated session")
    group.add_argument(
        "--faulty",
        type=count(0),
        default=None,
        help=f"faulty reps per simulated session (default {FAULTY}, or every rep with fewer "
        "--reps)",
    )


def add_wearable_options(p: argparse.ArgumentParser, sensors_note: str = "") -> None:
    """``--device``, ``--profile`` and ``--sensors``: which wearables to stream (``live``,
    ``device-cal record``; ``parse_sensors`` reads them)."""
    p.add_argument(
        "--device",
        metavar="NAME|ADDRESS|sim",
        help="the wearable (name or address from 'imu-monitor scan'); default: sim",
    )
    p.add_argument("--profile", metavar="P", help="firmware profile (default: from the scan)")
    p.add_argument(
        "--sensors",
        default="1",
        metavar="N|PLACEMENT=DEVICE,...",
        help="1, 2 or 3 sensors (sacrum; + upper_lumbar; + thigh), or placement=device pairs"
        + sensors_note,
    )


# ---------------------------------------------------------------------------------- headless


class _Messages:
    """Status changes and calibration steps from the source's thread, printed by the main
    thread in the order they happened."""

    def __init__(self) -> None:
        self.queue: queue.Queue[tuple[str, Any, Any]] = queue.Queue()

    def on_status(self, status: SourceStatus) -> None:
        self.queue.put(("status", status, None))

    def on_calibration(self, step: str, prompt: str) -> None:
        self.queue.put(("calibration", step, prompt))


def build_source(args: argparse.Namespace, *, procedure: bool = False) -> LiveSource:
    """The wearables ``--sensors`` / ``--device`` name (the simulated one: doing what the
    simulation options say, or with ``procedure`` the device calibration's procedure); with
    ``--device-cal``, their samples calibrated."""
    person = SimulatedPerson(
        args.exercise, args.seed, args.speed, args.reps, args.faulty, procedure=procedure
    )
    live = live_source(
        parse_sensors(args.sensors, args.device), profile=args.profile, person=person
    )
    if getattr(args, "device_cal", None) is None:
        return live
    cals = calibrations_in(args.device_cal, list(live.source.sensors))
    return replace(live, source=DeviceCalibratedSource(live.source, cals))


def run(args: argparse.Namespace) -> int:
    check_profile_option(args.profile)
    if args.headless:
        return run_headless(args)
    if not has_display() and args.screenshot is None:
        print(
            "imu-monitor live: no display for the dashboard: running headless (events printed "
            "here); for the window run it on a desktop, or add --screenshot FILE.png",
            file=sys.stderr,
        )
        if args.exit_after is not None and args.duration is None:
            args.duration = args.exit_after
        return run_headless(args)
    return run_dashboard(args)


def run_dashboard(args: argparse.Namespace) -> int:
    check_simulation(args)
    check_lsl_options(args)

    record = None
    if args.record is not None:
        record = check_output(args.record, force=args.force, option="--record")
        if args.force:
            record.unlink(missing_ok=True)
    return open_dashboard(args, build_source(args), record=record, profile=args.profile)


def open_dashboard(args: argparse.Namespace, live: LiveSource, **extra: Any) -> int:
    """The dashboard on ``live`` (``live`` and ``demo``), with the user's settings for
    ``args.exercise`` and the window, alert, LSL and history options; a simulated source has its
    own settings, calibrations and history, apart from the real wearables'. ``extra``: further
    ``run_live`` arguments. The Devices panel's Device calibration… gets the same wearables
    (the simulated wearer doing the procedure instead)."""
    simulated = live.world is not None
    person = None
    if simulated:
        person = SimulatedPerson(args.exercise, args.seed, args.speed, args.reps, args.faulty)
    profile = getattr(args, "profile", None)
    extra.setdefault(
        "procedure_source",
        lambda devices: procedure_wearables(devices, person=person, profile=profile),
    )
    settings_store, cal_store = user_stores(args.config_dir, simulated=simulated)
    settings = settings_store.load(args.user)
    settings.exercise = args.exercise
    settings.tempo_cue = settings.tempo_cue or args.tempo_cue
    return dashboard().run_live(
        live,
        settings,
        settings_store=settings_store,
        calibration_store=cal_store,
        options=window_options(args),
        wearable_alerts=not args.no_alert,
        lsl=lsl_request(args),
        history=history_store(args.data_dir, simulated=simulated),
        **extra,
    )


def lsl_request(args: argparse.Namespace) -> Any:
    """``fn(sensors, pipeline, wait)`` opening the LSL outlets for the dashboard (None without
    ``--lsl``); ``wait``: hold for ``--lsl-wait``'s recorder (not when reopening them for
    switched wearables)."""
    if not getattr(args, "lsl", False):
        return None
    no_wait = argparse.Namespace(**{**vars(args), "lsl_wait": None})
    return lambda sensors, pipeline, wait=True: open_lsl(
        args if wait else no_wait, sensors, pipeline, None
    )


def check_simulation(args: argparse.Namespace, faulty: int = FAULTY) -> None:
    """The simulated wearer's options, checked before anything connects; ``--faulty`` not given
    is ``faulty``, or every rep when ``--reps`` is less."""
    if args.faulty is None:
        args.faulty = min(faulty, args.reps)
    elif getattr(args, "device", None) in (None, "sim") and args.faulty > args.reps:
        raise UsageError(f"--faulty {args.faulty} is more than --reps {args.reps}")


def run_headless(args: argparse.Namespace) -> int:
    check_simulation(args)
    check_lsl_options(args)
    out = Output(args.json)
    record = None
    if args.record:
        record = check_output(args.record, force=args.force, option="--record")
    live = build_source(args)
    source, world = live.source, live.world
    source.open()  # scan + connect: errors name the device and what was found
    recorder = None
    lsl = None
    interrupted: KeyboardInterrupt | None = None
    try:
        if record is not None:
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
            if isinstance(source, DeviceCalibratedSource):
                meta["device_calibration"] = source.device_calibration
            if args.force:
                record.unlink(missing_ok=True)
            recorder = RecordingWriter(record, meta, source.sensors)
        _, store = user_stores(args.config_dir, simulated=world is not None)
        saved = store.load(args.user, args.exercise) if args.use_saved_calibration else None
        if saved is not None:
            saved.valid_from_s = None  # made in an earlier session: judged once it is held
            text = (
                f"using the saved calibration of {saved.created_utc} ({saved.method}): "
                f"{START_PROMPT}"
            )
            out.record("calibration", text, step="done", text=text)
        elif args.use_saved_calibration:
            text = f"no saved calibration for user {args.user!r} and {args.exercise}: calibrating"
            out.record("calibration", text, step="standing", text=text)
        pipeline = Pipeline(
            args.exercise,
            source.sensors,
            calibration=saved,
            user=args.user,
            recorder=recorder,
            wait_for_start=saved is not None,
        )
        pipeline.add_listener(EventPrinter(output=out, judged=lambda: pipeline.sets.last))
        lsl = open_lsl(args, source.sensors, pipeline, out)
        messages = _Messages()
        session = Session(
            source,
            pipeline,
            wearable_alerts=not args.no_alert,
            on_status=messages.on_status,
            on_calibration=messages.on_calibration,
        )
        for s in source.sensors.values():
            out.record(
                "connected",
                f"{s.placement}: {s.device} ({s.profile}, {s.rate_hz:g} Hz)",
                **s.to_dict(),
            )
        notes = [pipeline.exercise.one_sensor_note] if pipeline.mode == "lockout" else []
        slow = slow_rate_note({p: s.rate_hz for p, s in source.sensors.items()})
        if slow is not None:
            notes.append(slow)
        for note in notes:
            out.record("note", f"note: {note}", text=note)
        if pipeline.calibrator is not None:
            cal = pipeline.calibrator
            out.record("calibration", cal.prompt, step=cal.step, prompt=cal.prompt)
        # the simulated wearable may run faster than processing keeps up: go by its data
        elapsed = source.stream_time if world is not None else source.session_time
        session.start()
        try:
            while (args.duration is None or elapsed() < args.duration) and not out.closed.is_set():
                _print_messages(messages, out, pipeline, store, wait_s=WAKE_S)
        except KeyboardInterrupt as e:  # Ctrl-C or SIGTERM (cli.main): close as at the end
            interrupted = e
        session.stop()
        _print_messages(messages, out, pipeline, store, wait_s=None)
    finally:
        if recorder is not None:
            recorder.close()
        source.stop()
        if lsl is not None:
            lsl.close()
    history = None
    if recorder is not None:
        history = _index(args, recorder, meta, pipeline, elapsed())
    _print_summary(args, out, pipeline, session, source, elapsed(), history)
    return exit_code_after(interrupted)


def _print_messages(
    messages: _Messages, out: Output, pipeline: Pipeline, store: Any, wait_s: float | None
) -> None:
    """Print what the source's thread reported: wait up to ``wait_s`` for the first message
    (None: do not wait), then everything queued."""
    try:
        item = messages.queue.get(timeout=wait_s) if wait_s else messages.queue.get_nowait()
    except queue.Empty:
        return
    while True:
        kind, a, b = item
        if kind == "status":
            status = a
            extra = f" (attempt {status.attempt})" if status.attempt is not None else ""
            if status.battery_pct is not None:  # state "battery": the new level
                extra = f" {status.battery_pct} %"
            if status.message:
                extra += f": {status.message}"
            out.record(
                "status",
                f"{status.sensor}: {status.state.replace('_', ' ')}{extra}",
                **status.to_dict(),
            )
        elif a == "done":
            path = store.save(pipeline.calibration)
            out.record(
                "calibration",
                f"Calibrated: monitoring (saved to {path})",
                step="done",
                saved=str(path),
            )
        else:
            out.record("calibration", b, step=a, prompt=b)
        try:
            item = messages.queue.get_nowait()
        except queue.Empty:
            return


def _index(
    args: argparse.Namespace,
    recorder: RecordingWriter,
    meta: dict[str, Any],
    pipeline: Pipeline,
    duration_s: float,
) -> dict[str, Any]:
    """Put the recorded session into the history; a history that cannot be written is a note
    in the summary (the recording is safe either way)."""
    store = history_store(getattr(args, "data_dir", None), simulated=meta.get("source") == "sim")
    try:
        row = index_session(store, recorder.path, meta, pipeline.summary(), duration_s)
    except (ImuMonitorError, OSError) as e:
        return {"database": str(store.path), "error": str(e)}
    return {"database": str(store.path), "id": row.id, "user": row.user}


def _print_summary(
    args: argparse.Namespace,
    out: Output,
    pipeline: Pipeline,
    session: Session,
    source: Any,
    duration_s: float,
    history: dict[str, Any] | None = None,
) -> None:
    summary = pipeline.summary()
    summary["duration_s"] = round(duration_s, 3)
    summary["sensors_stats"] = source.stats()
    summary["wearable_alerts"] = len(session.alerts_sent)
    if args.record:
        summary["recording"] = args.record
    if history is not None:
        summary["history"] = history
    if args.json:
        out.write(json_line({"type": "summary", **for_user(summary)}))
        return
    out.write(
        f"summary: {summary['good_reps']} good of {summary['reps']} reps, "
        f"{summary['reps_alarmed']} alarmed, "
        f"{summary['reps_too_fast']} too fast, {summary['alarms']} alarms, "
        f"{summary['wearable_alerts']} wearable alerts, {summary['duration_s']:.1f} s"
    )
    for p, st in summary["sensors_stats"].items():
        lat = st["latency_ms"]
        p99 = f"{lat['p99']:.2f} ms" if lat["p99"] is not None else "n/a"
        pct = st.get("battery_pct")
        battery = f"{pct} %" if pct is not None else "unknown"
        out.write(
            f"  {p}: {st['samples']} samples, {st['packets']} packets, "
            f"loss {100 * st['loss_fraction']:.1f} %, {st['malformed_total']} malformed, "
            f"{st['reconnects']} reconnects, {st['effective_rate_hz']:.1f} Hz, "
            f"latency p99 {p99}, battery {battery}"
        )
    if args.record:
        out.write(f"  recorded to {args.record}")
    if history is not None and "error" in history:
        out.write(f"  not put into the history: {history['error']}")
    elif history is not None:
        out.write(f"  in the history of {history['user']} ({history['database']})")
