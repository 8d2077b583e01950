"""Accuracy of the processing stages (orientation -> calibration -> angles) against ground truth,
stage by stage, and the orientation stage's throughput against bare vqf.

For each scenario and seed: simulate a session with faulty reps; calibrate from the recording's
markers (``calibrate_recording``); run vqf online and offline (``estimate_orientation``); join the
sensors on the sacrum's time base (``sync.join_batch``); compute the angles; compare with the
truth interpolated onto that time base, from the start of the calibration posture to the end.

Stage figures: ``alignment_err_deg`` (angle between the estimated and the true mounting rotation),
``orientation_pitch_rmse_deg`` (segment pitch from the orientation with the *true* mounting vs
the true segment pitch: the orientation stage alone), ``lumbar_rmse_deg`` (the whole chain).

    python benchmarks/bench_accuracy_angles.py [--seeds 20] [--reps 10] [--faulty 4]
        [--motion human|ramps]

The throughput part always uses a ramp-model session (the figures stay comparable).

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
import vqf
from scipy.spatial.transform import Rotation

from imu_monitor.exercises import get_exercise
from imu_monitor.processing.angles import compute_angles
from imu_monitor.processing.calibration import calibrate_recording
from imu_monitor.processing.frames import pitch_roll_from_up, up_in_segment
from imu_monitor.processing.join import join_batch
from imu_monitor.processing.orientation import estimate_orientation
from imu_monitor.simulator import SimulationConfig, simulate_session

SCENARIOS = [("back-kick", 1), ("hip-thrust", 2), ("back-kick", 3), ("glute-bridge", 2)]
GOAL_LUMBAR_RMSE_DEG = 1.0


def _rot(q_wxyz) -> Rotation:
    return Rotation.from_quat(np.asarray(q_wxyz, dtype=np.float64), scalar_first=True)


def run_seed(
    exercise: str, sensors: int, seed: int, reps: int, faulty: int, motion: str = "human"
) -> dict:
    rec = simulate_session(
        SimulationConfig(
            exercise=exercise, sensors=sensors, seed=seed, reps=reps, faulty=faulty, motion=motion
        )
    )
    ex = get_exercise(exercise)
    truth = rec.truth
    assert truth is not None
    cal = calibrate_recording(rec, ex)
    t_from = min(m.t_s for m in rec.markers_of("calibration_start"))
    row: dict = {"seed": seed, "calibration_method": cal.method}
    row["alignment_err_deg"] = {
        p: float(
            np.degrees((_rot(sc.q_segment_sensor) * _rot(truth.mounting_quat[p]).inv()).magnitude())
        )
        for p, sc in cal.sensors.items()
    }
    for mode in ("online", "offline"):
        ori = {
            p: estimate_orientation(s, rec.sensors[p].rate_hz, offline=mode == "offline")
            for p, s in rec.series.items()
        }
        pitch_rmse = {}
        for p, o in ori.items():
            sel = o.t_s >= t_from
            pitch, _ = pitch_roll_from_up(up_in_segment(o.quat_ws[sel], truth.mounting_quat[p]))
            true_pitch = np.interp(o.t_s[sel], truth.t_s, truth.segment_pitch_deg[p])
            pitch_rmse[p] = float(np.sqrt(np.mean((pitch - true_pitch) ** 2)))
        master = ori["sacrum"]
        quats = {"sacrum": master.quat_ws}
        quats |= join_batch(
            master.t_s, {p: (o.t_s, o.quat_ws) for p, o in ori.items() if p != "sacrum"}
        )
        angles = compute_angles(master.t_s, quats, cal, ex)
        sel = master.t_s >= t_from
        err = angles.lumbar_flexion_deg[sel] - truth.lumbar_at(master.t_s[sel])
        row[mode] = {
            "lumbar_rmse_deg": float(np.sqrt(np.mean(err**2))),
            "lumbar_max_abs_err_deg": float(np.abs(err).max()),
            "lumbar_mean_err_deg": float(err.mean()),
            "orientation_pitch_rmse_deg": pitch_rmse,
        }
    return row


def _agg(values: list[float]) -> dict:
    a = np.asarray(values)
    return {"mean": float(a.mean()), "median": float(np.median(a)), "max": float(a.max())}


def throughput(seconds: float = 600.0, rate_hz: float = 200.0, repeats: int = 3) -> dict:
    """Samples/s of ``estimate_orientation`` (online and offline) vs bare ``VQF.updateBatch``
    on the same samples (a simulated session tiled to ``seconds``)."""
    rec = simulate_session(SimulationConfig(exercise="back-kick", reps=10, seed=0, motion="ramps"))
    s = rec.series["sacrum"]
    k = int(np.ceil(seconds * rate_hz / len(s)))
    n = len(s) * k
    t = np.arange(n) / rate_hz
    acc = np.ascontiguousarray(np.tile(s.acc_m_s2, (k, 1)))
    gyr = np.ascontiguousarray(np.tile(s.gyr_rad_s, (k, 1)))
    series = type(s)(t, acc, gyr, np.arange(n, dtype=np.int64))

    def best(fn) -> float:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return n / min(times)

    bare = best(lambda: vqf.VQF(1.0 / rate_hz).updateBatch(gyr, acc))
    online = best(lambda: estimate_orientation(series, rate_hz))
    bare_off = best(lambda: vqf.offlineVQF(gyr, acc, None, 1.0 / rate_hz, {}))
    offline = best(lambda: estimate_orientation(series, rate_hz, offline=True))
    return {
        "samples": n,
        "bare_vqf_updateBatch_samples_per_s": bare,
        "estimate_orientation_online_samples_per_s": online,
        "online_vs_bare": online / bare,
        "bare_offlineVQF_samples_per_s": bare_off,
        "estimate_orientation_offline_samples_per_s": offline,
        "offline_vs_bare_offline": offline / bare_off,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--faulty", type=int, default=4)
    ap.add_argument("--no-throughput", action="store_true")
    ap.add_argument(
        "--motion",
        choices=("human", "ramps"),
        default="human",
        help="the simulator's model (human: moves like a person, the default; ramps: the "
        "original model)",
    )
    args = ap.parse_args()
    out: dict = {
        "benchmark": "accuracy_angles",
        "python": platform.python_version(),
        "seeds": args.seeds,
        "motion": args.motion,
        "goal_lumbar_rmse_deg": GOAL_LUMBAR_RMSE_DEG,
        "scenarios": {},
    }
    for exercise, sensors in SCENARIOS:
        rows = [
            run_seed(exercise, sensors, seed, args.reps, args.faulty, args.motion)
            for seed in range(args.seeds)
        ]
        summary: dict = {}
        for mode in ("online", "offline"):
            rmse = [r[mode]["lumbar_rmse_deg"] for r in rows]
            summary[mode] = {
                "lumbar_rmse_deg": _agg(rmse),
                "lumbar_max_abs_err_deg": _agg([r[mode]["lumbar_max_abs_err_deg"] for r in rows]),
                "seeds_meeting_goal": int(sum(v <= GOAL_LUMBAR_RMSE_DEG for v in rmse)),
                "orientation_pitch_rmse_deg": {
                    p: _agg([r[mode]["orientation_pitch_rmse_deg"][p] for r in rows])
                    for p in rows[0][mode]["orientation_pitch_rmse_deg"]
                },
            }
        summary["alignment_err_deg"] = {
            p: _agg([r["alignment_err_deg"][p] for r in rows]) for p in rows[0]["alignment_err_deg"]
        }
        summary["calibration_methods"] = sorted({r["calibration_method"] for r in rows})
        out["scenarios"][f"{exercise}/{sensors}"] = summary
    if not args.no_throughput:
        out["throughput"] = throughput()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
