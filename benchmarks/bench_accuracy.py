"""Accuracy of the whole signal core against simulated ground truth.

For each scenario (exercise x sensor set) and each seed: simulate a session with faulty reps,
analyse it (calibration from the recording's calibration markers, vqf orientation, angles,
monitor) and score it with ``imu_monitor.simulator.scoring.evaluate`` (the figures reported so
far) and ``scoring.session_goals`` (issue 11's goals: ``goals`` in each scenario). ``--motion``
picks the simulator's model: ``human`` (the default model of the simulator), ``ramps`` (the
original one) or ``both`` (the default here, for comparison). Prints one JSON object and Markdown
tables; the last lists, by seed, the sessions that miss a per-session goal and why
(``scoring.goal_misses``; ``sessions_off_goal`` in each scenario): the seeds to look into.
Beside the lumbar RMSE, "skin alone" is the RMS of what the simulated skin motion by itself puts
into the scored angle (``Truth.skin_error_deg``): perfect sensors on the skin would read that far
from the bones, and no method removes it.

    python benchmarks/bench_accuracy.py [--motion both] [--seeds 20] [--reps 10] [--faulty 4]
        [--online | --live | --live-recorded] [--only back-kick:1] [--markers all|set|none]
        [--without skin_motion,...] [--first-seed 100] [--rate-hz 52] [--tempo-scale 1.6]
        [--mounting-max-deg 180]

``--online`` analyses with the online filter (calibrated from the markers, as ``analyze`` does);
``--live`` feeds each session through the live pipeline as a wearable would, calibrating from the
stream itself (``live_analysis``): the figures a trainee gets. ``--live-recorded`` records that
live session to a file and analyses the file offline (``live_recorded_analysis``): the figures a
coach or researcher gets from ``analyze`` of a trainee's recording.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from imu_monitor.cli.calibrate import window_option
from imu_monitor.cli.simulate import add_clock_offset_option, add_person_options
from imu_monitor.errors import ImuMonitorError
from imu_monitor.model import Recording
from imu_monitor.processing.analysis import Analysis, analyze_recording
from imu_monitor.processing.device_cal import apply_to_recording, measure
from imu_monitor.processing.height import STANDARD_GRAVITY_M_S2
from imu_monitor.simulator import SimulationConfig, simulate_session
from imu_monitor.simulator.live import arrival_order, feed_live
from imu_monitor.simulator.procedure import simulate_procedure
from imu_monitor.simulator.scoring import (
    SETUPS,
    evaluate,
    goal_misses,
    live_judgement,
    session_goals,
)
from imu_monitor.storage.recording import RecordingWriter, load_recording

LIVE_CHUNK = 10
"""Samples per chunk when ``--live`` feeds a session (a BLE notification carries a few)."""


def _live_chunk(rate_hz: float) -> int:
    """Samples per notification: ``LIVE_CHUNK``, or one below 50 Hz (a slow wearable, as the
    Arduino Science Journal firmware at ~10 Hz, sends each sample as it comes)."""
    return LIVE_CHUNK if rate_hz >= 50.0 else 1


def _feed_live(rec: Recording, recorder: RecordingWriter | None = None):
    """``rec`` fed through the live ``Pipeline`` as wearables send it (``simulator.live``):
    every sensor's chunks of ``_live_chunk`` samples in arrival order, with no calibration
    given: the guided calibration takes the stand and start postures from the stream, as it
    does for a person, and corrects the accelerometer offsets as it completes and after the
    first and third reps.
    Returns the pipeline, its angles and its events."""
    size = _live_chunk(min(info.rate_hz for info in rec.sensors.values()))
    return feed_live(rec, arrival_order(rec, itertools.repeat(size)), recorder=recorder)


def live_analysis(rec: Recording) -> SimpleNamespace:
    """The live monitor's own judgement of ``rec`` (``_feed_live``): what the scoring reads of an
    analysis."""
    return live_judgement(*_feed_live(rec))


def live_recorded_analysis(rec: Recording) -> Analysis:
    """``rec`` recorded by the live pipeline (``_feed_live``, to a file, as ``live --record``
    writes it: the live calibration and its capture windows as markers), then that file analysed
    offline as ``imu-monitor analyze`` does."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "live.imr"
        writer = RecordingWriter(path, {"exercise": rec.exercise}, rec.sensors)
        try:
            _feed_live(rec, recorder=writer)
        finally:
            writer.close()
        return analyze_recording(load_recording(path), offline=True)


