"""``imu-monitor mark FILE``: add an annotation to a recording afterwards (kept in the file)."""

from __future__ import annotations

import argparse
import math

from imu_monitor.app.calibration_windows import runs_from
from imu_monitor.cli.common import (
    add_read_options,
    finite_number,
    load_for_command,
    non_negative_number,
)
from imu_monitor.errors import ImuMonitorError, UsageError
from imu_monitor.exercises import EXERCISES
from imu_monitor.model import Marker, Recording
from imu_monitor.storage.recording import add_marker

MARKER_KINDS = ("note", "set_start", "set_end")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "mark",
        help="add a marker (set start/end, exercise, load, side, note) to a recording",
        description="Append an annotation to a recording; the samples are not touched. Markers "
        "show in replay and analysis, and 'imu-monitor mark FILE --list' lists them.",
    )
    p.add_argument("file", help="recording file")
    p.add_argument("--at", type=finite_number("seconds"), metavar="S", help="time of the marker")
    p.add_argument(
        "--until", type=finite_number("seconds"), metavar="S", help="end time, for a stretch"
    )
    p.add_argument("--kind", default="note", choices=MARKER_KINDS)
    p.add_argument("--text", default="", help="free note")
    p.add_argument("--exercise", choices=list(EXERCISES), help="exercise of the set")
    p.add_argument("--load-kg", type=load_kg, help=f"external load in kg (0 to {MAX_LOAD_KG:g})")
    p.add_argument("--side", choices=("left", "right", "both"), help="working side")
    p.add_argument("--list", action="store_true", help="list the markers and exit")
    add_read_options(p)
    p.set_defaults(func=run)


MAX_LOAD_KG = 1000.0
"""The heaviest load a marker takes (kg): past the hip thrust's records."""
TIME_SLACK_S = 0.005
"""A marker time may lie this far outside the first and last samples: the range is printed to
the hundredth of a second (a first sample at 0.0003 s reads 0.00, and --at 0 is inside it)."""


def load_kg(text: str) -> float:
    """argparse type: a load in kg, 0 to ``MAX_LOAD_KG``."""
    value = non_negative_number("kilograms")(text)
    if value > MAX_LOAD_KG:
        raise argparse.ArgumentTypeError(f"expected kilograms up to {MAX_LOAD_KG:g}, not {text!r}")
    return value


def check_marker_times(at: float, until: float | None, rec: Recording, path: str) -> None:
    """Refuse marker times outside the recording's time range (within ``TIME_SLACK_S``), or an
    end not after the start (a usage error)."""
    time_span = rec.time_span()
    if time_span is None:
        raise ImuMonitorError(f"{path} holds no samples, so there is no time to mark")
    first, last = time_span
    span = f"the recording {runs_from(first, last)}"
    for option, value in (("--at", at), ("--until", until)):
        if value is None:
            continue
        if not math.isfinite(value):
            raise ImuMonitorError(f"{option} {value}: give a time in seconds ({span})")
        if not first - TIME_SLACK_S <= value <= last + TIME_SLACK_S:
            raise ImuMonitorError(f"{option} {value:g} s is outside {path}: {span}")
    if until is not None and until <= at:
        raise UsageError(
            f"--until {until:g} s is not after --at {at:g} s; a marked stretch ends after it starts"
        )


def run(args: argparse.Namespace) -> int:
    if args.list:
        rec = load_for_command(args.file, args)
        for m in sorted(rec.markers, key=lambda m: m.t_s):
            span = "" if m.t_end_s is None else f"-{m.t_end_s:.2f}"
            extra = ", ".join(f"{k}={v}" for k, v in m.data.items())
            print(f"{m.t_s:8.2f}{span} s  {m.kind}  {extra}")
        return 0
    if args.at is None:
        raise UsageError("give the marker's time with --at SECONDS (or use --list)")
    rec = load_for_command(args.file, args)  # (a marker is appended: the damage stays as it was)
    check_marker_times(args.at, args.until, rec, args.file)
    data = {
        k: v
        for k, v in {
            "text": args.text,
            "exercise": args.exercise,
            "load_kg": args.load_kg,
            "side": args.side,
        }.items()
        if v not in (None, "")
    }
    add_marker(
        args.file, Marker(args.at, args.kind, args.until, data), allow_partial=args.allow_partial
    )
    print(f"marked {args.file}: {args.kind} at {args.at:g} s")
    return 0
