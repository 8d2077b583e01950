"""Calibration windows given by the user: `imu-monitor calibrate` and `import --calibration`
(checked, written as calibration markers, used by analyze and replay), the guessed case said in
every output, and `import --axes` (a sensor labelled otherwise than ours)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from imu_monitor.cli.main import main as _main
from imu_monitor.model import Recording
from imu_monitor.processing.analysis import analyze_recording
from imu_monitor.processing.calibration import CAL_MARKER_STANDING, CAL_MARKER_START
from imu_monitor.processing.stillness import MIN_STILL_S
from imu_monitor.simulator.config import SimulationConfig
from imu_monitor.simulator.generate import simulate_session
from imu_monitor.storage.recording import load_recording, save_recording


def main(argv: list[str]) -> int:
    """The command's exit code, argparse's own usage errors (SystemExit) included."""
    try:
        return _main(argv)
    except SystemExit as e:
        return int(e.code or 0)


def _session(markers: str, sensors: int = 1, seed: int = 3) -> Recording:
    return simulate_session(SimulationConfig(reps=4, sensors=sensors, seed=seed, markers=markers))


@pytest.fixture(scope="module")
def truth_windows() -> dict[str, tuple[float, float]]:
    """The simulated session's own calibration windows (what a user would read off a plot)."""
    rec = _session("all")
    return {m.kind: (m.t_s, float(m.t_end_s)) for m in rec.markers if m.t_end_s is not None}


@pytest.fixture
def unmarked(tmp_path: Path) -> Path:
    f = tmp_path / "none.imr"
    save_recording(_session("none"), f)
    return f


def _window(w: tuple[float, float]) -> str:
    return f"{w[0]:g}-{w[1]:g}"


def _csv(path: Path, rec: Recording, m: np.ndarray | None = None) -> Path:
    """The sacrum series as a plain CSV; ``m``: rows are what our x, y, z read as the sensor's
    (``v_sensor = m.T v_ours``), i.e. a sensor labelled with ``--axes`` ``m``."""
    s = rec.series["sacrum"]
    acc, gyr = (s.acc_m_s2, s.gyr_rad_s) if m is None else (s.acc_m_s2 @ m, s.gyr_rad_s @ m)
    table = np.column_stack([s.t_s, acc, gyr])
    np.savetxt(path, table, delimiter=",", header="t,ax,ay,az,gx,gy,gz", comments="", fmt="%.17g")
    return path


def test_calibrate_writes_the_markers_and_analyze_uses_them(
    unmarked: Path, truth_windows, capsys: pytest.CaptureFixture[str]
) -> None:
    stand, pose = truth_windows[CAL_MARKER_STANDING], truth_windows[CAL_MARKER_START]
    args = ["calibrate", str(unmarked), "--stand", _window(stand), "--pose", _window(pose)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "gravity-two-postures" in out and "from the recording's calibration markers" in out
    rec = load_recording(unmarked)
    got = {m.kind: (m.t_s, m.t_end_s) for m in rec.markers}
    assert got[CAL_MARKER_STANDING] == pytest.approx(stand)
    assert got[CAL_MARKER_START] == pytest.approx(pose)
    # analyze and replay use them, and say so; nothing says guessed any more
    assert main(["analyze", str(unmarked), "--json"]) == 0
    cal = json.loads(capsys.readouterr().out)["calibration"]
    assert cal["guessed"] is False
    assert cal["method"] == "gravity-two-postures"
    assert any("calibration markers" in n for n in cal["notes"])
    assert main(["replay", str(unmarked), "--headless", "--speed", "max"]) == 0
    out = capsys.readouterr().out
    assert "from the recording's calibration markers" in out and "guessed" not in out
    # a second time: refused without --force, replaced with it (the standing window dropped)
    assert main(["calibrate", str(unmarked), "--pose", _window(pose)]) == 1
    assert "--force" in capsys.readouterr().err
    assert main(["calibrate", str(unmarked), "--pose", _window(pose), "--force"]) == 0
    out = capsys.readouterr().out
    assert "no standing window" in out and "assumed" in out
    kinds = [m.kind for m in load_recording(unmarked).markers]
    assert kinds.count(CAL_MARKER_START) == 1 and CAL_MARKER_STANDING not in kinds


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--pose", "25-40"], 1, "--pose 25-40 s is outside the recording"),
        (["--pose", "6-7"], 1, "--pose 6-7 s lasts 1 s"),
        (["--pose", "5-x"], 2, "'5-x' is not a range"),
        (["--pose", "8-5"], 2, "ends before it starts"),
        (["--stand", "0-2.7"], 2, "--pose"),
        (["--stand", "0-3", "--pose", "2-8"], 2, "overlap"),
    ],
)
def test_calibrate_refuses_bad_windows(
    unmarked: Path, args: list[str], code: int, message: str, capsys
) -> None:
    before = unmarked.read_bytes()
    assert main(["calibrate", str(unmarked), *args]) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()[-1]) > 0
    assert unmarked.read_bytes() == before


