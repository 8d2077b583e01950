"""Long live sessions: memory and ``Pipeline.feed`` latency over a simulated 8 hours.

A simulated session (``--reps`` reps of ``--exercise`` with ``--sensors`` sensors, some faulty,
about 10 minutes) is fed to one ``Pipeline`` in 8-sample chunks, as a BLE notification brings
them, sensor after sensor in time order; then its movement part (after the calibration capture)
is fed again and again with times and sample counters shifted on, until ``--hours`` of session
time have passed. Generating 8 hours of motion would cost more than processing it; repeating
10 minutes keeps the data realistic (reps, alarms, noise, dropped samples) and cheap.

Measured: ``feed()`` wall time of every chunk (p50 / p99 / max per session hour; and its CPU
time, ``time.thread_time``, which a busy shared machine disturbs less) and the
process's resident memory (``VmRSS`` from ``/proc/self/status``) at 10 minutes and at the end of
every hour. The latencies of one hour are kept in one preallocated array, so the benchmark's own
memory does not grow. Prints one JSON object.

    python benchmarks/bench_long_session.py [--hours 8] [--sensors 2] [--reps 90]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time

import numpy as np

from imu_monitor.events import AlarmStarted, Event, RepEnded
from imu_monitor.model import SampleChunk, SensorInfo
from imu_monitor.processing.calibration import calibrate_recording
from imu_monitor.processing.pipeline import Pipeline
from imu_monitor.simulator import SimulationConfig, simulate_session

CHUNK = 8


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def chunk_plan(rec, t_from: float) -> tuple[list[tuple[float, str, int, int]], int]:
    """The chunks of the recording in time order: (time of the last sample, sensor, start, stop);
    and the index of the first chunk after ``t_from`` (where the repeats start)."""
    plan = []
    for p, s in rec.series.items():
        for a in range(0, len(s), CHUNK):
            b = min(len(s), a + CHUNK)
            plan.append((float(s.t_s[b - 1]), p, a, b))
    plan.sort()
    first = next(i for i, c in enumerate(plan) if c[0] > t_from)
    return plan, first


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hours", type=float, default=8.0)
    ap.add_argument("--sensors", type=int, default=2)
    ap.add_argument("--exercise", default="back-kick")
    ap.add_argument("--reps", type=int, default=90)
    ap.add_argument("--faulty", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    rec = simulate_session(
        SimulationConfig(
            exercise=args.exercise,
            reps=args.reps,
            faulty=args.faulty,
            sensors=args.sensors,
            seed=args.seed,
        )
    )
    cal = calibrate_recording(rec)
    rate = {p: rec.sensors[p].rate_hz for p in rec.series}
    sensors = {p: SensorInfo(p, rate_hz=rate[p]) for p in rec.series}
    plan, loop_from = chunk_plan(rec, float(cal.valid_from_s or 0.0))
    # each repeat follows the last one by one sample period; counters continue
    t_loop0 = min(float(rec.series[p].t_s[a]) for _, p, a, _ in plan[loop_from : loop_from + 8])
    t_end = max(float(s.t_s[-1]) for s in rec.series.values())
    period_s = t_end - t_loop0 + 1.0 / rate["sacrum"]
    seq_shift = {}
    for p, s in rec.series.items():
        i0 = next(c[2] for c in plan[loop_from:] if c[1] == p)
        seq_shift[p] = 0 if s.seq is None else int(s.seq[-1] - s.seq[i0] + 1)

    pipe = Pipeline(args.exercise, sensors, calibration=cal)
    counts = {"reps": 0, "alarms": 0}

    def on_event(ev: Event) -> None:
        if isinstance(ev, RepEnded):
            counts["reps"] += 1
        elif isinstance(ev, AlarmStarted):
            counts["alarms"] += 1

    pipe.add_listener(on_event)

    total_s = args.hours * 3600.0
    hour_lat = np.zeros(int(3600.0 * sum(rate.values()) / CHUNK * 1.2) + 1000)
    hour_cpu = np.zeros_like(hour_lat)
    hours: list[dict] = []
    rss_10min = None
    rss_start = rss_mb()
    k_hour, n_lat = 1, 0
    cycle = 0
    wall0 = time.perf_counter()

    def close_hour() -> None:
        lat = hour_lat[:n_lat] * 1000.0
        cpu = hour_cpu[:n_lat] * 1000.0
        hours.append(
            {
                "hour": k_hour,
                "chunks": int(n_lat),
                "feed_p50_ms": round(float(np.percentile(lat, 50)), 4),
                "feed_p99_ms": round(float(np.percentile(lat, 99)), 4),
                "feed_max_ms": round(float(lat.max()), 3),
                "feed_cpu_p50_ms": round(float(np.percentile(cpu, 50)), 4),
                "feed_cpu_p99_ms": round(float(np.percentile(cpu, 99)), 4),
                "rss_mb": round(rss_mb(), 1),
                "reps_so_far": counts["reps"],
                "alarms_so_far": counts["alarms"],
            }
        )

    done = False
    while not done:
        dt = cycle * period_s
        for t_last, p, a, b in plan if cycle == 0 else plan[loop_from:]:
            t_chunk = t_last + dt
            if t_chunk > total_s:
                done = True
                break
            if rss_10min is None and t_chunk >= 600.0:
                rss_10min = rss_mb()
            if t_chunk >= k_hour * 3600.0:
                close_hour()
                k_hour, n_lat = k_hour + 1, 0
            s = rec.series[p]
            chunk = SampleChunk(
                p,
                s.t_s[a:b] + dt,
                s.acc_m_s2[a:b],
                s.gyr_rad_s[a:b],
                None if s.seq is None else s.seq[a:b] + cycle * seq_shift[p],
            )
            c0, t0 = time.thread_time(), time.perf_counter()
            pipe.feed(chunk)
            hour_lat[n_lat] = time.perf_counter() - t0
            hour_cpu[n_lat] = time.thread_time() - c0
            n_lat += 1
        cycle += 1
    if n_lat:
        close_hour()
    pipe.finish()
    summary = pipe.summary()
    first = next((h for h in hours if h["hour"] == 1), None)
    p99 = [h["feed_p99_ms"] for h in hours if h["chunks"] > 1000]
    p99_cpu = [h["feed_cpu_p99_ms"] for h in hours if h["chunks"] > 1000]
    out = {
        "benchmark": "long live session: Pipeline.feed of 8-sample chunks",
        "how": f"simulated {args.exercise} session ({args.reps} reps, {args.faulty} faulty, "
        f"{args.sensors} sensors, seed {args.seed}, {period_s:.0f} s of movement) repeated with "
        "shifted times and counters; feed() wall time per chunk; VmRSS from /proc/self/status",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "session_hours": args.hours,
        "repeats": cycle,
        "rss_start_mb": round(rss_start, 1),
        "rss_10min_mb": None if rss_10min is None else round(rss_10min, 1),
        "rss_end_mb": round(rss_mb(), 1),
        "rss_growth_after_10min_mb": (
            None if rss_10min is None else round(rss_mb() - rss_10min, 1)
        ),
        "p99_last_over_first_hour": (
            round(p99[-1] / first["feed_p99_ms"], 3) if first and p99 else None
        ),
        "p99_max_over_min": round(max(p99) / min(p99), 3) if p99 else None,
        "cpu_p99_last_over_first_hour": (
            round(p99_cpu[-1] / first["feed_cpu_p99_ms"], 3) if first and p99_cpu else None
        ),
        "cpu_p99_max_over_min": round(max(p99_cpu) / min(p99_cpu), 3) if p99_cpu else None,
        "hours": hours,
        "session": {
            "reps": summary["reps"],
            "alarms": summary["alarms"],
            "events": summary["events"],
        },
        "wall_s": round(time.perf_counter() - wall0, 1),
    }
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
