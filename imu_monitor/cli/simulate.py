"""``imu-monitor simulate``: write a simulated session (sensor data + ground truth) to a file."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from imu_monitor.errors import ImuMonitorError
from imu_monitor.exercises import EXERCISES
from imu_monitor.model import FAULTS, SENSOR_SETS, Recording
from imu_monitor.simulator import SimulationConfig, simulate_session
from imu_monitor.simulator.config import MARKER_SETS, MOTIONS, SENSOR_FEATURES
from imu_monitor.simulator.human import HumanFeatures
from imu_monitor.storage.recording import save_recording

_FEATURES = tuple(n.replace("_", "-") for n in (*HumanFeatures.names(), *SENSOR_FEATURES))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate",
        help="simulate a session with ground truth (reps, faults, 1-3 sensors)",
        description="Simulate a session of an exercise as the wearable(s) would record it "
        "(mounting misalignment, gyro bias, noise, timing jitter, dropped samples), with the "
        "ground truth (lumbar angle, reps and their faults) stored in the recording. "
        "Deterministic for a seed. The default model moves like a person (bell-shaped "
        "velocities, varying reps, pelvis motion, breathing, skin motion, sensor errors, "
        "packet loss in bursts); --motion ramps gives the original model.",
    )
    p.add_argument("--exercise", choices=list(EXERCISES), default="back-kick")
    p.add_argument("--reps", type=int, default=10, help="number of reps (default 10)")
    p.add_argument("--faulty", type=int, default=0, help="how many reps are faulty (default 0)")
    p.add_argument(
        "--faults",
        metavar="LIST",
        help=f"comma-separated faults cycled through the faulty reps ({', '.join(FAULTS)}); "
        "default: the exercise's usual faults",
    )
    p.add_argument(
        "--sensors",
        type=int,
        choices=sorted(SENSOR_SETS),
        default=1,
        help="1: sacrum; 2: + upper lumbar; 3: + thigh (default 1)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--rate", type=float, default=200.0, metavar="HZ", help="sample rate (200)")
    p.add_argument(
        "--rest-variation",
        type=float,
        default=0.0,
        metavar="DEG",
        help="the pelvis rests up to DEG degrees away from the calibration posture between reps, "
        "differently each time (default 0: always the same posture)",
    )
    p.add_argument(
        "--motion",
        choices=MOTIONS,
        default="human",
        help="human: moves like a person (default); ramps: the original model (straight ramps, "
        "rigid sensors, tangent-method phase truth)",
    )
    p.add_argument(
        "--without",
        metavar="LIST",
        help=f"comma-separated features of the human model to switch off: {', '.join(_FEATURES)}",
    )
    p.add_argument(
        "--markers",
        choices=MARKER_SETS,
        default="all",
        help="markers written: all (default), set (no calibration markers), none (as an import)",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="recording file to write")
    p.add_argument("--json", action="store_true", help="print the ground truth as JSON")
    p.set_defaults(func=run)


def truth_summary(rec: Recording, config: Any) -> dict[str, Any]:
    """The ground truth of a simulated recording as a JSON-ready dict."""
    assert rec.truth is not None
    reps = [r.to_dict() for r in rec.truth.reps]
    return {
        "exercise": rec.exercise,
        "sensors": list(rec.series),
        "seed": config.seed,
        "motion": config.motion,
        "duration_s": rec.duration_s,
        "reps": reps,
        "faulty_reps": [r["index"] for r in reps if r["faulty"]],
    }


def run(args: argparse.Namespace) -> int:
    if not args.output and not args.json:
        raise ImuMonitorError("nothing to do: give -o FILE to write a recording and/or --json")
    faults = None
    if args.faults:
        faults = tuple(f.strip() for f in args.faults.split(",") if f.strip())
    off = [f.strip() for f in (args.without or "").split(",") if f.strip()]
    unknown = [f for f in off if f not in _FEATURES]
    if unknown:
        raise ImuMonitorError(
            f"--without: unknown feature(s) {', '.join(unknown)}; known: {', '.join(_FEATURES)}"
        )
    config = SimulationConfig(
        exercise=args.exercise,
        reps=args.reps,
        faulty=args.faulty,
        sensors=args.sensors,
        seed=args.seed,
        rate_hz=args.rate,
        fault_types=faults,
        rest_variation_deg=args.rest_variation,
        motion=args.motion,
        markers=args.markers,
        **{f.replace("-", "_"): False for f in off},
    )
    rec = simulate_session(config)
    if args.output:
        save_recording(rec, args.output)
    summary = truth_summary(rec, config)
    if args.json:
        json.dump(summary, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(
            f"wrote {args.output}: {summary['exercise']}, {len(summary['reps'])} reps "
            f"({len(summary['faulty_reps'])} faulty), sensors {', '.join(summary['sensors'])}, "
            f"{summary['duration_s']:.1f} s"
        )
    return 0
