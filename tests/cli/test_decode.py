"""``imu-monitor decode``: vendor frames in, SI samples and a stats line out; bad input gives one
line and exit 2 (usage) or 1 (input). Frames: tests/devices/test_vendor_frames.py."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from imu_monitor.cli.main import main
from imu_monitor.model import GRAVITY_M_S2 as G
from tests.devices.test_decode import diy_packet
from tests.devices.test_vendor_frames import (
    META_ACC,
    POLAR_ACC_80,
    POLAR_ACC_RAW,
    WIT_REPLY,
    _wit,
)


def _run(capsys, argv, stdin=None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(["decode", *argv])
    cap = capsys.readouterr()
    rows = [json.loads(x) for x in cap.out.splitlines()]
    return code, rows, cap.err


def test_polar_raw_frame_prints_si_samples_and_stats(capsys):
    code, rows, err = _run(
        capsys, ["--profile", "polar_verity_sense", "--halves", "--hex", POLAR_ACC_RAW.hex(" ")]
    )
    assert code == 0 and err == ""
    samples, stats = rows[:-1], rows[-1]["stats"]
    assert len(samples) == 36 and stats["halves"] == 36 and stats["malformed"] == {}
    assert np.array(samples[0]["acc_m_s2"]) / G * 1000 == pytest.approx([-9, -1, 999], rel=0.01)
    assert all(abs(np.linalg.norm(s["acc_m_s2"]) - 9.81) < 0.2 for s in samples)


def test_start_reply_in_the_input_is_checked_and_its_factor_used(tmp_path, capsys):
    # a session log: Polar start reply carrying FACTOR 2.44e-4 (PmdSetting id 5, float32), then
    # the SDK test's 0x80 frame (G x factor); CHAR TIME_S HEX lines with aliases
    reply = "f0 02 02 00 00 05 01 " + np.float32(2.44e-4).tobytes().hex(" ")
    f = tmp_path / "log.txt"
    f.write_text(f"notify0 0.0 {reply}\n# data\nacc_delta_g 0.5 {POLAR_ACC_80.hex()}\n")
    code, rows, _ = _run(capsys, ["--profile", "polar_verity_sense", "--halves", str(f)])
    stats = rows[-1]["stats"]
    assert code == 0 and stats["captured"]["acc_factor"] == pytest.approx(2.44e-4)
    assert stats["replies"][0]["ok"] and stats["replies"][0]["step"] == 1
    first = np.array(rows[0]["acc_m_s2"]) / G * 1000
    assert first == pytest.approx(
        [int(2.44e-4 * v * 1000) for v in (1905, 27376, -29282)], rel=0.01
    )


def test_error_reply_is_reported_with_the_status_name(capsys):
    code, rows, _ = _run(
        capsys, ["--profile", "polar_verity_sense", "--char", "notify0", "--hex", "f0 02 02 0a"]
    )
    replies = rows[-1]["stats"]["replies"]
    assert code == 0 and not replies[0]["ok"] and "ERROR_INVALID_MTU" in replies[0]["error"]


def test_witmotion_stream_from_stdin_skips_register_replies(capsys, monkeypatch):
    stream = (_wit(0, 0, 2048) + WIT_REPLY + _wit(0, 0, 2049)).hex()
    text = f"{stream[:50]}\n{stream[50:]}\n"  # a frame split across two lines
    code, rows, _ = _run(capsys, ["--profile", "witmotion_wt901ble", "-"], text, monkeypatch)
    stats = rows[-1]["stats"]
    assert code == 0 and stats["samples"] == 2 and stats["ignored_by"] == {"register_reply": 1}
    assert rows[0]["acc_m_s2"][2] == pytest.approx(G)
    assert set(rows[0]) == {"t_s", "acc_m_s2", "gyr_rad_s"}


def test_metamotion_variant_and_pairing_hint(capsys):
    code, rows, _ = _run(capsys, ["--profile", "metamotion:bmi270", "--hex", META_ACC.hex()])
    stats = rows[-1]["stats"]
    assert code == 0 and stats["profile"] == "metamotion:bmi270" and "--halves" in stats["hint"]


def test_diy_counter_is_printed(capsys):
    pkt = diy_packet(7, 1_000_000, [(2048, 0, 0, 0, 0, 0), (0, 0, 2048, 0, 0, 0)])
    code, rows, _ = _run(capsys, ["--profile", "diy_imu", "--hex", pkt.hex()])
    assert code == 0 and [r["counter"] for r in rows[:-1]] == [7, 8]


@pytest.mark.parametrize(
    "argv, code, text",
    [
        (["--profile", "nope", "--hex", "00"], 2, "no firmware profile named 'nope'"),
        (["--profile", "metamotion", "--variant", "x", "--hex", "00"], 2, "no variant 'x'"),
        (["--profile", "diy_imu", "--hex", "zz"], 2, "--hex argument 1: not hex"),
        (["--profile", "diy_imu", "--factor", "k=1", "--hex", "00"], 2, "--factor 'k=1'"),
        (
            ["--profile", "polar_verity_sense", "--factor", "acc_factor=nan", "--hex", "00"],
            2,
            "--factor 'acc_factor=nan'",
        ),
        (["--profile", "diy_imu", "--char", "nope", "--hex", "00"], 2, "characteristic 'nope'"),
        (["--profile", "diy_imu", "/no/such/file"], 1, "cannot read /no/such/file"),
    ],
)
def test_bad_input_is_one_line(capsys, argv, code, text):
    got, rows, err = _run(capsys, argv)
    assert got == code and rows == []
    assert text in err and err.count("\n") == 1 and "Traceback" not in err


def test_malformed_line_in_a_file_names_the_line(tmp_path, capsys):
    f = tmp_path / "bad.txt"
    f.write_text("a5 02\n\nnotify0 x 00\n")
    code, rows, err = _run(capsys, ["--profile", "diy_imu", str(f)])
    assert code == 1 and rows == [] and f"{f} line 3" in err and err.count("\n") == 1
