"""``imu-monitor simulate``: write a simulated session (sensor data + ground truth) to a file."""

from __future__ import annotations

import argparse
from typing import Any

from imu_monitor.cli.calibrate import window_option
from imu_monitor.cli.common import (
    add_force_option,
    check_output,
    count,
    for_user,
    non_negative_number,
    positive_number,
    print_json,
)
from imu_monitor.errors import SimulationError, UsageError
from imu_monitor.exercises import EXERCISES
from imu_monitor.model import FAULTS, SENSOR_SETS, Recording
from imu_monitor.simulator import SimulationConfig, simulate_session
from imu_monitor.simulator.config import MARKER_SETS, MOTIONS, SENSOR_FEATURES
from imu_monitor.simulator.human import HumanFeatures
from imu_monitor.simulator.procedure import simulate_procedure
from imu_monitor.storage.recording import save_recording

_FEATURES = tuple(n.replace("_", "-") for n in (*HumanFeatures.names(), *SENSOR_FEATURES))


def fault_list(text: str) -> tuple[str, ...]:
    """argparse type: comma-separated fault names."""
    names = tuple(f.strip() for f in text.split(",") if f.strip())
    unknown = [f for f in names if f not in FAULTS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown fault {', '.join(unknown) or repr(text)}; choose from {', '.join(FAULTS)}"
        )
    return names


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
    p.add_argument("--reps", type=count(1), default=10, help="number of reps (default 10)")
    p.add_argument(
        "--faulty", type=count(0), default=0, help="how many reps are faulty (default 0)"
    )
    p.add_argument(
        "--faults",
        type=fault_list,
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
    p.add_argument(
        "--rate",
        type=positive_number("a rate in Hz"),
        default=200.0,
        metavar="HZ",
        help="sample rate (200)",
    )
    p.add_argument(
        "--rest-variation",
        type=non_negative_number("degrees"),
        default=0.0,
        metavar="DEG",
        help="the pelvis rests up to DEG degrees away from the calibration posture between reps, "
        "differently each time (default 0: always the same posture)",
    )
    p.add_argument(
        "--tempo-scale",
        type=positive_number("a factor"),
        default=1.0,
        metavar="K",
        help="the person takes K times the exercise's tempo for every phase (0.4-3; 1.6: a "
        "slow, controlled lowering; default 1); human motion, one set",
    )
    add_person_options(p)
    add_clock_offset_option(p)
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
    p.add_argument(
        "--sets",
        type=count(1),
        default=1,
        help="sets of --reps reps each, about --set-rest apart (default 1)",
    )
    p.add_argument(
        "--set-rest",
        type=positive_number("seconds"),
        default=45.0,
        metavar="S",
        help="rest between sets in seconds, each within +-25 %% of it (default 45)",
    )
    p.add_argument(
        "--tempo-faulty",
        type=count(0),
        default=0,
        metavar="N",
        help="N reps off the target tempo: a short hold, a dropped lowering, a slow rise "
        "(default 0)",
    )
    p.add_argument(
        "--drift-reps",
        type=count(0),
        default=0,
        metavar="N",
        help="form drift: the last N reps arch the lower back further and further, from 30 %% "
        "to 90 %% of the extension limit (default 0)",
    )
    p.add_argument(
        "--procedure",
        action="store_true",
        help="instead of a session, the device calibration's procedure done with the "
        "session's wearables (give the session's own options: its length sets some of their "
        "draws; for 'device-cal measure')",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="recording file to write")
    add_force_option(p)
    p.add_argument(
        "--json", action="store_true", help="print the ground truth as one JSON document"
    )
    p.set_defaults(func=run)


def add_person_options(p: argparse.ArgumentParser, rep_rest_aliases: tuple[str, ...] = ()) -> None:
    """``--rep-rest`` (also under ``rep_rest_aliases``), ``--depth-spread`` and ``--kick-turn``:
    how the simulated person differs from our default one (``simulate`` and
    ``benchmarks/bench_accuracy.py``)."""
    p.add_argument(
        "--rep-rest",
        *rep_rest_aliases,
        dest="rep_rest",
        type=window_option("--rep-rest", "0.25-0.5"),
        metavar="FROM-TO",
        help="the rest at the bottom between reps, drawn from FROM-TO seconds (default "
        "0.8-2.5; 0.25-0.5: touch-and-go); human motion (SimulationConfig.rep_rest_s)",
    )
    p.add_argument(
        "--depth-spread",
        type=float,
        metavar="S",
        help="each rep's range of motion varies by +-S (0-0.4; default 0.15; 0.25: reps of "
        "0.75-1.25 of the depth); human motion (SimulationConfig.depth_spread)",
    )
    p.add_argument(
        "--kick-turn",
        type=window_option("--kick-turn", "1.5-3", unit="degrees"),
        metavar="FROM-TO",
        help="back kick: each kick turns the pelvis about its long axis by FROM-TO degrees "
        "(default 3-7; 1.5-3: a pelvis kept nearly square); human motion "
        "(SimulationConfig.kick_turn_deg)",
    )


def add_clock_offset_option(p: argparse.ArgumentParser) -> None:
    """``--clock-offset-ms`` (``SimulationConfig.clock_offset_ms``; ``simulate`` and
    ``benchmarks/bench_accuracy.py``)."""
    p.add_argument(
        "--clock-offset-ms",
        type=float,
        default=0.0,
        metavar="MS",
        help="the upper-lumbar wearable's samples stamped MS milliseconds late against the "
        "sacrum's (negative: early; -500 to 500; 40: its first notification came two "
        "connection intervals late); 2 or 3 sensors (default 0; SimulationConfig."
        "clock_offset_ms)",
    )


OPTION_OF_FIELD = {
    "reps": "--reps",
    "faulty": "--faulty",
    "seed": "--seed",
    "sensors": "--sensors",
    "rate_hz": "--rate",
    "fault_types": "--faults",
    "rest_variation_deg": "--rest-variation",
    "tempo_scale": "--tempo-scale",
    "rep_rest_s": "--rep-rest",
    "kick_turn_deg": "--kick-turn",
    "depth_spread": "--depth-spread",
    "clock_offset_ms": "--clock-offset-ms",
    "sets": "--sets",
    "set_rest_s": "--set-rest",
    "tempo_faulty": "--tempo-faulty",
    "drift_reps": "--drift-reps",
}
"""The simulator's parameter names as this command's options (for its messages)."""


def in_option_words(e: SimulationError) -> str:
    """The simulator's message with its parameter named as the option the user typed."""
    text = str(e)
    name = e.field or text.split(" ", 1)[0]
    option = OPTION_OF_FIELD.get(name)
    return text.replace(name, option, 1) if option else text


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
        raise UsageError("nothing to do: give -o FILE to write a recording and/or --json")
    if args.faulty > args.reps * args.sets:
        raise UsageError(
            f"--faulty {args.faulty} is more than --reps {args.reps} x --sets {args.sets}"
        )
    off = [f.strip() for f in (args.without or "").split(",") if f.strip()]
    unknown = [f for f in off if f not in _FEATURES]
    if unknown:
        raise UsageError(
            f"--without: unknown feature(s) {', '.join(unknown)}; known: {', '.join(_FEATURES)}"
        )
    out = check_output(args.output, force=args.force, option="-o") if args.output else None
    try:
        config = SimulationConfig(
            exercise=args.exercise,
            reps=args.reps,
            faulty=args.faulty,
            sensors=args.sensors,
            seed=args.seed,
            rate_hz=args.rate,
            fault_types=args.faults,
            rest_variation_deg=args.rest_variation,
            tempo_scale=args.tempo_scale,
            **({"rep_rest_s": (args.rep_rest.t0_s, args.rep_rest.t1_s)} if args.rep_rest else {}),
            **({"depth_spread": args.depth_spread} if args.depth_spread is not None else {}),
            **(
                {"kick_turn_deg": (args.kick_turn.t0_s, args.kick_turn.t1_s)}
                if args.kick_turn
                else {}
            ),
            clock_offset_ms=args.clock_offset_ms,
            motion=args.motion,
            markers=args.markers,
            sets=args.sets,
            set_rest_s=args.set_rest,
            tempo_faulty=args.tempo_faulty,
            drift_reps=args.drift_reps,
            **{f.replace("-", "_"): False for f in off},
        )
        rec = simulate_procedure(config) if args.procedure else simulate_session(config)
    except SimulationError as e:
        raise UsageError(in_option_words(e)) from None
    if out is not None:
        save_recording(rec, out)
    if args.procedure:
        return _procedure_written(args, rec)
    summary = truth_summary(rec, config)
    if args.json:
        print_json(for_user(summary))
    else:
        print(
            f"wrote {args.output}: {summary['exercise']}, {len(summary['reps'])} reps "
            + (f"in {args.sets} sets " if args.sets > 1 else "")
            + f"({len(summary['faulty_reps'])} faulty), sensors {', '.join(summary['sensors'])}, "
            f"{summary['duration_s']:.1f} s"
        )
    return 0


def _procedure_written(args: argparse.Namespace, rec: Recording) -> int:
    truth = rec.meta["simulation_procedure"]
    if args.json:
        print_json(for_user({"sensors": list(rec.series), "duration_s": rec.duration_s, **truth}))
    else:
        print(
            f"wrote {args.output}: the device calibration's procedure (six faces, three turns), "
            f"sensors {', '.join(rec.series)}, {rec.duration_s:.1f} s"
        )
    return 0