def test_a_window_of_exactly_the_shortest_length_is_accepted(unmarked: Path, truth_windows) -> None:
    # 2.0 s from a time between two samples: its samples span a sample period less than 2 s,
    # which had been refused as "only 2.0 s of data (need 2.0 s)"
    t0, t1 = truth_windows[CAL_MARKER_START]
    start = t0 + 0.5 * (t1 - t0 - MIN_STILL_S) + 0.0013
    pose = f"{start:.4f}-{start + MIN_STILL_S:.4f}"
    assert main(["calibrate", str(unmarked), "--pose", pose]) == 0


def test_calibrate_refuses_swapped_windows(unmarked: Path, truth_windows, capsys) -> None:
    # standing given as the calibration posture and the reverse: taken as given, every rep of
    # the back kick read +91 deg of flexion
    before = unmarked.read_bytes()
    stand, pose = truth_windows[CAL_MARKER_STANDING], truth_windows[CAL_MARKER_START]
    args = ["calibrate", str(unmarked), "--pose", _window(stand), "--stand", _window(pose)]
    assert main(args) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "look swapped" in err
    assert unmarked.read_bytes() == before


def test_calibrate_refuses_a_window_with_movement_naming_it(
    unmarked: Path, truth_windows, capsys
) -> None:
    before = unmarked.read_bytes()
    _, pose_end = truth_windows[CAL_MARKER_START]
    moving = f"{pose_end + 2:g}-{pose_end + 6:g}"  # over the first rep
    assert main(["calibrate", str(unmarked), "--pose", moving]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"--pose {moving} s: sensor 'sacrum' was not still" in err
    assert "rotated" in err or "acceleration varied" in err
    assert unmarked.read_bytes() == before


def test_guessed_windows_are_said_in_every_output(unmarked: Path, capsys) -> None:
    assert main(["analyze", str(unmarked)]) == 0
    out = capsys.readouterr().out
    assert "(windows guessed)" in out.splitlines()[0]
    assert "imu-monitor calibrate FILE --stand A-B --pose C-D" in out
    assert main(["analyze", str(unmarked), "--json"]) == 0
    cal = json.loads(capsys.readouterr().out)["calibration"]
    assert cal["guessed"] is True
    assert "calibration windows guessed" in cal["notes"][0]
    assert set(cal["windows_s"]) >= {"start"}  # the windows it took
    assert main(["replay", str(unmarked), "--headless", "--speed", "max", "--json"]) == 0
    notes = [
        json.loads(line)["text"]
        for line in capsys.readouterr().out.splitlines()
        if json.loads(line)["type"] == "note"
    ]
    assert "calibration windows guessed" in notes[0]
    assert "imu-monitor calibrate FILE --stand A-B --pose C-D" in notes[0]
    assert main(["export", str(unmarked), "--csv", str(unmarked.with_suffix(".csv"))]) == 0
    out = capsys.readouterr().out
    assert "note: calibration windows guessed" in out and "imu-monitor calibrate FILE" in out


def test_import_with_calibration_windows(tmp_path: Path, truth_windows, capsys) -> None:
    csv = _csv(tmp_path / "s.csv", _session("none"))
    out = tmp_path / "s.imr"
    stand, pose = truth_windows[CAL_MARKER_STANDING], truth_windows[CAL_MARKER_START]
    spec = f"{_window(stand)},{_window(pose)}"
    args = ["import", str(csv), "--format", "csv", "--exercise", "back-kick", "-o", str(out)]
    assert main([*args, "--calibration", spec]) == 0
    assert "calibration: gravity-two-postures" in capsys.readouterr().out
    kinds = {m.kind: (m.t_s, m.t_end_s) for m in load_recording(out).markers}
    assert kinds[CAL_MARKER_START] == pytest.approx(pose)
    assert main(["analyze", str(out), "--json"]) == 0
    cal = json.loads(capsys.readouterr().out)["calibration"]
    assert cal["guessed"] is False
    assert cal["windows_s"]["start"] == pytest.approx(list(pose))
    assert cal["windows_s"]["standing"] == pytest.approx(list(stand))
    # a window over movement: refused, nothing written
    _, pose_end = pose
    moving = f"{pose_end + 2:g}-{pose_end + 6:g}"
    assert main([*args, "--calibration", moving, "--force"]) == 1
    assert "--calibration pose" in capsys.readouterr().err
    # without windows the import says how to give them
    assert main([*args, "--force"]) == 0
    assert "imu-monitor calibrate" in capsys.readouterr().out


# our x, y, z as a sensor worn with its -x up (standing) and turned about the vertical reads
# them: our z is its -x, our y its -y, our x its -z (a rotation: det +1)
MINUS_X_UP = np.array([[0.0, 0.0, -1.0], [0.0, -1.0, 0.0], [-1.0, 0.0, 0.0]])


def _flexion(path: Path) -> np.ndarray:
    an = analyze_recording(load_recording(path))
    return an.angles.lumbar_flexion_deg


def test_axes_on_import_give_the_native_angles(tmp_path: Path, truth_windows, capsys) -> None:
    rec = _session("none")
    pose = _window(truth_windows[CAL_MARKER_START])  # one posture only: the sign is assumed
    common = ["--format", "csv", "--exercise", "back-kick", "--calibration", pose]
    native, plain, mapped = (tmp_path / n for n in ("native.imr", "plain.imr", "mapped.imr"))
    assert main(["import", str(_csv(tmp_path / "n.csv", rec)), *common, "-o", str(native)]) == 0
    foreign = _csv(tmp_path / "f.csv", rec, MINUS_X_UP)
    assert main(["import", str(foreign), *common, "-o", str(plain)]) == 0
    assert main(["import", str(foreign), *common, "-o", str(mapped), "--axes=-z,-y,-x"]) == 0
    assert "axes mapped: sacrum -z,-y,-x" in capsys.readouterr().out
    got = load_recording(mapped)
    assert got.meta["import"]["axes"] == {"sacrum": "-z,-y,-x"}
    np.testing.assert_allclose(
        got.series["sacrum"].acc_m_s2, load_recording(native).series["sacrum"].acc_m_s2, atol=1e-9
    )
    want = _flexion(native)
    np.testing.assert_allclose(_flexion(mapped), want, atol=1e-6)
    # without the mapping the same file reads other angles (the sign of flexion is assumed)
    assert np.max(np.abs(_flexion(plain) - want)) > 1.0


@pytest.mark.parametrize(
    ("axes", "message"),
    [
        ("--axes=x,x,z", "names an axis twice"),
        ("--axes=x,y,-z", "mirror image"),
        ("--axes=x,y", "name three axes"),
        ("--axes=x,w,z", "'w' is not an axis"),
        ("--axes=knee=x,y,z", "unknown placement 'knee'"),
    ],
)
def test_axes_refused(tmp_path: Path, axes: str, message: str, capsys) -> None:
    csv = _csv(tmp_path / "s.csv", _session("none"))
    assert main(["import", str(csv), "--format", "csv", "-o", str(tmp_path / "o.imr"), axes]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "o.imr").exists()


def test_axes_for_a_sensor_the_file_does_not_have(tmp_path: Path, capsys) -> None:
    csv = _csv(tmp_path / "s.csv", _session("none"))
    args = ["import", str(csv), "--format", "csv", "-o", str(tmp_path / "o.imr")]
    assert main([*args, "--axes", "thigh=x,y,z"]) == 1
    assert "--axes names thigh" in capsys.readouterr().err


def test_a_damaged_file_is_calibrated_with_allow_partial(
    unmarked: Path, truth_windows, capsys
) -> None:
    # the advice had been `export ... --allow-partial`: calibrate had no such option
    data = bytearray(unmarked.read_bytes())
    data[len(data) // 2] ^= 0xFF
    unmarked.write_bytes(bytes(data))
    stand, pose = truth_windows[CAL_MARKER_STANDING], truth_windows[CAL_MARKER_START]
    args = ["calibrate", str(unmarked), "--stand", _window(stand), "--pose", _window(pose)]
    assert main(args) == 1
    assert "add --allow-partial" in capsys.readouterr().err
    assert main([*args, "--allow-partial"]) == 0
    capsys.readouterr()
    assert main(["analyze", str(unmarked), "--allow-partial", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["calibration"]["guessed"] is False
