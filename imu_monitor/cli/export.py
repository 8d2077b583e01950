"""``imu-monitor export FILE --csv OUT``: samples, orientation, angles and events as CSV."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from imu_monitor.cli.common import add_analysis_options, exercise_and_limits
from imu_monitor.errors import ImuMonitorError
from imu_monitor.processing.analysis import analyze_recording
from imu_monitor.storage.export import (
    events_path,
    export_columns,
    export_meta,
    meta_path,
    write_csv,
    write_events_csv,
    write_meta_json,
)
from imu_monitor.storage.recording import load_recording


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export a recording as CSV (samples, orientation, angles, events)",
        description="Write one row per sacrum sample: time, raw channels, each sensor's "
        "orientation quaternion (w, x, y, z), the lumbar angle, and the true lumbar angle for "
        "simulated recordings. Events go to OUT's name with .events.csv; meta data, "
        "calibration, markers and recorded events to OUT's name with .meta.json (so "
        "`imu-monitor import OUT --format csv` gives the recording back). Columns: see "
        "docs/recording-format.md and imu_monitor/storage/export.py.",
    )
    p.add_argument("file", help="recording file")
    p.add_argument("--csv", required=True, metavar="OUT", help="CSV file to write")
    p.add_argument(
        "--force", action="store_true", help="overwrite OUT and the files beside it if they exist"
    )
    p.add_argument(
        "--allow-partial",
        action="store_true",
        help="export what is valid in a damaged recording (the damage is reported)",
    )
    add_analysis_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    outputs = (Path(args.csv), events_path(args.csv), meta_path(args.csv))
    if not args.force:
        there = [str(p) for p in outputs if p.exists() and not p.is_dir()]
        if there:
            raise ImuMonitorError(f"{', '.join(there)} exist(s); pass --force to overwrite")
    rec = load_recording(args.file, allow_partial=args.allow_partial)
    if rec.meta.get("load_warning"):
        print(f"warning: {rec.meta['load_warning']}", file=sys.stderr)
    ex, limits = exercise_and_limits(args, rec.exercise)
    an = analyze_recording(rec, exercise=ex, limits=limits, offline=not args.online)
    cols = export_columns(rec, an)
    write_csv(args.csv, cols)
    _, ev_path, m_path = outputs
    write_events_csv(ev_path, an.result.events)
    write_meta_json(m_path, export_meta(rec, an.placements, len(cols["t_s"])))
    print(
        f"wrote {args.csv} ({len(cols['t_s'])} rows, {len(cols)} columns), {ev_path} and {m_path}"
    )
    if an.calibration.windows_guessed:  # the angles rest on it: say so, and how to do better
        print(f"  note: {an.calibration.notes[0]}")
    return 0
