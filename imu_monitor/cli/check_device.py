"""``imu-monitor check-device``: what a user with new hardware runs first.

Connects one wearable, runs its profile's start sequence showing each step and reply, streams
it lying still, and checks the profile against what the device really sends: delivered rate vs
the profile's, loss, packets decoded, acc/gyro pairing, |acc| at rest vs 9.81 m/s^2, gyro bias at
rest, MTU, battery, the alert, and a guided axis check (label up, then on its long edge). Each
check ends in PASS / WARN / FAIL naming what to fix. ``--device sim`` runs it against the
simulated wearable, whose simulated person puts the device down as asked. Exit codes: 0 all
checks pass (warnings allowed), 1 a check failed or the device could not be checked, 2 usage.
"""

from __future__ import annotations

import argparse
import sys

from imu_monitor.app.sources import SIM_DEVICE, SimulatedPerson, live_source
from imu_monitor.cli.common import check_profile_option
from imu_monitor.errors import ImuMonitorError
from imu_monitor.processing.quality import slow_rate_note
from imu_monitor.sources.device_check import POSE_PROMPTS, run_check, verdicts

STREAM_S = 10.0
"""Session seconds streamed lying flat (rate, loss, |acc|, gyro bias)."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check-device",
        help="check a wearable against its firmware profile (start steps, rate, loss, "
        "scale, gyro bias, axes)",
        description="Connect one wearable, run its profile's start sequence step by step, "
        "stream it at rest and check rate, loss, |acc| against gravity, gyro bias, MTU, "
        "battery and the axis mapping (you are asked to lay it flat, then on its long edge). "
        "Exit code 0: pass; 1: a check failed or the device could not be checked; 2: usage.",
    )
    p.add_argument(
        "--device",
        metavar="NAME",
        help="device name or address ('sim': the simulated wearable); default: the strongest "
        "device a profile matches",
    )
    p.add_argument("--profile", metavar="NAME|FILE", help="firmware profile (name or .toml file)")
    p.add_argument(
        "--seconds", type=float, default=STREAM_S, metavar="S", help="seconds at rest (default 10)"
    )
    p.add_argument("--scan-timeout", type=float, default=10.0, metavar="S", help="scan seconds")
    sim = p.add_argument_group("simulated wearable (--device sim)")
    sim.add_argument(
        "--sim-firmware",
        metavar="NAME",
        help="the profile the simulated device's firmware speaks (default: --profile, or diy_imu)",
    )
    sim.add_argument("--speed", type=float, default=1.0, help="simulated time per real time")
    sim.add_argument(
        "--sim-chip",
        choices=["bmi160", "bmi270"],
        help="MetaMotion: the IMU chip of the simulated board (default bmi160)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_profile_option(args.profile)
    if not (args.seconds > 1.0 and args.seconds <= 600.0):
        print("imu-monitor check-device: error: --seconds must be 1-600", file=sys.stderr)
        return 2
    try:
        return _check(args)
    except ImuMonitorError as e:
        print(f"imu-monitor check-device: error: {e}", file=sys.stderr)
        return 1


def _check(args: argparse.Namespace) -> int:
    sim = args.device == SIM_DEVICE
    live = live_source(
        {"sacrum": SIM_DEVICE if sim else (args.device or "")},  # "": any matching device
        profile=args.profile,
        person=SimulatedPerson(speed=args.speed, reps=1, faulty=0),
        sim_firmware=args.sim_firmware,
    )
    src = live.source
    src.scan_timeout_s = args.scan_timeout
    if live.world is not None:
        (dev,) = live.world.devices.values()
        if args.sim_chip:
            dev.set_protocol_options(chip=args.sim_chip)

        def place(pose: str) -> None:
            print(POSE_PROMPTS[pose] + " (the simulated person does it)")
            dev.pose = pose
    else:

        def place(pose: str) -> None:
            if sys.stdin.isatty():
                input(POSE_PROMPTS[pose] + " Press Enter when it lies still. ")
            else:
                print(POSE_PROMPTS[pose])

    print("connecting ...", flush=True)
    result = run_check(
        src, stream_s=args.seconds, place=place, on_step=lambda s: print("  " + s, flush=True)
    )
    print(f"device   {result.device}")
    print(f"profile  {result.profile}")
    print(f"MTU      {result.mtu if result.mtu is not None else 'unknown'}")
    battery = "unknown" if result.battery_pct is None else f"{result.battery_pct} %"
    print(f"battery  {battery}")
    findings = verdicts(result)
    for f in findings:
        print(f"{f.verdict:<4}  {f.check}: {f.text}")
    failed = [f.check for f in findings if f.verdict == "FAIL"]
    if failed:
        print(f"verdict: FAIL ({', '.join(failed)})")
        return 1
    print("verdict: PASS: the profile fits this device")
    slow = slow_rate_note({result.profile: result.rate_hz})
    if slow is not None:
        print(f"note: {slow}")
    return 0
