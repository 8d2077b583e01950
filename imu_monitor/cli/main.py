"""The ``imu-monitor`` command. Each subcommand lives in ``imu_monitor/commands/<name>.py`` with a
``register(subparsers)`` function that adds its parser and sets ``func`` (taking the parsed args,
returning an exit code)."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from imu_monitor import __version__
from imu_monitor.app.platform import has_display
from imu_monitor.errors import ImuMonitorError

COMMANDS: tuple[str, ...] = (
    "demo",
    "live",
    "scan",
    "replay",
    "analyze",
    "export",
    "mark",
    "import_",
    "simulate",
    "decode",
    "check_device",
)
"""Subcommand modules under imu_monitor.cli, in the order --help lists them."""


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
        importlib.import_module(f"imu_monitor.cli.{name}").register(sub)
    return parser


HEADLESS_DEMO_S = 45.0
"""How long ``imu-monitor`` with no arguments runs the simulated session on a machine with no
display."""


def default_command() -> list[str]:
    """What ``imu-monitor`` alone does: the dashboard on the simulated wearable, or, with no
    display to show it on, the same session headless for a while."""
    if has_display():
        return ["demo"]
    print(
        f"imu-monitor: no display found: running the simulated back-kick session headless for "
        f"{HEADLESS_DEMO_S:g} s (alarms and reps are printed as they happen). For the dashboard "
        "run it on a desktop, or save a picture of it with: imu-monitor demo --exit-after 20 "
        "--screenshot demo.png",
        file=sys.stderr,
    )
    return ["live", "--device", "sim", "--headless", "--duration", f"{HEADLESS_DEMO_S:g}"]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    if argv is None:
        argv = sys.argv[1:]
    if not argv:
        argv = default_command()
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
