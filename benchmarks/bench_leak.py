"""The lumbar angle's leak into a back kick's pelvis-turn rep signal (``monitor.leak``), as the
monitor estimates it from a session's reps, against the leak the calibration error makes.

For each seed: simulate a one- or two-sensor back kick of simulated people (the simulator's
defaults), analyse it as ``analyze`` does and read the session's estimate
(``MonitorResult.pelvis_leak``: from all its reps, as the last rep saw it). The true leak: the
calibrated sacrum frame is off from the true one by a rotation ``E`` (the estimated sensor
alignment against the simulator's mounting); a flexion of the true pelvis, a turn about its
lateral (y) axis, then turns about ``E y`` in the calibrated frame, and the share of it about the
calibrated long (z) axis is what the turn signal gets: ``(E y)_z``, signed by the side the
kicks turn the pelvis to and by flexion being a negative pitch (``angles``). Prints per seed the
true and estimated leak (%) and the errors' RMS and largest.

    python benchmarks/bench_leak.py [--seeds 20] [--first-seed 0] [--sensors 1|2]
        [--rate-hz 200] [--acc-offset-mg 15]
"""

from __future__ import annotations

import argparse
import json
import math
from datetime import date

import numpy as np
from scipy.spatial.transform import Rotation

from imu_monitor.processing.analysis import analyze_recording
from imu_monitor.simulator import SimulationConfig, simulate_session
from imu_monitor.simulator.generate import build_session_model


def _rotation(q_wxyz: list[float]) -> Rotation:
    return Rotation.from_quat(q_wxyz, scalar_first=True)


def true_leak(cfg: SimulationConfig, rec, calibration) -> float:
    """The leak the calibration error makes (module docstring), a fraction."""
    est = _rotation(calibration.sensors["sacrum"].q_segment_sensor)
    true = _rotation(rec.truth.mounting_quat["sacrum"])
    axis = (est * true.inv()).apply([0.0, 1.0, 0.0])
    # the side the kicks turn the pelvis to: the programmed turn about its long axis
    yaw = build_session_model(cfg).program.signals["sacrum.yaw"]
    tops = np.array([r.t_top_s for r in rec.truth.reps])
    starts = np.array([r.t_start_s for r in rec.truth.reps])
    side = math.copysign(1.0, float(np.median(yaw.evaluate(tops)[0] - yaw.evaluate(starts)[0])))
    return -side * float(axis[2] / np.linalg.norm(axis))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--sensors", type=int, choices=(1, 2), default=1)
    ap.add_argument("--rate-hz", type=float, default=200.0)
    ap.add_argument("--acc-offset-mg", type=float, default=None)
    args = ap.parse_args()
    extra = {}
    if args.acc_offset_mg is not None:
        extra["acc_offset_sd_m_s2"] = args.acc_offset_mg * 9.80665e-3
    rows = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        cfg = SimulationConfig(
            exercise="back-kick",
            reps=10,
            faulty=4,
            sensors=args.sensors,
            seed=seed,
            rate_hz=args.rate_hz,
            **extra,
        )
        rec = simulate_session(cfg)
        an = analyze_recording(rec, offline=True)
        est = an.result.pelvis_leak
        truth = true_leak(cfg, rec, an.calibration)
        rows.append({"seed": seed, "true_pct": 100 * truth, "estimate_pct": 100 * est})
        print(f"seed {seed}: true {100 * truth:+.2f} %, estimated {100 * est:+.2f} %")
    err = np.array([r["estimate_pct"] - r["true_pct"] for r in rows])
    summary = {
        "date": date.today().isoformat(),
        "sensors": args.sensors,
        "rate_hz": args.rate_hz,
        "seeds": [args.first_seed, args.first_seed + args.seeds - 1],
        "true_range_pct": [
            round(min(r["true_pct"] for r in rows), 2),
            round(max(r["true_pct"] for r in rows), 2),
        ],
        "error_rms_pct": round(float(np.sqrt(np.mean(err**2))), 2),
        "error_max_pct": round(float(np.abs(err).max()), 2),
        "sign_agrees": int(
            sum(
                1
                for r in rows
                if abs(r["true_pct"]) > 0.5 and r["true_pct"] * r["estimate_pct"] > 0
            )
        ),
        "sessions_leak_over_half_pct": int(sum(1 for r in rows if abs(r["true_pct"]) > 0.5)),
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
