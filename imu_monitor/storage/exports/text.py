"""Fast fixed-point text for large numeric tables (BIDS ``*_motion.tsv``, OpenSim ``.sto``).

``np.savetxt`` formats one number at a time in Python (about 0.6 µs each here: 10 s for the
17 million numbers of an hour of two sensors). ``format_table`` builds the characters with
whole-array integer arithmetic instead: each value is rounded to a fixed number of decimals per
column, its digits are written place by place into a byte matrix (unused places left as NUL
bytes), and the NUL bytes are dropped at the end. Non-finite values are written as ``missing``
(``n/a`` in BIDS).
"""

from __future__ import annotations

import numpy as np

_ZERO = ord("0")
MAX_ABS = 2.0**31 - 1
"""Largest magnitude written (the integer part is worked on as int32)."""
ROWS_PER_BLOCK = 20_000


def _block(v: np.ndarray, decimals: np.ndarray, seps: np.ndarray, missing: bytes) -> bytes:
    n, c = v.shape
    finite = np.isfinite(v)
    av = np.abs(np.where(finite, v, 0.0))
    if av.max(initial=0.0) > MAX_ABS:
        raise ValueError(f"a value exceeds {MAX_ABS:.0f} in magnitude")
    int_part = np.floor(av)
    scale = 10.0**decimals
    frac = np.rint((av - int_part) * scale)
    carry = frac >= scale  # 0.9999996 with 6 decimals is 1.000000
    int_part += carry
    d_max = int(decimals.max(initial=0))
    # every column's decimals widened to d_max digits (times a power of ten: exact), the
    # places past its own decimals blanked below
    frac = (np.where(carry, 0.0, frac) * 10.0 ** (d_max - decimals)).astype(np.int32)
    ip = int_part.astype(np.int32)
    neg = (v < 0) & ((ip > 0) | (frac > 0))
    n_int = len(str(int(ip.max(initial=0))))
    width = 1 + n_int + (1 + d_max if d_max else 0) + 1
    # built place by place, each place one contiguous (n, c) plane; transposed at the end
    out = np.zeros((width, n, c), dtype=np.uint8)
    out[0] = neg * np.uint8(ord("-"))
    rest = ip
    for k in range(n_int):  # integer digits, least significant first, no leading zeros
        q = rest // 10
        digit = (rest - 10 * q + _ZERO).astype(np.uint8)
        if k:
            digit *= rest > 0
        out[n_int - k] = digit
        rest = q
    if d_max:
        out[n_int + 1] = (decimals > 0) * np.uint8(ord("."))
        rest = frac
        for k in range(d_max):  # every decimal, trailing zeros too
            q = rest // 10
            out[n_int + 1 + d_max - k] = (rest - 10 * q + _ZERO).astype(np.uint8)
            rest = q
        for d in np.unique(decimals):
            if d < d_max:
                out[n_int + 2 + int(d) : n_int + 2 + d_max, :, decimals == d] = 0
    if not finite.all():
        rows, cs = np.nonzero(~finite)
        out[:-1, rows, cs] = 0
        for i, ch in enumerate(missing):
            out[1 + i, rows, cs] = ch
    out[-1] = seps
    out[-1, :, -1] = ord("\n")
    flat = out.transpose(1, 2, 0).reshape(-1)
    return flat[flat != 0].tobytes()


def format_table(
    table: np.ndarray,
    decimals: list[int] | np.ndarray,
    *,
    sep: str | list[str] = "\t",
    missing: str = "n/a",
) -> bytes:
    """The rows of ``table`` (n, c) as text lines: column ``k`` with ``decimals[k]`` decimals
    (0: an integer), ``sep`` between columns (one character, or one per column: the one after
    it; the last column ends the line), ``missing`` for NaN and infinities.

    Raises ``ValueError`` for a magnitude over ``MAX_ABS`` or a decimals count outside 0-9.
    """
    table = np.asarray(table, dtype=np.float64)
    if table.ndim != 2:
        raise ValueError("format_table needs a 2-D table")
    dec = np.asarray(decimals, dtype=np.int64)
    if dec.shape != (table.shape[1],) or (dec < 0).any() or (dec > 9).any():
        raise ValueError("decimals: one count from 0 to 9 per column")
    c = table.shape[1]
    seps = np.array([ord(x) for x in ([sep] * c if isinstance(sep, str) else sep)], np.uint8)
    if seps.shape != (c,):
        raise ValueError("sep: one character, or one per column")
    parts = [
        _block(table[i : i + ROWS_PER_BLOCK], dec, seps, missing.encode())
        for i in range(0, table.shape[0], ROWS_PER_BLOCK)
    ]
    return b"".join(parts)
