"""``imu-monitor import FILE --format {csv,xsens,xdf} -o OUT``: other tools' files as recordings
(``.csv`` and ``.xdf`` files need no ``--format``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from imu_monitor.app.calibration_windows import existing_calibration, set_calibration_windows
from imu_monitor.cli.calibrate import calibration_lines, calibration_option
from imu_monitor.errors import ImuMonitorError, UsageError
from imu_monitor.exercises import EXERCISES, get_exercise
from imu_monitor.model import PLACEMENTS
from imu_monitor.processing.calibration import GIVE_WINDOWS
from imu_monitor.processing.frames import axes_matrix
from imu_monitor.processing.quality import clean_samples, gaps_note
from imu_monitor.storage.importers import IMPORTERS, import_file, import_xsens_sensors
from imu_monitor.storage.importers.axes import ALL_SENSORS, apply_axes
from imu_monitor.storage.importers.common import (
    ACC_UNITS,
    GYR_UNITS,
    MAX_RATE_HZ,
    MIN_RATE_HZ,
    TIME_UNITS,
    normalise_unit,
    valid_rate,
)
from imu_monitor.storage.recording import save_recording


def _three(value: str) -> list[str]:
    names = [v.strip() for v in value.split(",")]
    if len(names) != 3 or not all(names):
        raise argparse.ArgumentTypeError(f"expected three comma-separated names, got {value!r}")
    return names


def _rate(value: str) -> float:
    try:
        return valid_rate(value, "--rate")
    except ImuMonitorError as e:
        raise argparse.ArgumentTypeError(str(e).removeprefix("--rate: ")) from None


def _placement_value(what: str) -> Callable[[str], tuple[str, str]]:
    """An argparse type for ``PLACEMENT=<what>`` (``--sensor`` a FILE, ``--stream`` a NAME)."""

    def parse(value: str) -> tuple[str, str]:
        placement, sep, rest = value.partition("=")
        placement = placement.strip()
        if not sep or not rest.strip():
            raise argparse.ArgumentTypeError(f"expected PLACEMENT={what}, got {value!r}")
        if placement not in PLACEMENTS:
            raise argparse.ArgumentTypeError(
                f"unknown placement {placement!r} in {value!r}; known: {', '.join(PLACEMENTS)}"
            )
        return placement, rest.strip()

    return parse


_sensor = _placement_value("FILE")
_stream = _placement_value("NAME")


def _axes(value: str) -> tuple[str, str]:
    """``PLACEMENT=X,Y,Z`` or ``X,Y,Z`` (every sensor), checked (``frames.axes_matrix``)."""
    placement, sep, spec = value.rpartition("=")
    placement = placement.strip() if sep else ALL_SENSORS
    if sep and placement not in PLACEMENTS:
        raise argparse.ArgumentTypeError(
            f"unknown placement {placement!r} in {value!r}; known: {', '.join(PLACEMENTS)}"
        )
    try:
        axes_matrix(spec)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return placement, spec


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import",
        help="import another tool's recording (CSV, Xsens MT Manager, XDF) as a .imr recording",
        description="Convert a CSV file (time, accelerometer xyz, gyroscope xyz) or Xsens "
        "MT Manager text exports (one file per sensor: --sensor sacrum=a.txt --sensor "
        "thigh=b.txt) or a LabRecorder XDF file (--stream sacrum=NAME ...) into a recording. "
        "A CSV written by `imu-monitor export` comes back with "
        "its exercise, calibration, markers and events when its .meta.json is beside it; other "
        "files have no calibration unless --calibration gives its windows: analysis guesses "
        "them from the still periods. See "
        "docs/recording-format.md.",
    )
    p.add_argument("file", nargs="?", help="file to import (or give --sensor for xsens)")
    p.add_argument(
        "--format",
        metavar="FORMAT",
        help=f"input format: {', '.join(IMPORTERS)} (default: csv for a .csv file, xdf for a .xdf "
        "file)",
    )
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="recording to write (.imr)")
    p.add_argument(
        "--placement",
        choices=PLACEMENTS,
        help="where the sensor was worn (default sacrum); for files written by `imu-monitor "
        "export` with several placements: import only this one (default: all)",
    )
    p.add_argument(
        "--sensor",
        action="append",
        type=_sensor,
        metavar="PLACEMENT=FILE",
        help="xsens: one MT Manager export per sensor, aligned on SampleTimeFine/PacketCounter "
        "(repeat for each sensor, e.g. --sensor sacrum=a.txt --sensor thigh=b.txt)",
    )
    p.add_argument(
        "--stream",
        action="append",
        type=_stream,
        metavar="PLACEMENT=NAME",
        help="xdf: the stream (name or type) with that sensor's accelerometer and gyroscope, "
        "or two: PLACEMENT=ACC_NAME,GYRO_NAME; repeat per sensor (default: the streams an "
        "imu-monitor --lsl session sent)",
    )
    p.add_argument(
        "--exercise",
        choices=list(EXERCISES),
        help="the exercise performed (stored in the recording)",
    )
    p.add_argument(
        "--rate",
        type=_rate,
        metavar="HZ",
        help=f"sample rate, {MIN_RATE_HZ:g} to {MAX_RATE_HZ:g} Hz (default: from the file)",
    )
    p.add_argument(
        "--skip-bad-rows",
        action="store_true",
        help="skip rows with missing/non-numeric cells or non-increasing times (counted)",
    )
    p.add_argument(
        "--calibration",
        type=calibration_option,
        metavar="STAND_FROM-TO,POSE_FROM-TO",
        help="the calibration windows in seconds: standing still, then still in the exercise's "
        "calibration posture (or POSE_FROM-TO alone); checked and stored as calibration markers "
        "(as `imu-monitor calibrate`); without them analysis guesses them from still periods",
    )
    p.add_argument(
        "--axes",
        action="append",
        type=_axes,
        metavar="[PLACEMENT=]X,Y,Z",
        help="the sensor's axes that are our x (anterior), y (left), z (up when standing), "
        "signed, e.g. --axes=-x,y,-z (every sensor) or --axes sacrum=z,y,-x (a sensor worn with "
        "its -x up); a rotation: each axis once, right-handed. Applied to acc and gyro",
    )
    p.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    g = p.add_argument_group("CSV options (default: detected from the header)")
    g.add_argument("--time-col", metavar="NAME", help="time column")
    g.add_argument("--acc-cols", type=_three, metavar="X,Y,Z", help="accelerometer columns")
    g.add_argument("--gyr-cols", type=_three, metavar="X,Y,Z", help="gyroscope columns")
    g.add_argument(
        "--time-unit",
        type=_unit(TIME_UNITS, "time"),
        metavar="UNIT",
        help="s, ms or us (default s)",
    )
    g.add_argument(
        "--acc-unit",
        type=_unit(ACC_UNITS, "acceleration"),
        metavar="UNIT",
        help="m/s2, g or mg (default m/s2)",
    )
    g.add_argument(
        "--gyr-unit",
        type=_unit(GYR_UNITS, "angular rate"),
        metavar="UNIT",
        help="rad/s or deg/s (default rad/s)",
    )
    p.set_defaults(func=run)


def _unit(table: dict[str, float], what: str) -> Callable[[str], str]:
    """argparse type: a unit of ``table`` (its aliases too), as its canonical name."""

    def parse(text: str) -> str:
        try:
            return normalise_unit(text, table, what)
        except ImuMonitorError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    return parse


FORMAT_BY_SUFFIX = {".csv": "csv", ".xdf": "xdf"}
"""The formats a file's name gives without ``--format`` (an Xsens MT Manager export is a .txt,
like many other text files)."""


def run(args: argparse.Namespace) -> int:
    if args.format is None:
        suffix = Path(args.file).suffix.lower() if args.file else ""
        if suffix not in FORMAT_BY_SUFFIX:
            raise UsageError(
                f"give --format ({', '.join(IMPORTERS)}); only .csv and .xdf files are "
                "recognised by their name",
                option="--format",
            )
        args.format = FORMAT_BY_SUFFIX[suffix]
    if args.format == "xdf":
        return _run_xdf(args)
    if args.stream:
        raise UsageError("--stream only applies to --format xdf")
    if args.format not in IMPORTERS:
        raise UsageError(
            f"unknown import format {args.format!r}; known formats: {', '.join(IMPORTERS)}"
        )
    sensors = dict(args.sensor or [])
    if args.sensor and len(sensors) != len(args.sensor):
        raise UsageError("--sensor names a placement twice; give each placement once")
    if sensors and args.format != "xsens":
        raise UsageError("--sensor only applies to --format xsens")
    if sensors and (args.file or args.placement):
        raise UsageError("give either FILE (with --placement) or --sensor PLACEMENT=FILE")
    if not sensors and not args.file:
        raise ImuMonitorError("give the FILE to import (or --sensor PLACEMENT=FILE for xsens)")

    options = {
        "placement": args.placement,
        "exercise": args.exercise,
        "rate_hz": args.rate,
        "skip_bad_rows": args.skip_bad_rows,
    }
    csv_options = {
        "time_col": args.time_col,
        "acc_cols": args.acc_cols,
        "gyr_cols": args.gyr_cols,
        "time_unit": args.time_unit,
        "acc_unit": args.acc_unit,
        "gyr_unit": args.gyr_unit,
    }
    if args.format == "csv":
        options.update(csv_options)
    else:
        given = [k for k, v in csv_options.items() if v is not None]
        if given:
            opts = ", ".join("--" + k.replace("_", "-") for k in given)
            raise UsageError(f"{opts} only apply to --format csv")
    out = Path(args.output)
    _check_output(out, args.force)
    if sensors:
        del options["placement"]
        rec = import_xsens_sensors(sensors, **options)
        what = ", ".join(f"{p}={f}" for p, f in sensors.items())
    else:
        rec = import_file(args.file, args.format, **options)
        what = args.file
    return _finish(args, rec, out, what)


def _check_output(out: Path, force: bool) -> None:
    if out.is_dir():
        raise ImuMonitorError(f"{out} is a folder; give a file name such as out.imr")
    if out.exists() and not force:
        raise ImuMonitorError(f"{out} exists; pass --force to overwrite it")


def _run_xdf(args: argparse.Namespace) -> int:
    """An XDF file: the streams ``--stream`` names (or the imu-monitor ones)."""
    given = [
        opt
        for opt, v in (
            ("--sensor", args.sensor),
            ("--placement", args.placement),
            ("--rate", args.rate),
            ("--skip-bad-rows", args.skip_bad_rows),
            ("--time-col", args.time_col),
            ("--acc-cols", args.acc_cols),
            ("--gyr-cols", args.gyr_cols),
            ("--time-unit", args.time_unit),
            ("--acc-unit", args.acc_unit),
            ("--gyr-unit", args.gyr_unit),
        )  # fmt: skip
        if v
    ]
    if given:
        raise UsageError(
            f"{', '.join(given)} do not apply to XDF files: the streams' meta-data give the "
            "rates and units; choose streams with --stream PLACEMENT=NAME"
        )
    if not args.file:
        raise ImuMonitorError("give the XDF FILE to import")
    streams = dict(args.stream or [])
    if args.stream and len(streams) != len(args.stream):
        raise ImuMonitorError("--stream names a placement twice; give each placement once")
    out = Path(args.output)
    _check_output(out, args.force)
    rec = import_file(args.file, "xdf", streams=streams or None, exercise=args.exercise)
    return _finish(args, rec, out, args.file)


def _finish(args: argparse.Namespace, rec, out: Path, what: str) -> int:
    """Axes, calibration windows, save, and the report."""
    axes = dict(args.axes or [])
    if args.axes and len(axes) != len(args.axes):
        raise ImuMonitorError("--axes names a sensor twice; give each placement once")
    applied = apply_axes(rec, axes)
    cal_lines = []
    if args.calibration is not None:
        stand, pose = args.calibration
        before = existing_calibration(rec)
        if before is not None:
            cal_lines.append(f"  the file's own calibration ({before}) is replaced")
        _, cal = set_calibration_windows(rec, get_exercise(rec.exercise), pose, stand)
        cal_lines += calibration_lines(cal, stand is not None)
    save_recording(rec, out)
    info = rec.meta["import"]
    print(f"imported {what} ({args.format}) -> {out}")
    for name, s in rec.series.items():
        rate = rec.sensors[name].rate_hz
        counts = clean_samples(s.t_s, s.acc_m_s2, s.gyr_rad_s, s.seq, rate).counts
        gaps = gaps_note(counts.to_dict())
        print(
            f"  {name}: {len(s)} samples, {rec.duration_s:.2f} s, {rate:.2f} Hz"
            + (f"; {gaps}" if gaps else "")
        )
    if "streams" in info:
        for p, names in info["streams"].items():
            print(f"  {p}: from stream{'s' if len(names) > 1 else ''} {', '.join(names)}")
    if "aligned_on" in info:
        print(f"  sensors aligned on {info['aligned_on']}")
    units = ", ".join(f"{k} {u} ({how})" for k, (u, how) in info["units"].items())
    print(f"  units: {units}")
    if info.get("time_offset_s"):
        print(f"  times shifted by {-info['time_offset_s']:.6g} s so the first sample is at 0")
    if info["skipped_rows"]:
        reasons = ", ".join(f"{n} {r}" for r, n in info["skipped"].items())
        print(f"  skipped {info['skipped_rows']} of {info['rows']} rows: {reasons}")
        for example in info["examples"]:
            print(f"    {example}")
    if applied:
        print("  axes mapped: " + ", ".join(f"{p} {a}" for p, a in applied.items()))
    if cal_lines:
        for line in cal_lines:
            print(line)
    elif rec.markers and info.get("format") == "xdf":
        kinds = ", ".join(sorted({m.kind for m in rec.markers}))
        print(f"  {len(rec.markers)} markers from the imu-monitor markers stream ({kinds})")
    elif "export_meta_file" in info:
        print(
            f"  from {info['export_meta_file']}: exercise {rec.exercise}, "
            f"{'a' if rec.calibration else 'no'} calibration, {len(rec.markers)} markers, "
            f"{len(rec.events)} events"
        )
    else:
        print(
            "  no calibration windows: analysis guesses them from the still periods; give them "
            "with --calibration, or afterwards: " + GIVE_WINDOWS.replace("FILE", str(out))
        )
    return 0
