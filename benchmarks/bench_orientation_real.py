"""The orientation stage and the accelerometer-offset fit on a real IMU, against optical motion
capture: the BROAD data set.

BROAD (Laidig, Caruso, Cereatti, Seel, "BROAD -- A Benchmark for Robust Inertial Orientation
Estimation", Data 6(7), 2021; CC BY 4.0) publishes 39 trials of a real IMU (myon aktos-t,
286 Hz) moved by hand, each with an optical reference orientation (Optitrack, eight cameras)
already synchronised and aligned to the IMU's axes, and a mask of the movement phases the
benchmark scores. The simulator's sensors are only as real as our assumptions; this script
measures, on a real sensor:

- **the sensor's own errors** against the optical reference: the accelerometer's offset and
  scale per axis (a least-squares fit over the trial's rests, where the IMU reads gravity
  alone) and the gyroscope's scale per axis (its rates regressed on the optical rates, with a
  bias and cross-axis terms, over the movement). These are what the simulator draws at random
  (``SimulationConfig``: 15 mg offsets, 1-2 % accelerometer and 0.5-1.5 % gyro scale errors);
- **the inclination error** of ``estimate_orientation`` (vqf 6D, as ``analyze`` and the live
  monitor run it), offline and online, with and without the accelerometer offset that
  ``acc_offset.estimate_acc_offset`` fits from the trial's own still moments, as ``analyze``
  does. Two figures: BROAD's own (inclination RMSE over the movement phases, the published
  metric, so the first row can be set beside the paper's), and the one a lumbar monitor lives
  by: the inclination error at each rest after a neutral taken at the first rest (the sensor
  frame turned so that the first rest reads true, as a calibration does), RMS and worst over
  the later rests.

The data is not shipped with imu-monitor. Fetch the ``data_mat`` folder of
https://github.com/dlaidig/broad (its ``trials.json`` says which trials are pure rotation: the
gyro's scale is summarised over those), then

    python benchmarks/bench_orientation_real.py BROAD/data_mat [--trials 05,09] [--json]

Prints a Markdown table per quantity and a summary; ``--json`` prints one JSON object instead.
Exit 0 when it ran, 1 on a missing or unreadable folder.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.io
import vqf
from scipy.spatial.transform import Rotation

from imu_monitor.model import SensorSeries
from imu_monitor.processing.acc_offset import estimate_acc_offset, remove_acc_offset
from imu_monitor.processing.orientation import estimate_orientation

G_BERLIN_M_S2 = 9.8128
"""Gravity where BROAD was recorded (Berlin), for the accelerometer's scale and offset."""
REST_MIN_S = 1.0
"""A rest: the movement mask off for at least this long (s) ..."""
REST_EDGE_S = 0.25
"""... without this much at either end (the hand letting go, settling)."""
RATE_HALF_WINDOW_S = 0.02
"""The optical angular rate is the turn between samples this far before and after (s)."""
MAX_LAG_SAMPLES = 15
"""The gyro's time lag against the optical rates is searched within this many samples."""
MIN_RATE_DEG_S = 20.0
"""The gyro's scale is fitted where the optical rate is at least this (deg/s) ..."""
MIN_AXIS_RMS_DEG_S = 30.0
"""... and given for an axis only where the trial turned it at this RMS rate there (deg/s): a
translation trial barely turns the IMU, and its regression says nothing of the scale."""

VARIANTS = ("offline", "online", "bare vqf offline", "bare vqf online")
"""``estimate_orientation`` offline and online (as ``analyze`` and the live monitor run it), and
vqf itself with its default parameters on the raw samples, for comparison."""


@dataclass(frozen=True)
class Trial:
    name: str
    rate_hz: float
    t_s: np.ndarray
    acc_m_s2: np.ndarray
    gyr_rad_s: np.ndarray
    quat_true: np.ndarray
    """(n, 4) w, x, y, z, sensor to earth (ENU); NaN where the markers were not seen."""
    movement: np.ndarray


