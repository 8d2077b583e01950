"""``imu-monitor report FILE -o report.html``: a session report, one self-contained HTML file;
``imu-monitor report --progress --user U -o progress.html``: a user's progress from the
history."""

from __future__ import annotations

import argparse
from pathlib import Path

from imu_monitor.cli.common import (
    add_analysis_options,
    add_force_option,
    add_read_options,
    check_output,
    exercise_and_limits,
    load_for_command,
    progress,
)
from imu_monitor.cli.history import add_history_options, simulated_history_note
from imu_monitor.errors import ImuMonitorError, UsageError
from imu_monitor.report.progress import progress_html
from imu_monitor.report.write import write_session_report
from imu_monitor.storage.history import HistoryStore
from imu_monitor.storage.stores import write_private

REPORTED_SAMPLES_PER_S = 80_000
"""Rough speed of analysis and report together (samples of all sensors per second), to decide
whether a progress indicator is worth showing."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="write a session report: one HTML file that opens offline in any browser",
        description="Analyse a recording and write a self-contained HTML report: summary, sets, "
        "the lumbar angle with limits and alarms, excursion per rep, tempo against the target, "
        "form drift, and the measurement quality (neutral capture, drift, loss, gaps, clock "
        "offsets, calibration). No network is needed to view it. With --progress: a user's "
        "progress over the sessions in the history (good-rep rate, peak excursion, tempo "
        "adherence per exercise).",
    )
    p.add_argument("file", nargs="?", help="recording file (not with --progress)")
    p.add_argument(
        "--progress",
        action="store_true",
        help="report a user's progress from the history instead of one session",
    )
    p.add_argument("--user", help="with --progress: whose sessions (needed when several users)")
    p.add_argument("-o", "--output", required=True, metavar="OUT.html", help="the report file")
    add_force_option(p)
    add_analysis_options(p)
    add_read_options(p)
    add_history_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.progress:
        return run_progress(args)
    if args.user is not None:
        raise UsageError("--user is for --progress (a session report names its own user)")
    if not args.file:
        raise UsageError("give the recording to report on: imu-monitor report FILE -o OUT.html")
    out = check_output(args.output, force=args.force, option="-o")
    rec = load_for_command(args.file, args, needs_sacrum=True)
    ex, limits = exercise_and_limits(args, rec.exercise)
    samples = sum(len(s) for s in rec.series.values())
    with progress(f"reporting on {args.file}", None, samples / REPORTED_SAMPLES_PER_S):
        report = write_session_report(
            rec, out, source=Path(args.file).name, exercise=ex, limits=limits,
            offline=not args.online,
        )  # fmt: skip
    s = report.summary
    print(
        f"report written to {out} ({out.stat().st_size / 1e6:.2f} MB): {s['reps']} "
        f"rep{'s' if s['reps'] != 1 else ''}, {s['reps_alarmed']} with an alarm, {s['alarms']} "
        f"alarm{'s' if s['alarms'] != 1 else ''}"
    )
    return 0


def run_progress(args: argparse.Namespace) -> int:
    """``report --progress``: the user's sessions in the history, per exercise."""
    if args.file:
        raise UsageError(f"--progress reports from the history, not a file ({args.file!r})")
    out = check_output(args.output, force=args.force, option="-o")
    store = HistoryStore(args.data_dir)
    user = args.user
    if user is None:
        users = store.users()
        if not users:
            raise ImuMonitorError(_no_sessions("no sessions", store, args))
        if len(users) != 1:
            raise UsageError(
                "--progress: whose? give --user"
                + (f" (users in the history: {', '.join(users)})" if users else "")
            )
        user = users[0]
    rows = store.sessions(user=user, exercise=args.exercise)
    if not rows:
        what = f"{user}'s {args.exercise} sessions" if args.exercise else f"sessions of {user}"
        raise ImuMonitorError(_no_sessions(f"no {what}", store, args))
    write_private(out, progress_html(user, rows))
    exercises = sorted({r.exercise for r in rows})
    n = len(rows)
    print(
        f"progress report written to {out}: {n} session{'s' if n > 1 else ''} of {user} "
        f"({', '.join(exercises)})"
    )
    return 0


def _no_sessions(what: str, store: HistoryStore, args: argparse.Namespace) -> str:
    note = "" if args.data_dir else simulated_history_note(args.user, args.exercise)
    return (
        f"{what} in the history {store.path}; record sessions or index recordings with: "
        "imu-monitor history add DIR" + (f" ({note})" if note else "")
    )
