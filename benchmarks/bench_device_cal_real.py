"""The device calibration on a real wearable's recording, against an expert's annotation.

imucal's repository publishes a Ferraris procedure recorded with a real IMU (a NilsPod, 102.4 Hz,
``example_data/example_ferraris_session.csv``) together with the sections a person marked by hand
in imucal's annotation tool (``example_data/example_ferraris_session_list.json``). This script
imports the CSV as a user would (``imu-monitor import``), lets ``imu-monitor device-cal
measure`` find the holds and turns by itself, and compares the result with imucal's
``FerrarisCalibration`` computed from the hand-marked sections: the reference a user of imucal
gets. The data is not shipped with imu-monitor; fetch the two files from
https://github.com/mad-lab-fau/imucal (folder ``example_data``), then

    python benchmarks/bench_device_cal_real.py CSV SECTIONS_JSON [--rate 102.4] [--json]

Prints, per quantity and axis, the two calibrations and their difference, where the sections
found lie against the hand-marked ones, and the difference the two calibrations make to the
recording's own samples (RMS over all of them). Exit 0 when it ran, 1 on a bad file.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from imu_monitor.cli.main import main as cli_main
from imu_monitor.model import GRAVITY_M_S2
from imu_monitor.processing.device_cal import (
    FACES,
    DeviceCalibration,
    find_sections,
    misalignment_deg,
)
from imu_monitor.storage.recording import load_recording


def run_cli(*argv: str) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli_main(list(argv))
    if code:
        raise SystemExit(f"imu-monitor {argv[0]} failed ({code}):\n{out.getvalue()}")


def reference(csv: Path, sections: Path, rate_hz: float):
    """imucal's calibration from the hand-marked sections (its documented example)."""
    import pandas as pd
    from imucal import FerrarisCalibration, ferraris_regions_from_section_list

    data = pd.read_csv(csv, header=0, index_col=0)
    marked = pd.read_json(sections).T
    regions = ferraris_regions_from_section_list(data, marked)
    info = FerrarisCalibration(grav=GRAVITY_M_S2).compute(regions, rate_hz, "m/s^2", "deg/s")
    return info, marked


