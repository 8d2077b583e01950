"""``imu-monitor replay FILE``: play a recording through the live pipeline.

With ``--headless`` events and the recording's markers are printed as playing reaches them
(``--json``: one JSON object per line, the last one the summary); without it the dashboard opens
on the recording (with no display: headless, with a note).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import Any

from imu_monitor.app.config import user_stores
from imu_monitor.app.platform import has_display
from imu_monitor.app.replay import rep_starts_of, replay_pipeline
from imu_monitor.app.session import Session
from imu_monitor.app.sources import Replay, replay_source
from imu_monitor.cli.common import (
    add_analysis_options,
    add_read_options,
    dashboard,
    exercise_and_limits,
    exit_code_after,
    for_user,
    json_line,
    limit_overrides,
    load_for_command,
    non_negative_number,
    progress,
    replay_speed,
    set_overrides_onto,
    window_options,
)
from imu_monitor.cli.console import EventPrinter, Output, format_marker, marker_dict
from imu_monitor.cli.lsl_option import add_lsl_options, check_lsl_options, open_lsl
from imu_monitor.events import MonitorMode
from imu_monitor.model import Marker, Recording, SampleChunk
from imu_monitor.processing.pipeline import Pipeline

WAKE_S = 0.1
"""How often the main thread wakes while the replay plays (progress, Ctrl-C, --exit-after)."""


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
    p.add_argument("--json", action="store_true", help="with --headless: one JSON object per line")
    p.add_argument(
        "--start",
        type=non_negative_number("seconds"),
        default=0.0,
        metavar="S",
        help="start at this time",
    )
    p.add_argument(
        "--exit-after",
        type=non_negative_number("seconds"),
        metavar="S",
        help="close the window after S s",
    )
    p.add_argument("--screenshot", metavar="PNG", help="save a PNG of the window on exit")
    add_analysis_options(p)
    add_read_options(p)
    add_lsl_options(p)
    p.set_defaults(func=run)


class _Markers:
    """Prints the recording's markers as playing reaches them (before the chunk that passes
    them, in the feeding thread), the rest at the end."""

    def __init__(self, markers: list[Marker], out: Output, lsl: Any = None) -> None:
        self.pending = sorted(markers, key=lambda m: m.t_s)
        self.out = out
        self.lsl = lsl
        self.shown = 0
        self._lock = threading.Lock()

    def before_feed(self, chunk: SampleChunk) -> None:
        self.show_until(float(chunk.t_s[-1]))

    def show_until(self, t_s: float) -> None:
        with self._lock:
            while self.pending and self.pending[0].t_s <= t_s:
                m = self.pending.pop(0)
                self.shown += 1
                self.out.record("marker", format_marker(m), **marker_dict(m))
                if self.lsl is not None:
                    self.lsl.marker(m)


def run(args: argparse.Namespace) -> int:
    check_lsl_options(args)
    rec = load_for_command(args.file, args, needs_sacrum=True)
    exercise, _ = exercise_and_limits(args, rec.exercise)
    pipeline, notes = replay_pipeline(rec, exercise)
    replay = replay_source(rec, speed=args.speed, loop=args.loop, start_s=args.start)
    if args.headless:
        return run_headless(args, rec, replay, pipeline, notes)
    if not has_display() and args.screenshot is None:
        print(
            "imu-monitor replay: no display for the dashboard: replaying headless (events "
            "printed here); for the window run it on a desktop, or add --screenshot FILE.png",
            file=sys.stderr,
        )
        return run_headless(args, rec, replay, pipeline, notes)
    return run_dashboard(args, rec, replay, pipeline, notes)


def run_headless(
    args: argparse.Namespace, rec: Recording, replay: Replay, pipeline: Pipeline, notes: list[str]
) -> int:
    out = Output(args.json)
    for n in notes:
        out.record("note", f"note: {n}", text=n)
    if pipeline.mode == MonitorMode.LOCKOUT:
        n = pipeline.exercise.one_sensor_note
        out.record("note", f"note: {n}", text=n)
    if args.start and replay.start_s != args.start:
        print(
            f"note: --start {args.start:g} s is past the end: clamped to {replay.start_s:g} s",
            file=sys.stderr,
        )
    player = replay.player
    start_t = player.t0_s + replay.start_s
    pipeline.add_listener(EventPrinter(output=out, judged=lambda: pipeline.sets.last))
    lsl = open_lsl(args, rec.sensors, pipeline, out, source=Path(args.file).name)
    # from the start given; without one, every marker (one may come a moment before the first
    # sample, as a standing capture's at 0 s)
    shown = [m for m in rec.markers if m.t_s >= start_t or not replay.start_s]
    markers = _Markers(shown, out, lsl)
    session = Session(
        replay.source, pipeline, wearable_alerts=False, before_feed=markers.before_feed
    )
    length = max(0.0, player.duration_s - replay.start_s)
    expected = None if args.speed is None or args.loop else length / args.speed
    deadline = None if args.exit_after is None else time.monotonic() + args.exit_after
    interrupted: KeyboardInterrupt | None = None
    session.start()
    try:
        with progress(f"replay {Path(args.file).name}", length, expected) as bar:
            while not replay.source.finished.wait(WAKE_S):
                bar.update(player.position_s - replay.start_s)
                if out.closed.is_set() or (deadline is not None and time.monotonic() > deadline):
                    break
    except KeyboardInterrupt as e:  # Ctrl-C or SIGTERM (cli.main): close as at the end
        interrupted = e
    played_to_the_end = replay.source.finished.is_set()
    session.stop()
    if played_to_the_end:
        markers.show_until(float("inf"))
    if lsl is not None:
        lsl.close()
    if out.closed.is_set():
        raise BrokenPipeError  # the reader went away: main ends quietly
    summary = pipeline.summary()
    summary["markers"] = markers.shown
    if args.json:
        out.write(json_line({"type": "summary", **for_user(summary)}))
    else:
        out.write(
            f"summary: {summary['good_reps']} good of {summary['reps']} reps, "
            f"{summary['reps_alarmed']} alarmed, "
            f"{summary['reps_too_fast']} too fast, {summary['alarms']} alarms, "
            f"{summary['markers']} markers"
        )
    if out.closed.is_set():
        raise BrokenPipeError
    return exit_code_after(interrupted)


def run_dashboard(
    args: argparse.Namespace, rec: Recording, replay: Replay, pipeline: Pipeline, notes: list[str]
) -> int:

    settings_store, _ = user_stores(getattr(args, "config_dir", None))
    settings = limit_overrides(args).onto(
        settings_store.load(getattr(args, "user", None)), pipeline.exercise.name
    )
    settings = set_overrides_onto(args, settings, pipeline.exercise.name)
    settings.exercise = pipeline.exercise.name
    return dashboard().run_replay(
        rec,
        replay,
        pipeline,
        settings,
        options=window_options(args),
        notes=notes,
        rep_starts=rep_starts_of(rec, pipeline.calibration),
        title=f"replay: {Path(args.file).name}",
        lsl=None
        if not args.lsl
        else lambda sensors, p: open_lsl(args, sensors, p, None, source=Path(args.file).name),
    )
