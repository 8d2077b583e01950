"""``imu-monitor export`` with the research formats: several at once from one analysis, and
what it says when asked for none."""

from __future__ import annotations

from pathlib import Path

import ezc3d

from imu_monitor.cli.main import main

KICK = Path(__file__).resolve().parents[2] / "recordings" / "back-kick_faulty_3sensors.imr"


def test_bids_opensim_and_c3d_in_one_call(tmp_path, capsys):
    bids, osim, c3d = tmp_path / "bids", tmp_path / "osim", tmp_path / "s.c3d"
    argv = [
        "export",
        str(KICK),
        "--bids",
        str(bids),
        "--opensim",
        str(osim),
        "--c3d",
        str(c3d),
        "--subject",
        "A1",
        "--session",
        "1",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"wrote BIDS-motion into {bids}" in out
    assert "base_heading_axis x" in out and f"wrote {c3d}" in out
    motion = bids / "sub-A1" / "ses-1" / "motion"
    assert (motion / "sub-A1_ses-1_task-backkick_tracksys-imu_motion.tsv").is_file()
    assert (osim / "imu_orientations.sto").read_text().startswith("DataRate=")
    assert "femur_r_imu" in (osim / "imu_calibration.sto").read_text()
    assert "thigh_gyr_z" in ezc3d.c3d(str(c3d))["parameters"]["ANALOG"]["LABELS"]["value"]
    assert main(argv) == 1  # everything exists now
    assert "pass --force" in capsys.readouterr().err
    assert main([*argv, "--force"]) == 0


def test_no_output_asked_for_is_a_usage_error(capsys):
    assert main(["export", str(KICK)]) == 2
    assert "give at least one of --csv OUT, --bids DIR" in capsys.readouterr().err


def test_outputs_sharing_a_name_or_already_there_are_refused_before_any_work(tmp_path, capsys):
    same = str(tmp_path / "same.csv")
    assert main(["export", str(KICK), "--csv", same, "--c3d", same]) == 2
    assert "--c3d and --csv both name" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # the CSV had been written before the refusal
    (tmp_path / "e.c3d").write_text("keep")
    out = str(tmp_path / "e.csv")
    assert main(["export", str(KICK), "--csv", out, "--c3d", str(tmp_path / "e.c3d")]) == 1
    assert "pass --force" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.c3d"]
