"""Sliding-window statistics over sample arrays."""

from __future__ import annotations

import numpy as np


def window_range(v: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``v[lo[i]:hi[i]].max() - v[lo[i]:hi[i]].min()`` for every i (``hi > lo``; NaN in a window
    gives NaN). Vectorised with a sparse table: the maxima and minima over spans of 1, 2, 4, ...
    samples; a window is covered by two (overlapping) spans of the largest power of two that fits
    in it. Exact: max and min do not round."""
    length = hi - lo
    out = np.empty(len(lo))
    if len(lo) == 0:
        return out
    level = np.frexp(length)[1] - 1  # floor(log2(length))
    mx, mn = v, v
    for j in range(int(level.max()) + 1):
        if j:  # spans of 2**j samples starting at each index
            half = 1 << (j - 1)
            mx = np.maximum(mx[:-half], mx[half:])
            mn = np.minimum(mn[:-half], mn[half:])
        sel = np.flatnonzero(level == j)
        if len(sel):
            a, b = lo[sel], hi[sel] - (1 << j)
            with np.errstate(invalid="ignore"):  # inf - inf: NaN, as wanted
                out[sel] = np.maximum(mx[a], mx[b]) - np.minimum(mn[a], mn[b])
    return out
