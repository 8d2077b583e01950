"""A recorded or simulated session fed to the live ``Pipeline`` as wearables send it.

Used by the accuracy benchmark (``--live``) and the tests to measure what a trainee gets: the
same pipeline, calibration and monitor the BLE client drives, fed the session's samples in
notification-sized chunks in the order they would arrive. ``scoring.live_judgement`` reads the
result as the scoring reads an analysis.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from imu_monitor.events import Event
from imu_monitor.model import Recording, SampleChunk
from imu_monitor.processing.calibration import Calibration
from imu_monitor.processing.pipeline import AngleLog, Pipeline


def arrival_order(rec: Recording, sizes: Iterator[int]) -> list[SampleChunk]:
    """Every sensor's samples cut into chunks of the next of ``sizes`` samples each (sensor by
    sensor, in the recording's order), then ordered by each chunk's last sample time, as the
    notifications arrive: lost samples leave a sensor's chunk spanning more time, not a sensor
    ahead of the others. The sort is stable, so sensors take turns at equal times."""
    out: list[SampleChunk] = []
    for placement, series in rec.series.items():
        start = 0
        while start < len(series):
            stop = min(start + max(1, next(sizes)), len(series))
            out.append(series.chunk(placement, start, stop))
            start = stop
    out.sort(key=lambda c: float(c.t_s[-1]))
    return out


def feed_live(
    rec: Recording,
    chunks: Iterable[SampleChunk],
    recorder=None,
    calibration: Calibration | None = None,
) -> tuple[Pipeline, AngleLog, list[Event]]:
    """``chunks`` of ``rec`` fed through a new live ``Pipeline`` (with ``recorder``, if given,
    writing the session as ``live --record`` does), then finished. Without ``calibration`` the
    guided calibration takes the stand and start postures from the stream, as it does for a
    person. Returns the pipeline, its angles and its events."""
    pipe = Pipeline(rec.exercise, rec.sensors, recorder=recorder, calibration=calibration)
    log = AngleLog()
    pipe.add_data_sink(log)
    events: list[Event] = []
    for chunk in chunks:
        events += pipe.feed(chunk)
    events += pipe.finish()
    return pipe, log, events
