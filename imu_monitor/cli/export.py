"""``imu-monitor export FILE --csv OUT | --bids DIR | --opensim DIR | --c3d OUT``: the analysed
recording as CSV, BIDS-motion, OpenSim/OpenSense orientation files or C3D (any of them in one
call: the recording is analysed once)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from imu_monitor.cli.common import add_analysis_options, exercise_and_limits
from imu_monitor.errors import ImuMonitorError, UsageError
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
from imu_monitor.storage.exports.bids import write_bids
from imu_monitor.storage.exports.c3d import write_c3d
from imu_monitor.storage.exports.opensim import write_opensim
from imu_monitor.storage.recording import load_recording


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export a recording as CSV, BIDS-motion, OpenSim .sto or C3D",
        description="--csv: one row per sacrum sample: time, raw channels, each sensor's "
        "orientation quaternion (w, x, y, z), the lumbar angle, and the true lumbar angle for "
        "simulated recordings. Events go to OUT's name with .events.csv; meta data, "
        "calibration, markers and recorded events to OUT's name with .meta.json (so "
        "`imu-monitor import OUT --format csv` gives the recording back). Columns: see "
        "docs/recording-format.md and imu_monitor/storage/export.py. --bids: a BIDS dataset "
        "(Motion modality) with the channels, events, scans and participants files. --opensim: "
        "OpenSense orientation and calibration .sto files (segment frames, ISB axes, Y up). "
        "--c3d: analog channels per sensor, the angles, and the events. Formats: "
        "imu_monitor/storage/exports/.",
    )
    p.add_argument("file", help="recording file")
    p.add_argument("--csv", metavar="OUT", help="CSV file to write")
    p.add_argument("--bids", metavar="DIR", help="BIDS dataset folder to write into")
    p.add_argument("--opensim", metavar="DIR", help="folder for the OpenSense .sto files")
    p.add_argument("--c3d", metavar="OUT", help="C3D file to write")
    p.add_argument(
        "--subject",
        metavar="LABEL",
        help="BIDS subject label (default: the recording's user, else 01)",
    )
    p.add_argument("--session", metavar="LABEL", help="BIDS session label (default: none)")
    p.add_argument(
        "--name",
        metavar="NAME",
        default="imu",
        help="--opensim file names: NAME_orientations.sto, NAME_calibration.sto",
    )
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
    if not (args.csv or args.bids or args.opensim or args.c3d):
        raise UsageError("give at least one of --csv OUT, --bids DIR, --opensim DIR, --c3d OUT")
    _refuse_shared_outputs(args)
    if not args.force:
        outputs = [Path(args.c3d)] if args.c3d else []
        if args.csv:
            outputs += [Path(args.csv), events_path(args.csv), meta_path(args.csv)]
        there = [str(p) for p in outputs if p.exists() and not p.is_dir()]
        if there:
            raise ImuMonitorError(f"{', '.join(there)} exist(s); pass --force to overwrite")
    rec = load_recording(args.file, allow_partial=args.allow_partial)
    if rec.meta.get("load_warning"):
        print(f"warning: {rec.meta['load_warning']}", file=sys.stderr)
    ex, limits = exercise_and_limits(args, rec.exercise)
    an = analyze_recording(rec, exercise=ex, limits=limits, offline=not args.online)
    if args.csv:
        cols = export_columns(rec, an)
        write_csv(args.csv, cols)
        ev_path, m_path = events_path(args.csv), meta_path(args.csv)
        write_events_csv(ev_path, an.result.events)
        write_meta_json(
            m_path, export_meta(rec, an.placements, len(cols["t_s"]), an.calibration.to_dict())
        )
        print(
            f"wrote {args.csv} ({len(cols['t_s'])} rows, {len(cols)} columns), {ev_path} and "
            f"{m_path}"
        )
    if args.bids:
        files = write_bids(
            rec, an, args.bids, subject=args.subject, session=args.session, force=args.force
        )
        print(f"wrote BIDS-motion into {args.bids} ({len(files)} files; {files[0]})")
    if args.opensim:
        files, what = write_opensim(rec, an, args.opensim, name=args.name, force=args.force)
        print(
            f"wrote {files[0]} and {files[1]} (calibration row: mean over {what}); "
            "IMU placer: sensor_to_opensim_rotations 0 0 0, base_imu_label pelvis_imu, "
            "base_heading_axis x"
        )
    if args.c3d:
        kept, left = write_c3d(rec, an, args.c3d, force=args.force)
        print(
            f"wrote {args.c3d} ({kept} events"
            + (
                f"; {left} more left out: a C3D EVENT group holds at most 255, the phase and "
                "alarm channels carry them all)"
                if left
                else ")"
            )
        )
    if an.calibration.windows_guessed:  # the angles rest on it: say so, and how to do better
        print(f"  note: {an.calibration.notes[0]}")
    return 0


def _refuse_shared_outputs(args: argparse.Namespace) -> None:
    """Two options naming the same file or folder (``--csv same.csv --c3d same.csv``): one
    would overwrite the other after the first had been written."""
    named: dict[Path, str] = {}
    outputs = [("--c3d", args.c3d), ("--bids", args.bids), ("--opensim", args.opensim)]
    if args.csv:
        outputs += [("--csv", args.csv), ("--csv's events file", events_path(args.csv))]
        outputs += [("--csv's meta file", meta_path(args.csv))]
    for option, path in outputs:
        if not path:
            continue
        key = Path(path).resolve()
        if key in named:
            raise UsageError(
                f"{named[key]} and {option} both name {path}; give each output its own name"
            )
        named[key] = option