def calibrated_devices(rec: Recording, config: SimulationConfig) -> Recording:
    """``rec`` with its wearables' device calibration applied, measured from the procedure
    done with the same wearables (``simulator.procedure``: off-level faces, turns ending off a
    full turn, the constants moved by the skin's warmth)."""
    procedure = simulate_procedure(config)
    cals = {
        p: (measure(procedure.series[p], what=f"seed {config.seed} {p}", about={}), "procedure")
        for p in rec.series
    }
    return apply_to_recording(rec, cals)


def run_scenario(
    exercise: str,
    sensors: int,
    seeds: int,
    reps: int,
    faulty: int,
    offline: bool,
    rest_variation: float = 0.0,
    motion: str = "human",
    markers: str = "all",
    without: tuple[str, ...] = (),
    acc_offset: bool = True,
    first_seed: int = 0,
    live: bool = False,
    live_recorded: bool = False,
    rate_hz: float = 200.0,
    tempo_scale: float = 1.0,
    mounting_max_deg: float = 25.0,
    sets: int = 1,
    rep_rest_s: tuple[float, float] | None = None,
    sensor: dict | None = None,
    kick_turn_deg: tuple[float, float] | None = None,
    depth_spread: float | None = None,
    clock_offset_ms: float = 0.0,
    device_cal: bool = False,
):
    """``sensor``: SimulationConfig fields of the wearables (``drop_fraction``; human model only:
    ``acc_offset_sd_m_s2``), None: the defaults. ``device_cal``: each session's wearables are
    first calibrated with the procedure (``simulate --procedure``, ``device-cal``)."""
    rows, goals = [], []
    off_goal: list[dict] = []
    human_only = {"tempo_scale": tempo_scale, "sets": sets} if motion == "human" else {}
    if rep_rest_s is not None and motion == "human":
        human_only["rep_rest_s"] = rep_rest_s
    if depth_spread is not None and motion == "human":
        human_only["depth_spread"] = depth_spread
    if kick_turn_deg is not None and motion == "human" and exercise == "back-kick":
        human_only["kick_turn_deg"] = kick_turn_deg
    sensor = dict(sensor or {})
    if motion != "human":
        sensor.pop("acc_offset_sd_m_s2", None)
        sensor.pop("gyro_scale_range", None)
    for seed in range(first_seed, first_seed + seeds):
        config = SimulationConfig(
            exercise=exercise,
            reps=reps,
            faulty=faulty,
            sensors=sensors,
            seed=seed,
            rate_hz=rate_hz,
            rest_variation_deg=rest_variation,
            mounting_max_deg=mounting_max_deg,
            motion=motion,
            markers=markers,
            clock_offset_ms=clock_offset_ms if sensors >= 2 else 0.0,
            **dict.fromkeys(without, False),
            **human_only,
            **sensor,
        )
        rec = simulate_session(config)
        if device_cal:
            rec = calibrated_devices(rec, config)
        if live:
            an = live_analysis(rec)
        elif live_recorded:
            an = live_recorded_analysis(rec)
        else:
            an = analyze_recording(rec, offline=offline, acc_offset=acc_offset)
        rows.append(evaluate(an, rec.truth))
        goals.append(session_goals(an, rec.truth, rec.meta))
        misses = goal_misses(goals[-1], exercise, sensors)
        if misses:
            off_goal.append({"seed": seed, "misses": misses})
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
        "first_seed": first_seed,
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
        "goals": aggregate_goals(goals),
        "sessions_off_goal": off_goal,
    }


