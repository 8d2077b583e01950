"""Throughput of ``analyze`` against the bare vqf call it makes, on the same samples.

Simulates about an hour of one-sensor 200 Hz back kicks, then times bare ``vqf.VQF.updateBatch``,
bare ``vqf.offlineVQF``, and ``analyze_recording`` online and offline (orientation + calibration +
angles + monitor). On a shared machine the load changes from second to second, so the four are
run interleaved, round after round, in one process: each ratio is given as best-of-N (best bare
time / best analyze time) and as the median of the rounds' own ratios (each round's calls ran
within a few seconds of each other), with the spread. Prints JSON.

    python benchmarks/bench_throughput.py [--minutes 60] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from datetime import date

import numpy as np
import vqf

from imu_monitor.processing.analysis import analyze_recording
from imu_monitor.simulator import SimulationConfig, simulate_session


def interleaved(fns: dict[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    """Wall times (s) of ``rounds`` rounds, each calling every function once in turn."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return times


def ratio(times: dict[str, list[float]], bare: str, analyze: str) -> dict[str, float]:
    """Throughput of ``analyze`` relative to ``bare`` (1 = as fast): best-of-N and per round."""
    per_round = np.array(times[bare]) / np.array(times[analyze])
    return {
        "best_of_n": min(times[bare]) / min(times[analyze]),
        "round_median": float(np.median(per_round)),
        "round_min": float(per_round.min()),
        "round_max": float(per_round.max()),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--repeat", type=int, default=5, help="interleaved rounds")
    args = ap.parse_args()
    reps = max(1, int(args.minutes * 60 / 5.0))  # a back-kick rep with its rest is ~5 s
    t0 = time.perf_counter()
    rec = simulate_session(
        SimulationConfig(
            exercise="back-kick", reps=reps, faulty=reps // 4, sensors=1, seed=1, motion="ramps"
        )
    )
    sim_s = time.perf_counter() - t0
    s = rec.series["sacrum"]
    n = len(s)
    rate = rec.sensors["sacrum"].rate_hz
    gyr = np.ascontiguousarray(s.gyr_rad_s)
    acc = np.ascontiguousarray(s.acc_m_s2)

    fns = {
        "bare_online": lambda: vqf.VQF(1.0 / rate).updateBatch(gyr, acc),
        "analyze_online": lambda: analyze_recording(rec, offline=False),
        "bare_offline": lambda: vqf.offlineVQF(gyr, acc, None, 1.0 / rate),
        "analyze_offline": lambda: analyze_recording(rec, offline=True),
    }
    analyze_recording(rec)  # warm-up (imports, caches)
    times = interleaved(fns, args.repeat)
    t_bare_on, t_an_on, t_bare_off, t_an_off = (min(times[k]) for k in fns)
    out = {
        "benchmark": "throughput",
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "samples": n,
        "recording_s": rec.duration_s,
        "simulate_s": round(sim_s, 2),
        "bare_vqf_online_samples_per_s": n / t_bare_on,
        "bare_vqf_offline_samples_per_s": n / t_bare_off,
        "analyze_online_samples_per_s": n / t_an_on,
        "analyze_offline_samples_per_s": n / t_an_off,
        "rounds": args.repeat,
        "ratio_online": ratio(times, "bare_online", "analyze_online"),
        "ratio_offline": ratio(times, "bare_offline", "analyze_offline"),
        "analyze_offline_s_per_hour_200hz": t_an_off * (720_000 / n),
    }
    json.dump(out, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
