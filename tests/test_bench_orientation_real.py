"""benchmarks/bench_orientation_real.py on a BROAD-shaped trial whose sensor errors are known."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from scipy.spatial.transform import Rotation

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_orientation_real.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_orientation_real", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


GYRO_SCALE = np.array([0.01, 0.0, -0.005])
ACC_OFFSET_MG = np.array([0.0, 5.0, 0.0])


def write_trial(folder: Path, bench, rate: float = 286.0) -> None:
    """3 s still, 24 s of turns about each axis in turn, 3 s still; the IMU's gyro 1 % too
    large on x and 0.5 % too small on z, its accelerometer 5 mg off on y."""
    n_rest, n_move = int(3 * rate), int(24 * rate)
    t = np.arange(n_move) / rate
    w = np.zeros((n_move, 3))
    for axis in range(3):
        part = (t >= 8 * axis) & (t < 8 * axis + 8)
        w[part, axis] = math.radians(90.0) * np.sin(2 * math.pi * (t[part] - 8 * axis) / 4.0)
    w = np.vstack((np.zeros((n_rest, 3)), w, np.zeros((n_rest, 3))))
    steps = Rotation.from_rotvec(w / rate)
    quats = [Rotation.identity()]
    for step in steps[:-1]:
        quats.append(quats[-1] * step)
    r = Rotation.concatenate(quats)
    acc = r.inv().apply([0.0, 0.0, bench.G_BERLIN_M_S2]) + ACC_OFFSET_MG * 9.80665e-3
    movement = np.zeros(len(w), dtype=np.uint8)
    movement[n_rest : n_rest + n_move] = 1
    scipy.io.savemat(
        folder / "01_test_rotation.mat",
        {
            "imu_gyr": w * (1.0 + GYRO_SCALE),
            "imu_acc": acc,
            "imu_mag": np.zeros_like(acc),
            "opt_quat": r.as_quat(scalar_first=True),
            "opt_pos": np.zeros_like(acc),
            "sampling_rate": rate,
            "movement": movement,
        },
    )
    groups = {"01_test_rotation": {"groups": ["all_trials", "rotation"]}}
    (folder / "trials.json").write_text(json.dumps({"groups": [], "trials": groups}))


def test_finds_the_sensor_errors_it_was_given(bench, tmp_path):
    write_trial(tmp_path, bench)
    out = bench.run(tmp_path, [])
    (trial,) = out["trials"]
    assert trial["groups"] == ["all_trials", "rotation"]
    np.testing.assert_allclose(trial["gyroscope"]["scale_pct"], 100 * GYRO_SCALE, atol=0.05)
    np.testing.assert_allclose(trial["accelerometer"]["error_mg"], ACC_OFFSET_MG, atol=0.2)
    assert trial["accelerometer"]["rests"] == 2
    incl = trial["inclination"]
    # a 5 mg offset tilts by 0.3 deg at most, a 1 % scale error over a 90 deg turn less than 1
    assert incl["offline"]["movement_rmse_deg"] < 1.0
    assert incl["offline"]["rest_max_deg"] < 0.5
    assert set(incl) >= set(bench.VARIANTS)
    assert out["summary"]["gyro scale error x, 1 rotation trials (%)"][0] == pytest.approx(
        1.0, abs=0.05
    )


def test_a_folder_without_trials_is_said(bench, tmp_path, capsys):
    assert bench.main([str(tmp_path)]) == 1
    assert "no BROAD .mat files" in capsys.readouterr().err
