"""Options and helpers several subcommands share."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from imu_monitor.exercises import EXERCISES, Exercise, Limits, get_exercise


def positive_factor(text: str) -> float:
    """argparse type: a positive time factor such as ``2``, ``4x`` or ``0.5``."""
    try:
        value = float(text.rstrip("xX"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a factor like 1, 2, 4x or 0.5, not {text!r}"
        ) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {text!r}")
    return value


def replay_speed(text: str) -> float | None:
    """argparse type: a positive factor, or ``max`` (as fast as possible: None)."""
    if text.lower() in ("max", "inf", "fastest"):
        return None
    return positive_factor(text)


def add_analysis_options(p: argparse.ArgumentParser) -> None:
    """Re-analysis settings: exercise, limits, dwell, filter mode."""
    p.add_argument(
        "--exercise",
        help=f"analyse as this exercise instead of the recorded one ({', '.join(EXERCISES)})",
    )
    p.add_argument("--flexion-limit", type=float, metavar="DEG", help="flexion limit in degrees")
    p.add_argument(
        "--extension-limit", type=float, metavar="DEG", help="extension limit in degrees"
    )
    p.add_argument("--dwell", type=float, metavar="S", help="alarm dwell time in seconds")
    p.add_argument(
        "--online",
        action="store_true",
        help="use the online (causal) orientation filter, as live mode does, instead of the "
        "offline forward-backward one",
    )


def exercise_and_limits(args: argparse.Namespace, recorded: str) -> tuple[Exercise, Limits]:
    ex = get_exercise(args.exercise or recorded)
    changes: dict[str, float] = {}
    if args.flexion_limit is not None:
        changes["flexion_deg"] = args.flexion_limit
    if args.extension_limit is not None:
        changes["extension_deg"] = args.extension_limit
    if args.dwell is not None:
        changes["dwell_s"] = args.dwell
    ex = ex.with_limits(**changes) if changes else ex
    return ex, ex.limits


def print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, default=_jsonable)
    sys.stdout.write("\n")


def _jsonable(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