def _pcts_ms(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p90": None, "max": None}
    a = np.asarray(values, float) * 1000.0
    return {
        "p50": float(np.percentile(a, 50)),
        "p90": float(np.percentile(a, 90)),
        "max": float(a.max()),
    }


def aggregate_goals(goals: list[dict]) -> dict:
    """Issue 11's goal figures over a scenario's sessions (``scoring.session_goals`` each)."""
    rmse = np.array([g["rmse_deg"] for g in goals if g["rmse_deg"] is not None])
    skin = np.array([g["skin_rmse_deg"] for g in goals if g["skin_rmse_deg"] is not None])
    phase = np.array([e for g in goals for e in g["phase_errors_s"]]).reshape(-1, 3)
    approx = np.array([a for g in goals for a in g["tempo_approximate"]], bool)
    delays = [d for g in goals for d in g["alarm_delays_s"]]
    marginal = [d for g in goals for d in g["alarm_delays_within_margin_s"]]
    return {
        "sessions": len(goals),
        "reps_exact_sessions": sum(g["reps_exact"] for g in goals),
        "reps_true": sum(g["reps_true"] for g in goals),
        "reps_detected": sum(g["reps_detected"] for g in goals),
        "faulty_reps_past_limit": sum(g["goal_faulty_reps"] for g in goals),
        "faulty_reps_past_limit_alarmed": sum(g["goal_faulty_alarmed"] for g in goals),
        "false_alarms": sum(g["false_alarms"] for g in goals),
        "false_alarm_angles_deg": [a for g in goals for a in g["false_alarm_angles_deg"]],
        "rmse_scope": goals[0]["rmse_scope"] if goals else None,
        "rmse_deg_mean": float(rmse.mean()) if len(rmse) else None,
        "rmse_deg_max": float(rmse.max()) if len(rmse) else None,
        "skin_rmse_deg_mean": float(skin.mean()) if len(skin) else None,
        "skin_rmse_deg_max": float(skin.max()) if len(skin) else None,
        "alarm_delay_ms": _pcts_ms(delays),
        "alarm_delay_within_margin_ms": _pcts_ms(marginal) | {"reps": len(marginal)},
        "phase_abs_err_ms": _pcts_ms(list(np.abs(phase).ravel())),
        "phase_abs_err_not_approximate_ms": _pcts_ms(list(np.abs(phase[~approx]).ravel())),
        "phase_bias_s": [float(x) for x in phase.mean(axis=0)] if len(phase) else None,
        "tempo_approximate_reps": int(approx.sum()),
    }


def _max_ms(rows: list[dict], key: str) -> float | None:
    vals = [r[key] for r in rows if r[key] is not None]
    return float(max(vals) * 1000) if vals else None


def _ms(v: float | None) -> str:
    return "-" if v is None else str(round(v))


def _off_goal_table(models: dict[str, list[dict]]) -> None:
    """The sessions that miss one of issue 11's per-session goals (``scoring.goal_misses``),
    by seed: the ones to look at."""
    rows = [
        (motion, f"{r['exercise']} {r['sensors']}", s["seed"], "; ".join(s["misses"]))
        for motion, results in models.items()
        for r in results
        for s in r["sessions_off_goal"]
    ]
    print(f"\nSessions off a per-session goal: {len(rows) or 'none'}")
    if rows:
        print("\n| model | setup | seed | off the goal |")
        print("|---|---|---|---|")
        for motion, setup, seed, what in rows:
            print(f"| {motion} | {setup} | {seed} | {what} |")


def _goal_table(models: dict[str, list[dict]]) -> None:
    print(
        "\n| model | setup | reps exact | faulty reps alarmed | false alarms | RMSE mean / max "
        "(deg) | alarm delay p50 / p90 / max (ms) | phase error p50 / p90 / max (ms) "
        "| phase error p90 / max, reps not flagged approximate (flagged) (ms) "
        "| phase bias conc / hold / ecc (s) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for motion, results in models.items():
        for r in results:
            g = r["goals"]
            d, p = g["alarm_delay_ms"], g["phase_abs_err_ms"]
            q = g["phase_abs_err_not_approximate_ms"]
            bias = g["phase_bias_s"] or [float("nan")] * 3
            rmse = (
                "-"
                if g["rmse_deg_mean"] is None
                else (f"{g['rmse_deg_mean']:.2f} / {g['rmse_deg_max']:.2f}")
            )
            if g["skin_rmse_deg_mean"] is not None:
                rmse += f"; skin alone {g['skin_rmse_deg_mean']:.2f} / {g['skin_rmse_deg_max']:.2f}"
            print(
                f"| {motion} | {r['exercise']} {r['sensors']} | "
                f"{g['reps_exact_sessions']}/{g['sessions']} | "
                f"{g['faulty_reps_past_limit_alarmed']}/{g['faulty_reps_past_limit']} | "
                f"{g['false_alarms']} | {rmse} ({g['rmse_scope']}) | "
                f"{_ms(d['p50'])} / {_ms(d['p90'])} / {_ms(d['max'])} | "
                f"{_ms(p['p50'])} / {_ms(p['p90'])} / {_ms(p['max'])} | "
                f"{_ms(q['p90'])} / {_ms(q['max'])} ({g['tempo_approximate_reps']}) | "
                f"{bias[0]:+.2f} / {bias[1]:+.2f} / {bias[2]:+.2f} |"
            )


def _readme_table(results: list[dict]) -> None:
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="seeds FIRST_SEED .. FIRST_SEED + SEEDS - 1 (a held-out set: the methods were "
        "developed on seeds 0-19)",
    )
    ap.add_argument(
        "--rate-hz",
        type=float,
        default=200.0,
        help="the wearables' sample rate (default 200; the Polar Verity Sense streams 52)",
    )
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--faulty", type=int, default=4)
    ap.add_argument("--online", action="store_true", help="online (live) filter instead of offline")
    ap.add_argument(
        "--live",
        action="store_true",
        help="feed each session through the live pipeline (guided calibration from the stream, "
        "its accelerometer-offset correction at the calibration and after reps 1 and 3) "
        "instead of analysing it",
    )
    ap.add_argument(
        "--live-recorded",
        action="store_true",
        help="record each session as the live pipeline writes it, then analyse the file offline "
        "as analyze does (the calibration made afresh from its capture windows)",
    )
    ap.add_argument("--only", help="exercise:sensors, e.g. back-kick:1")
    ap.add_argument(
        "--rest-variation",
        type=float,
        default=0.0,
        help="the pelvis rests up to this many degrees away from the calibration posture "
        "between reps (SimulationConfig.rest_variation_deg)",
    )
    ap.add_argument(
        "--tempo-scale",
        type=float,
        default=1.0,
        help="the simulated person moves this many times slower than the exercise's tempo "
        "(1.6: 60 %% slower; 0.6: faster), the monitor keeping the exercise's target; human "
        "model only (SimulationConfig.tempo_scale)",
    )
    ap.add_argument(
        "--mounting-max-deg",
        type=float,
        default=25.0,
        help="each sensor is mounted up to this many degrees off this program's mounting, "
        "about a random axis (180: any way round, as another vendor's axes; "
        "SimulationConfig.mounting_max_deg)",
    )
    ap.add_argument(
        "--sets",
        type=int,
        default=1,
        help="sets of --reps reps each, about 45 s apart (--faulty counts the faulty reps of "
        "all sets); human model only (SimulationConfig.sets)",
    )
    add_person_options(ap, rep_rest_aliases=("--rep-rest-s",))
    ap.add_argument(
        "--drop-fraction",
        type=float,
        help="share of the samples lost (default 0.005; in bursts of 4-8 in the human model; "
        "SimulationConfig.drop_fraction)",
    )
    ap.add_argument(
        "--acc-offset-mg",
        type=float,
        help="the accelerometers' offsets, sd per axis in mg (default 15; untrimmed consumer "
        "parts 40-80); human model only (SimulationConfig.acc_offset_sd_m_s2)",
    )
    ap.add_argument(
        "--gyro-scale-pct",
        type=window_option("--gyro-scale-pct", "1-3", unit="%"),
        metavar="FROM-TO",
        help="each gyro axis reads FROM-TO %% too much or too little (random sign; default "
        "0.5-1.5; the real NilsPod of bench_device_cal_real.py: 0.2-2.8); human model only "
        "(SimulationConfig.gyro_scale_range)",
    )
    ap.add_argument(
        "--gyro-bias-max",
        type=float,
        metavar="DEG_S",
        help="each gyro's bias at power-on, up to this (deg/s, random direction; default 2; "
        "`check-device` warns from 2 and fails above 5; SimulationConfig.gyro_bias_max_deg_s)",
    )
    ap.add_argument(
        "--acc-noise-mg",
        type=float,
        help="the accelerometers' white noise, sd per axis per sample in mg (default 2: "
        "0.02 m/s^2; a BMI160 at 200 Hz ~1.5, an MPU-6050 ~4; SimulationConfig.acc_noise_m_s2)",
    )
    ap.add_argument(
        "--gyro-noise",
        type=float,
        metavar="DEG_S",
        help="the gyros' white noise, sd per axis per sample (deg/s, default 0.1; "
        "SimulationConfig.gyro_noise_deg_s)",
    )
    add_clock_offset_option(ap)
    ap.add_argument(
        "--motion",
        choices=("human", "ramps", "both"),
        default="both",
        help="the simulator's model: human (moves like a person), ramps (the original model), "
        "or both (default)",
    )
    ap.add_argument(
        "--markers",
        choices=("all", "set", "none"),
        default="all",
        help="markers in the simulated recordings: all (default), set (no calibration "
        "markers), none (as an import)",
    )
    ap.add_argument(
        "--without",
        metavar="LIST",
        default="",
        help="comma-separated human-model features to switch off (ablation), e.g. "
        "skin_motion,acc_errors (SimulationConfig field names)",
    )
    ap.add_argument(
        "--device-cal",
        action="store_true",
        help="calibrate each session's wearables first with the simulated procedure "
        "(device-cal; README, 'Device calibration')",
    )
    ap.add_argument(
        "--no-acc-offset",
        action="store_true",
        help="analyse without taking the accelerometer offset off (processing.acc_offset)",
    )
    args = ap.parse_args()
    without = tuple(f.strip() for f in args.without.split(",") if f.strip())
    scenarios = list(SETUPS)
    if args.only:
        ex, n = args.only.split(":")
        scenarios = [(ex, int(n))]
    motions = ("human", "ramps") if args.motion == "both" else (args.motion,)
    sensor = {}
    if args.drop_fraction is not None:
        sensor["drop_fraction"] = args.drop_fraction
    if args.gyro_bias_max is not None:
        sensor["gyro_bias_max_deg_s"] = args.gyro_bias_max
    if args.gyro_scale_pct is not None:
        pct = args.gyro_scale_pct
        sensor["gyro_scale_range"] = (pct.t0_s / 100.0, pct.t1_s / 100.0)
    if args.acc_offset_mg is not None:
        sensor["acc_offset_sd_m_s2"] = args.acc_offset_mg * 1e-3 * STANDARD_GRAVITY_M_S2
    if args.acc_noise_mg is not None:
        sensor["acc_noise_m_s2"] = args.acc_noise_mg * 1e-3 * STANDARD_GRAVITY_M_S2
    if args.gyro_noise is not None:
        sensor["gyro_noise_deg_s"] = args.gyro_noise
    models: dict[str, list[dict]] = {}
    elapsed: dict[str, float] = {}
    t_all = time.perf_counter()
    for motion in motions:
        t0 = time.perf_counter()
        models[motion] = [
            run_scenario(
                ex,
                n,
                args.seeds,
                args.reps,
                args.faulty,
                not args.online,
                args.rest_variation,
                motion,
                args.markers,
                without,
                not args.no_acc_offset,
                args.first_seed,
                args.live,
                args.live_recorded,
                args.rate_hz,
                args.tempo_scale,
                args.mounting_max_deg,
                args.sets,
                (args.rep_rest.t0_s, args.rep_rest.t1_s) if args.rep_rest else None,
                sensor,
                (args.kick_turn.t0_s, args.kick_turn.t1_s) if args.kick_turn else None,
                args.depth_spread,
                args.clock_offset_ms,
                args.device_cal,
            )
            for ex, n in scenarios
        ]
        elapsed[motion] = round(time.perf_counter() - t0, 1)
    out = {
        "benchmark": "accuracy",
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "filter": (
            "live pipeline"
            if args.live
            else "offline, of the live pipeline's recording"
            if args.live_recorded
            else "online"
            if args.online
            else "offline"
        ),
        "rest_variation_deg": args.rest_variation,
        "rate_hz": args.rate_hz,
        "tempo_scale": args.tempo_scale,
        "mounting_max_deg": args.mounting_max_deg,
        "sets": args.sets,
        "rep_rest_s": [args.rep_rest.t0_s, args.rep_rest.t1_s] if args.rep_rest else None,
        "depth_spread": args.depth_spread,
        "clock_offset_ms": args.clock_offset_ms,
        "kick_turn_deg": [args.kick_turn.t0_s, args.kick_turn.t1_s] if args.kick_turn else None,
        **sensor,
        "elapsed_s": round(time.perf_counter() - t_all, 1),
    }
    if len(motions) == 1:
        out["scenarios"] = models[motions[0]]
    out["motion"] = args.motion
    out["markers"] = args.markers
    out["acc_offset_corrected"] = (
        "at the calibration and after reps 1 and 3"
        if args.live
        else not args.no_acc_offset and not args.online
    )
    if without:
        out["without"] = list(without)
    if args.device_cal:
        out["device_cal"] = "each session's wearables calibrated first (simulated procedure)"
    if len(motions) > 1:
        out["models"] = models
    out["elapsed_s_per_model"] = elapsed
    json.dump(out, sys.stdout, indent=2)
    print()
    for motion, results in models.items():
        if len(models) > 1:
            print(f"\n{motion} model:")
        _readme_table(results)
    _goal_table(models)
    _off_goal_table(models)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ImuMonitorError as exc:  # options the simulator cannot combine: it names them
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
