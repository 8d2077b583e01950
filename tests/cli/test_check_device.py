"""``imu-monitor check-device`` on the simulated wearable: a profile that fits passes; a profile
whose acc scale or axis mapping is wrong gets a FAIL verdict naming it; usage errors exit 2."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from imu_monitor.cli.main import main
from imu_monitor.devices.profiles import PROFILE_DIR

SIM = [
    "check-device",
    "--device",
    "sim",
    "--speed",
    "10",
    "--seconds",
    "4",
    "--sim-firmware",
    "diy_imu",
]


def diy_copy(tmp_path: Path, old: str, new: str) -> str:
    """diy_imu.toml with one line changed (the device still runs the real diy_imu firmware)."""
    text = (PROFILE_DIR / "diy_imu.toml").read_text()
    assert old in text
    path = tmp_path / "diy_changed.toml"
    path.write_text(text.replace(old, new).replace('name = "diy_imu"', 'name = "diy_changed"'))
    return str(path)


def test_a_fitting_profile_passes_with_each_start_step_shown(capsys):
    assert main(SIM) == 0
    out = capsys.readouterr().out
    assert "step 1: write 01 c8 00 08" in out  # the start sequence, step by step
    assert "label up" in out and "long edge" in out  # the guided poses
    checks = ("rate", "loss", "packets", "alert", "acc scale", "gyro bias", "axes (label up)")
    for check in (*checks, "axes (long edge)"):
        assert re.search(rf"^PASS  {re.escape(check)}:", out, re.M), check
    assert "MTU      247" in out and re.search(r"battery  \d+ %", out)
    assert "verdict: PASS" in out


def test_a_10_hz_device_passes_with_a_note_on_its_rate(capsys):
    sim = [*SIM[:-2], "--sim-firmware", "arduino_nano33_sj", "--profile", "arduino_nano33_sj"]
    assert main(sim) == 0
    out = capsys.readouterr().out
    assert "verdict: PASS" in out and "note: slow sensor (arduino_nano33_sj 10 Hz)" in out
    assert main(SIM) == 0 and "slow sensor" not in capsys.readouterr().out


def test_a_wrong_acc_scale_fails_naming_the_scale(tmp_path, capsys):
    prof = diy_copy(tmp_path, "lsb_per_unit = 2048.0", "lsb_per_unit = 4096.0")
    assert main([*SIM, "--profile", prof]) == 1
    out = capsys.readouterr().out
    assert re.search(r"^FAIL  acc scale: \|acc\| at rest 4\.9\d m/s\^2", out, re.M)
    assert "lsb_per_unit" in out and "verdict: FAIL (acc scale)" in out


def test_a_wrong_axis_mapping_fails_naming_the_axes(tmp_path, capsys):
    prof = diy_copy(
        tmp_path,
        '{ name = "acc", type = "i16", unit = "g", lsb_per_unit = 2048.0 }',
        '{ name = "acc", type = "i16", unit = "g", lsb_per_unit = 2048.0, axes = ["x", "z", "y"] }',
    )
    assert main([*SIM, "--profile", prof]) == 1
    out = capsys.readouterr().out
    assert re.search(
        r"^FAIL  axes \(label up\): gravity should read on \+z here but reads on \+y", out, re.M
    )
    assert "axes mapping is wrong" in out and "verdict: FAIL (axes" in out


def test_a_device_that_is_not_there_is_a_one_line_error(capsys):
    assert main(["check-device", "--device", "NoSuchDevice", "--scan-timeout", "0.01"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("imu-monitor check-device: error:") and err.count("\n") == 1


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["check-device", "--seconds", "abc"])
    assert e.value.code == 2
    assert main(["check-device", "--device", "sim", "--seconds", "0"]) == 2


def test_a_refused_start_step_is_a_one_line_error_naming_it(tmp_path, capsys):
    text = (PROFILE_DIR / "polar_verity_sense.toml").read_text()
    acc = "02 02 00 01 34 00 01 01 10 00 02 01 08 00 04 01 03"
    assert acc in text
    path = tmp_path / "polar_200hz.toml"
    path.write_text(text.replace(acc, acc.replace("34 00", "c8 00", 1)))
    argv = ["check-device", "--device", "sim", "--speed", "10", "--profile", str(path)]
    assert main([*argv, "--sim-firmware", "polar_verity_sense"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "start step 1" in err and "ERROR_INVALID_SAMPLE_RATE" in err


def test_the_variant_probe_is_shown(capsys):
    argv = ["check-device", "--device", "sim", "--speed", "4", "--seconds", "4"]
    assert main([*argv, "--profile", "metamotion"]) == 0
    out = capsys.readouterr().out
    assert "probe: write 13 80" in out and "-> reply 13 80 00 01 -> variant bmi160" in out
    assert "profile  metamotion (bmi160)" in out


def bmi160_only(tmp_path: Path) -> str:
    """metamotion.toml as a profile that knows only the BMI160: no probe, no variants, the
    BMI160 variant's tables at the top level."""
    head, *variants = (PROFILE_DIR / "metamotion.toml").read_text().split("\n[[variant]]\n")
    lines, skip = [], False
    for line in head.splitlines():  # drop the [probe] table
        if line.startswith("["):
            skip = line.startswith("[probe]")
        if not skip:
            lines.append(line)
    bmi160 = next(v for v in variants if v.startswith('name = "bmi160"'))
    body = bmi160.split("\n[[variant.", 1)[1]
    path = tmp_path / "metamotion_bmi160_only.toml"
    path.write_text("\n".join(lines) + "\n[[" + body.replace("[[variant.", "[["))
    return str(path)


def test_a_profile_without_the_chip_variant_fails_on_a_bmi270(tmp_path, capsys):
    """A MetaMotion S (BMI270) read with a profile that only knows the BMI160: its gyro comes
    on another register, so no acc/gyro pair forms and the verdict says so."""
    argv = ["check-device", "--device", "sim", "--speed", "4", "--seconds", "4"]
    prof = bmi160_only(tmp_path)
    rc = main([*argv, "--profile", prof, "--sim-firmware", "metamotion", "--sim-chip", "bmi270"])
    out = capsys.readouterr().out
    assert rc == 1 and re.search(r"^FAIL  data: only 0 complete samples arrived", out, re.M)
