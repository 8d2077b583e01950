"""What every importer checks where values enter: rates, cells, quotes, times, file size."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from imu_monitor.cli.main import main
from imu_monitor.errors import ImportFileError, ImuMonitorError
from imu_monitor.storage.importers import import_csv

ROWS = ["t,ax,ay,az,gx,gy,gz"] + [f"{i * 0.01:.2f},0,0,9.81,0,0,0" for i in range(300)]


def write(tmp_path: Path, lines: list[str], name: str = "a.csv") -> Path:
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n")
    return p


@pytest.mark.parametrize("rate", ["nan", "inf", "-5", "0", "1e9", "1e-300"])
def test_impossible_rates_are_refused(
    tmp_path: Path, rate: str, capsys: pytest.CaptureFixture[str]
) -> None:
    f = write(tmp_path, ROWS)
    with pytest.raises(ImuMonitorError, match="--rate.*not possible|not a number"):
        import_csv(f, rate_hz=float(rate))
    with pytest.raises(SystemExit) as e:
        main(["import", str(f), "--format", "csv", "--rate", rate, "-o", str(tmp_path / "o.imr")])
    assert e.value.code == 2
    assert "--rate" in capsys.readouterr().err
    assert not (tmp_path / "o.imr").exists()


def test_rate_estimated_from_times_is_checked(tmp_path: Path) -> None:
    lines = ["t,ax,ay,az,gx,gy,gz"] + [f"{i * 5},0,0,9.81,0,0,0" for i in range(10)]
    with pytest.raises(ImportFileError, match="time unit"):
        import_csv(write(tmp_path, lines))  # milliseconds read as seconds: 0.2 Hz


def test_cell_over_the_csv_field_limit_names_the_row(tmp_path: Path) -> None:
    lines = list(ROWS)
    lines[5] = "0.04," + "1" * 200_000 + ",0,9.81,0,0,0"
    with pytest.raises(ImportFileError, match="cannot split the row") as e:
        import_csv(write(tmp_path, lines), skip_bad_rows=True)
    assert e.value.row == 6


def test_unbalanced_quote_names_the_row_instead_of_eating_the_file(tmp_path: Path) -> None:
    lines = list(ROWS)
    lines[5] = '0.04,"0,0,9.81,0,0,0'
    with pytest.raises(ImportFileError, match="quote") as e:
        import_csv(write(tmp_path, lines), skip_bad_rows=True)
    assert e.value.row == 6


def test_two_recordings_in_one_file_are_reported_not_halved(tmp_path: Path) -> None:
    f = write(tmp_path, ROWS + ROWS[1:])
    with pytest.raises(ImportFileError, match="two recordings") as e:
        import_csv(f, skip_bad_rows=True)
    assert e.value.row == 302
    glitch = list(ROWS)
    glitch[100] = "0.5,0,0,9.81,0,0,0"  # one row out of place: a glitch, skipped and counted
    rec = import_csv(write(tmp_path, glitch, "g.csv"), skip_bad_rows=True)
    assert rec.meta["import"]["skipped"] == {"unsorted time": 1}


def test_rows_that_overflow_are_counted_not_dropped_silently(tmp_path: Path) -> None:
    lines = list(ROWS)
    lines[0] = "t,ax_g,ay_g,az_g,gx_dps,gy_dps,gz_dps"
    lines[5] = "0.04,1e308,0,1,0,0,0"  # fits a float, overflows once converted from g
    lines[7] = "0.06,0,-1.5e308,1,0,0,0"
    f = write(tmp_path, lines)
    with pytest.raises(ImportFileError, match="overflows") as e:
        import_csv(f)
    assert e.value.row == 6
    rec = import_csv(f, skip_bad_rows=True)
    info = rec.meta["import"]
    assert info["skipped"] == {"value overflows": 2} and info["skipped_rows"] == 2
    assert len(rec.series["sacrum"]) == 298


def test_reads_are_bounded_to_regular_files(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="not a regular file"):
        import_csv(Path(os.devnull))
    with pytest.raises(ImportFileError, match="folder"):
        import_csv(tmp_path)


def test_a_row_far_in_the_future_is_reported_with_its_row(tmp_path: Path) -> None:
    lines = [*ROWS, "86400,0,0,9.81,0,0,0"]  # a glitched clock in the last row
    with pytest.raises(ImportFileError, match="times spread 301 samples over") as e:
        import_csv(write(tmp_path, lines), skip_bad_rows=True)
    assert e.value.row == 302
