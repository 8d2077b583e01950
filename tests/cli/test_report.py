"""`imu-monitor report FILE -o OUT.html`: writes one owner-only HTML file; bad input is one line."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from imu_monitor.cli.main import main

RECORDINGS = Path(__file__).resolve().parents[2] / "recordings"


def test_report_writes_one_private_html_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "r.html"
    assert main(["report", str(RECORDINGS / "back-kick_faulty_3sensors.imr"), "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"report written to {out}") and "reps" in said
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "back-kick_faulty_3sensors.imr" in text
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind


def test_report_re_judges_with_the_limits_given(tmp_path: Path):
    out = tmp_path / "r.html"
    rec = str(RECORDINGS / "back-kick_good_1sensor.imr")
    assert main(["report", rec, "-o", str(out), "--flexion-limit", "2.5"]) == 0
    assert "limits: flexion +2.5°" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["report", "-o", "{tmp}/r.html"], 2, "give the recording to report on"),
        (["report", "{tmp}/missing.imr", "-o", "{tmp}/r.html"], 1, "missing.imr"),
        (["report", "{rec}", "-o", "{tmp}/none/r.html"], 1, "does not exist; create it first"),
        (["report", "{rec}", "-o", "{tmp}"], 1, "is a folder"),
        (["report", "{rec}", "-o", "{tmp}/exists.html"], 1, "pass --force to overwrite it"),
        (["report", "{rec}"], 2, "-o/--output"),
    ],
)
def test_report_refuses_bad_input_in_one_line(tmp_path, capsys, argv, code, message):
    (tmp_path / "exists.html").write_text("keep")
    rec = tmp_path / "s.imr"
    shutil.copy(RECORDINGS / "back-kick_good_1sensor.imr", rec)
    argv = [a.format(tmp=tmp_path, rec=rec) for a in argv]
    try:
        got = main(argv)
    except SystemExit as e:  # argparse's own usage errors
        got = e.code
    assert got == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert (tmp_path / "exists.html").read_text() == "keep"


def test_report_force_overwrites(tmp_path: Path):
    out = tmp_path / "r.html"
    out.write_text("old")
    rec = str(RECORDINGS / "back-kick_good_1sensor.imr")
    assert main(["report", rec, "-o", str(out), "--force"]) == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
