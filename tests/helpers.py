"""Shared helpers for tests (not a test module)."""

from __future__ import annotations

import numpy as np

from imu_monitor.model import Recording, SampleChunk
from imu_monitor.processing.pipeline import AngleLog, Pipeline


def chunks_in_time_order(rec: Recording, rng: np.random.Generator, max_chunk: int = 30):
    """The recording's samples as interleaved per-sensor chunks of random sizes (1..max_chunk),
    in arrival order by each chunk's last sample time, like BLE notifications."""
    out: list[SampleChunk] = []
    for name, s in rec.series.items():
        i = 0
        while i < len(s):
            n = int(rng.integers(1, max_chunk + 1))
            out.append(s.chunk(name, i, min(i + n, len(s))))
            i += n
    out.sort(key=lambda c: float(c.t_s[-1]))
    return out


def feed_live(rec: Recording, recorder=None, calibration=None):
    """``rec`` fed through a live ``Pipeline`` (``chunks_in_time_order``; without a calibration:
    the guided one, from the stream). Returns the pipeline, its angles (an ``AngleLog``) and
    its events."""
    pipe = Pipeline(rec.exercise, rec.sensors, recorder=recorder, calibration=calibration)
    sink = AngleLog()
    pipe.add_data_sink(sink)
    events = []
    for chunk in chunks_in_time_order(rec, np.random.default_rng(5)):
        events += pipe.feed(chunk)
    events += pipe.finish()
    return pipe, sink, events
