"""Throughput of ``analyze`` against the bare vqf call it makes, on the same samples.

Simulates about an hour of one-sensor 200 Hz back kicks, then times (best of N, same process, so
the ratio is meaningful on a shared machine): bare ``vqf.VQF.updateBatch``, bare
``vqf.offlineVQF``, and ``analyze_recording`` online and offline (orientation + calibration +
angles + monitor). Prints JSON.

    python benchmarks/bench_throughput.py [--minutes 60] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import date

import numpy as np
import vqf
from _timing import best_of  # noqa: E402  (benchmarks/ is on sys.path)

from imu_monitor.pipeline import analyze_recording
from imu_monitor.simulator import SimulationConfig, simulate_session


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    reps = max(1, int(args.minutes * 60 / 5.0))  # a back-kick rep with its rest is ~5 s
    t0 = time.perf_counter()
    rec = simulate_session(
        SimulationConfig(exercise="back-kick", reps=reps, faulty=reps // 4, sensors=1, seed=1)
    )
    sim_s = time.perf_counter() - t0
    s = rec.series["sacrum"]
    n = len(s)
    rate = rec.sensors["sacrum"].rate_hz
    gyr = np.ascontiguousarray(s.gyr_rad_s)
    acc = np.ascontiguousarray(s.acc_m_s2)

    def bare_online():
        vqf.VQF(1.0 / rate).updateBatch(gyr, acc)

    def bare_offline():
        vqf.offlineVQF(gyr, acc, None, 1.0 / rate)

    t_bare_on = best_of(bare_online, args.repeat)
    t_bare_off = best_of(bare_offline, args.repeat)
    t_an_on = best_of(lambda: analyze_recording(rec, offline=False), args.repeat)
    t_an_off = best_of(lambda: analyze_recording(rec, offline=True), args.repeat)
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
        "ratio_online": t_bare_on / t_an_on,
        "ratio_offline": t_bare_off / t_an_off,
        "analyze_offline_s_per_hour_200hz": t_an_off * (720_000 / n),
    }
    json.dump(out, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
