"""``imu-monitor calibrate FILE --stand A-B --pose C-D``: give a recording's calibration windows
(seconds) when the program cannot know them; they are checked, written into the recording as
calibration markers (used by ``analyze``, ``replay`` and the dashboard) and the calibration
they give is printed. ``import --calibration`` does the same at import (``calibration_option``).
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from imu_monitor.app.calibration_windows import (
    Window,
    existing_calibration,
    set_calibration_windows,
)
from imu_monitor.cli.common import add_read_options, load_for_command, print_json
from imu_monitor.cli.console import marker_dict
from imu_monitor.errors import ImuMonitorError
from imu_monitor.exercises import EXERCISES, get_exercise
from imu_monitor.processing.calibration import Calibration
from imu_monitor.storage.recording import add_marker, save_recording

_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"
_WINDOW = re.compile(rf"^\s*{_NUMBER}\s*-\s*{_NUMBER}\s*$")


def parse_window(text: str, option: str, example: str = "5.8-8.2", unit: str = "seconds") -> Window:
    """``A-B`` (in ``unit``, A before B) as a ``Window`` labelled ``option text``; argparse's
    ``ArgumentTypeError`` (a usage error, its message showing ``option example``) when
    malformed."""
    m = _WINDOW.match(text)
    if m is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a range; give FROM-TO in {unit}, e.g. {option} {example}"
        )
    t0, t1 = float(m[1]), float(m[2])
    if t1 <= t0:
        raise argparse.ArgumentTypeError(f"{text!r} ends before it starts; give FROM-TO")
    return Window(t0, t1, f"{option} {t0:g}-{t1:g}")


def window_option(option: str, example: str = "5.8-8.2", unit: str = "seconds"):
    def parse(text: str) -> Window:
        return parse_window(text, option, example, unit)

    return parse


def calibration_option(text: str) -> tuple[Window | None, Window]:
    """``STAND_FROM-TO,POSE_FROM-TO`` or ``POSE_FROM-TO`` (``import --calibration``)."""
    parts = text.split(",")
    if len(parts) > 2:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give STAND_FROM-TO,POSE_FROM-TO or POSE_FROM-TO (seconds)"
        )
    pose = parse_window(parts[-1], "--calibration pose")
    stand = parse_window(parts[0], "--calibration standing") if len(parts) == 2 else None
    return stand, pose


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "calibrate",
        help="give a recording's calibration windows (standing, start posture) in seconds",
        description="Write the calibration windows of a recording whose captures the program "
        "cannot know (an imported file): --stand, standing upright and still (optional), and "
        "--pose, still in the exercise's calibration posture. Each window must lie inside the "
        "recording and every sensor must be still over it. They are stored as calibration "
        "markers, which analyze, replay and the dashboard use instead of guessing.",
    )
    p.add_argument("file", help="recording file (.imr); changed in place")
    p.add_argument(
        "--pose",
        required=True,
        type=window_option("--pose"),
        metavar="C-D",
        help="seconds C to D: still in the exercise's calibration posture",
    )
    p.add_argument(
        "--stand",
        type=window_option("--stand"),
        metavar="A-B",
        help="seconds A to B: standing upright, still (without it a sensor's alignment about "
        "the vertical comes from the movement, else is assumed)",
    )
    p.add_argument(
        "--exercise",
        choices=list(EXERCISES),
        help="the exercise's calibration posture (default: recorded)",
    )
    p.add_argument(
        "--force", action="store_true", help="replace calibration windows the file already has"
    )
    p.add_argument("--json", action="store_true", help="print one JSON document")
    add_read_options(p)
    p.set_defaults(func=run)


def calibration_lines(cal: Calibration, stand_given: bool) -> list[str]:
    """The calibration as printed by ``calibrate`` and ``import --calibration``."""
    lines = [f"  calibration: {cal.method}"]
    for placement, s in cal.sensors.items():
        lines.append(
            f"    {placement}: {s.method}, neutral pitch {s.neutral_pitch_deg:+.1f} deg, "
            f"roll {s.neutral_roll_deg:+.1f} deg"
        )
    if not stand_given:
        lines.append(f"  note: {NO_STAND_NOTE}")
    lines.extend(f"  note: {n}" for n in cal.notes)
    return lines


NO_STAND_NOTE = (
    "no standing window: each sensor's alignment about the vertical is taken from the "
    "movement where it shows one, else assumed (sensor axes = segment axes)"
)


def calibration_report(cal: Calibration, stand_given: bool) -> dict[str, Any]:
    notes = ([] if stand_given else [NO_STAND_NOTE]) + list(cal.notes)
    return {
        "method": cal.method,
        "guessed": cal.windows_guessed,
        "sensors": {p: s.to_dict() for p, s in cal.sensors.items()},
        "notes": notes,
    }


def run(args: argparse.Namespace) -> int:
    rec = load_for_command(args.file, args, needs_sacrum=True)
    ex = get_exercise(args.exercise or rec.exercise)
    before = existing_calibration(rec)
    if before is not None and not args.force:
        raise ImuMonitorError(
            f"{args.file} already has a calibration ({before}); pass --force to replace it"
        )
    markers, cal = set_calibration_windows(rec, ex, args.pose, args.stand)
    if before is None:
        for m in markers:  # appended, standing first: alone it is not used
            add_marker(args.file, m, allow_partial=args.allow_partial)
    else:
        save_recording(rec, args.file)  # rewritten (atomically) without the old calibration
    if args.json:
        print_json(
            {
                "file": args.file,
                "exercise": ex.name,
                "replaced": before,
                "markers": [marker_dict(m) for m in markers],
                "calibration": calibration_report(cal, args.stand is not None),
            }
        )
        return 0
    windows = ", ".join(f"{m.kind} {m.t_s:g}-{m.t_end_s:g} s" for m in markers)
    print(f"calibrated {args.file} ({ex.name}): markers {windows}")
    if before is not None:
        print(f"  replaced: {before}")
    for line in calibration_lines(cal, args.stand is not None):
        print(line)
    return 0
