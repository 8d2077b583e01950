"""Shared helpers for tests (not a test module)."""

from __future__ import annotations

import itertools

import numpy as np

from imu_monitor.cli.main import main as cli_main
from imu_monitor.model import Recording
from imu_monitor.simulator.live import arrival_order
from imu_monitor.simulator.live import feed_live as simulator_feed_live


def chunks_in_time_order(rec: Recording, rng: np.random.Generator, max_chunk: int = 30):
    """The recording's samples as interleaved per-sensor chunks of random sizes (1..max_chunk),
    in arrival order by each chunk's last sample time, like BLE notifications."""
    return arrival_order(rec, (int(rng.integers(1, max_chunk + 1)) for _ in itertools.count()))


def feed_live(rec: Recording, recorder=None, calibration=None):
    """``rec`` fed through a live ``Pipeline`` (``chunks_in_time_order``; without a calibration:
    the guided one, from the stream). Returns the pipeline, its angles (an ``AngleLog``) and
    its events."""
    chunks = chunks_in_time_order(rec, np.random.default_rng(5))
    return simulator_feed_live(rec, chunks, recorder=recorder, calibration=calibration)


def run_cli(argv: list[str]) -> int:
    """``imu-monitor ARGV``'s exit code as the shell sees it (argparse exits for usage errors)."""
    try:
        return cli_main(argv)
    except SystemExit as e:
        return int(e.code or 0)
