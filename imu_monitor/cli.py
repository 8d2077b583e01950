"""The ``imu-monitor`` command. Each subcommand lives in ``imu_monitor/commands/<name>.py`` with a
``register(subparsers)`` function that adds its parser and sets ``func`` (taking the parsed args,
returning an exit code)."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from . import __version__
from .model import ImuMonitorError

COMMANDS: tuple[str, ...] = (
    "analyze",
    "export",
    "replay",
    "import_",
    "simulate",
    "demo",
    "scan",
    "live",
)
"""Subcommand modules under imu_monitor.commands, in the order --help lists them."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imu-monitor",
        description="Lumbar stability monitor: IMU wearables, calibrated lumbar "
        "flexion/extension, alarms, reps and tempo.",
    )
    parser.add_argument("--version", action="version", version=f"imu-monitor {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"imu_monitor.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except ImuMonitorError as e:
        print(f"imu-monitor {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
