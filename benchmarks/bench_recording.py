"""Benchmark the recording format and the replay source; prints one JSON line.

- load time of a 1 h, two-sensor, 200 Hz recording written the way a live session writes it
  (RecordingWriter, 40 ms chunks, a flush every 0.25 s), and of the same data saved at once;
- file size per hour;
- as-fast-as-possible replay of one 200 Hz sensor, in multiples of real time.

Usage: python benchmarks/bench_recording.py [--minutes 60] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from imu_monitor.model import Recording, SensorInfo, SensorSeries
from imu_monitor.sources.replay import ReplaySource
from imu_monitor.storage.recording import RecordingWriter, load_recording, save_recording

RATE_HZ = 200.0
SENSORS = ("sacrum", "upper_lumbar")


def make_series(n: int, rng: np.random.Generator) -> SensorSeries:
    t = np.arange(n) / RATE_HZ
    acc = rng.normal(0.0, 0.5, (n, 3)) + [0.0, 0.0, 9.81]
    gyr = rng.normal(0.0, 0.1, (n, 3))
    return SensorSeries(t, acc, gyr, np.arange(n, dtype=np.int64))


def write_streamed(path: Path, series: dict[str, SensorSeries]) -> None:
    """Write like a live session: 40 ms chunks per sensor, flushes every 0.25 s of data."""
    now = [0.0]
    sensors = {s: SensorInfo(placement=s) for s in series}
    with RecordingWriter(
        path, {"source": "bench"}, sensors, clock=lambda: now[0], background_flush=False
    ) as w:
        n = len(next(iter(series.values())))
        step = int(0.04 * RATE_HZ)
        for i in range(0, n, step):
            for name, s in series.items():
                w.write_chunk(s.chunk(name, i, i + step))
            now[0] = (i + step) / RATE_HZ


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    n = int(args.minutes * 60 * RATE_HZ)
    series = {s: make_series(n, rng) for s in SENSORS}
    rec = Recording({"source": "bench"}, {s: SensorInfo(placement=s) for s in SENSORS}, series)
    hours = args.minutes / 60.0
    out: dict[str, object] = {"minutes": args.minutes, "sensors": len(SENSORS), "rate_hz": RATE_HZ}
    with tempfile.TemporaryDirectory() as d:
        streamed = Path(d) / "streamed.imr"
        saved = Path(d) / "saved.imr"
        t0 = time.perf_counter()
        write_streamed(streamed, series)
        out["write_streamed_s"] = round(time.perf_counter() - t0, 3)
        save_recording(rec, saved)
        loaded = load_recording(streamed)
        assert np.array_equal(loaded.series["sacrum"].acc_m_s2, series["sacrum"].acc_m_s2)
        out["load_streamed_s"] = round(best_of(lambda: load_recording(streamed), args.repeat), 3)
        out["load_saved_s"] = round(best_of(lambda: load_recording(saved), args.repeat), 3)
        size = os.path.getsize(streamed)
        out["file_mb_per_hour"] = round(size / 1e6 / hours, 1)
        out["file_mb_per_sensor_hour"] = round(size / 1e6 / hours / len(SENSORS), 1)

    one = Recording(rec.meta, {"sacrum": rec.sensors["sacrum"]}, {"sacrum": series["sacrum"]})

    def replay() -> int:
        return sum(len(c) for c in ReplaySource(one, speed=None).chunks())

    t_replay = best_of(replay, args.repeat)
    out["replay_x_realtime"] = round(one.duration_s / t_replay, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