def load_trial(path: Path) -> Trial:
    d = scipy.io.loadmat(path, squeeze_me=True)
    rate = float(d["sampling_rate"])
    n = len(d["imu_acc"])
    return Trial(
        path.stem,
        rate,
        np.arange(n) / rate,
        np.asarray(d["imu_acc"], dtype=np.float64),
        np.asarray(d["imu_gyr"], dtype=np.float64),
        np.asarray(d["opt_quat"], dtype=np.float64),
        np.asarray(d["movement"]).astype(bool),
    )


def up_in_sensor(quat_ws: np.ndarray) -> np.ndarray:
    """Earth's up (z) in the sensor frame; NaN rows stay NaN."""
    out = np.full((len(quat_ws), 3), np.nan)
    ok = np.all(np.isfinite(quat_ws), axis=1)
    out[ok] = Rotation.from_quat(quat_ws[ok], scalar_first=True).inv().apply([0.0, 0.0, 1.0])
    return out


def angle_deg(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Angle between unit vectors row by row (deg). Between two 'up' vectors in the sensor frame
    it is BROAD's inclination error: the tilt part of the error rotation, heading left out."""
    c = np.sum(u * v, axis=1) / (np.linalg.norm(u, axis=1) * np.linalg.norm(v, axis=1))
    return np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))


def rests(trial: Trial) -> list[slice]:
    """The trial's rests: movement mask off for ``REST_MIN_S``, ``REST_EDGE_S`` trimmed."""
    still = ~trial.movement
    edges = np.flatnonzero(np.diff(np.concatenate(([0], still.astype(np.int8), [0]))))
    edge = round(REST_EDGE_S * trial.rate_hz)
    out = []
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        if (b - a) / trial.rate_hz >= REST_MIN_S:
            out.append(slice(a + edge, b - edge))
    return out


def mean_up(up: np.ndarray, s: slice) -> np.ndarray:
    u = np.nanmean(up[s], axis=0)
    return u / np.linalg.norm(u)


def acc_errors(trial: Trial, up_true: np.ndarray) -> dict:
    """The accelerometer's error at the rests, per axis (mg): what it reads minus gravity turned
    into the sensor frame by the optical reference. BROAD's rests are all one pose (the IMU on
    its table, z up), so the level axes show their offset and z its offset and scale together."""
    err = []
    for s in rests(trial):
        if np.all(np.isfinite(up_true[s])):
            err.append(trial.acc_m_s2[s].mean(axis=0) - mean_up(up_true, s) * G_BERLIN_M_S2)
    if not err:
        return {"rests": 0}
    e = 1000.0 * np.array(err) / 9.80665
    return {
        "rests": len(err),
        "error_mg": [round(float(v), 1) for v in e.mean(axis=0)],
        "spread_mg": [round(float(v), 1) for v in np.ptp(e, axis=0)],
    }


def gyro_errors(trial: Trial) -> dict:
    """The gyro's rates regressed on the optical rates (sensor frame): gyr = M w + bias. The
    diagonal of M - 1 is the scale error per axis (its off-diagonal terms hold the axes'
    misalignment, the optical alignment's included)."""
    h = max(1, round(RATE_HALF_WINDOW_S * trial.rate_hz))
    q = trial.quat_true
    ok = np.all(np.isfinite(q[: -2 * h]), axis=1) & np.all(np.isfinite(q[2 * h :]), axis=1)
    idx = np.flatnonzero(ok)
    r0 = Rotation.from_quat(q[idx], scalar_first=True)
    r1 = Rotation.from_quat(q[idx + 2 * h], scalar_first=True)
    w_true = (r0.inv() * r1).as_rotvec() * trial.rate_hz / (2 * h)
    csum = np.cumsum(np.vstack((np.zeros(3), trial.gyr_rad_s)), axis=0)

    def gyro_mean(lag: int) -> np.ndarray:
        # the gyro's mean rate over the same window, ``lag`` samples later
        a = np.clip(idx + lag, 0, len(trial.gyr_rad_s) - 2 * h)
        return (csum[a + 2 * h] - csum[a]) / (2 * h)

    # what is left of the two systems' synchronisation would read as a smaller scale (the
    # regression on a shifted rate is attenuated): take the lag that fits best
    lags = range(-MAX_LAG_SAMPLES, MAX_LAG_SAMPLES + 1)
    lag = min(lags, key=lambda k: float(np.sum((gyro_mean(k) - w_true) ** 2)))
    w_gyr = gyro_mean(lag)
    fast = np.linalg.norm(w_true, axis=1) > math.radians(MIN_RATE_DEG_S)
    if fast.sum() < 100:
        return {"samples": int(fast.sum())}
    x = np.column_stack((w_true[fast], np.ones(int(fast.sum()))))
    coef, *_ = np.linalg.lstsq(x, w_gyr[fast], rcond=None)
    m = coef[:3].T
    axis_rms = np.degrees(np.sqrt(np.mean(w_true[fast] ** 2, axis=0)))
    return {
        "samples": int(fast.sum()),
        "lag_ms": round(1000.0 * lag / trial.rate_hz, 1),
        "scale_pct": [
            round(100.0 * (m[i, i] - 1.0), 2) if axis_rms[i] >= MIN_AXIS_RMS_DEG_S else None
            for i in range(3)
        ],
        "cross_axis_pct_max": round(100.0 * float(np.max(np.abs(m - np.diag(np.diag(m))))), 2),
    }


