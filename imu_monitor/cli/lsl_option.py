"""``--lsl`` and ``--lsl-wait``, shared by ``live``, ``demo`` and ``replay`` (not a command).

``--lsl`` opens the session's Lab Streaming Layer outlets (``app.lsl``); when pylsl or its
liblsl cannot be loaded the command stops before connecting anything, with one line saying so
(exit code 1, as every runtime error). ``--lsl-wait S`` holds the session until a recorder
(LabRecorder) is connected to every outlet, at most S seconds, so that it gets the first sample.
"""

from __future__ import annotations

import argparse
from typing import Any

from imu_monitor.app.lsl import LslOutlets, check_lsl
from imu_monitor.cli.common import non_negative_number
from imu_monitor.cli.console import Output
from imu_monitor.errors import UsageError
from imu_monitor.model import SensorInfo


def add_lsl_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("Lab Streaming Layer (README: LSL and XDF)")
    g.add_argument(
        "--lsl",
        action="store_true",
        help="send the samples, orientations, angles and markers as LSL streams (LabRecorder)",
    )
    g.add_argument(
        "--lsl-wait",
        type=non_negative_number("seconds"),
        metavar="S",
        help="with --lsl: wait up to S s for a recorder to connect to every stream first",
    )


def check_lsl_options(args: argparse.Namespace) -> None:
    """Before anything connects: the options agree and the LSL library loads."""
    if getattr(args, "lsl_wait", None) is not None and not getattr(args, "lsl", False):
        raise UsageError("--lsl-wait needs --lsl", option="--lsl-wait")
    if getattr(args, "lsl", False):
        check_lsl()


def open_lsl(
    args: argparse.Namespace,
    sensors: dict[str, SensorInfo],
    pipeline: Any,
    out: Output | None,
    source: str = "",
) -> LslOutlets | None:
    """The outlets fed by ``pipeline`` (None without ``--lsl``); with ``--lsl-wait``, once a
    recorder is connected to each or the time is up (said on ``out``)."""
    if not getattr(args, "lsl", False):
        return None
    outlets = LslOutlets(sensors, source=source)
    outlets.attach(pipeline)
    note = f"LSL: {len(outlets.outlets)} streams: {', '.join(outlets.stream_names)}"
    wait = getattr(args, "lsl_wait", None)
    if wait:
        if outlets.wait_for_consumers(wait):
            note += "; a recorder is connected to each"
        else:
            note += f"; after {wait:g} s not every stream has a recorder: streaming all the same"
    if out is not None:
        out.record("note", f"note: {note}", text=note)
    return outlets
