"""How well the device calibration measures a wearable (README, "Device calibration").

For each firmware profile and seed, the simulated wearable does the procedure and
``imu-monitor device-cal record`` streams it through the shipping BLE client (the profile's real
bytes, its time base, lost notifications); ``device-cal measure`` computes the calibration,
which is compared with the errors the simulated device really had on the day
(``meta["simulation_procedure"]`` of the same procedure simulated offline). The offline
procedure itself is measured too: the procedure's own imperfections (faces off level, turns
off a full turn) without the link.

    python benchmarks/bench_device_cal.py [--seeds 5]
        [--profiles diy_imu,thingy52] [--speed 10]

Prints, per profile, the largest error over the seeds and axes of the accelerometer's offset
(mg) and scale (%) and of the gyro's scale (%), and how many recordings had every hold and
turn; ``--json`` for the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from imu_monitor.cli.main import main as cli_main
from imu_monitor.devices.profiles import load_profile
from imu_monitor.model import GRAVITY_M_S2, SensorSeries
from imu_monitor.processing.device_cal import measure
from imu_monitor.simulator import SimulationConfig
from imu_monitor.simulator.procedure import simulate_procedure
from imu_monitor.storage.recording import load_recording

PROFILES = (
    "diy_imu",
    "movesense_imu6",
    "witmotion_wt901ble",
    "arduino_nano33_sj",
    "thingy52",
    "metamotion",
    "polar_verity_sense",
)
SESSION = {"exercise": "back-kick", "reps": 10, "faulty": 3}
"""The simulated person's session whose wearables do the procedure (``device-cal record``'s
defaults)."""


def errors(series: SensorSeries, truth: dict) -> dict[str, float]:
    """The calibration's largest error per quantity against ``truth`` (one sensor's)."""
    f = measure(series, what="bench", about={}).figures
    off = np.array(f["acc_offset_mg"]) - np.array(truth["acc_offset_m_s2"]) / GRAVITY_M_S2 * 1e3
    acc = np.array(f["acc_scale_error_pct"]) - np.array(truth["acc_scale"]) * 100
    gyr = np.array(f["gyro_scale_error_pct"]) - np.array(truth["gyro_scale"]) * 100
    return {
        "acc_offset_mg": float(np.abs(off).max()),
        "acc_scale_pct": float(np.abs(acc).max()),
        "gyro_scale_pct": float(np.abs(gyr).max()),
        "gyro_scale_uncertain_pct": float(f["gyro_scale_uncertain_pct"]),
    }


def streamed(profile: str, seed: int, speed: float, folder: Path) -> SensorSeries | None:
    """The procedure as ``device-cal record`` records it through the BLE client; None when it
    did not find every hold and turn (its exit code 1)."""
    out = folder / f"{profile}-{seed}.imr"
    argv = ["device-cal", "record", "--profile", profile, "--seed", str(seed)]
    argv += ["--speed", f"{speed:g}", "--duration", "300", "-o", str(out)]
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        try:
            code = cli_main(argv)
        except SystemExit as e:
            code = int(e.code or 0)
    return load_recording(out).series["sacrum"] if code == 0 else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--profiles", default=",".join(PROFILES))
    ap.add_argument(
        "--speed",
        type=float,
        default=10.0,
        help="simulated time per real time (default 10; faster, on a loaded machine, the "
        "simulated link cannot keep up and loses notifications)",
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for profile in ["offline", *args.profiles.split(",")]:
            found, worst = 0, {}
            for seed in range(args.seeds):
                rate = 200.0 if profile == "offline" else load_profile(profile).rate_hz
                config = SimulationConfig(sensors=1, seed=seed, rate_hz=rate, **SESSION)
                proc = simulate_procedure(config)
                truth = proc.meta["simulation_procedure"]["errors"]["sacrum"]["procedure"]
                series = (
                    proc.series["sacrum"]
                    if profile == "offline"
                    else streamed(profile, seed, args.speed, Path(tmp))
                )
                if series is None:
                    continue
                found += 1
                for k, v in errors(series, truth).items():
                    worst[k] = max(worst.get(k, 0.0), v)
            rows[profile] = {"complete": f"{found}/{args.seeds}", **worst}
            print(
                f"{profile:20s} complete {found}/{args.seeds}  "
                + "  ".join(f"{k} {v:.3f}" for k, v in worst.items()),
                file=sys.stderr,
            )
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print(
        "| profile | procedures complete | acc offset, worst (mg) | acc scale (%) "
        "| gyro scale (%) | the gyro's resolution's share (%) |"
    )
    print("|---|---|---|---|---|---|")
    keys = ("acc_offset_mg", "acc_scale_pct", "gyro_scale_pct", "gyro_scale_uncertain_pct")
    for p, r in rows.items():
        cells = [f"{r.get(k, float('nan')):.2f}" for k in keys]
        print(f"| {p} | {r['complete']} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