def _orientation(label: str, series: SensorSeries, trial: Trial) -> np.ndarray:
    if not label.startswith("bare"):
        return estimate_orientation(series, trial.rate_hz, offline=label == "offline").quat_ws
    gyr = np.ascontiguousarray(trial.gyr_rad_s)
    acc = np.ascontiguousarray(trial.acc_m_s2)
    dt = 1.0 / trial.rate_hz
    if label.endswith("offline"):
        return vqf.offlineVQF(gyr, acc, None, dt)["quat6D"]
    return vqf.VQF(dt).updateBatch(gyr, acc)["quat6D"]


def inclination_errors(trial: Trial, up_true: np.ndarray) -> dict:
    series = SensorSeries(trial.t_s, trial.acc_m_s2, trial.gyr_rad_s)
    offset = estimate_acc_offset(series)
    series = remove_acc_offset(series, offset)
    scored = trial.movement & np.all(np.isfinite(up_true), axis=1)
    rest_slices = [s for s in rests(trial) if np.all(np.isfinite(up_true[s]))]
    out: dict = {"offset_fit": offset.to_dict(), "rests": len(rest_slices)}
    for label in VARIANTS:
        up_est = up_in_sensor(_orientation(label, series, trial))
        err = angle_deg(up_est[scored], up_true[scored])
        row = {"movement_rmse_deg": round(float(np.sqrt(np.mean(err**2))), 2)}
        if len(rest_slices) >= 2:
            first = rest_slices[0]
            # the neutral: the sensor frame turned so that the first rest reads true
            turn, _ = Rotation.align_vectors([mean_up(up_true, first)], [mean_up(up_est, first)])
            later = np.array(
                [
                    angle_deg(turn.apply(mean_up(up_est, s))[None], mean_up(up_true, s)[None])[0]
                    for s in rest_slices[1:]
                ]
            )
            row["rest_rms_deg"] = round(float(np.sqrt(np.mean(later**2))), 2)
            row["rest_max_deg"] = round(float(later.max()), 2)
        out[label] = row
    return out


def run(folder: Path, only: list[str]) -> dict:
    paths = sorted(folder.glob("*.mat"))
    listing = folder / "trials.json"
    groups = json.loads(listing.read_text())["trials"] if listing.is_file() else {}
    if only:
        paths = [p for p in paths if any(p.stem.startswith(k) for k in only)]
    results = []
    for path in paths:
        try:
            trial = load_trial(path)
        except (OSError, ValueError, KeyError) as exc:
            results.append({"trial": path.stem, "error": f"unreadable: {exc}"})
            continue
        up_true = up_in_sensor(trial.quat_true)
        results.append(
            {
                "trial": trial.name,
                "groups": groups.get(trial.name, {}).get("groups", []),
                "rate_hz": round(trial.rate_hz, 1),
                "duration_s": round(float(trial.t_s[-1]), 1),
                "accelerometer": acc_errors(trial, up_true),
                "gyroscope": gyro_errors(trial),
                "inclination": inclination_errors(trial, up_true),
            }
        )
    return {"data": str(folder), "trials": results, "summary": summary(results)}


