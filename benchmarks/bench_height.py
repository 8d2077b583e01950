"""The hips' height from one sacrum sensor (``imu_monitor.processing.height``) against the
simulator's true sensor position.

For each seed: simulate a one-sensor session of simulated people (skin motion, accelerometer
offsets and scale errors, gyro errors, packet loss: the simulator's defaults), take the
accelerometer offset off as ``analyze`` does, run the orientation filter (the offline one, or the
live one with ``--online``) and ``HeightTracker``; then

- the height error: the estimated change of height between two still samples 1-6 s apart
  (300 pairs a session) less the true change;
- where the rep tracker's test puts each rep (``monitor.reps.HIPS_DOWN_FRACTION``): the height at
  the bottom after the rep as a fraction of the rep's rise from the rest before it, and for an
  arched lockout the height at the arch's hold as a fraction of the session's typical rise (the
  good reps' median: an arch's top is often not still), estimated and true (the true rise is the
  highest point of the rep);
- the hips' vertical velocity between still moments (``HeightTracker.velocity_m_s``) less the
  true one, and whether the hips are held up (``HeightTracker.held``, what the one-sensor lockout
  gate judges an arch by) at each arch's true crossing of the extension limit plus the dwell, and
  on each good rep's way down where the estimated lumbar reading first passes that limit;
- the cost: seconds of CPU per hour of data (``HeightTracker.update`` over the whole session).

    python benchmarks/bench_height.py [--exercise glute-bridge] [--seeds 20] [--first-seed 0]
        [--rate-hz 200] [--online] [--tempo-scale 1.6]
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date

import numpy as np

from imu_monitor.processing.analysis import analyze_recording
from imu_monitor.processing.height import HeightTracker
from imu_monitor.processing.orientation import estimate_orientation
from imu_monitor.simulator import SimulationConfig, simulate_session
from imu_monitor.simulator.generate import build_session_model
from imu_monitor.simulator.scoring import _goal_excursion, reference_angle

PAIRS = 300


def session(cfg: SimulationConfig, online: bool) -> dict:
    rec = simulate_session(cfg)
    an = analyze_recording(rec)  # (for the accelerometer offset analyze takes off)
    s = rec.series["sacrum"]
    offset = an.quality["sacrum"].get("acc_offset", {}).get("offset_m_s2", [0.0, 0.0, 0.0])
    acc = s.acc_m_s2 - np.asarray(offset)
    ori = estimate_orientation(
        type(s)(s.t_s, acc, s.gyr_rad_s, s.seq), cfg.rate_hz, offline=not online
    )
    t = ori.t_s
    cpu = time.process_time()
    tracker = HeightTracker(turning_points=False)
    h = tracker.update(t, acc[ori.index], ori.quat_ws, ori.turn_rate_rad_s)
    cpu = time.process_time() - cpu
    _, pos, _ = build_session_model(cfg).sensor_point("sacrum", t)
    z = pos[:, 2]
    moving = np.isfinite(tracker.velocity_m_s) & ~np.isfinite(h)
    moving &= t >= rec.truth.reps[0].t_start_s  # (the exercise: not the move into position)
    v_err = (tracker.velocity_m_s - np.gradient(z, t))[moving]
    known = np.isfinite(h)
    rng = np.random.default_rng(cfg.seed)
    a = rng.choice(np.flatnonzero(known & (t > rec.truth.reps[0].t_start_s)), PAIRS)
    b = np.minimum(np.searchsorted(t, t[a] + rng.uniform(1.0, 6.0, PAIRS)), len(t) - 1)
    pair = known[b]
    errors = ((h[b] - h[a]) - (z[b] - z[a]))[pair]

    def last_known(t0: float, t1: float) -> int | None:
        idx = np.flatnonzero(known & (t >= t0) & (t < t1))
        return int(idx[-1]) if len(idx) else None

    bottoms, arch_at, rises = [], [], []
    reps = rec.truth.reps
    for k, r in enumerate(reps):
        if r.fault == "too_fast" or k == 0:
            continue
        i_rest = last_known(reps[k - 1].t_end_s, r.t_start_s + 0.05)
        inside = known & (t >= r.t_start_s) & (t <= r.t_end_s)
        after = np.flatnonzero(known & (t > r.t_end_s))
        if i_rest is None or not inside.any() or not len(after):
            continue
        i_top = int(np.flatnonzero(inside)[np.argmax(h[inside])])
        rise_est = h[i_top] - h[i_rest]
        rise_true = z[(t >= r.t_start_s) & (t <= r.t_end_s)].max() - z[i_rest]
        i_bottom = int(after[0])
        bottoms.append(
            ((h[i_bottom] - h[i_rest]) / rise_est, (z[i_bottom] - z[i_rest]) / rise_true)
        )
        if r.fault == "extension":  # its top is often not still: the good reps' rise (below)
            i_arch = last_known(r.t_top_s, r.t_hold_end_s)
            if i_arch is not None:
                arch_at.append((h[i_arch] - h[i_rest], (z[i_arch] - z[i_rest]) / rise_true))
        else:
            rises.append(rise_est)
    typical = float(np.median(rises))
    arches = [(d / typical, true) for d, true in arch_at]
    lim = an.exercise.limits
    ref = reference_angle(rec.truth, rec.meta, False)
    reading = np.interp(t, an.angles.t_s, an.angles.lumbar_flexion_deg)
    arch_held, lowering_held = [], []
    for r in reps:
        w = (rec.truth.t_s >= r.t_start_s) & (rec.truth.t_s <= r.t_end_s)
        crossing = _goal_excursion(rec.truth.t_s[w], ref[w], np.inf, lim.extension_deg, lim.dwell_s)
        if r.fault == "extension" and crossing is not None:
            arch_held.append(bool(tracker.held[np.searchsorted(t, crossing[0] + lim.dwell_s)]))
        elif r.fault != "extension":
            way_down = np.flatnonzero((t > r.t_hold_end_s) & (t < r.t_end_s))
            past = way_down[reading[way_down] < -lim.extension_deg]
            if len(past):
                lowering_held.append(bool(tracker.held[past[0]]))
    return {
        "velocity_errors_m_s": v_err,
        "arch_held": arch_held,
        "lowering_held": lowering_held,
        "errors_m": errors,
        "still_share": float(known.mean()),
        "bottoms": bottoms,
        "arches": arches,
        "cpu_s_per_h": cpu / (t[-1] - t[0]) * 3600.0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--exercise", default="glute-bridge")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--rate-hz", type=float, default=200.0)
    ap.add_argument("--online", action="store_true", help="the live (forward) filter")
    ap.add_argument(
        "--tempo-scale",
        type=float,
        default=1.0,
        help="the simulated person this many times slower than the exercise's tempo "
        "(SimulationConfig.tempo_scale)",
    )
    args = ap.parse_args()
    runs = [
        session(
            SimulationConfig(
                exercise=args.exercise,
                reps=10,
                faulty=4,
                sensors=1,
                seed=seed,
                rate_hz=args.rate_hz,
                tempo_scale=args.tempo_scale,
            ),
            args.online,
        )
        for seed in range(args.first_seed, args.first_seed + args.seeds)
    ]
    err = np.abs(np.concatenate([r["errors_m"] for r in runs])) * 100.0
    bottoms = np.array([b for r in runs for b in r["bottoms"]])
    arches = np.array([a for r in runs for a in r["arches"]])
    v_abs = np.abs(np.concatenate([r["velocity_errors_m_s"] for r in runs])) * 100.0
    arch_held = [x for r in runs for x in r["arch_held"]]
    lowering_held = [x for r in runs for x in r["lowering_held"]]
    out = {
        "date": date.today().isoformat(),
        "exercise": args.exercise,
        "seeds": [args.first_seed, args.first_seed + args.seeds - 1],
        "rate_hz": args.rate_hz,
        "tempo_scale": args.tempo_scale,
        "filter": "online" if args.online else "offline",
        "still_share": round(float(np.mean([r["still_share"] for r in runs])), 2),
        "height_error_cm": {
            "p50": round(float(np.median(err)), 2),
            "p90": round(float(np.percentile(err, 90)), 2),
            "max": round(float(err.max()), 2),
        },
        "bottom_fraction_of_rise": {
            "estimated_max": round(float(bottoms[:, 0].max()), 2),
            "true_max": round(float(bottoms[:, 1].max()), 2),
            "n": len(bottoms),
        },
        "arch_fraction_of_rise": {
            "estimated_min": round(float(arches[:, 0].min()), 2) if len(arches) else None,
            "true_min": round(float(arches[:, 1].min()), 2) if len(arches) else None,
            "n": len(arches),
        },
        "velocity_error_cm_s": {
            "p50": round(float(np.median(v_abs)), 2),
            "p90": round(float(np.percentile(v_abs, 90)), 2),
            "max": round(float(v_abs.max()), 2),
        },
        "held_up": {
            "arches_at_crossing_plus_dwell": f"{sum(arch_held)} of {len(arch_held)}",
            "good_reps_way_down_where_the_reading_passes_the_limit": (
                f"{sum(lowering_held)} of {len(lowering_held)}"
            ),
        },
        "cpu_s_per_hour_of_data": round(float(np.median([r["cpu_s_per_h"] for r in runs])), 2),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
