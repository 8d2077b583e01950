"""BIDS-motion export: the BIDS validator from PyPI (bids-validator-deno) finds no error, and the
files read back give the recording's values, events and metadata."""

from __future__ import annotations

import csv
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from imu_monitor.errors import ImuMonitorError
from imu_monitor.storage.export import export_columns
from imu_monitor.storage.exports.bids import write_bids

VALIDATOR = Path(sys.executable).parent / "bids-validator-deno"
STEM = "sub-01_task-backkick_tracksys-imu"


def _read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


@pytest.fixture(scope="module")
def dataset(session, tmp_path_factory):
    rec, an = session
    d = tmp_path_factory.mktemp("bids") / "ds"
    files = write_bids(rec, an, d)
    return d, files


def _validate(d: Path) -> dict:
    """The BIDS validator's JSON report on the dataset at ``d``."""
    run = subprocess.run(
        [str(VALIDATOR), str(d), "--format", "json", "--max-rows", "-1"],
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ | {"NO_COLOR": "1"},
    )
    return json.loads(run.stdout)


def test_the_bids_validator_finds_no_error(dataset):
    d, _ = dataset
    report = _validate(d)
    issues = report["issues"]["issues"]
    errors = [i for i in issues if i["severity"] == "error"]
    warnings = sorted(
        {
            f"{i['code']} {i.get('subCode') or ''}".strip()
            for i in issues
            if i["severity"] == "warning"
        }
    )
    print("validator warnings:", warnings)
    assert not errors, errors
    assert report["summary"]["modalities"] == ["motion"]
    assert report["summary"]["subjects"] == ["01"]
    # what is left are recommendations this program cannot know (authors, licence, institution)
    assert not [w for w in warnings if "ChannelCount" in w]


def test_layout_and_owner_only_files(dataset):
    d, files = dataset
    motion = d / "sub-01" / "motion"
    for suffix in (
        "motion.tsv",
        "motion.json",
        "channels.tsv",
        "channels.json",
        "events.tsv",
        "events.json",
    ):
        assert (motion / f"{STEM}_{suffix}") in files
    for name in ("dataset_description.json", "README", "participants.tsv"):
        assert (d / name).is_file()
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def test_motion_values_read_back_equal_the_recording(session, dataset):
    rec, an = session
    d, _ = dataset
    motion = d / "sub-01" / "motion"
    chans = _read_tsv(motion / f"{STEM}_channels.tsv")
    first = (motion / f"{STEM}_motion.tsv").read_text().splitlines()[0].split("\t")
    float(first[0])  # no header row: the first line is numbers
    assert len(first) == len(chans)
    data = np.genfromtxt(motion / f"{STEM}_motion.tsv", delimiter="\t", missing_values="n/a")
    cols = export_columns(rec, an)
    assert data.shape == (len(cols["t_s"]), len(chans))
    tol = {"ACCEL": 5e-7, "GYRO": 5e-8, "ORNT": 5e-8, "JNTANG": 5e-7, "LATENCY": 5e-7}
    for k, c in enumerate(chans):
        name = c["name"]
        if c["type"] == "LATENCY":
            want = cols["t_s"] - cols["t_s"][0]
        elif c["type"] == "ACCEL":
            want = cols[f"{c['tracked_point']}_acc_{c['component']}_m_s2"]
        elif c["type"] == "GYRO":
            want = cols[f"{c['tracked_point']}_gyr_{c['component']}_rad_s"]
        elif c["type"] == "ORNT":
            want = cols[f"{c['tracked_point']}_q{c['component'][-1]}"]
        else:
            want = cols[f"{name}_deg"]
        ok = np.isfinite(want)
        assert np.array_equal(np.isfinite(data[:, k]), ok), name
        assert np.max(np.abs(data[ok, k] - want[ok])) <= tol[c["type"]] * 1.01, name
    types = [c["type"] for c in chans]
    assert types.count("ACCEL") == types.count("GYRO") == 9 and types.count("ORNT") == 12
    assert {c["name"] for c in chans if c["type"] == "JNTANG"} >= {"lumbar_flexion", "hip_flexion"}
    sidecar = json.loads((motion / f"{STEM}_motion.json").read_text())
    assert sidecar["SamplingFrequency"] == rec.sensors["sacrum"].rate_hz
    assert sidecar["MotionChannelCount"] == len(chans)
    # the distinct tracked points of channels.tsv: three sensors, the lumbar spine and the hip
    points = {c["tracked_point"] for c in chans} - {"n/a"}
    assert points == {"sacrum", "upper_lumbar", "thigh", "lumbar_spine", "hip"}
    assert sidecar["ORNTChannelCount"] == 12 and sidecar["TrackedPointsCount"] == len(points)
    frames = json.loads((motion / f"{STEM}_channels.json").read_text())
    assert set(frames["reference_frame"]["Levels"]) == {c["reference_frame"] for c in chans} - {
        "n/a"
    }


