"""Accuracy of the whole signal core against simulated ground truth.

For each scenario (exercise x sensor set) and each seed: simulate a session with faulty reps,
analyse it (calibration from the recording's calibration markers, vqf orientation, angles,
monitor) and score it with ``imu_monitor.simulator.scoring.evaluate``. Prints one JSON object
with the per-scenario aggregates and a Markdown table for the README.

    python benchmarks/bench_accuracy.py [--seeds 20] [--reps 10] [--faulty 4] [--online]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import date

import numpy as np

from imu_monitor.processing.pipeline import analyze_recording
from imu_monitor.simulator import SimulationConfig, simulate_session
from imu_monitor.simulator.scoring import evaluate

SCENARIOS = [
    ("back-kick", 1),
    ("back-kick", 2),
    ("back-kick", 3),
    ("hip-thrust", 1),
    ("hip-thrust", 2),
    ("glute-bridge", 1),
    ("glute-bridge", 2),
]


def run_scenario(
    exercise: str,
    sensors: int,
    seeds: int,
    reps: int,
    faulty: int,
    offline: bool,
    rest_variation: float = 0.0,
):
    rows = []
    for seed in range(seeds):
        rec = simulate_session(
            SimulationConfig(
                exercise=exercise,
                reps=reps,
                faulty=faulty,
                sensors=sensors,
                seed=seed,
                rest_variation_deg=rest_variation,
            )
        )
        an = analyze_recording(rec, offline=offline)
        rows.append(evaluate(an, rec.truth))
    delays = np.concatenate([np.asarray(r["alarm_delay_s"], float) for r in rows] or [[]])
    lockout = rows[0]["lockout_rmse_deg"] is not None
    rmse = np.array([r["lockout_rmse_deg"] if lockout else r["angle_rmse_deg"] for r in rows])
    faulty_n = sum(r["lumbar_faulty_reps"] for r in rows)
    good_n = sum(r["good_reps"] for r in rows)
    phase_max = [r["phase_abs_err_max_s"] for r in rows if r["phase_abs_err_max_s"] is not None]
    phase_good = [
        r["phase_abs_err_max_no_lumbar_fault_s"]
        for r in rows
        if r["phase_abs_err_max_no_lumbar_fault_s"] is not None
    ]
    return {
        "exercise": exercise,
        "sensors": sensors,
        "seeds": seeds,
        "rmse_scope": "lockout (hold) only" if lockout else "whole exercise part",
        "rmse_deg_mean": float(rmse.mean()),
        "rmse_deg_max": float(rmse.max()),
        "lumbar_faulty_reps": faulty_n,
        "lumbar_faulty_alarmed": sum(r["lumbar_faulty_alarmed"] for r in rows),
        "good_reps": good_n,
        "false_alarms": sum(r["false_alarms"] for r in rows),
        "false_alarms_per_100_good_reps": 100.0
        * sum(r["false_alarms"] for r in rows)
        / max(good_n, 1),
        "alarm_delay_median_ms": float(np.median(delays) * 1000) if len(delays) else None,
        "alarm_delay_p90_ms": float(np.percentile(delays, 90) * 1000) if len(delays) else None,
        "rep_count_exact": sum(r["reps_detected"] == r["reps_true"] for r in rows),
        "phase_err_max_ms": float(max(phase_max) * 1000) if phase_max else None,
        "phase_err_max_no_lumbar_fault_ms": float(max(phase_good) * 1000) if phase_good else None,
        "phase_err_max_not_approximate_ms": _max_ms(rows, "phase_abs_err_max_not_approximate_s"),
        "tempo_approximate_reps": sum(r["tempo_approximate_reps"] for r in rows),
        "phase_err_median_ms": float(
            np.median(
                [
                    r["phase_abs_err_median_s"]
                    for r in rows
                    if r["phase_abs_err_median_s"] is not None
                ]
            )
            * 1000
        )
        if phase_max
        else None,
        "too_fast_true": sum(r["too_fast_true"] for r in rows),
        "too_fast_flagged": sum(r["too_fast_flagged"] for r in rows),
    }


def _max_ms(rows: list[dict], key: str) -> float | None:
    vals = [r[key] for r in rows if r[key] is not None]
    return float(max(vals) * 1000) if vals else None


def _ms(v: float | None) -> str:
    return "-" if v is None else str(round(v))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--faulty", type=int, default=4)
    ap.add_argument("--online", action="store_true", help="online (live) filter instead of offline")
    ap.add_argument("--only", help="exercise:sensors, e.g. back-kick:1")
    ap.add_argument(
        "--rest-variation",
        type=float,
        default=0.0,
        help="the pelvis rests up to this many degrees away from the calibration posture "
        "between reps (SimulationConfig.rest_variation_deg)",
    )
    args = ap.parse_args()
    scenarios = SCENARIOS
    if args.only:
        ex, n = args.only.split(":")
        scenarios = [(ex, int(n))]
    t0 = time.perf_counter()
    results = [
        run_scenario(
            ex, n, args.seeds, args.reps, args.faulty, not args.online, args.rest_variation
        )
        for ex, n in scenarios
    ]
    out = {
        "benchmark": "accuracy",
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "filter": "online" if args.online else "offline",
        "rest_variation_deg": args.rest_variation,
        "elapsed_s": round(time.perf_counter() - t0, 1),
        "scenarios": results,
    }
    json.dump(out, sys.stdout, indent=2)
    print()
    print(
        "\n| exercise | sensors | RMSE mean / max (deg) | faulty reps alarmed "
        "| false alarms / 100 good reps | median alarm delay (ms) | rep count exact "
        "| max phase error: reps without a lumbar fault / all reps (ms) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['exercise']} | {r['sensors']} | {r['rmse_deg_mean']:.2f} / "
            f"{r['rmse_deg_max']:.2f}{' (lockout)' if 'lockout' in r['rmse_scope'] else ''} | "
            f"{r['lumbar_faulty_alarmed']}/{r['lumbar_faulty_reps']} | "
            f"{r['false_alarms_per_100_good_reps']:.1f} | "
            f"{'-' if r['alarm_delay_median_ms'] is None else round(r['alarm_delay_median_ms'])}"
            f" | {r['rep_count_exact']}/{r['seeds']} | "
            f"{_ms(r['phase_err_max_no_lumbar_fault_ms'])} / {_ms(r['phase_err_max_ms'])} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
