"""``imu-monitor replay FILE``: play a recording through the live pipeline.

With ``--headless`` events are printed as they happen (``--json``: one JSON object per line) and
a summary at the end; without it the dashboard opens on the recording.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from imu_monitor.app.config import user_stores
from imu_monitor.app.replay import rep_starts_of, replay_pipeline
from imu_monitor.app.session import Session
from imu_monitor.app.sources import Replay, replay_source
from imu_monitor.cli.common import (
    add_analysis_options,
    exercise_and_limits,
    limit_overrides,
    print_json,
    replay_speed,
    window_options,
)
from imu_monitor.cli.console import EventPrinter
from imu_monitor.events import MonitorMode
from imu_monitor.model import Recording
from imu_monitor.processing.pipeline import Pipeline
from imu_monitor.storage.recording import load_recording


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "replay",
        help="replay a recording through the live pipeline (dashboard or --headless)",
        description="Play a recording as if it were live: in real time, faster (--speed 4), or "
        "as fast as possible (--speed max). Options re-analyse with other settings.",
    )
    p.add_argument("file", help="recording file")
    p.add_argument(
        "--speed", type=replay_speed, default=1.0, help="1 (real time), 2, 4x, ... or max"
    )
    p.add_argument("--loop", action="store_true", help="start over at the end")
    p.add_argument("--headless", action="store_true", help="no window: print events")
    p.add_argument("--json", action="store_true", help="with --headless: JSON lines")
    p.add_argument("--start", type=float, default=0.0, metavar="S", help="start at this time")
    p.add_argument("--exit-after", type=float, metavar="S", help="close the window after S s")
    p.add_argument("--screenshot", metavar="PNG", help="save a PNG of the window on exit")
    add_analysis_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    rec = load_recording(args.file)
    exercise, _ = exercise_and_limits(args, rec.exercise)
    pipeline, notes = replay_pipeline(rec, exercise)
    replay = replay_source(rec, speed=args.speed, loop=args.loop, start_s=args.start)
    if not args.headless:
        return run_dashboard(args, rec, replay, pipeline, notes)
    if not args.json:
        for n in notes:
            print(f"note: {n}")
        if pipeline.mode == MonitorMode.LOCKOUT:
            print(f"note: {pipeline.exercise.one_sensor_note}")
    pipeline.add_listener(EventPrinter(as_json=args.json))
    if args.start and replay.start_s != args.start:
        print(
            f"note: --start {args.start:g} s is past the end: clamped to {replay.start_s:g} s",
            file=sys.stderr,
        )
    session = Session(replay.source, pipeline, wearable_alerts=False)
    session.start()
    try:
        replay.source.finished.wait()
    except KeyboardInterrupt:
        pass
    session.stop()
    summary = pipeline.summary()
    if args.json:
        print_json({"type": "summary", **summary})
    else:
        print(
            f"summary: {summary['reps']} reps, {summary['reps_alarmed']} alarmed, "
            f"{summary['reps_too_fast']} too fast, {summary['alarms']} alarms"
        )
    return 0


def run_dashboard(
    args: argparse.Namespace, rec: Recording, replay: Replay, pipeline: Pipeline, notes: list[str]
) -> int:
    # the UI is imported only here, so that headless replays never load Qt
    from imu_monitor.ui.app import run_replay

    settings_store, _ = user_stores(getattr(args, "config_dir", None))
    settings = limit_overrides(args).onto(
        settings_store.load(getattr(args, "user", None)), pipeline.exercise.name
    )
    settings.exercise = pipeline.exercise.name
    return run_replay(
        rec,
        replay,
        pipeline,
        settings,
        options=window_options(args),
        notes=notes,
        rep_starts=rep_starts_of(rec, pipeline.calibration),
        title=f"replay: {Path(args.file).name}",
    )
