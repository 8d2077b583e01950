"""Sets, good reps and form drift against the simulator's truth.

For each setup (exercise x sensor set) and seed: simulate a session of 4 sets of 10 reps (rests
of 45 s +-25 % between sets) with 4 lumbar-faulty reps, 4 reps off the target tempo (a short
hold, a dropped lowering, a slow rise) and a form drift over the last 5 reps of the last set
(the lower back arching from 30 % to 90 % of the extension limit), analyse it as ``analyze``
does and score its sets and good reps on the truth (``simulator.set_truth``). ``--markers none``
drops the set markers, so sets split at the rests alone. Prints one JSON object and a Markdown
table.

    python benchmarks/bench_sets.py [--seeds 20] [--markers all|none] [--only back-kick:2]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import date

import numpy as np

from imu_monitor.processing.analysis import analyze_recording
from imu_monitor.simulator import SimulationConfig, simulate_session
from imu_monitor.simulator.scoring import SETUPS
from imu_monitor.simulator.set_truth import score_analysis_sets


def run_setup(exercise: str, sensors: int, seeds: int, markers: str) -> dict:
    scores = []
    for seed in range(seeds):
        config = SimulationConfig(
            exercise=exercise,
            sensors=sensors,
            reps=10,
            sets=4,
            faulty=4,
            tempo_faulty=4,
            drift_reps=5,
            seed=seed,
            markers=markers,
        )
        rec = simulate_session(config)
        scores.append(score_analysis_sets(analyze_recording(rec), rec.truth, rec.meta))
    drift = [s["drift"][-1] for s in scores]  # the drifting set
    slope_err = [
        abs(d["slope_detected_deg_per_rep"] - d["slope_true_deg_per_rep"])
        for d in drift
        if d["slope_detected_deg_per_rep"] is not None
    ]
    warn = [(d["first_warning_true"], d["first_warning_detected"]) for d in drift]
    return {
        "exercise": exercise,
        "sensors": sensors,
        "sessions": seeds,
        "sets_exact_sessions": sum(s["sets_exact"] for s in scores),
        "reps_true": sum(s["reps_true"] for s in scores),
        "reps_matched": sum(s["reps_matched"] for s in scores),
        "good_true": sum(s["good_true"] for s in scores),
        "good_detected": sum(s["good_detected"] for s in scores),
        "good_agree": sum(s["good_agree"] for s in scores),
        "faults_agree": sum(s["faults_agree"] for s in scores),
        "tempo_faulty_true": sum(s["tempo_faulty_true"] for s in scores),
        "tempo_faulty_found": sum(s["tempo_faulty_found"] for s in scores),
        "drift_slope_true_mean_deg_per_rep": float(
            np.mean([d["slope_true_deg_per_rep"] for d in drift])
        ),
        "drift_slope_abs_err_deg_per_rep": {
            "p50": float(np.median(slope_err)) if slope_err else None,
            "max": float(max(slope_err)) if slope_err else None,
        },
        "drift_warning_exact": sum(t == d for t, d in warn),
        "drift_warning_within_1_rep": sum(
            t is not None and d is not None and abs(t - d) <= 1 for t, d in warn
        ),
        "drift_warning_in_drifting_reps": sum(
            d is not None and d in x["drifting_reps"] for (_, d), x in zip(warn, drift, strict=True)
        ),
        "disagreements": [s["disagreements"] for s in scores],
    }


def _pct(a: int, b: int) -> str:
    return f"{a}/{b} ({100.0 * a / max(b, 1):.1f} %)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--markers", choices=["all", "none"], default="all")
    ap.add_argument("--only", help="one setup, e.g. back-kick:2")
    args = ap.parse_args()
    setups = list(SETUPS)
    if args.only:
        ex, n = args.only.split(":")
        setups = [(ex, int(n))]
    t0 = time.perf_counter()
    results = [run_setup(ex, n, args.seeds, args.markers) for ex, n in setups]
    out = {
        "date": date.today().isoformat(),
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "seeds": args.seeds,
        "markers": args.markers,
        "results": results,
        "elapsed_s": round(time.perf_counter() - t0, 1),
    }
    print(json.dumps(out, indent=1))
    print(
        "\n| setup | sets exact | good reps true / judged | good or not agrees | reasons agree "
        "| tempo faults found | drift slope true mean, abs err p50 / max (deg/rep) "
        "| drift warning: same rep / within 1 / in the drifting reps |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        e = r["drift_slope_abs_err_deg_per_rep"]
        print(
            f"| {r['exercise']} {r['sensors']} | {r['sets_exact_sessions']}/{r['sessions']} | "
            f"{r['good_true']} / {r['good_detected']} | "
            f"{_pct(r['good_agree'], r['reps_true'])} | {_pct(r['faults_agree'], r['reps_true'])} "
            f"| {r['tempo_faulty_found']}/{r['tempo_faulty_true']} | "
            f"{r['drift_slope_true_mean_deg_per_rep']:.2f}, {e['p50']:.2f} / {e['max']:.2f} | "
            f"{r['drift_warning_exact']} / {r['drift_warning_within_1_rep']} / "
            f"{r['drift_warning_in_drifting_reps']} of {r['sessions']} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
