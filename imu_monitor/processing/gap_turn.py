"""A burst lost inside a fast movement, after the fact: the turn the gap's line missed, put back.

A BLE notification carries several samples, so samples go missing in bursts: at 52 Hz (the Polar
Verity Sense) 4-8 samples are 0.08-0.15 s. The orientation filter bridges such a gap with
samples on the straight line between its ends (``quality``). Where the gap falls on the peak of a
fast movement, the line cuts the peak off: a too-fast hip thrust turns the sacrum at 300 deg/s
between gap ends read at 75 and 157 deg/s, and the line missed 30 deg of the turn (simulated, seed
44905 at 52 Hz). The filter's accelerometer correction (3 s time constant) takes seconds to find
the inclination again, and offline its backward pass carries the error before the gap too: the
two-sensor lumbar angle read +12.7 and -15 deg where the spine was at -1.8 and 0, false alarms
both.

After the fact the turn can be checked. The sensor was still before the movement and still after
it (``acc_offset.still_runs``), where the accelerometer gives gravity's direction; the gyro,
integrated from one to the other with its bias taken from the two still moments, must turn the
first direction into the second. Without a gap it does so within a few degrees (simulated hip
thrusts, bridges and back kicks at 52 Hz, 2100 movements: at most 6.2 deg, from the
accelerometer's offset and scale errors and a still moment that still wobbles); with a gap on a
fast movement's peak it was 8-60 deg off. So where a movement between two still moments at most
``MAX_SPAN_S`` apart holds a bridged gap, and the two disagree by more than ``MIN_MISS_DEG``, the
gaps are given the turn about the movement's main axis that makes them agree, spread as a bump
per gap that is zero at its ends (the line is right there; the peak is what it missed). Where
that turn cannot explain the disagreement (takes away less than ``MIN_EXPLAINED`` of it), or would
be faster than a person turns, the gaps keep the line. Gravity is read from received samples
only: a gap's line at rest runs the acceleration into the next movement's first pull, and a
still moment would seem to point 6 deg elsewhere (seed 2 at 52 Hz, a false alarm before this).

Offline only (``orientation.estimate_orientation(offline=True)``): live, the still moment after
the movement comes too late for the alarm (``gap_fill`` bridges with the other lumbar sensor's
turn there). Imports only numpy, scipy, ``quality``'s types and ``acc_offset``'s still moments and
strapdown.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from scipy.spatial.transform import Rotation

from imu_monitor.processing.acc_offset import still_runs, strapdown
from imu_monitor.processing.quality import CleanChunk

MAX_SPAN_S = 4.0
"""The still moments around a gap are at most this far apart (s): a rep's rise or lowering, or a
too-fast rep whole; over longer the gyro's bias and scale errors grow past what a gap misses."""
MIN_MISS_DEG = 4.0
"""A movement with a gap whose gravity directions disagree with its gyro by more than this (deg)
has its gaps given the missed turn. Under what movements without a gap reach (6.2 deg): at 7
the gaps of the other lumbar sensor in the same too-fast rep were left on the line (4-6 deg),
and at 4 every setup read as well or better on five sets at 52 Hz (docs/accuracy.md)."""
MIN_EXPLAINED = 0.7
"""... and a turn about the movement's axis must take away at least this share of it."""
GRAVITY_S = 0.2
"""Gravity's direction is the mean acceleration over this much of each still moment, next to the
movement (s)."""
MAX_EXTRA_DEG_S = 600.0
"""The turn put into a gap is at most this fast on average (deg/s): about twice the fastest
lumbar turn of a too-fast rep."""
FIT_ROUNDS = 3
"""Rounds of the fit of the turn put into a gap (each in the frames the last one gave)."""


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _turn(gyr: np.ndarray, dt: np.ndarray) -> Rotation:
    """The body-frame turn over rows of ``gyr`` (rad/s), each held for its ``dt`` (s)."""
    return Rotation.from_quat(strapdown(gyr * dt[:, None])[-1])


def _mismatch_deg(turn: Rotation, g_first: np.ndarray, g_second: np.ndarray) -> float:
    seen = turn.inv().apply(g_first)
    return math.degrees(math.acos(float(np.clip(seen @ g_second, -1.0, 1.0))))


