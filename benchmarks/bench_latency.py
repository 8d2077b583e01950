"""Processing latency: BLE notification bytes in -> decode -> Pipeline.feed -> alarm event out.

The production path runs end to end: the simulated wearable (a bleak backend) sends notifications
in the firmware profile's byte layout; bleak's ``BleakClient`` calls ``SensorLink``'s notification
callback, which takes ``time.perf_counter()`` first thing, decodes the bytes and hands the chunk
to ``Pipeline.feed`` (orientation, sensor join, angles, monitor), whose listeners receive alarm
events synchronously. Measured:

- ``notification``: callback entry -> ``Pipeline.feed`` returned, for every notification
  (``SensorLink.stats()["latency_ms"]``, last 4096 per sensor per run);
- ``alarm``: callback entry of the notification whose samples raised the alarm -> the alarm
  listener is called (the moment sound / dashboard / wearable alert are triggered).

Not included: radio, OS Bluetooth stack and event-loop queueing before the callback runs (not
measurable from Python; the callback's own entry time is the reference). The simulated clock runs
``--speed`` times real time; each notification is still processed on its own.

    python benchmarks/bench_latency.py [--seeds 3] [--speed 10] [--reps 8] [--faulty 5]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time

import numpy as np

from imu_monitor.events import AlarmStarted, Event
from imu_monitor.model import SENSOR_SETS, SampleChunk
from imu_monitor.processing.pipeline import Pipeline
from imu_monitor.sources.ble import sim_source
from imu_monitor.sources.sim import make_world


def run_one(seed: int, sensors: int, speed: float, reps: int, faulty: int) -> dict:
    world = make_world(
        placements=SENSOR_SETS[sensors], seed=seed, speed=speed, reps=reps, faulty=faulty
    )
    person = world.people["p1"]
    src = sim_source(world)
    src.open()
    pipeline = Pipeline("back-kick", src.sensors)
    current = {"t_rx": None}
    alarm_s: list[float] = []

    def on_chunk(chunk: SampleChunk) -> None:
        current["t_rx"] = chunk.t_received_s
        pipeline.feed(chunk)

    def on_event(ev: Event) -> None:
        if isinstance(ev, AlarmStarted) and current["t_rx"] is not None:
            alarm_s.append(time.perf_counter() - current["t_rx"])
            src.alert(ev.direction)  # as Session does

    pipeline.add_listener(on_event)
    src.start(on_chunk, pipeline.mark_gap, lambda status: None)
    deadline = time.monotonic() + 4 * person.session_s / speed + 30
    while src.stream_time() < person.session_s and time.monotonic() < deadline:
        time.sleep(0.05)
    src.stop()
    stats = src.stats()
    dev_alerts = sum(len(d.alerts) for d in world.devices.values())
    notif = [float(x) for link in src.links.values() for x in link.latencies_s()]
    return {
        "seed": seed,
        "sensors": sensors,
        "notification_s": notif,
        "alarm_s": alarm_s,
        "packets": sum(s["packets"] for s in stats.values()),
        "alarms": len(alarm_s),
        "wearable_alerts": dev_alerts,
        "calibrated": pipeline.calibration is not None,
    }


def pct(values: list[float]) -> dict:
    a = np.asarray(values) * 1000.0
    if not len(a):
        return {"n": 0}
    return {
        "n": int(len(a)),
        "p50_ms": round(float(np.percentile(a, 50)), 4),
        "p99_ms": round(float(np.percentile(a, 99)), 4),
        "max_ms": round(float(a.max()), 4),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--speed", type=float, default=10.0)
    ap.add_argument("--reps", type=int, default=8)
    ap.add_argument("--faulty", type=int, default=5)
    args = ap.parse_args(argv)
    out: dict = {
        "benchmark": "latency notification -> decode -> Pipeline.feed -> alarm event",
        "how": "perf_counter at notification-callback entry (SensorLink) to Pipeline.feed "
        "return (every notification) and to the AlarmStarted listener call (alarms); "
        "simulated wearable (diy_imu profile, 200 Hz, 8 samples per notification) through "
        "bleak's backend seam; back-kick sessions with faulty reps",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "speed": args.speed,
        "results": {},
    }
    for sensors in (1, 2):
        runs = [
            run_one(seed, sensors, args.speed, args.reps, args.faulty) for seed in range(args.seeds)
        ]
        out["results"][f"{sensors}_sensor"] = {
            "notification": pct([x for r in runs for x in r["notification_s"]]),
            "alarm": pct([x for r in runs for x in r["alarm_s"]]),
            "alarms": sum(r["alarms"] for r in runs),
            "wearable_alerts_received": sum(r["wearable_alerts"] for r in runs),
            "packets": sum(r["packets"] for r in runs),
            "runs_calibrated": sum(r["calibrated"] for r in runs),
            "runs": len(runs),
        }
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
