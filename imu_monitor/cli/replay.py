"""``imu-monitor replay FILE``: play a recording through the live pipeline.

With ``--headless`` events are printed as they happen (``--json``: one JSON object per line) and
a summary at the end; without it the dashboard opens on the recording.
"""

from __future__ import annotations

import argparse
import sys

from imu_monitor.cli.common import (
    add_analysis_options,
    exercise_and_limits,
    print_json,
    replay_speed,
)


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


def replay_pipeline(rec, args: argparse.Namespace):
    """The pipeline for a replay: the recording's calibration, or one computed from it."""
    from imu_monitor.processing.calibration import Calibration, calibrate_recording
    from imu_monitor.processing.pipeline import Pipeline

    ex, limits = exercise_and_limits(args, rec.exercise)
    notes: list[str] = []
    if rec.calibration is not None and rec.calibration.get("exercise") == ex.name:
        cal = Calibration.from_dict(rec.calibration)
        notes.append("calibration: the one stored in the recording")
    else:
        cal = calibrate_recording(rec, ex)
        notes.append(f"calibration computed from the recording ({cal.method})")
        notes.extend(cal.notes)
    return Pipeline(ex, rec.sensors, calibration=cal, limits=limits), notes


def run(args: argparse.Namespace) -> int:
    if not args.headless:
        from imu_monitor.ui.app import run_replay

        return run_replay(args)
    from imu_monitor.app.session import Session
    from imu_monitor.cli.console import EventPrinter
    from imu_monitor.sources.replay import ReplaySource, ReplayThreadSource
    from imu_monitor.storage.recording import load_recording

    rec = load_recording(args.file)
    pipeline, notes = replay_pipeline(rec, args)
    if not args.json:
        for n in notes:
            print(f"note: {n}")
        if pipeline.mode == "lockout":
            print(f"note: {pipeline.exercise.one_sensor_note}")
    pipeline.add_listener(EventPrinter(as_json=args.json))
    replay = ReplaySource(rec, speed=args.speed, loop=args.loop)
    if args.start:
        clamped = replay.seek(args.start)
        if clamped != args.start:
            print(
                f"note: --start {args.start:g} s is past the end: clamped to {clamped:g} s",
                file=sys.stderr,
            )
    source = ReplayThreadSource(replay)
    session = Session(source, pipeline, wearable_alerts=False)
    session.start()
    try:
        source.finished.wait()
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
