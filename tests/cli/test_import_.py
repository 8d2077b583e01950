"""`imu-monitor import` fed hostile CSV and Xsens files: a clear message or a counted skip, never
a traceback, never a hang.

Each case runs the real command (``imu_monitor.cli.main.main``) in both modes (strict and
``--skip-bad-rows``). A run fails the test if an exception escapes, if "Traceback" is printed,
if an error is more than one line, if a file written cannot be loaded back, or if it takes more
than ``HANG_S`` (a hang guard measured on the wall clock, not a performance assertion).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from imu_monitor.cli.main import main
from imu_monitor.storage.recording import load_recording

HANG_S = 60.0

CSV_HEAD = "t,ax,ay,az,gx,gy,gz"
XS_HEAD = "PacketCounter\tSampleTimeFine\tAcc_X\tAcc_Y\tAcc_Z\tGyr_X\tGyr_Y\tGyr_Z"
XS_PRE = "// Start Time: Unknown\n// Update Rate: 100.0Hz\n"


def csv_rows(n: int = 400, t0: float = 0.0) -> list[str]:
    return [f"{t0 + i * 0.01:.2f},0.1,0,9.81,0.01,0,0" for i in range(n)]


def xs_rows(n: int = 400, pc0: int = 0, stf0: int = 1000) -> list[str]:
    return [f"{(pc0 + i) % 65536}\t{stf0 + 100 * i}\t0.1\t0\t9.81\t0.01\t0\t0" for i in range(n)]


def _csv(*rows: str, head: str = CSV_HEAD) -> bytes:
    return ("\n".join([head, *rows]) + "\n").encode()


def _xs(*rows: str, pre: str = XS_PRE, head: str = XS_HEAD) -> bytes:
    return (pre + "\n".join([head, *rows]) + "\n").encode()


def _replace(rows: list[str], i: int, row: str) -> list[str]:
    out = list(rows)
    out[i] = row
    return out


CSV_CASES: dict[str, bytes] = {
    "empty": b"",
    "header only": _csv(),
    "comments only": b"# a\n# b\n",
    "random bytes": random.Random(1).randbytes(5000),
    "not utf-8": b"t,ax,ay,az,gx,gy,gz\n" + b"\xff\xfe\x00\x01,\x80\x81\n" * 50,
    "NUL in a row": _csv(*_replace(csv_rows(), 5, "0.05,0\x00,0,9.81,0,0,0")),
    "cell over the field limit": _csv(*_replace(csv_rows(), 5, "0.05," + "9" * 200_000)),
    "quoted cell over the field limit": _csv(
        *_replace(csv_rows(), 5, '0.05,"' + "9" * 200_000 + '",0,9.81,0,0,0')
    ),
    "unbalanced quote": _csv(*_replace(csv_rows(), 5, '0.05,"0,0,9.81,0,0,0')),
    "nan and inf cells": _csv(*_replace(csv_rows(), 5, "0.05,nan,inf,-inf,0,0,0")),
    "overflow in g": _csv(
        *_replace(csv_rows(), 5, "0.05,1e308,0,1,0,0,0"), head="t,ax_g,ay_g,az_g,gx,gy,gz"
    ),
    "times all equal": _csv(*["1.0,0,0,9.81,0,0,0"] * 300),
    "times decreasing": _csv(*reversed(csv_rows())),
    "two recordings joined": _csv(*csv_rows(), *csv_rows()),
    "time 1e300": _csv(*_replace(csv_rows(), 200, "1e300,0,0,9.81,0,0,0")),
    "times 1e300 apart": _csv(*[f"{i}e300,0,0,9.81,0,0,0" for i in range(1, 50)]),
    "time in ms without unit": _csv(*[f"{i * 10},0,0,9.81,0,0,0" for i in range(300)]),
    "one row": _csv("0,0,0,9.81,0,0,0"),
    "short rows": _csv(*["0.01,1,2"] * 50),
    "20000 columns": (",".join(f"c{i}" for i in range(20_000)) + "\n1,2\n").encode(),
    "duplicate header names": _csv(*csv_rows(), head="t,ax,ax,ax,gx,gx,gx"),
    "1 MB line": b"t,ax,ay,az,gx,gy,gz\n" + b"1" * 1_000_000 + b"\n",
    "hex and words": _csv(*_replace(csv_rows(), 5, "0x1p3,one,0,9.81,0,0,0")),
    "no time column": _csv(*[r.split(",", 1)[1] for r in csv_rows()], head="ax,ay,az,gx,gy,gz"),
}

XS_CASES: dict[str, bytes] = {
    "update rate 1.2.3Hz": _xs(*xs_rows(), pre="// Update Rate: 1.2.3Hz\n"),
    "update rate 0Hz": _xs(*xs_rows(), pre="// Update Rate: 0Hz\n"),
    "update rate 1e-300Hz": _xs(*xs_rows(), pre="// Update Rate: 1e-300Hz\n"),
    "update rate 1e9Hz": _xs(*xs_rows(), pre="// Update Rate: 1e9Hz\n"),
    "update rate nanHz": _xs(*xs_rows(), pre="// Update Rate: nanHz\n"),
    "SampleTimeFine 1e30": _xs(*_replace(xs_rows(), 10, "10\t1e30\t0\t0\t9.81\t0\t0\t0")),
    "SampleTimeFine negative": _xs(*_replace(xs_rows(), 10, "10\t-5\t0\t0\t9.81\t0\t0\t0")),
    "SampleTimeFine all NaN": _xs(*[r.replace("\t", "\tNaN\t", 1) for r in xs_rows()]),
    "random PacketCounters": _xs(
        *[f"{random.Random(i).randrange(65536)}\t0\t0\t9.81\t0\t0\t0" for i in range(2000)],
        head="PacketCounter\tAcc_X\tAcc_Y\tAcc_Z\tGyr_X\tGyr_Y\tGyr_Z",
    ),
    "random SampleTimeFine": _xs(
        *[f"{i}\t{random.Random(i).randrange(1 << 32)}\t0\t0\t9.81\t0\t0\t0" for i in range(2000)]
    ),
    "SampleTimeFine restarts": _xs(*xs_rows(), *xs_rows(pc0=400)),
    "PacketCounter 70000": _xs(*_replace(xs_rows(), 10, "70000\t2000\t0\t0\t9.81\t0\t0\t0")),
    "no table header": ("// x\n" * 3000).encode(),
    "header only": _xs(),
    "3000 preamble lines": _xs(*xs_rows(), pre="// note\n" * 3000),
    "long DeviceId": _xs(*xs_rows(), pre="// DeviceId: " + "F" * 100_000 + "\n"),
    "short rows": _xs(*["1\t2\t3"] * 100),
    "random bytes": random.Random(2).randbytes(5000),
}


def mutants(base: bytes, n: int, seed: int) -> dict[str, bytes]:
    """``n`` random damages of a valid file: flipped bytes, lines dropped, repeated or swapped,
    hostile tokens written over cells."""
    rng = random.Random(seed)
    tokens = ["", "nan", "inf", "-1e309", "1e308", '"', "1.2.3", "\x00", "9" * 200, "-0", "0x10"]
    out = {}
    for k in range(n):
        lines = base.split(b"\n")
        kind = k % 4
        if kind == 0:
            b = bytearray(base)
            for _ in range(rng.randint(1, 20)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            out[f"mutant {k}: flipped bytes"] = bytes(b)
            continue
        i = rng.randrange(1, len(lines))
        if kind == 1:
            del lines[i : i + rng.randint(1, 50)]
        elif kind == 2:
            lines[i:i] = lines[rng.randrange(1, len(lines)) :][: rng.randint(1, 100)]
        else:
            for _ in range(rng.randint(1, 10)):
                j = rng.randrange(1, len(lines))
                sep = b"\t" if b"\t" in lines[j] else b","
                cells = lines[j].split(sep)
                cells[rng.randrange(len(cells))] = rng.choice(tokens).encode()
                lines[j] = sep.join(cells)
        out[f"mutant {k}: {('', 'lines dropped', 'lines repeated', 'hostile cells')[kind]}"] = (
            b"\n".join(lines)
        )
    return out


CSV_CASES |= mutants(_csv(*csv_rows()), 16, seed=11)
XS_CASES |= mutants(_xs(*xs_rows()), 16, seed=12)


def run_import(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Exit code and stderr of one ``imu-monitor import`` run; fails on escape or hang."""
    start = time.monotonic()
    try:
        code = main(argv)
    except SystemExit as e:  # argparse usage errors
        code = int(e.code or 0)
    elapsed = time.monotonic() - start
    out = capsys.readouterr()
    assert elapsed < HANG_S, f"{argv} ran {elapsed:.1f} s"
    assert "Traceback" not in out.err + out.out, out.err
    if code:  # one message line ("imu-monitor import: error: ..."), after argparse's usage
        errors = [ln for ln in out.err.splitlines() if "error:" in ln]
        assert len(errors) == 1 and out.err.rstrip().endswith(errors[0]), out.err
    return code, out.err


