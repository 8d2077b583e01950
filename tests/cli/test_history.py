"""``imu-monitor history``, ``history add DIR``, ``analyze --save`` and a recorded ``live``
session, as a user drives them."""

import json
import os

import pytest

from imu_monitor.cli.main import main
from imu_monitor.storage.history import HistoryStore, file_sha256


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("recordings")
    for seed, exercise in ((1, "back-kick"), (2, "hip-thrust")):
        rc = main(
            ["simulate", "--exercise", exercise, "--reps", "5", "--faulty", "2", "--seed",
             str(seed), "--motion", "ramps", "-o", str(d / f"{exercise}.imr")]
        )  # fmt: skip
        assert rc == 0
    return d


def test_add_then_list(folder, tmp_path, capsys):
    db = str(tmp_path / "db")
    assert main(["history", "add", str(folder), "--jobs", "2", "--data-dir", db]) == 0
    out = capsys.readouterr().out
    assert "indexed 2 of 2 recordings" in out and "peak memory" in out
    assert main(["history", "--json", "--data-dir", db]) == 0
    doc = json.loads(capsys.readouterr().out)
    rows = doc["sessions"]
    assert sorted(r["exercise"] for r in rows) == ["back-kick", "hip-thrust"]
    assert all(r["peak_extension_deg"] <= 0 for r in rows)  # as users read angles
    assert main(["history", "--exercise", "hip-thrust", "--data-dir", db]) == 0
    out = capsys.readouterr().out
    assert "hip-thrust.imr" in out and "back-kick.imr" not in out
    assert main(["history", "--user", "nobody", "--data-dir", db]) == 0
    assert "no sessions of nobody" in capsys.readouterr().out


def test_bad_files_are_named_and_skipped_exit_1(folder, tmp_path, capsys):
    d = tmp_path / "mixed"
    d.mkdir()
    for f in folder.iterdir():
        (d / f.name).write_bytes(f.read_bytes())
    (d / "broken.imr").write_bytes((folder / "back-kick.imr").read_bytes()[:50])
    db = tmp_path / "db"
    assert main(["history", "add", str(d), "--data-dir", str(db)]) == 1
    cap = capsys.readouterr()
    (line,) = cap.err.splitlines()
    assert line.startswith("imu-monitor history: skipped ") and "broken.imr" in line
    assert "Traceback" not in cap.err
    assert "indexed 2 of 3 recordings" in cap.out and "1 skipped" in cap.out
    assert len(HistoryStore(db).sessions()) == 2


@pytest.mark.parametrize(
    "argv",
    [["history", "add"], ["history", "somewhere"], ["history", "--jobs", "2"],
     ["history", "add", ".", "--json"], ["history", "add", ".", "--jobs", "0"]],
)  # fmt: skip
def test_usage_errors_exit_2(argv, tmp_path, capsys):
    try:
        rc = main(argv + ["--data-dir", str(tmp_path)])
    except SystemExit as e:  # argparse's own
        rc = e.code
    assert rc == 2
    assert "error:" in capsys.readouterr().err


def test_a_missing_folder_and_a_damaged_database_are_one_line_errors(tmp_path, capsys):
    assert main(["history", "add", str(tmp_path / "none"), "--data-dir", str(tmp_path)]) == 1
    assert "not a directory of recordings" in capsys.readouterr().err
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "history.sqlite3").write_bytes(b"\0" * 4096 + b"junk" * 100)
    assert main(["history", "--data-dir", str(tmp_path / "db")]) == 1
    err = capsys.readouterr().err
    assert (
        err.startswith("imu-monitor history: error: history database ")
        and len(err.splitlines()) == 1
    )


def test_analyze_save_indexes_the_file(folder, tmp_path, capsys):
    f = folder / "back-kick.imr"
    assert main(["analyze", str(f), "--save", "--json", "--data-dir", str(tmp_path)]) == 0
    report = json.loads(capsys.readouterr().out)
    row = HistoryStore(tmp_path).get(file_sha256(f))
    assert row is not None and report["history"]["id"] == row.id
    assert row.reps == report["summary"]["reps"] == len(report["reps"])
    assert main(["analyze", str(f), "--data-dir", str(tmp_path / "other")]) == 0
    assert not (tmp_path / "other").exists()  # without --save nothing is written


def test_a_recorded_live_session_is_indexed(tmp_path, capsys):
    rec = tmp_path / "live.imr"
    rc = main(
        ["live", "--headless", "--json", "--speed", "40", "--duration", "14", "--reps", "2",
         "--faulty", "1", "--record", str(rec), "--config-dir", str(tmp_path), "--user", "ann",
         "--data-dir", str(tmp_path / "h")]
    )  # fmt: skip
    assert rc == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    (row,) = HistoryStore(tmp_path / "h").sessions(user="ann")
    assert summary["history"]["id"] == row.id and row.sha256 == file_sha256(rec)
    assert (row.reps, row.alarms, row.source) == (summary["reps"], summary["alarms"], "sim")


def test_default_database_is_in_the_user_data_dir(folder, capsys):
    assert main(["history", "add", str(folder), "--jobs", "1"]) == 0
    capsys.readouterr()
    data = os.environ["XDG_DATA_HOME"]
    assert len(HistoryStore(os.path.join(data, "imu-monitor")).sessions()) == 2


def test_an_empty_history_points_to_the_simulated_wearers_own(tmp_path, capsys):
    # a recorded session on the simulated wearable goes to its own history, apart from the
    # user's; an empty listing or progress report of the default one says where it went
    rc = main(
        ["live", "--headless", "--speed", "40", "--duration", "14", "--reps", "2",
         "--record", str(tmp_path / "sim.imr"), "--config-dir", str(tmp_path)]
    )  # fmt: skip
    assert rc == 0
    capsys.readouterr()
    demo = os.path.join(os.environ["XDG_DATA_HOME"], "imu-monitor", "demo")
    note = f"1 session of the simulated wearable is in its own history: --data-dir {demo}"
    assert main(["history"]) == 0
    out = capsys.readouterr().out
    assert "no sessions in" in out and note in out
    assert main(["history", "--exercise", "hip-thrust"]) == 0  # none of those there either
    assert "simulated" not in capsys.readouterr().out
    assert main(["report", "--progress", "-o", str(tmp_path / "p.html")]) == 1
    err = capsys.readouterr().err
    assert "no sessions in the history" in err and note in err and "Traceback" not in err
    assert main(["history", "--data-dir", demo]) == 0
    assert "sim.imr" in capsys.readouterr().out


def test_analyze_save_files_a_simulated_session_where_live_did(tmp_path, capsys):
    # live files the simulated wearable's sessions in its own history; analyze --save of the
    # same file had put a second copy into the user's real one
    rec = tmp_path / "sim.imr"
    rc = main(
        ["live", "--headless", "--speed", "40", "--duration", "14", "--reps", "2",
         "--record", str(rec), "--config-dir", str(tmp_path), "--user", "ann"]
    )  # fmt: skip
    assert rc == 0
    assert main(["analyze", str(rec), "--save"]) == 0
    capsys.readouterr()
    data = os.path.join(os.environ["XDG_DATA_HOME"], "imu-monitor")
    assert HistoryStore(data).sessions(user="ann") == []
    (row,) = HistoryStore(os.path.join(data, "demo")).sessions(user="ann")
    assert row.sha256 == file_sha256(rec)
