"""CSV export, and export -> import giving back a recording that analyses the same."""

from __future__ import annotations

import argparse
import json
import stat
from pathlib import Path

import pytest

from imu_monitor.cli.analyze import analysis_report
from imu_monitor.cli.main import main
from imu_monitor.errors import ImportFileError
from imu_monitor.storage.importers import import_csv

RECORDINGS = sorted((Path(__file__).resolve().parents[2] / "recordings").glob("*.imr"))
REPORT_ARGS = argparse.Namespace(
    exercise=None, flexion_limit=None, extension_limit=None, dwell=None, online=False
)


def _same_reps_and_alarms(a: dict, b: dict, dt_s: float) -> None:
    """Same reps and alarms: counts, verdicts, directions and rep links exactly; times within
    one sample and angles within 0.1 deg (sensors other than the sacrum are interpolated onto
    the sacrum's sample times by the export, so their values move in the 4th digit)."""
    assert len(a["reps"]) == len(b["reps"])
    for ra, rb in zip(a["reps"], b["reps"], strict=True):
        for k in ("index", "alarmed", "too_fast", "tempo_approximate"):
            assert ra[k] == rb[k], k
        for k in ("t_start_s", "t_end_s", "concentric_s", "hold_s", "eccentric_s"):
            assert rb[k] == pytest.approx(ra[k], abs=dt_s), k
        for k in ("peak_flexion_deg", "peak_extension_deg"):
            assert rb[k] == pytest.approx(ra[k], abs=0.1), k
    assert len(a["alarms"]) == len(b["alarms"])
    for aa, ab in zip(a["alarms"], b["alarms"], strict=True):
        for k in ("direction", "phase", "rep"):
            assert aa[k] == ab[k], k
        for k in ("t_start_s", "t_end_s", "duration_s"):
            assert ab[k] == pytest.approx(aa[k], abs=dt_s), k
        assert ab["peak_deg"] == pytest.approx(aa["peak_deg"], abs=0.1)


@pytest.mark.parametrize("path", RECORDINGS, ids=[p.stem for p in RECORDINGS])
def test_export_import_round_trip_keeps_the_session(
    tmp_path: Path, path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "out.csv"
    assert main(["export", str(path), "--csv", str(csv)]) == 0
    back = tmp_path / "back.imr"
    assert main(["import", str(csv), "--format", "csv", "-o", str(back)]) == 0
    a = analysis_report(str(path), REPORT_ARGS)
    b = analysis_report(str(back), REPORT_ARGS)
    assert b["exercise"] == a["exercise"]
    assert b["sensors"] == a["sensors"]
    assert b["calibration"] == a["calibration"]
    assert b["summary"]["reps"] == a["summary"]["reps"]
    _same_reps_and_alarms(a, b, dt_s=1.5 / 200.0)
    assert "markers" in capsys.readouterr().out


def test_export_files_are_private_and_a_stale_meta_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "k.csv"
    assert main(["export", str(RECORDINGS[0]), "--csv", str(csv)]) == 0
    assert main(["export", str(RECORDINGS[0]), "--csv", str(csv)]) != 0
    assert "pass --force" in capsys.readouterr().err
    assert main(["export", str(RECORDINGS[0]), "--csv", str(csv), "--force"]) == 0
    for p in (csv, tmp_path / "k.events.csv", tmp_path / "k.meta.json"):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    meta = tmp_path / "k.meta.json"
    doc = json.loads(meta.read_text())
    doc["rows"] += 1
    meta.write_text(json.dumps(doc))
    with pytest.raises(ImportFileError, match="belongs to another export") as e:
        import_csv(csv)
    assert e.value.path == str(meta)
    meta.write_text("{")
    with pytest.raises(ImportFileError, match="not valid JSON"):
        import_csv(csv)
    meta.unlink()
    rec = import_csv(csv)  # a plain CSV again: no calibration, default exercise
    assert rec.calibration is None and rec.markers == []


def test_export_to_a_folder_or_missing_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", str(RECORDINGS[0]), "--csv", str(tmp_path)]) != 0
    err = capsys.readouterr().err
    assert "is a folder" in err and "Traceback" not in err
    assert main(["export", str(RECORDINGS[0]), "--csv", str(tmp_path / "no" / "o.csv")]) != 0
    assert "folder does not exist" in capsys.readouterr().err


def test_the_events_file_numbers_reps_from_1_and_starts_them_where_analyze_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = next(p for p in RECORDINGS if "hip-thrust_2sensors" in p.name)
    csv = tmp_path / "k.csv"
    assert main(["export", str(path), "--csv", str(csv)]) == 0
    lines = (tmp_path / "k.events.csv").read_text().splitlines()
    assert lines[0] == "t_s,type,direction,rep,value_deg,duration_s"
    rows = [dict(zip(lines[0].split(","), ln.split(","), strict=True)) for ln in lines[1:]]
    a = analysis_report(str(path), REPORT_ARGS)  # as analyze prints it: reps from 1
    started = {int(r["rep"]): float(r["t_s"]) for r in rows if r["type"] == "rep_started"}
    ended = {int(r["rep"]): r for r in rows if r["type"] == "rep_ended"}
    assert (
        sorted(started)
        == sorted(ended)
        == [r["index"] for r in a["reps"]]
        == [*range(1, len(a["reps"]) + 1)]
    )
    for r in a["reps"]:
        # the rep's start (the monitor's rep_started event comes once the movement is under
        # way, 0.1-0.8 s later), and the rep_ended row's duration counts from it
        assert started[r["index"]] == pytest.approx(r["t_start_s"], abs=1e-9)
        end = ended[r["index"]]
        assert float(end["t_s"]) - float(end["duration_s"]) == pytest.approx(r["t_start_s"])
    alarms = [r for r in rows if r["type"] == "alarm_started"]
    assert [int(r["rep"]) for r in alarms] == [x["rep"] for x in a["alarms"]]
    times = [float(r["t_s"]) for r in rows]
    assert times == sorted(times)
