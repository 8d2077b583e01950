"""``imu-monitor device-cal``: a wearable's own calibration (README, "Device calibration").

``device-cal measure PROCEDURE.imr -o DIR`` finds the Ferraris procedure's six holds and three
turns in a recording of it (``live --record`` while doing it, or ``simulate --procedure``),
computes each sensor's calibration with imucal and writes ``DIR/<sensor>.json`` (imucal's own
JSON). ``device-cal apply SESSION.imr --cal DIR -o OUT.imr`` writes a copy of a session whose
samples are calibrated, its meta saying with what (``processing.device_cal``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from imu_monitor.app.calibrated_source import calibrations_in
from imu_monitor.app.procedure import (
    FIGURE_COLUMNS,
    STEPS,
    ProcedureRecorder,
    coarse_gyro_note,
    figure_row,
    measure_sensors,
    procedure_meta,
    write_calibrations,
)
from imu_monitor.cli.common import (
    add_force_option,
    add_read_options,
    check_output,
    exit_code_after,
    load_for_command,
    positive_number,
    print_json,
    table,
)
from imu_monitor.cli.live import (
    add_simulated_wearer_options,
    add_wearable_options,
    build_source,
    check_simulation,
)
from imu_monitor.errors import ImuMonitorError, UsageError
from imu_monitor.exercises import EXERCISES
from imu_monitor.model import PLACEMENTS, Recording
from imu_monitor.processing.device_cal import DeviceCalibration, apply_to_recording
from imu_monitor.sources.base import SourceStatus
from imu_monitor.storage.recording import save_recording


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "device-cal",
        help="calibrate a wearable's own sensors (the Ferraris procedure) and apply it",
        description="A wearable's accelerometer reads gravity 1-2 % large or small and some "
        "mg off, its gyro turns 0.5-1.5 % too far or short; over a session's turns that is a "
        "degree or more of lumbar angle. Measure it once per wearable: record it resting on "
        "each of six faces and turned once round about three axes (README, 'Device "
        "calibration'), then apply the result to sessions.",
    )
    steps = p.add_subparsers(dest="step", metavar="STEP", required=True)
    r = steps.add_parser(
        "record",
        help="record the procedure from the wearables, showing what is still to do",
        description="Stream the wearables (or the simulated ones, doing the procedure) and "
        "record them to FILE until every sensor has its six holds and three turns, showing "
        "each as it is found. Switch the wearables on a few minutes before: their gyro "
        "settles as they warm up.",
    )
    r.add_argument("-o", "--output", metavar="FILE", required=True, help="recording to write")
    add_wearable_options(r, " (calibrated together, square in one box, or one at a time)")
    r.add_argument(
        "--duration",
        type=positive_number("seconds"),
        default=300.0,
        metavar="S",
        help="give up after S seconds (default 300)",
    )
    add_force_option(r)
    sim = r.add_argument_group(
        "simulated wearable (--device sim): the wearables of 'live --device sim' with the "
        "same --exercise, --seed, --reps and --faulty"
    )
    sim.add_argument("--exercise", default="back-kick", choices=sorted(EXERCISES))
    add_simulated_wearer_options(sim)
    r.set_defaults(func=run_record)

    m = steps.add_parser(
        "measure",
        help="compute each wearable's calibration from a recording of the procedure",
        description="Find the procedure's six still holds and three full turns in each "
        "sensor's samples, compute the calibration (imucal's Ferraris calibration) and write "
        "DIR/<sensor>.json.",
    )
    m.add_argument("file", help="recording of the procedure (.imr)")
    m.add_argument("-o", "--output", metavar="DIR", required=True, help="folder to write into")
    m.add_argument(
        "--sensor",
        choices=PLACEMENTS,
        action="append",
        help="only this sensor (repeatable; default: every sensor in the recording)",
    )
    m.add_argument(
        "--misalignment",
        action="store_true",
        help="also correct the axes' misalignment (only with a square jig or a turntable: a "
        "box a little out of square reads as misalignment, and correcting it made the "
        "simulated sessions worse)",
    )
    m.add_argument("--json", action="store_true", help="print one JSON document")
    add_force_option(m)
    add_read_options(m)
    m.set_defaults(func=run_measure)

    a = steps.add_parser(
        "apply",
        help="write a copy of a session with its samples calibrated",
        description="Write a copy of SESSION whose sensors' samples are calibrated with the "
        "device calibrations given; the copy's meta keeps each calibration and where it came "
        "from. The raw session is left as it was.",
    )
    a.add_argument("file", help="session recording (.imr)")
    a.add_argument(
        "--cal",
        action="append",
        required=True,
        metavar="DIR|SENSOR=FILE",
        help="a folder written by 'device-cal measure' (each of its <sensor>.json for that "
        "sensor) or one sensor's file, e.g. --cal sacrum=cal/sacrum.json (repeatable)",
    )
    a.add_argument("-o", "--output", metavar="FILE", required=True, help="recording to write")
    add_force_option(a)
    add_read_options(a)
    a.set_defaults(func=run_apply)


def run_measure(args: argparse.Namespace) -> int:
    rec = load_for_command(args.file, args)
    wanted = args.sensor or [p for p in PLACEMENTS if p in rec.series]
    missing = [s for s in wanted if s not in rec.series]
    if missing or not wanted:
        have = ", ".join(rec.series) or "none"
        raise ImuMonitorError(f"{args.file}: no {', '.join(missing) or 'sensor'} (it has: {have})")
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise ImuMonitorError(f"-o {out}: is a file; give a folder")
    if out.is_dir():
        targets = {
            s: check_output(out / f"{s}.json", force=args.force, option="-o") for s in wanted
        }
    else:
        check_output(out, force=False, option="-o")  # the folder it goes in
        targets = {s: out / f"{s}.json" for s in wanted}
    results = measure_sensors(
        rec, wanted, procedure_file=str(args.file), misalignment=args.misalignment
    )
    out.mkdir(exist_ok=True)
    write_calibrations(results, targets)
    if args.json:
        print_json({s: {"file": str(targets[s]), **c.figures} for s, c in results.items()})
        return 0
    rows = [figure_row(s, c.figures) for s, c in results.items()]
    for line in table(f"device calibration from {args.file}", list(FIGURE_COLUMNS), rows):
        print(line)
    applied = "applied" if args.misalignment else "measured, not applied (--misalignment)"
    print(f"misalignment: {applied}")
    for sensor, cal in results.items():
        note = coarse_gyro_note(sensor, cal.figures)
        if note is not None:
            print(f"note: {note}")
    for sensor in results:
        print(f"wrote {targets[sensor]}")
    return 0


def calibrations_from(
    options: list[str], rec: Recording
) -> dict[str, tuple[DeviceCalibration, str]]:
    """``--cal DIR`` or ``--cal SENSOR=FILE`` as sensor -> (calibration, its file), for the
    sensors ``rec`` has; a sensor named twice is refused."""
    cals: dict[str, tuple[DeviceCalibration, str]] = {}
    for option in options:
        if "=" in option:
            sensor, _, name = option.partition("=")
            if sensor not in PLACEMENTS:
                raise UsageError(
                    f"--cal {option}: unknown sensor {sensor!r}; known: {', '.join(PLACEMENTS)}"
                )
            found = {sensor: (DeviceCalibration.from_file(name), name)}
        else:
            found = calibrations_in(option, list(rec.series), "--cal")
        for sensor, cal in found.items():
            if sensor in cals:
                raise UsageError(
                    f"--cal: two calibrations for {sensor} ({cals[sensor][1]}, {cal[1]})"
                )
            cals[sensor] = cal
    return cals


def run_apply(args: argparse.Namespace) -> int:
    out = check_output(args.output, force=args.force, option="-o")
    if out.resolve() == Path(args.file).resolve():
        raise ImuMonitorError(f"-o {out}: the session itself; write the calibrated copy elsewhere")
    rec = load_for_command(args.file, args, needs_sacrum=True)
    cals = calibrations_from(args.cal, rec)
    calibrated = apply_to_recording(rec, cals)
    save_recording(calibrated, out)
    said = ", ".join(f"{s} ({src})" for s, (_, src) in cals.items())
    left = [s for s in rec.series if s not in cals]
    print(f"wrote {out}: {said} calibrated" + (f"; {', '.join(left)} as recorded" if left else ""))
    return 0


def run_record(args: argparse.Namespace) -> int:
    check_simulation(args)  # the same simulated wearables as 'live' with the same options
    out = check_output(args.output, force=args.force, option="-o")
    live = build_source(args, procedure=True)
    source = live.source
    simulation = None
    if live.world is not None:
        simulation = {"seed": args.seed, "sensors": len(source.sensors)}
    source.open()  # scan + connect: errors name the device and what was found
    if args.force:
        out.unlink(missing_ok=True)
    recorder = ProcedureRecorder(source, out, procedure_meta(str(live.kind), simulation))

    def on_status(status: SourceStatus) -> None:
        if status.message:
            print(f"{status.sensor or 'source'}: {status.message}", flush=True)

    print(STEPS, flush=True)
    elapsed = source.stream_time if live.world is not None else source.session_time
    interrupted: KeyboardInterrupt | None = None
    recorder.start(on_status)
    try:
        while elapsed() < args.duration and not recorder.complete:
            time.sleep(CHECK_EVERY_S)
            for found in recorder.check():
                print(f"{found.sensor}: {found.said}", flush=True)
    except KeyboardInterrupt as e:  # Ctrl-C or SIGTERM (cli.main): close the file as at the end
        interrupted = e
    finally:
        recorder.stop()
    if interrupted is not None:
        print(f"stopped: {out} keeps what was recorded", file=sys.stderr)
        return exit_code_after(interrupted)
    lacking = {p: t for p, t in recorder.todo.items() if t}
    if lacking:
        said = "; ".join(f"{p} still lacks {', '.join(t)}" for p, t in lacking.items())
        raise ImuMonitorError(
            f"{out}: after {args.duration:g} s {said}. Record the procedure again ({out} keeps "
            "what was recorded)"
        )
    print(f"wrote {out}: every sensor's six holds and three turns")
    print(f"next: imu-monitor device-cal measure {out} -o DIR")
    return 0


CHECK_EVERY_S = 2.0
"""How often ``record`` looks for new holds and turns (s)."""
