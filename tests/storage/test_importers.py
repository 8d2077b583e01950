"""Import of generic CSV and Xsens MT Manager exports, and the `imu-monitor import` command."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imu_monitor.cli.main import main
from imu_monitor.errors import ImportFileError, ImuMonitorError
from imu_monitor.model import GRAVITY_M_S2
from imu_monitor.storage.importers import import_csv, import_file, import_xsens, unwrap_counter
from imu_monitor.storage.recording import load_recording

G = GRAVITY_M_S2


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_csv_detects_names_and_units(tmp_path: Path) -> None:
    f = write(
        tmp_path / "a.csv",
        "# exported by some app\n"
        "timestamp_ms;Acc_X_g;Acc_Y_g;Acc_Z_g;gyro_x_deg_s;gyro_y_deg_s;gyro_z_deg_s;temp\n"
        "1000;0;0;1;90;0;-180;25\n"
        "1010;0.5;0;1;0;0;0;25\n"
        "1020;0;0;1;0;0;0;25\n",
    )
    rec = import_csv(f, exercise="back-kick")
    s = rec.series["sacrum"]
    assert np.allclose(s.t_s, [1.0, 1.01, 1.02])
    assert np.allclose(s.acc_m_s2[1], [0.5 * G, 0, G])
    assert np.allclose(s.gyr_rad_s[0], [math.pi / 2, 0, -math.pi])
    assert rec.meta["source"] == "import:csv" and rec.meta["exercise"] == "back-kick"
    assert rec.calibration is None
    assert rec.sensors["sacrum"].rate_hz == pytest.approx(100.0)
    assert rec.sensors["sacrum"].profile == "import"
    assert rec.meta["import"]["units"]["sacrum.acc"] == ["g", "header"]


def test_csv_plain_names_default_units_and_options(tmp_path: Path) -> None:
    f = write(tmp_path / "b.csv", "t,ax,ay,az,gx,gy,gz\n0,1,2,3,4,5,6\n0.01,1,2,3,4,5,6\n")
    rec = import_csv(f, rate_hz=100.0, placement="thigh")
    assert list(rec.series) == ["thigh"]
    assert np.array_equal(rec.series["thigh"].acc_m_s2[0], [1, 2, 3])
    rec = import_csv(f, acc_unit="mg", gyr_unit="deg/s", time_unit="ms")
    s = rec.series["sacrum"]
    assert np.allclose(s.acc_m_s2[0], np.array([1, 2, 3]) * G / 1000)
    assert np.allclose(s.gyr_rad_s[0], np.radians([4, 5, 6]))
    assert s.t_s[1] == pytest.approx(1e-5)
    with pytest.raises(ImuMonitorError, match="unknown accelerometer unit 'furlong'.*m/s2, g, mg"):
        import_csv(f, acc_unit="furlong")


def test_csv_explicit_columns(tmp_path: Path) -> None:
    f = write(tmp_path / "c.csv", "when,A,B,C,D,E,F\n0,1,2,3,4,5,6\n1,1,2,3,4,5,6\n")
    with pytest.raises(ImportFileError) as e:
        import_csv(f)
    msg = str(e.value)
    assert "no accelerometer x column" in msg and "'when', 'A'" in msg and "--acc-cols" in msg
    rec = import_csv(f, time_col="when", acc_cols=["A", "B", "C"], gyr_cols=["D", "E", "F"])
    assert np.array_equal(rec.series["sacrum"].gyr_rad_s[1], [4, 5, 6])
    with pytest.raises(ImportFileError, match="no column named 'Q' .*--acc-cols"):
        import_csv(f, time_col="when", acc_cols=["Q", "B", "C"], gyr_cols=["D", "E", "F"])


def test_csv_without_time_column(tmp_path: Path) -> None:
    f = write(tmp_path / "d.csv", "ax,ay,az,gx,gy,gz\n" + "0,0,9.8,0,0,0\n" * 4)
    with pytest.raises(ImportFileError, match="no time column.*--time-col.*--rate"):
        import_csv(f)
    rec = import_csv(f, rate_hz=50.0)
    assert np.allclose(rec.series["sacrum"].t_s, [0, 0.02, 0.04, 0.06])


def test_csv_bad_cells_name_row_and_column(tmp_path: Path) -> None:
    f = write(
        tmp_path / "e.csv",
        "t,ax,ay,az,gx,gy,gz\n0,0,0,9.8,0,0,0\n0.01,0,oops,9.8,0,0,0\n0.02,0,0,9.8,0,0\n"
        "0.03,0,0,9.8,0,0,nan\n0.04,0,0,9.8,0,0,0\n",
    )
    with pytest.raises(ImportFileError) as e:
        import_csv(f)
    assert (e.value.row, e.value.column) == (3, "ay")
    assert "'oops' is not a number" in str(e.value) and "--skip-bad-rows" in str(e.value)
    assert str(f) in str(e.value)
    rec = import_csv(f, skip_bad_rows=True)
    info = rec.meta["import"]
    assert info["skipped_rows"] == 3
    assert info["skipped"] == {"non-numeric cell": 1, "missing cell": 1, "non-finite cell": 1}
    assert np.allclose(rec.series["sacrum"].t_s, [0, 0.04])


def test_csv_unsorted_and_duplicate_times(tmp_path: Path) -> None:
    rows = ["0", "0.01", "0.01", "0.005", "0.02"]
    f = write(
        tmp_path / "f.csv", "t,ax,ay,az,gx,gy,gz\n" + "".join(f"{t},0,0,1,0,0,0\n" for t in rows)
    )
    with pytest.raises(ImportFileError, match="duplicate time") as e:
        import_csv(f)
    assert (e.value.row, e.value.column) == (4, "t")
    rec = import_csv(f, skip_bad_rows=True)
    assert np.array_equal(rec.series["sacrum"].t_s, [0, 0.01, 0.02])
    assert rec.meta["import"]["skipped"] == {"duplicate time": 1, "unsorted time": 1}
    g = write(tmp_path / "g.csv", "t,ax,ay,az,gx,gy,gz\n1,0,0,1,0,0,0\n0.5,0,0,1,0,0,0\n")
    with pytest.raises(ImportFileError, match="unsorted") as e:
        import_csv(g)
    assert e.value.row == 3


def test_csv_rebases_clock_timestamps(tmp_path: Path) -> None:
    f = write(
        tmp_path / "h.csv",
        "time_us,ax,ay,az,gx,gy,gz\n1700000000000000,0,0,9.8,0,0,0\n1700000000005000,0,0,9.8,0,0,0\n",
    )
    rec = import_csv(f)
    assert np.allclose(rec.series["sacrum"].t_s, [0, 0.005])
    assert rec.meta["import"]["time_offset_s"] == pytest.approx(1.7e9)


def export_like(tmp_path: Path, placements: tuple[str, ...]) -> tuple[Path, dict]:
    """A file as `imu-monitor export` writes it (its own writer), plus the exact data."""
    from imu_monitor.storage.export import write_csv

    rng = np.random.default_rng(4)
    n = 300
    t = 0.005 + np.arange(n) / 200.0
    cols: dict[str, np.ndarray] = {"t_s": t}
    for p in placements:
        acc, gyr = rng.normal(size=(n, 3)) * 3, rng.normal(size=(n, 3))
        for k, ax in enumerate("xyz"):
            cols[f"{p}_acc_{ax}_m_s2"] = acc[:, k]
        for k, ax in enumerate("xyz"):
            cols[f"{p}_gyr_{ax}_rad_s"] = gyr[:, k]
        cols[f"{p}_qw"] = np.ones(n)
    cols["lumbar_flexion_deg"] = rng.normal(size=n)
    path = tmp_path / "export.csv"
    write_csv(path, cols)
    return path, cols


def test_export_then_import_round_trips(tmp_path: Path) -> None:
    path, cols = export_like(tmp_path, ("sacrum", "upper_lumbar"))
    rec = import_csv(path)
    assert set(rec.series) == {"sacrum", "upper_lumbar"}
    for p, s in rec.series.items():
        assert np.array_equal(s.t_s, cols["t_s"])  # bit-exact
        for k, ax in enumerate("xyz"):
            assert np.array_equal(s.acc_m_s2[:, k], cols[f"{p}_acc_{ax}_m_s2"])
            assert np.array_equal(s.gyr_rad_s[:, k], cols[f"{p}_gyr_{ax}_rad_s"])
    one = import_csv(path, placement="upper_lumbar")
    assert list(one.series) == ["upper_lumbar"]
    with pytest.raises(ImportFileError, match="no columns for placement 'thigh'.*sacrum"):
        import_csv(path, placement="thigh")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.lists(
        st.lists(
            st.floats(allow_nan=False, allow_infinity=False, width=64), min_size=6, max_size=6
        ),
        min_size=1,
        max_size=20,
    ),
    bad=st.one_of(
        st.none(),
        st.tuples(
            st.integers(0, 19), st.integers(0, 5), st.sampled_from(["x", "", "1.2.3", "inf"])
        ),
    ),
)
def test_csv_parser_property(tmp_path: Path, data: list[list[float]], bad) -> None:
    """Any finite floats written with repr come back exactly; one bad cell is pinpointed."""
    lines = ["t,ax,ay,az,gx,gy,gz"]
    for i, row in enumerate(data):
        cells = [repr(v) for v in row]
        if bad is not None and bad[0] == i:
            cells[bad[1]] = bad[2]
        lines.append(",".join([repr(i * 0.01), *cells]))
    f = write(tmp_path / "p.csv", "\n".join(lines) + "\n")
    if bad is not None and bad[0] < len(data):
        with pytest.raises(ImportFileError) as e:
            import_csv(f, rate_hz=100.0)
        assert e.value.row == bad[0] + 2
        assert e.value.column == ["ax", "ay", "az", "gx", "gy", "gz"][bad[1]]
        return
    rec = import_csv(f, rate_hz=100.0)
    arr = np.array(data)
    s = rec.series["sacrum"]
    assert np.array_equal(s.acc_m_s2, arr[:, :3]) and np.array_equal(s.gyr_rad_s, arr[:, 3:])


# --- Xsens ----------------------------------------------------------------------------------

XSENS_HEAD = (
    "// Start Time: Unknown\n"
    "// Update Rate: 100.0Hz\n"
    "// Filter Profile: human (46.1)\n"
    "// Option Flags: AHS Disabled ICC Disabled\n"
    "// Firmware Version: 4.3.1\n"
    "//  DeviceId: 00B42D4F\n"
)


def xsens_rows(counters, stf=None, extra=True) -> str:
    cols = ["PacketCounter"] + (["SampleTimeFine"] if stf is not None else [])
    cols += ["Acc_X", "Acc_Y", "Acc_Z", "Gyr_X", "Gyr_Y", "Gyr_Z"]
    if extra:
        cols += ["Mag_X", "Mag_Y", "Mag_Z", "Quat_q0", "Quat_q1", "Quat_q2", "Quat_q3"]
    lines = ["\t".join(cols)]
    for i, pc in enumerate(counters):
        vals = [str(pc)] + ([str(stf[i])] if stf is not None else [])
        vals += [f"{0.1 * i:.6f}", "0.000000", "9.810000", "0.001000", "-0.002000", f"{i}"]
        if extra:
            vals += ["0.5", "0.1", "-0.3", "1", "0", "0", "0"]
        lines.append("\t".join(vals))
    return "\n".join(lines) + "\n"


def test_xsens_sample_time_fine_with_wrap(tmp_path: Path) -> None:
    counters = [65533, 65534, 65535, 0, 1]
    stf = [(1 << 32) - 200, (1 << 32) - 100, 0, 100, 200]  # 10 kHz ticks: 10 ms steps
    f = write(tmp_path / "x.txt", XSENS_HEAD + xsens_rows(counters, stf))
    rec = import_xsens(f, exercise="hip-thrust")
    s = rec.series["sacrum"]
    assert np.allclose(np.diff(s.t_s), 0.01)
    assert np.array_equal(s.seq, [65533, 65534, 65535, 65536, 65537])
    assert np.allclose(s.acc_m_s2[2], [0.2, 0, 9.81]) and s.gyr_rad_s[4, 2] == 4.0
    assert rec.sensors["sacrum"].rate_hz == 100.0
    assert rec.sensors["sacrum"].device == "Xsens 00B42D4F"
    assert (
        rec.meta["source"] == "import:xsens" and rec.meta["import"]["time_from"] == "SampleTimeFine"
    )
    assert rec.calibration is None


def test_xsens_packet_counter_time(tmp_path: Path) -> None:
    f = write(tmp_path / "y.txt", XSENS_HEAD + xsens_rows([65534, 65535, 0, 1], extra=False))
    rec = import_xsens(f, placement="thigh")
    s = rec.series["thigh"]
    assert np.allclose(np.diff(s.t_s), 0.01) and rec.meta["import"]["time_from"].startswith(
        "Packet"
    )
    no_rate = write(tmp_path / "z.txt", "// Device: x\n" + xsens_rows([1, 2, 3]))
    with pytest.raises(ImportFileError, match="Update Rate.*--rate"):
        import_xsens(no_rate)
    assert np.allclose(np.diff(import_xsens(no_rate, rate_hz=50).series["sacrum"].t_s), 0.02)


def test_xsens_missing_time_in_a_row(tmp_path: Path) -> None:
    body = xsens_rows([1, 2, 3, 4], stf=["NaN", 100, 200, 300])
    f = write(tmp_path / "n.txt", "// no rate here\n" + body)
    with pytest.raises(ImportFileError, match="no time in this row") as e:
        import_xsens(f)
    assert e.value.row == 3 and e.value.column == "SampleTimeFine"
    rec = import_xsens(f, skip_bad_rows=True)
    assert len(rec.series["sacrum"]) == 3 and rec.meta["import"]["skipped_rows"] == 1
    # With a known rate the complete PacketCounter is used instead.
    rec = import_xsens(write(tmp_path / "n2.txt", XSENS_HEAD + body))
    assert len(rec.series["sacrum"]) == 4


def test_xsens_missing_columns(tmp_path: Path) -> None:
    f = write(tmp_path / "m.txt", XSENS_HEAD + "PacketCounter\tAcc_X\tAcc_Y\tAcc_Z\n1\t0\t0\t9.8\n")
    with pytest.raises(ImportFileError, match="no Gyr_X column.*'PacketCounter'"):
        import_xsens(f)


def test_unwrap_counter() -> None:
    assert list(unwrap_counter(np.array([65534, 65535, 1, 2]), (1 << 16,))) == [
        65534, 65535, 65537, 65538,
    ]  # fmt: skip
    day = 864_000_000
    assert list(unwrap_counter(np.array([day - 100, 0, 100]), ((1 << 32), day))) == [
        day - 100, day, day + 100,
    ]  # fmt: skip


def test_unknown_format_lists_known(tmp_path: Path) -> None:
    with pytest.raises(
        ImuMonitorError, match="unknown import format 'c3d'; known formats: csv, xsens"
    ):
        import_file(tmp_path / "a", "c3d")


def test_cli_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(
        tmp_path / "a.csv",
        "t,ax,ay,az,gx,gy,gz\n0,0,0,9.8,0,0,0\n0.01,x,0,9.8,0,0,0\n0.02,0,0,9.8,0,0,0\n",
    )
    out = tmp_path / "a.imr"
    assert main(["import", str(f), "--format", "csv", "-o", str(out)]) == 1
    assert "row 3 column 'ax'" in capsys.readouterr().err
    assert main(["import", str(f), "--format", "csv", "-o", str(out), "--skip-bad-rows"]) == 0
    printed = capsys.readouterr().out
    assert "skipped 1 of 3 rows: 1 non-numeric cell" in printed and "no calibration" in printed
    rec = load_recording(out)
    assert rec.meta["source"] == "import:csv" and len(rec.series["sacrum"]) == 2
    assert main(["import", str(f), "--format", "csv", "-o", str(out)]) == 1
    assert "exists" in capsys.readouterr().err
    assert main(["import", str(f), "--format", "matlab", "-o", str(tmp_path / "b.imr")]) == 2
    assert "known formats: csv, xsens" in capsys.readouterr().err
    assert main(["import", str(f), "--format", "xsens", "--acc-unit", "g", "-o", "q.imr"]) == 2
    assert "--acc-unit only apply to --format csv" in capsys.readouterr().err
