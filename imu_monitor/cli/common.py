"""Options and helpers several subcommands share."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from imu_monitor.exercises import EXERCISES, Exercise, Limits, get_exercise
from imu_monitor.settings import LimitOverrides


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


def limit_overrides(args: argparse.Namespace) -> LimitOverrides:
    """The limits given on the command line (``add_analysis_options``)."""
    return LimitOverrides(
        flexion_deg=getattr(args, "flexion_limit", None),
        extension_deg=getattr(args, "extension_limit", None),
        dwell_s=getattr(args, "dwell", None),
    )


def exercise_and_limits(args: argparse.Namespace, recorded: str) -> tuple[Exercise, Limits]:
    """The exercise to judge as (``--exercise``, else the recorded one) with the command
    line's limits."""
    ex = limit_overrides(args).apply(get_exercise(args.exercise or recorded))
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


def add_window_options(p: argparse.ArgumentParser, *, with_user: bool = True) -> None:
    """``--exit-after``, ``--screenshot``, ``--user`` (unless the command has its own) and
    ``--config-dir`` (for the dashboard)."""
    p.add_argument("--exit-after", type=float, metavar="S", help="close the window after S s")
    p.add_argument("--screenshot", metavar="PNG", help="save a PNG of the window on exit")
    add_config_options(p, with_user=with_user)


def add_config_options(p: argparse.ArgumentParser, *, with_user: bool = True) -> None:
    if with_user:
        p.add_argument(
            "--user", help="whose settings and calibrations to use (default: the last one)"
        )
    p.add_argument(
        "--config-dir",
        type=Path,
        help="settings/calibration directory (default: the platform's user config directory)",
    )


def window_options(args: argparse.Namespace) -> Any:
    """The dashboard's ``WindowOptions`` from ``--exit-after`` / ``--screenshot`` (imports the
    UI: call only when a window is to be shown)."""
    from imu_monitor.ui.app import WindowOptions

    shot = getattr(args, "screenshot", None)
    return WindowOptions(getattr(args, "exit_after", None), None if shot is None else Path(shot))