def where_found(found, marked, rate_hz: float) -> dict[str, list[float]]:
    """Per section: the fraction (0-1) of the samples this program used that lie inside the
    hand-marked section of the same name."""
    out = {}
    holds = found.holds
    for name, row in marked.iterrows():
        lo, hi = int(row["start"]), int(row["end"])
        if name.endswith("_rot"):
            turn = found.turns[name[0]]
            spans = [(turn.start, turn.stop)]
        else:
            spans = holds.get(name, [])
        used = sum(b - a for a, b in spans)
        inside = sum(max(0, min(b, hi) - max(a, lo)) for a, b in spans)
        out[name] = [round(inside / used, 3) if used else 0.0, round(used / rate_hz, 2)]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("csv", type=Path, help="example_ferraris_session.csv")
    ap.add_argument("sections", type=Path, help="example_ferraris_session_list.json")
    ap.add_argument("--rate", type=float, default=102.4, help="the recording's rate (Hz)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    for f in (args.csv, args.sections):
        if not f.is_file():
            print(f"{f}: no such file (imucal's example_data folder has it)", file=sys.stderr)
            return 1

    with tempfile.TemporaryDirectory() as tmp:
        rec_path, cal_dir = Path(tmp) / "procedure.imr", Path(tmp) / "cal"
        # as the README gives it: the columns are found by their names, the units given
        run_cli(
            "import", str(args.csv), "--rate", str(args.rate), "--gyr-unit", "deg/s",
            "-o", str(rec_path),
        )  # fmt: skip
        run_cli("device-cal", "measure", str(rec_path), "-o", str(cal_dir))
        series = load_recording(rec_path).series["sacrum"]
        ours = DeviceCalibration.from_file(cal_dir / "sacrum.json")
        found = find_sections(series, str(rec_path))
    ref, marked = reference(args.csv, args.sections, args.rate)

    def per_axis(K: np.ndarray, b: np.ndarray, unit: float) -> dict[str, list[float]]:
        # imucal's K: raw reading per unit of the calibrated one, on its diagonal per axis
        return {
            "scale_pct": [float(v) for v in np.diag(K) * 100 - 100],
            "offset": [float(v) for v in np.ravel(b) * unit],
        }

    mg = 1e3 / GRAVITY_M_S2
    acc_ref, acc_ours = per_axis(ref.K_a, ref.b_a, mg), per_axis(ours.info.K_a, ours.info.b_a, mg)
    gyr_ref, gyr_ours = per_axis(ref.K_g, ref.b_g, 1.0), per_axis(ours.info.K_g, ours.info.b_g, 1.0)

    # both applied to the recording's own samples: the reference as imucal applies it (with its
    # misalignment) and without its misalignment, as this program applies its own by default
    acc, gyr = series.acc_m_s2, series.gyr_rad_s
    acc_ours_m_s2, gyr_ours_rad_s = ours.apply(acc, gyr)
    difference = {}
    for name, info in (
        ("reference", ref),
        ("reference without misalignment", replace(ref, R_a=np.eye(3), R_g=np.eye(3))),
    ):
        acc_r, gyr_r = info.calibrate(acc, np.degrees(gyr), "m/s^2", "deg/s")
        difference[name] = {
            "acc_mg": float(np.sqrt(np.mean((acc_ours_m_s2 - acc_r) ** 2)) * mg),
            "gyro_deg_s": float(np.sqrt(np.mean((np.degrees(gyr_ours_rad_s) - gyr_r) ** 2))),
        }
    figures = {
        "sections": where_found(found, marked, args.rate),
        "acc_scale_pct": {"ours": acc_ours["scale_pct"], "reference": acc_ref["scale_pct"]},
        "acc_offset_mg": {"ours": acc_ours["offset"], "reference": acc_ref["offset"]},
        "gyro_scale_pct": {"ours": gyr_ours["scale_pct"], "reference": gyr_ref["scale_pct"]},
        "gyro_bias_deg_s": {"ours": gyr_ours["offset"], "reference": gyr_ref["offset"]},
        "misalignment_deg": {
            "acc": {
                "ours": ours.figures["acc_misalignment_deg"],
                "reference": misalignment_deg(ref.R_a),
            },
            "gyro": {
                "ours": ours.figures["gyro_misalignment_deg"],
                "reference": misalignment_deg(ref.R_g),
            },
        },
        "applied_rms_difference": difference,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"{args.csv}: {len(series.t_s)} samples at {args.rate} Hz")
    print("quantity            axis  this program  imucal, hand-marked  difference")
    for key in ("acc_offset_mg", "acc_scale_pct", "gyro_scale_pct", "gyro_bias_deg_s"):
        for k, axis in enumerate("xyz"):
            a, r = figures[key]["ours"][k], figures[key]["reference"][k]
            print(f"{key:<19} {axis:<5} {a:+12.3f}  {r:+19.3f}  {a - r:+10.3f}")
    print("sections (share of the samples used that lie in the hand-marked section, seconds used):")
    for name in list(FACES) + ["x_rot", "y_rot", "z_rot"]:
        share, secs = figures["sections"][name]
        print(f"  {name:<6} {share:6.1%}  {secs:5.1f} s")
    for sensor in ("acc", "gyro"):
        m = figures["misalignment_deg"][sensor]
        print(
            f"{sensor} misalignment per axis (deg, measured; not applied here by default): "
            + " ".join(f"{v:.2f}" for v in m["ours"])
            + ", imucal: "
            + " ".join(f"{v:.2f}" for v in m["reference"])
        )
    print("applied to the recording's samples, RMS difference from imucal's:")
    for name, d in difference.items():
        print(f"  {name}: acc {d['acc_mg']:.2f} mg, gyro {d['gyro_deg_s']:.3f} deg/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
