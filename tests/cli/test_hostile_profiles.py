"""Hostile firmware profiles given to ``decode --profile FILE`` and ``check-device --device sim
--profile FILE``: every one ends in one clear line naming the file (exit 1 or 2), never a
traceback, an "unexpected" error (the command line's catch-all for bugs) or a hang.

The hang guard runs the command in a worker thread and gives up waiting after ``HANG_S``: not a
speed assertion (each run takes well under a second), a bound so that a hang fails the test
instead of stopping the suite.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from imu_monitor.cli.main import main
from imu_monitor.devices.profiles import PROFILE_DIR

HANG_S = 10.0

BASE = (PROFILE_DIR / "diy_imu.toml").read_text(encoding="utf-8")
THINGY = (PROFILE_DIR / "thingy52.toml").read_text(encoding="utf-8")


def _edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


# name -> the file's bytes, or a callable (tmp_path -> path) for what is not a file's bytes
CASES: dict[str, object] = {
    "not_utf8": b"\xff\xfe" + BASE.encode(),
    "latin1_title": _edit(BASE, 'title = "DIY', 'title = "D\xe9IY').encode("latin-1"),
    "deep_arrays": ("x = " + "[" * 5000 + "]" * 5000 + "\n" + BASE).encode(),
    "deep_tables": ("x = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n" + BASE).encode(),
    "deep_but_parsable": ("x = " + "[" * 200 + "]" * 200 + "\n" + BASE).encode(),
    "over_1_mib": (BASE + "#" * (1 << 20)).encode(),
    "empty": b"",
    "nul_bytes": b"\x00" * 4096,
    "rate_1e308": _edit(BASE, "hz = 200.0", "hz = 1e308").encode(),
    "rate_nan": _edit(BASE, "hz = 200.0", "hz = nan").encode(),
    "rate_inf": _edit(BASE, "hz = 200.0", "hz = inf").encode(),
    "rate_negative": _edit(BASE, "hz = 200.0", "hz = -200.0").encode(),
    "rate_1e-300": _edit(BASE, "hz = 200.0", "hz = 1e-300").encode(),
    "rate_string": _edit(BASE, "hz = 200.0", 'hz = "fast"').encode(),
    "max_samples_4096": _edit(BASE, "max_samples = 19", "max_samples = 4096").encode(),
    "samples_10_9": _edit(BASE, 'samples = "derived"', "samples = 1000000000").encode(),
    "field_count_10_9": _edit(
        BASE,
        '{ name = "gyr", type = "i16"',
        '{ name = "x", type = "i16", count = 1000000000 }, { name = "gyr", type = "i16"',
    ).encode(),
    "many_fields": _edit(
        BASE, "record = [\n", "record = [\n" + '  { name = "pad", type = "u8", count = 1 },\n' * 40
    ).encode(),
    "data_offset_huge": _edit(BASE, "data_offset = 8", "data_offset = 99999999").encode(),
    "lsb_1e-308": _edit(BASE, "lsb_per_unit = 2048.0", "lsb_per_unit = 1e-308").encode(),
    "lsb_1e308": _edit(BASE, "lsb_per_unit = 2048.0", "lsb_per_unit = 1e308").encode(),
    "units_s_1e300": _edit(BASE, "units_s = 1e-6", "units_s = 1e300").encode(),
    "pair_tolerance_1e308": _edit(
        BASE, 'source = "timestamp"', 'source = "timestamp"\npair_tolerance_s = 1e308'
    ).encode(),
    "reanchor_1e308": _edit(
        BASE, 'source = "timestamp"', 'source = "timestamp"\nreanchor_samples = 1e308'
    ).encode(),
    "regex_nested_plus": _edit(
        BASE, 'name_pattern = "^(LumbarIMU|imu-monitor)"', 'name_pattern = "^(a+)+$"'
    ).encode(),
    "regex_overlapping_alternatives": _edit(
        BASE, 'name_pattern = "^(LumbarIMU|imu-monitor)"', 'name_pattern = "^(a|aa)*$"'
    ).encode(),
    "regex_backreference": _edit(
        BASE, 'name_pattern = "^(LumbarIMU|imu-monitor)"', 'name_pattern = "^(a*)\\\\1$"'
    ).encode(),
    "huge_wrong_value": _edit(BASE, 'name = "diy_imu"', f'name = "{"X" * 200_000}"').encode(),
    "regex_invalid": _edit(
        BASE, 'name_pattern = "^(LumbarIMU|imu-monitor)"', 'name_pattern = "^(LumbarIMU"'
    ).encode(),
    "headerless_rate_1e308": _edit(THINGY, "hz = 100.0", "hz = 1e308").encode(),
    "directory": lambda tmp: str(tmp),
    "dev_zero": lambda tmp: "/dev/zero",
    "named_pipe": lambda tmp: _fifo(tmp),
    "missing": lambda tmp: str(tmp / "nowhere.toml"),
}


def _fifo(tmp: Path) -> str:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    path = tmp / "pipe.toml"
    os.mkfifo(path)
    return str(path)


def _commands(path: str) -> list[list[str]]:
    return [
        ["decode", "--profile", path, "--hex", "00"],
        ["check-device", "--device", "sim", "--profile", path, "--seconds", "2", "--speed", "20"],
    ]


def _run_guarded(argv: list[str], capsys) -> tuple[object, str]:
    """Run ``main(argv)`` in a worker thread; (exit code or a description of what escaped,
    stdout + stderr). Fails the test when the run takes over ``HANG_S``."""
    result: dict[str, object] = {}

    def run() -> None:
        try:
            result["code"] = main(argv)
        except SystemExit as e:
            result["code"] = e.code
        except BaseException as e:  # noqa: BLE001 - what escapes main is the finding
            result["code"] = f"escaped {type(e).__name__}: {e}"

    t0 = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(HANG_S)
    elapsed = time.monotonic() - t0
    cap = capsys.readouterr()
    assert not worker.is_alive(), f"{argv[0]} still running after {elapsed:.1f} s (a hang)"
    return result.get("code"), cap.out + cap.err


def _assert_clean(code: object, output: str, argv: list[str]) -> None:
    assert isinstance(code, int), f"{argv}: {code}"
    assert "Traceback" not in output, output
    assert "unexpected" not in output, output  # main's one-line report of a bug
    assert "Warning" not in output, output  # numpy overflow warnings and the like


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_profile_is_refused_in_one_line_naming_the_file(case, tmp_path, capsys):
    spec = CASES[case]
    if callable(spec):
        path = spec(tmp_path)
    else:
        path = str(tmp_path / f"{case}.toml")
        Path(path).write_bytes(spec)
    for argv in _commands(path):
        code, output = _run_guarded(argv, capsys)
        _assert_clean(code, output, argv)
        assert code in (1, 2), (argv, code, output)
        errors = [line for line in output.splitlines() if "error:" in line]
        assert len(errors) == 1 and path in errors[0], output
        assert len(errors[0]) < 1000, errors[0][:2000]  # one short line, whatever the value


def _mutants(seed: int, count: int) -> list[bytes]:
    """diy_imu.toml with random damage: flipped bytes, a cut, a duplicated slice, digits
    replaced by huge numbers."""
    rng = np.random.default_rng(seed)
    base = BASE.encode()
    out = []
    for _ in range(count):
        b = bytearray(base)
        kind = int(rng.integers(4))
        if kind == 0:
            for i in rng.integers(0, len(b), int(rng.integers(1, 8))):
                b[int(i)] = int(rng.integers(256))
        elif kind == 1:
            b = b[: int(rng.integers(len(b)))]
        elif kind == 2:
            i, j = sorted(int(x) for x in rng.integers(0, len(b), 2))
            b[j:j] = b[i:j]
        else:
            digits = [i for i, c in enumerate(b) if chr(c).isdigit()]
            for i in rng.choice(digits, int(rng.integers(1, 4)), replace=False):
                b[int(i) : int(i) + 1] = rng.choice([b"9e999", b"1e308", b"-0", b"99999999999"])
        out.append(bytes(b))
    return out


@pytest.mark.parametrize("index", range(24))
def test_randomly_damaged_profile_never_gives_a_traceback_or_hang(index, tmp_path, capsys):
    path = tmp_path / f"mutant{index}.toml"
    path.write_bytes(_mutants(seed=13, count=24)[index])
    for argv in _commands(str(path)):
        code, output = _run_guarded(argv, capsys)
        _assert_clean(code, output, argv)