def _spread(values: list[float]) -> list[float] | None:
    v = [x for x in values if x is not None]
    return [round(float(np.median(v)), 2), round(min(v), 2), round(max(v), 2)] if v else None


def summary(results: list[dict]) -> dict:
    """Median, least and most over the trials (``[median, min, max]``)."""
    ok = [t for t in results if "error" not in t]
    out: dict = {}
    for label in VARIANTS:
        out[f"inclination RMSE over the movement, {label} (deg)"] = _spread(
            [t["inclination"][label]["movement_rmse_deg"] for t in ok]
        )
    out["inclination at the later rests, offline, worst (deg)"] = _spread(
        [t["inclination"]["offline"].get("rest_max_deg") for t in ok]
    )
    # the gyro's scale from the trials of pure rotation, where the markers move least and the
    # optical rates are cleanest (in fast translations some axes read 1.5-4.7 % off, which a
    # sensor's constant scale cannot be)
    turned = [t["gyroscope"]["scale_pct"] for t in ok if "rotation" in t.get("groups", [])]
    for i, axis in enumerate("xyz"):
        out[f"gyro scale error {axis}, {len(turned)} rotation trials (%)"] = _spread(
            [s[i] for s in turned if s[i] is not None]
        )
    for i, axis in enumerate("xyz"):
        out[f"accelerometer error at rest {axis} (mg)"] = _spread(
            [t["accelerometer"]["error_mg"][i] for t in ok if "error_mg" in t["accelerometer"]]
        )
    fits = [t["inclination"]["offset_fit"] for t in ok]
    out["trials where the offset fit applied an offset"] = sum(
        f["pairs"] > 0 and not f.get("not_applied") for f in fits
    )
    return out


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, list):
        return " / ".join(_fmt(x) for x in v)
    return f"{v:g}" if isinstance(v, float) else str(v)


def print_tables(out: dict) -> None:
    trials = [t for t in out["trials"] if "error" not in t]
    for t in out["trials"]:
        if "error" in t:
            print(f"{t['trial']}: {t['error']}")
    print("\n## The sensor's errors against the optical reference (x / y / z)\n")
    print("| trial | acc error at the rests (mg) | gyro scale error (%) |")
    print("|---|---|---|")
    for t in trials:
        a, g = t["accelerometer"], t["gyroscope"]
        print(f"| {t['trial']} | {_fmt(a.get('error_mg'))} | {_fmt(g.get('scale_pct'))} |")
    print("\n## Inclination error (deg): over the movement (BROAD's RMSE) ; at the later rests\n")
    head = " | ".join(VARIANTS)
    print(f"| trial | offset fit | {head} |")
    print("|---|---|" + "---|" * len(VARIANTS))
    for t in trials:
        inc = t["inclination"]
        fit = inc["offset_fit"]
        if not fit["pairs"]:
            fit_s = "no pairs"
        elif fit.get("not_applied"):
            fit_s = f"{fit['pairs']} pairs, not applied"
        else:
            mg = [round(1000.0 * v / 9.80665, 1) for v in fit["offset_m_s2"]]
            fit_s = f"{_fmt(mg)} mg ({fit['pairs']} pairs)"
        cells = []
        for label in VARIANTS:
            r = inc[label]
            rest = (
                f"{r['rest_rms_deg']:.2f} / {r['rest_max_deg']:.2f}" if "rest_rms_deg" in r else "-"
            )
            cells.append(f"{r['movement_rmse_deg']:.2f} ; {rest}")
        print(f"| {t['trial']} | {fit_s} | {' | '.join(cells)} |")
    summary = out.get("summary")
    if summary:
        print("\n## Summary\n")
        for k, v in summary.items():
            print(f"- {k}: {_fmt(v)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path, help="BROAD's data_mat folder")
    ap.add_argument("--trials", default="", help="comma-separated trial number prefixes")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    if not args.folder.is_dir() or not any(args.folder.glob("*.mat")):
        print(
            f"error: {args.folder}: no BROAD .mat files there; fetch the data_mat folder of "
            "https://github.com/dlaidig/broad",
            file=sys.stderr,
        )
        return 1
    out = run(args.folder, [k for k in args.trials.split(",") if k])
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print_tables(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
