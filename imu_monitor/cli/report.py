"""``imu-monitor report FILE -o report.html``: a session report, one self-contained HTML file."""

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
from imu_monitor.errors import UsageError
from imu_monitor.report.write import write_session_report

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
        "offsets, calibration). No network is needed to view it.",
    )
    p.add_argument("file", nargs="?", help="recording file")
    p.add_argument("-o", "--output", required=True, metavar="OUT.html", help="the report file")
    add_force_option(p)
    add_analysis_options(p)
    add_read_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.file:
        raise UsageError("give the recording to report on: imu-monitor report FILE -o OUT.html")
    out = check_output(args.output, force=args.force, option="-o")
    rec = load_for_command(args.file, args)
    ex, limits = exercise_and_limits(args, rec.exercise)
    samples = sum(len(s) for s in rec.series.values())
    with progress(f"reporting on {args.file}", None, samples / REPORTED_SAMPLES_PER_S):
        report = write_session_report(
            rec, out, source=Path(args.file).name, exercise=ex, limits=limits,
            offline=not args.online,
        )  # fmt: skip
    s = report.summary
    print(
        f"report written to {out} ({out.stat().st_size / 1e6:.2f} MB): {s['reps']} reps, "
        f"{s['reps_alarmed']} with an alarm, {s['alarms']} alarms"
    )
    return 0
