"""The fixed-point table writer against Python's own number parsing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imu_monitor.storage.exports.text import ROWS_PER_BLOCK, format_table


def _parse(raw: bytes) -> list[list[str]]:
    return [line.split("\t") for line in raw.decode("ascii").splitlines()]


def test_signs_rounding_missing_and_integers():
    table = np.array(
        [[0.0, -0.0, 1.5, -1.5, 0.99999996, -0.0000001, np.nan, -np.inf, 7.0, 3600.25]]
    )
    cells = _parse(format_table(table, [3, 3, 3, 3, 6, 6, 2, 2, 0, 6]))
    assert cells == [
        [
            "0.000",
            "0.000",
            "1.500",
            "-1.500",
            "1.000000",
            "0.000000",
            "n/a",
            "n/a",
            "7",
            "3600.250000",
        ]
    ]


def test_separators_per_column_and_missing_word():
    table = np.array([[0.5, 1.0, -2.0], [1.0, np.nan, 3.0]])
    raw = format_table(table, [1, 2, 2], sep=["\t", ",", ","], missing="nan")
    assert raw == b"0.5\t1.00,-2.00\n1.0\tnan,3.00\n"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=30),
    st.integers(0, 9),
)
def test_every_value_reads_back_within_half_a_last_digit(values, decimals):
    v = np.array(values)[:, None]
    cells = _parse(format_table(v, [decimals]))
    back = np.array([float(c[0]) for c in cells])
    assert np.all(
        np.abs(back - v[:, 0]) <= 0.5 * 10.0**-decimals * (1 + 1e-9) + 1e-9 * np.abs(v[:, 0])
    )
    for c in cells:  # exactly `decimals` decimals, no '-0'
        assert len(c[0].partition(".")[2]) == decimals
        assert not (c[0].startswith("-") and float(c[0]) == 0.0)


def test_many_rows_cross_blocks_in_order():
    n = 2 * ROWS_PER_BLOCK + 17
    t = np.arange(n) / 200.0
    rows = _parse(format_table(np.column_stack([t, -t]), [6, 6]))
    assert len(rows) == n
    assert [float(r[0]) for r in rows] == pytest.approx(t, abs=5e-7)
    assert float(rows[-1][1]) == pytest.approx(-t[-1], abs=5e-7)


def test_refuses_what_it_cannot_write():
    with pytest.raises(ValueError, match="exceeds"):
        format_table(np.array([[3e9]]), [1])
    with pytest.raises(ValueError, match="decimals"):
        format_table(np.array([[1.0]]), [10])