def closed_gaps(clean: CleanChunk) -> CleanChunk:
    """``clean`` (a whole series, cleaned) with the turn its bridged gaps' lines missed put back
    into their gyro rows (module docstring); the same object where nothing was put back."""
    is_out = clean.filter_is_output
    if is_out.all() or len(is_out) < 3:
        return clean
    t, acc = clean.filter_t_s, clean.filter_acc_m_s2
    gyr = clean.filter_gyr_rad_s.copy()
    dt = np.diff(t, append=t[-1])
    step = float(np.median(dt[:-1]))
    near = max(1, round(GRAVITY_S / step))
    changed = False
    runs = still_runs(t, gyr)
    for (a0, b0), (a1, b1) in zip(runs, runs[1:], strict=False):
        if t[a1] - t[b0 - 1] > MAX_SPAN_S:
            continue
        moving = slice(b0 - 1, a1)
        bridged = np.flatnonzero(~is_out[moving]) + b0 - 1
        if bridged.size == 0:
            continue
        bias = np.median(np.concatenate((gyr[a0:b0], gyr[a1:b1])), axis=0)
        # gravity from samples received: a gap's line runs into the movement's first pull
        first = np.arange(max(a0, b0 - near), b0)
        second = np.arange(a1, min(b1, a1 + near))
        first, second = first[is_out[first]], second[is_out[second]]
        if first.size == 0 or second.size == 0:
            continue
        g_first, g_second = _unit(acc[first].mean(axis=0)), _unit(acc[second].mean(axis=0))
        rates = gyr[moving] - bias
        miss = _mismatch_deg(_turn(rates, dt[moving]), g_first, g_second)
        if miss <= MIN_MISS_DEG:
            continue
        shape = _bumps(t, dt, bridged)
        axis = _main_axis(rates * dt[moving, None])
        rows = bridged - (b0 - 1)
        # the turn about ``axis`` at the gaps that brings the first gravity onto the second,
        # found in the frame at the gaps' middle; again with that turn in, as a large one
        # changes the frames it was found in
        mid = int(np.median(rows))
        trial, total = rates, 0.0
        for _ in range(FIT_ROUNDS):
            u = _turn(trial[:mid], dt[b0 - 1 : b0 - 1 + mid]).inv().apply(g_first)
            v = _turn(trial[mid:], dt[b0 - 1 + mid : a1]).apply(g_second)
            u_p, v_p = u - (u @ axis) * axis, v - (v @ axis) * axis
            total -= math.atan2(float(axis @ np.cross(u_p, v_p)), float(u_p @ v_p))
            trial = rates.copy()
            trial[rows] += (shape * total)[:, None] * axis
        if abs(total) > math.radians(MAX_EXTRA_DEG_S) * float(dt[bridged].sum() + step):
            continue
        left = _mismatch_deg(_turn(trial, dt[moving]), g_first, g_second)
        if left > (1.0 - MIN_EXPLAINED) * miss:
            continue
        gyr[bridged] += (shape * total)[:, None] * axis
        changed = True
    return replace(clean, filter_gyr_rad_s=gyr) if changed else clean


def _bumps(t: np.ndarray, dt: np.ndarray, bridged: np.ndarray) -> np.ndarray:
    """Per bridged row, its share of a turn put into the gaps ((k,) 1/s; times the rows' time
    steps ``dt`` they sum to 1): a parabola per gap, zero at the accepted samples around it, each
    gap's share in proportion to its length."""
    shape = np.zeros(len(bridged))
    starts = np.flatnonzero(np.diff(bridged, prepend=-2) > 1)
    for lo, hi in zip(starts, [*starts[1:], len(bridged)], strict=True):
        a, b = bridged[lo] - 1, bridged[hi - 1] + 1  # the accepted samples around the gap
        frac = (t[bridged[lo:hi]] - t[a]) / (t[b] - t[a])
        bump = frac * (1.0 - frac)
        shape[lo:hi] = bump * (t[b] - t[a]) / float(bump @ dt[bridged[lo:hi]])
    return shape / float(shape @ dt[bridged])


def _main_axis(turns: np.ndarray) -> np.ndarray:
    """The axis most of a movement's turn is about (unit vector; (n, 3) rotation vectors in)."""
    return np.linalg.svd(turns, full_matrices=False)[2][0]
