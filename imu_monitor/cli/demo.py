"""``imu-monitor demo``: the dashboard on the simulated wearable, no hardware needed.

The simulated wearable (the real BLE client against the simulated bleak backend) stands still,
gets into the exercise's start position, then does back kicks (or another exercise) with some
faulty reps, looped; the dashboard calibrates from the two postures, then judges every rep and
sounds the alarm on the faulty ones.
"""

from __future__ import annotations

import argparse
import sys

from imu_monitor.app.platform import has_display
from imu_monitor.app.sources import SimulatedPerson, live_source
from imu_monitor.cli import live as live_command
from imu_monitor.cli.common import (
    add_window_options,
    count,
    positive_factor,
)
from imu_monitor.cli.history import add_history_options
from imu_monitor.cli.lsl_option import add_lsl_options, check_lsl_options
from imu_monitor.exercises import EXERCISES
from imu_monitor.model import SENSOR_SETS

FAULTY = 8
"""The demo's faulty reps per set unless ``--faulty`` says otherwise."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="open the dashboard on the simulated wearable (no hardware needed)",
        description="The dashboard on a simulated wearable doing reps with some faulty ones: "
        "calibration, live traces, alarms with sound, reps and tempo.",
    )
    p.add_argument("--exercise", default="back-kick", choices=list(EXERCISES))
    p.add_argument(
        "--sensors",
        type=int,
        default=1,
        choices=list(SENSOR_SETS),
        help="1: sacrum; 2: + upper lumbar; 3: + thigh (hip angle)",
    )
    p.add_argument("--reps", type=count(1), default=30, help="reps per set (default 30)")
    p.add_argument(
        "--faulty",
        type=count(0),
        default=None,
        help=f"how many reps are faulty (default {FAULTY}, or every rep with fewer --reps)",
    )
    p.add_argument("--seed", type=int, default=1, help="simulation seed")
    p.add_argument("--speed", type=positive_factor, default=1.0, help="time factor (default 1)")
    p.add_argument(
        "--tempo-cue",
        action="store_true",
        help="dashboard: a short tick at each phase change the target tempo asks for (up, hold, "
        "down), on the computer's sound and, where its profile has one, the wearable's tick",
    )
    p.add_argument("--no-alert", action="store_true", help="do not alert on the wearable")
    add_lsl_options(p)
    add_window_options(p)
    add_history_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """The dashboard on the simulated wearable (the real BLE client code against the simulated
    bleak backend). Its calibrations go to a separate store so they never replace real ones.
    With no display (and no --screenshot): the same session headless, with a note."""
    live_command.check_simulation(args, faulty=FAULTY)
    check_lsl_options(args)
    if not has_display() and args.screenshot is None:
        print(
            "imu-monitor demo: no display for the dashboard: running the simulated session "
            "headless (events printed here); for the window run it on a desktop, or add "
            "--screenshot demo.png",
            file=sys.stderr,
        )
        return live_command.run_headless(headless_args(args))

    person = SimulatedPerson(args.exercise, args.seed, args.speed, args.reps, args.faulty)
    live = live_source({p: "sim" for p in SENSOR_SETS[args.sensors]}, person=person)
    return live_command.open_dashboard(
        args, live, use_stored=False, title="demo: simulated wearable"
    )


def headless_args(args: argparse.Namespace) -> argparse.Namespace:
    """``live --headless --device sim`` options for the same simulated session (``--exit-after``
    becomes ``--duration``)."""
    return argparse.Namespace(
        device="sim",
        profile=None,
        exercise=args.exercise,
        sensors=str(args.sensors),
        headless=True,
        duration=args.exit_after,
        record=None,
        force=False,
        json=False,
        user=args.user or "default",
        config_dir=args.config_dir,
        data_dir=args.data_dir,
        use_saved_calibration=False,
        no_alert=args.no_alert,
        seed=args.seed,
        speed=args.speed,
        reps=args.reps,
        faulty=args.faulty,
        lsl=args.lsl,
        lsl_wait=args.lsl_wait,
    )