def check_outcome(tmp_path: Path, code: int, out: Path) -> None:
    if code == 0:  # whatever import writes, the program can read
        rec = load_recording(out)
        assert all(len(s) for s in rec.series.values())
    else:
        assert not out.exists()


@pytest.mark.parametrize("skip", [False, True], ids=["strict", "skip-bad-rows"])
@pytest.mark.parametrize("name", list(CSV_CASES))
def test_hostile_csv(
    tmp_path: Path, name: str, skip: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "in.csv"
    f.write_bytes(CSV_CASES[name])
    out = tmp_path / "out.imr"
    argv = ["import", str(f), "--format", "csv", "-o", str(out)]
    code, _ = run_import(argv + (["--skip-bad-rows"] if skip else []), capsys)
    check_outcome(tmp_path, code, out)


@pytest.mark.parametrize("skip", [False, True], ids=["strict", "skip-bad-rows"])
@pytest.mark.parametrize("name", list(XS_CASES))
def test_hostile_xsens(
    tmp_path: Path, name: str, skip: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "in.txt"
    f.write_bytes(XS_CASES[name])
    out = tmp_path / "out.imr"
    argv = ["import", str(f), "--format", "xsens", "-o", str(out)]
    code, _ = run_import(argv + (["--skip-bad-rows"] if skip else []), capsys)
    check_outcome(tmp_path, code, out)


HOSTILE_ARGS: dict[str, Callable[[Path], list[str]]] = {
    "rate nan": lambda f: [str(f), "--format", "csv", "--rate", "nan"],
    "rate inf": lambda f: [str(f), "--format", "csv", "--rate", "inf"],
    "rate -5": lambda f: [str(f), "--format", "csv", "--rate", "-5"],
    "rate 1e9": lambda f: [str(f), "--format", "csv", "--rate", "1e9"],
    "rate 1e-300": lambda f: [str(f), "--format", "csv", "--rate", "1e-300"],
    "a folder": lambda f: [str(f.parent), "--format", "csv"],
    "/dev/zero": lambda f: ["/dev/zero", "--format", "csv"],
    "missing file": lambda f: [str(f.parent / "nope.csv"), "--format", "csv"],
    "sensor twice": lambda f: [
        "--format",
        "xsens",
        "--sensor",
        f"sacrum={f}",
        "--sensor",
        f"sacrum={f}",
    ],  # fmt: skip
    "sensor without file": lambda f: ["--format", "xsens", "--sensor", "sacrum="],
    "sensor, csv": lambda f: ["--format", "csv", "--sensor", f"sacrum={f}"],
    "sensor /dev/zero": lambda f: ["--format", "xsens", "--sensor", "sacrum=/dev/zero"],
    "no file": lambda f: ["--format", "csv"],
}


@pytest.mark.parametrize("name", list(HOSTILE_ARGS))
def test_hostile_arguments(tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "in.csv"
    f.write_bytes(_csv(*csv_rows()))
    out = tmp_path / "out.imr"
    code, err = run_import(["import", *HOSTILE_ARGS[name](f), "-o", str(out)], capsys)
    assert code != 0 and err.strip()
    assert not out.exists()


def test_a_time_hole_is_said_on_import_and_by_analyze(tmp_path: Path, capsys) -> None:
    # 100 Hz with 90 samples missing after 1.99 s: once accepted silently
    rows = csv_rows(1000)
    f = tmp_path / "hole.csv"
    f.write_bytes(_csv(*rows[:200], *rows[290:]))
    out = tmp_path / "hole.imr"
    assert main(["import", str(f), "--format", "csv", "-o", str(out)]) == 0
    said = "1 gap in the data, 90 samples missing, the longest 0.91 s; 1 over 0.25 s"
    assert said in capsys.readouterr().out
    assert main(["analyze", str(out)]) == 0
    assert f"note: sacrum: {said}" in capsys.readouterr().out
    # without one, neither says a word of gaps
    g = tmp_path / "whole.csv"
    g.write_bytes(_csv(*rows))
    assert main(["import", str(g), "--format", "csv", "-o", str(tmp_path / "whole.imr")]) == 0
    assert main(["analyze", str(tmp_path / "whole.imr")]) == 0
    assert "gap" not in capsys.readouterr().out


def test_a_rate_that_contradicts_the_times_is_refused(tmp_path: Path, capsys) -> None:
    # 100 Hz times imported at --rate 50 (or an Xsens header at 100 Hz over 200 Hz times): every
    # angular rate read at the wrong size, the angles doubled or halved, without a word
    f = tmp_path / "t.csv"
    f.write_bytes(_csv(*csv_rows(400)))
    out = str(tmp_path / "o.imr")
    assert main(["import", str(f), "--format", "csv", "--rate", "50", "-o", out]) == 1
    err = capsys.readouterr().err
    assert "--rate 50 Hz does not fit the file's times: they step by 10 ms (median), 100 Hz" in err
    assert main(["import", str(f), "--format", "csv", "--rate", "110", "-o", out]) == 0  # 10 %
    x = tmp_path / "x.txt"
    x.write_bytes(_xs(*[f"{i}\t{1000 + 50 * i}\t0.1\t0\t9.81\t0.01\t0\t0" for i in range(400)]))
    assert main(["import", str(x), "--format", "xsens", "-o", str(tmp_path / "x.imr")]) == 1
    err = capsys.readouterr().err
    assert "the header's Update Rate (100 Hz) does not fit the file's times" in err
    assert "200 Hz" in err and "Traceback" not in err


def test_a_csv_file_needs_no_format(tmp_path: Path, capsys) -> None:
    # once "give --format": only .xdf files were recognised by their name
    f = tmp_path / "session.CSV"
    f.write_bytes(_csv(*csv_rows()))
    out = tmp_path / "session.imr"
    assert main(["import", str(f), "-o", str(out)]) == 0
    assert "(csv)" in capsys.readouterr().out
    assert len(load_recording(out).series["sacrum"]) == 400
    txt = tmp_path / "session.txt"  # an Xsens export or any other text: not guessed
    txt.write_bytes(_xs(*xs_rows()))
    code, err = run_import(["import", str(txt), "-o", str(tmp_path / "x.imr")], capsys)
    assert code == 2 and "give --format (csv, xsens, xdf)" in err
