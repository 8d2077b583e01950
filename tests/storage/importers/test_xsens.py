"""Xsens MT Manager exports: preamble variants, several files of one session, bad counters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from imu_monitor.cli.main import main
from imu_monitor.errors import ImportFileError, ImuMonitorError
from imu_monitor.storage.importers import import_xsens, import_xsens_sensors, unwrap_counter
from imu_monitor.storage.recording import load_recording


def table(counters, stf=None, acc_x=None) -> str:
    cols = ["PacketCounter"] + (["SampleTimeFine"] if stf is not None else [])
    lines = ["\t".join(cols + ["Acc_X", "Acc_Y", "Acc_Z", "Gyr_X", "Gyr_Y", "Gyr_Z"])]
    for i, pc in enumerate(counters):
        vals = [str(pc)] + ([str(stf[i])] if stf is not None else [])
        ax = acc_x[i] if acc_x is not None else 0.1 * i
        vals += [f"{ax}", "0", "9.81", "0.001", "-0.002", f"{i}"]
        lines.append("\t".join(vals))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "preamble",
    [
        "Acquisition frequency: 100 Hz\n",  # no "//" at all (issue 12: public L5 gait data)
        "// Acquisition frequency: 100 Hz\n",
        "//Filter Profile: human (46.1)\n// Update Rate: 100.0Hz\n",  # no space after //
        "// General information:\n//  MT Manager version: 2022.0.0\n\n// Sample rate: 100 Hz\n",
    ],
)
def test_preamble_variants_give_the_rate(tmp_path: Path, preamble: str) -> None:
    f = tmp_path / "x.txt"
    f.write_text(preamble + table([1, 2, 3, 4]))
    rec = import_xsens(f)
    assert rec.sensors["sacrum"].rate_hz == 100.0
    assert np.allclose(np.diff(rec.series["sacrum"].t_s), 0.01)


def test_malformed_rate_line_is_refused_naming_the_line(tmp_path: Path) -> None:
    f = tmp_path / "x.txt"
    f.write_text("// Start Time: Unknown\n// Update Rate: 1.2.3Hz\n" + table([1, 2, 3]))
    with pytest.raises(ImportFileError, match="usable rate.*--rate") as e:
        import_xsens(f)
    assert e.value.row == 2
    assert len(import_xsens(f, rate_hz=100).series["sacrum"]) == 3  # the option wins
    f.write_text("// Update Rate: 1e9Hz\n" + table([1, 2, 3]))
    with pytest.raises(ImportFileError, match="not possible"):
        import_xsens(f)


def test_counter_values_out_of_range_are_bad_rows(tmp_path: Path) -> None:
    f = tmp_path / "x.txt"
    stf = [100, 200, "1e30", 400, 500]
    f.write_text("// Update Rate: 100Hz\n" + table([1, 2, 3, 4, 5], stf))
    with pytest.raises(ImportFileError, match="not a counter value") as e:
        import_xsens(f)
    assert e.value.row == 5 and e.value.column == "SampleTimeFine"
    rec = import_xsens(f, skip_bad_rows=True)
    info = rec.meta["import"]
    assert info["skipped"] == {"counter out of range": 1} and len(rec.series["sacrum"]) == 4
    f.write_text("// Update Rate: 100Hz\n" + table([1, 2, 70000, 4, 5]))
    with pytest.raises(ImportFileError, match="not a counter value"):
        import_xsens(f)


def test_random_packet_counters_are_refused_or_counted(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    f = tmp_path / "x.txt"
    f.write_text("// Update Rate: 100Hz\n" + table(rng.integers(0, 65536, 2000).tolist()))
    with pytest.raises(ImportFileError, match="before an earlier row"):
        import_xsens(f)
    with pytest.raises(ImportFileError, match="times spread .* samples over"):
        import_xsens(f, skip_bad_rows=True)  # what is left after skipping is no clock either


def test_stf_jump_back_is_not_taken_for_a_wrap() -> None:
    ticks = np.array([5_000_000, 5_000_100, 100, 200])  # back by 8 min: not near the wrap
    out = unwrap_counter(ticks, ((1 << 32), 864_000_000), 6_000_000)
    assert out[2] < out[1]  # left backwards, for the caller to report
    wrap = np.array([(1 << 32) - 100, 0, 100])
    assert list(unwrap_counter(wrap, ((1 << 32), 864_000_000), 6_000_000)) == [
        (1 << 32) - 100, 1 << 32, (1 << 32) + 100,
    ]  # fmt: skip


def test_two_files_aligned_on_sample_time_fine(tmp_path: Path) -> None:
    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt"
    # the thigh file starts 3 samples later and misses its 6th sample (a radio loss)
    stf = [10_000 + 100 * i for i in range(10)]
    a.write_text("// Update Rate: 100.0Hz\n//  DeviceId: 00B4AAAA\n" + table(range(10), stf))
    t_pc = [i for i in range(3, 10) if i != 6]
    b_stf = [10_000 + 100 * i for i in t_pc]
    b.write_text("// Update Rate: 100.0Hz\n//  DeviceId: 00B4BBBB\n" + table(t_pc, b_stf))
    rec = import_xsens_sensors({"sacrum": a, "thigh": b}, exercise="back-kick")
    assert set(rec.series) == {"sacrum", "thigh"}
    s, t = rec.series["sacrum"], rec.series["thigh"]
    assert np.allclose(t.t_s, s.t_s[t_pc])  # the same clock: a thigh sample sits at its time
    assert np.array_equal(t.seq, t_pc)
    assert rec.sensors["thigh"].device == "Xsens 00B4BBBB"
    assert rec.meta["import"]["aligned_on"] == "SampleTimeFine"
    late = [9_000_000 + 100 * i for i in range(5)]  # 100 Hz, 15 minutes later
    b.write_text("// Update Rate: 100.0Hz\n" + table(range(5), late))
    with pytest.raises(ImuMonitorError, match="do not overlap"):
        import_xsens_sensors({"sacrum": a, "thigh": b})


def test_cli_imports_several_sensors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt"
    a.write_text("// Update Rate: 100.0Hz\n" + table(range(50)))
    b.write_text("// Update Rate: 100.0Hz\n" + table(range(50)))
    out = tmp_path / "o.imr"
    argv = ["import", "--format", "xsens", "--sensor", f"sacrum={a}", "--sensor", f"thigh={b}"]
    assert main([*argv, "-o", str(out)]) == 0
    assert "aligned on PacketCounter / rate" in capsys.readouterr().out
    assert set(load_recording(out).series) == {"sacrum", "thigh"}
    assert main([*argv, "-o", str(out), "--force", "--placement", "thigh"]) == 2  # a clash
    assert "either FILE" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["import", "--format", "xsens", "--sensor", f"hip={a}", "-o", str(out)])
    assert "unknown placement 'hip'" in capsys.readouterr().err
