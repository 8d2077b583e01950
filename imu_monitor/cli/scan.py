"""``imu-monitor scan``: list nearby BLE devices with name, address, RSSI and matching profile.

``--device sim`` scans the simulated wearables instead (no Bluetooth needed). Without an adapter
the command explains that in one line and exits with code 1. ``--json``: one object per device,
then ``{"type": "summary", ...}``.
"""

from __future__ import annotations

import argparse

from imu_monitor.app.sources import idle_simulated_wearables, scan_wearables
from imu_monitor.cli.common import check_profile_option, json_line, positive_number, table
from imu_monitor.cli.console import Output
from imu_monitor.model import SENSOR_SETS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "scan",
        help="list nearby BLE wearables and the firmware profile each one matches",
        description="Scan for Bluetooth Low Energy devices and show name, address, signal "
        "strength (RSSI) and the firmware profile that fits each (from firmware_profiles/).",
    )
    p.add_argument(
        "--timeout",
        type=positive_number("seconds"),
        metavar="S",
        help="seconds to scan (default 5; sim: 0.5)",
    )
    p.add_argument(
        "--device",
        choices=["sim"],
        help="'sim': scan the simulated wearables instead of the radio",
    )
    p.add_argument(
        "--sensors",
        type=int,
        choices=sorted(SENSOR_SETS),
        default=3,
        help="with --device sim: how many simulated wearables (default 3)",
    )
    p.add_argument("--profile", help="with --device sim: the profile they speak (default diy_imu)")
    p.add_argument("--all", action="store_true", help="also list devices no profile matches")
    p.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per line: each device, then a summary",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_profile_option(args.profile)
    world = None
    timeout = args.timeout
    if args.device == "sim":
        world = idle_simulated_wearables(SENSOR_SETS[args.sensors], args.profile)
        timeout = 0.5 if timeout is None else timeout
    found = scan_wearables(5.0 if timeout is None else timeout, world)
    shown = [f for f in found if args.all or f.profile is not None]
    hidden = len(found) - len(shown)
    out = Output(args.json)
    if args.json:
        for f in shown:
            out.write(json_line({"type": "device", **f.to_dict()}))
        out.write(json_line({"type": "summary", "devices": len(shown), "not_shown": hidden}))
    elif not shown:
        extra = f" ({hidden} without a matching profile: --all lists them)" if hidden else ""
        out.write(f"no supported wearables found{extra}")
    else:
        rows = [[f.name or "", f.address, str(f.rssi), f.profile or "-"] for f in shown]
        for line in table(None, ["NAME", "ADDRESS", "RSSI", "PROFILE"], rows):
            out.write(line)
    if out.closed.is_set():
        raise BrokenPipeError
    return 0
