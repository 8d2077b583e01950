"""`imu-monitor device-cal record / measure / apply`, `simulate --procedure` and `live
--device-cal`, as a user runs them: files written and read back by imucal, the calibrated copy
analysed, reported and exported and said so, and bad input refused with one line that names
what is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from imu_monitor.storage.recording import load_recording
from tests.helpers import run_cli as main


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("devcal")
    common = ["--exercise", "hip-thrust", "--sensors", "2", "--seed", "5", "--reps", "3"]
    assert main(["simulate", *common, "--procedure", "-o", str(d / "proc.imr")]) == 0
    assert main(["simulate", *common, "-o", str(d / "session.imr")]) == 0
    return {"dir": d, "proc": d / "proc.imr", "session": d / "session.imr"}


def test_measure_apply_analyze(files, capsys) -> None:
    from imucal import CalibrationInfo

    d = files["dir"]
    capsys.readouterr()
    assert main(["device-cal", "measure", str(files["proc"]), "-o", str(d / "cal")]) == 0
    out = capsys.readouterr().out
    assert "gyro scale (%)" in out and "misalignment: measured, not applied" in out
    for sensor in ("sacrum", "upper_lumbar"):
        info = CalibrationInfo.from_json_file(d / "cal" / f"{sensor}.json")
        assert json.loads(info.comment)["sensor"] == sensor
    out_file = d / "calibrated.imr"
    args = ["device-cal", "apply", str(files["session"]), "--cal", str(d / "cal")]
    assert main([*args, "-o", str(out_file)]) == 0
    assert "sacrum (" in capsys.readouterr().out
    rec = load_recording(out_file)
    assert set(rec.meta["device_calibration"]) == {"sacrum", "upper_lumbar"}
    assert "device_calibration" not in load_recording(files["session"]).meta
    assert main(["analyze", str(out_file)]) == 0
    assert "device calibration: sacrum (" in capsys.readouterr().out
    assert main(["analyze", str(out_file), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["device_calibration"]) == {"sacrum", "upper_lumbar"}
    assert main(["export", str(out_file), "--csv", str(d / "out.csv")]) == 0
    exported = json.loads((d / "out.meta.json").read_text(encoding="utf-8"))
    assert set(exported["meta"]["device_calibration"]) == {"sacrum", "upper_lumbar"}
    html = d / "r.html"
    assert main(["report", str(out_file), "-o", str(html)]) == 0
    page = html.read_text(encoding="utf-8")
    assert "<th>device calibration</th>" in page
    assert f"<td>{d / 'cal' / 'upper_lumbar.json'}</td>" in page
    # one sensor's file, the other left as recorded
    one = d / "one.imr"
    cal = f"upper_lumbar={d / 'cal' / 'upper_lumbar.json'}"
    assert main(["device-cal", "apply", str(files["session"]), "--cal", cal, "-o", str(one)]) == 0
    assert "sacrum as recorded" in capsys.readouterr().out
    # twice is refused
    assert (
        main(
            ["device-cal", "apply", str(out_file), "--cal", str(d / "cal"), "-o", str(d / "x.imr")]
        )
        == 1
    )
    assert "already carry a device calibration" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "code", "said"),
    [
        (["analyze", "{proc}"], 1, "a recording of the device calibration's procedure"),
        (["device-cal", "measure", "{session}", "-o", "{dir}/c2"], 1, "no still hold with"),
        (
            ["device-cal", "apply", "{session}", "--cal", "{dir}/nope", "-o", "{dir}/y.imr"],
            1,
            "--cal {dir}/nope: no such folder",
        ),
        (
            ["device-cal", "apply", "{session}", "--cal", "hip=a.json", "-o", "{dir}/y.imr"],
            2,
            "unknown sensor 'hip'",
        ),
        (
            ["device-cal", "apply", "{session}", "--cal", "sacrum={proc}", "-o", "{dir}/y.imr"],
            1,
            "not a device calibration",
        ),
        (
            ["device-cal", "apply", "{session}", "--cal", "{dir}", "-o", "{session}", "--force"],
            1,
            "the session itself",
        ),
        (["device-cal", "measure", "{proc}", "-o", "{proc}"], 1, "is a file; give a folder"),
    ],
)
def test_bad_input_is_one_line(files, capsys, argv, code, said) -> None:
    names = {k: str(v) for k, v in files.items()}
    argv = [a.format(**names) for a in argv]
    capsys.readouterr()
    assert main(argv) == code
    err = capsys.readouterr().err
    assert said.format(**names) in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (files["dir"] / "c2").exists()


def test_live_calibrates_the_stream_and_the_recording_says_so(tmp_path, capsys) -> None:
    """``live --device-cal``: the simulated wearables' procedure (the same session options),
    measured, then a live session recorded through it."""
    sim = ["--sensors", "2", "--seed", "3", "--reps", "1", "--faulty", "0"]
    assert main(["simulate", *sim, "--procedure", "-o", str(tmp_path / "p.imr")]) == 0
    assert (
        main(["device-cal", "measure", str(tmp_path / "p.imr"), "-o", str(tmp_path / "cal")]) == 0
    )
    live = ["live", "--headless", "--speed", "40", "--duration", "3", *sim]
    rec_file = tmp_path / "live.imr"
    cal = ["--device-cal", str(tmp_path / "cal")]
    assert main([*live, *cal, "--record", str(rec_file)]) == 0
    said = load_recording(rec_file).meta["device_calibration"]
    assert set(said) == {"sacrum", "upper_lumbar"}
    assert said["sacrum"]["source"] == str(tmp_path / "cal" / "sacrum.json")
    capsys.readouterr()
    assert main([*live, "--device-cal", str(tmp_path / "none")]) == 1
    err = capsys.readouterr().err
    assert f"--device-cal {tmp_path / 'none'}: no such folder" in err


def test_record_streams_the_procedure_from_the_simulated_wearables(tmp_path, capsys) -> None:
    """``device-cal record --device sim``: the shipping BLE client streams the simulated
    wearables doing the procedure; every hold and turn is shown as it is found, and the
    calibration measured from it matches the one from the procedure simulated offline."""
    out = tmp_path / "rec.imr"
    sim = ["--sensors", "2", "--seed", "4", "--reps", "2", "--faulty", "1"]
    assert main(["device-cal", "record", *sim, "--speed", "15", "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert "sacrum: turn about y (" in said and "upper_lumbar: -y up held" in said
    assert "next: imu-monitor device-cal measure" in said
    assert main(["simulate", *sim, "--procedure", "-o", str(tmp_path / "p.imr")]) == 0
    for name in ("rec", "p"):
        measure_it = ["device-cal", "measure", str(tmp_path / f"{name}.imr")]
        assert main([*measure_it, "-o", str(tmp_path / name)]) == 0
    for sensor in ("sacrum", "upper_lumbar"):
        live, offline = (
            json.loads((tmp_path / name / f"{sensor}.json").read_text()) for name in ("rec", "p")
        )
        for key in ("K_g", "K_a"):  # scale factors: the streamed samples are quantised
            assert np.abs(np.diag(live[key]) - np.diag(offline[key])).max() < 0.001


def test_record_that_runs_out_of_time_says_what_is_missing(tmp_path, capsys) -> None:
    out = tmp_path / "short.imr"
    argv = ["device-cal", "record", "--speed", "20", "--duration", "10", "--reps", "1"]
    argv += ["-o", str(out)]  # (--faulty as live takes it: every rep of fewer than 3)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert f"{out}: after 10 s sacrum still lacks" in err and "a turn about y" in err
    assert load_recording(out).series["sacrum"].t_s[-1] > 9.0  # what was recorded is kept


def test_a_gyro_read_in_whole_degrees_per_second_is_measured_with_a_note(tmp_path, capsys):
    """The simulated Polar Verity Sense (its start reply has no gyro conversion factor, so its
    gyro reads in whole deg/s, as the Polar SDK reads it): every hold is found, and the
    measure says how far the gyro's resolution alone may put its scale off."""
    out = tmp_path / "polar.imr"
    argv = ["device-cal", "record", "--profile", "polar_verity_sense", "--speed", "15"]
    assert main([*argv, "-o", str(out)]) == 0
    capsys.readouterr()
    assert main(["device-cal", "measure", str(out), "-o", str(tmp_path / "cal")]) == 0
    said = capsys.readouterr().out
    assert "note: sacrum: its gyro reads in steps of 1 deg/s" in said