def test_events_hold_reps_phases_alarms_and_markers(session, dataset):
    rec, an = session
    d, _ = dataset
    rows = _read_tsv(d / "sub-01" / "motion" / f"{STEM}_events.tsv")
    t0 = export_columns(rec, an)["t_s"][0]
    kinds = [r["trial_type"] for r in rows]
    assert kinds.count("rep") == len(an.result.reps) > 0
    for phase in ("concentric", "hold", "eccentric"):
        assert kinds.count(phase) == len(an.result.reps)
    alarms = [r for r in rows if r["trial_type"].startswith("alarm_")]
    assert len(alarms) == len(an.result.alarms) > 0
    for r, a in zip(alarms, an.result.alarms, strict=True):
        assert r["trial_type"] == f"alarm_{a.direction}"
        assert r["rep"] == ("n/a" if a.rep is None else str(a.rep + 1))
        assert float(r["onset"]) == pytest.approx(a.t_start_s - t0, abs=1e-6)
        assert float(r["duration"]) == pytest.approx(a.duration_s, abs=1e-6)
    reps = [r for r in rows if r["trial_type"] == "rep"]
    for r, rep in zip(reps, an.result.reps, strict=True):
        assert int(r["rep"]) == rep.index + 1  # from 1, as every output counts reps
        assert float(r["onset"]) == pytest.approx(rep.t_start_s - t0, abs=1e-6)
        assert float(r["duration"]) == pytest.approx(rep.t_s - rep.t_start_s, abs=1e-6)
    for m in rec.markers:
        assert m.kind in kinds
    onsets = [float(r["onset"]) for r in rows]
    assert onsets == sorted(onsets)


def test_scans_and_session_labels(session, tmp_path):
    rec, an = session
    files = write_bids(rec, an, tmp_path / "ds", subject="P-07", session="day 1")
    scans = tmp_path / "ds" / "sub-P07" / "ses-day1" / "sub-P07_ses-day1_scans.tsv"
    assert scans in files
    row = _read_tsv(scans)[0]
    assert row["filename"] == "motion/sub-P07_ses-day1_task-backkick_tracksys-imu_motion.tsv"
    assert row["acq_time"] == "2026-12-05T10:00:00.000000"
    # a second subject joins the same dataset
    write_bids(rec, an, tmp_path / "ds", subject="02")
    ids = [r["participant_id"] for r in _read_tsv(tmp_path / "ds" / "participants.tsv")]
    assert ids == ["sub-02", "sub-P07"]


def test_refusals_name_the_path(session, tmp_path):
    rec, an = session
    write_bids(rec, an, tmp_path / "ds")
    with pytest.raises(ImuMonitorError, match="exist.*--force"):
        write_bids(rec, an, tmp_path / "ds")
    write_bids(rec, an, tmp_path / "ds", force=True)
    with pytest.raises(ImuMonitorError, match=f"{tmp_path / 'no'}: folder does not exist"):
        write_bids(rec, an, tmp_path / "no" / "ds")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ImuMonitorError, match="is a file"):
        write_bids(rec, an, tmp_path / "file")
    with pytest.raises(ImuMonitorError, match="subject"):
        write_bids(rec, an, tmp_path / "ds2", subject="--")
    with pytest.raises(ImuMonitorError, match="/proc/imu-monitor-bids: cannot create"):
        write_bids(rec, an, "/proc/imu-monitor-bids")


def test_device_calibrated_channels_say_so_and_validate(session, tmp_path):
    """A recording whose samples carry a device calibration (``device-cal apply``): its raw
    channels' description says so (the calibration's file), the others are n/a, and the
    validator still finds no error."""
    from imu_monitor.processing.device_cal import apply_to_recording, measure
    from imu_monitor.simulator.config import SimulationConfig
    from imu_monitor.simulator.procedure import simulate_procedure

    rec, an = session
    proc = simulate_procedure(SimulationConfig(exercise="back-kick", sensors=3, seed=3))
    cal = measure(proc.series["sacrum"], what="s", about={})
    done = apply_to_recording(rec, {"sacrum": (cal, "cal/sacrum.json")})
    d = tmp_path / "ds"
    write_bids(done, an, d)
    rows = _read_tsv(next(d.rglob("*_channels.tsv")))
    said = {r["name"]: r["description"] for r in rows}
    assert (
        said["sacrum_acc_x"].startswith("device-calibrated")
        and "cal/sacrum.json" in said["sacrum_acc_x"]
    )
    assert said["sacrum_gyro_z"] == said["sacrum_acc_x"]
    assert said["thigh_acc_x"] == "n/a" and said["sacrum_quat_w"] == "n/a"
    errors = [i for i in _validate(d)["issues"]["issues"] if i["severity"] == "error"]
    assert not errors, errors
