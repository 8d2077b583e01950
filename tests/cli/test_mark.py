"""`imu-monitor mark`: markers only inside the recording's time range."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from imu_monitor.cli.main import main
from imu_monitor.storage.recording import load_recording

RECORDING = Path(__file__).resolve().parents[2] / "recordings" / "back-kick_good_1sensor.imr"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--at", "-5"], "--at -5 s is outside"),
        (["--at", "9999"], "--at 9999 s is outside"),
        (["--at", "nan"], "expected seconds, not 'nan'"),
        (["--at", "5", "--load-kg", "-20"], "expected kilograms, 0 or more"),
        (["--at", "5", "--load-kg", "1e9"], "expected kilograms up to 1000"),
        (["--at", "5", "--exercise", "squat"], "invalid choice: 'squat'"),
        (["--at", "10", "--until", "5"], "--until 5 s is not after --at 10 s"),
        (["--at", "10", "--until", "10"], "not after"),
        (["--at", "10", "--until", "500"], "--until 500 s is outside"),
    ],
)
def test_mark_refuses_times_outside_the_recording(
    tmp_path: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "r.imr"
    shutil.copy(RECORDING, f)
    before = f.read_bytes()
    try:
        code = main(["mark", str(f), *args])
    except SystemExit as e:  # argparse's own usage errors
        code = e.code
    assert code != 0
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert f.read_bytes() == before  # nothing appended


def test_mark_inside_the_range_is_kept(tmp_path: Path) -> None:
    f = tmp_path / "r.imr"
    shutil.copy(RECORDING, f)
    assert main(["mark", str(f), "--at", "10", "--until", "12.5", "--text", "ok"]) == 0
    m = [m for m in load_recording(f).markers if m.data.get("text") == "ok"]
    assert len(m) == 1 and (m[0].t_s, m[0].t_end_s) == (10.0, 12.5)


def test_a_damaged_recording_is_marked_with_allow_partial(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "r.imr"  # saved in ~1 s blocks (the bundled files are older: one block)
    assert main(["simulate", "--reps", "3", "--faulty", "0", "--seed", "2", "-o", str(f)]) == 0
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one damaged byte inside a block of samples
    f.write_bytes(bytes(data))
    assert main(["mark", str(f), "--at", "10"]) == 1
    assert "--allow-partial" in capsys.readouterr().err
    assert main(["mark", str(f), "--at", "10", "--allow-partial"]) == 0
    assert main(["mark", str(f), "--list", "--allow-partial"]) == 0
    assert "10.00 s  note" in capsys.readouterr().out


def test_the_first_and_last_instants_as_printed_are_inside(tmp_path: Path, capsys) -> None:
    # the range is printed to the hundredth: "--at 0 s is outside ...: the recording runs from
    # 0.00 to ..." had refused a time the message itself put inside
    f = tmp_path / "r.imr"
    shutil.copy(RECORDING, f)
    assert main(["mark", str(f), "--at", "0", "--kind", "set_start"]) == 0
    assert main(["mark", str(f), "--list"]) == 0
    assert "set_start" in capsys.readouterr().out


def test_a_first_sample_jittered_before_zero_reads_0_00(tmp_path: Path, capsys) -> None:
    # seed 5's sacrum sample 0 is jittered to -0.0003 s: the range read "from -0.00 to ..."
    f = tmp_path / "r.imr"
    assert main(["simulate", "--reps", "2", "--faulty", "0", "--seed", "5", "-o", str(f)]) == 0
    assert min(float(s.t_s[0]) for s in load_recording(f).series.values()) < 0.0
    assert main(["mark", str(f), "--at", "9999"]) == 1
    assert "the recording runs from 0.00 to" in capsys.readouterr().err
