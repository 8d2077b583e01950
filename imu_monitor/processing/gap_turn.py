"""A burst lost inside a fast movement, after the fact: the turn the gap's line missed, put back.

A BLE notification carries several samples, so samples go missing in bursts: at 52 Hz (the Polar
Verity Sense) 4-8 samples are 0.08-0.15 s. The orientation filter bridges such a gap with
samples on the straight line between its ends (``quality``). Where the gap falls on the peak of a
fast movement, the line cuts the peak off: a too-fast hip thrust turns the sacrum at up to
460 deg/s, the gap's ends read 74 and 267 deg/s, and the line missed 30 deg of the turn
(simulated, seed 44905 at 52 Hz). The filter's accelerometer correction (3 s time constant)
takes seconds to find the inclination again, and offline its backward pass carries the error
before the gap too: the two-sensor lumbar angle read +12.7 and -15 deg where the spine was at
-1.8 and 0, false alarms both.

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
that turn cannot explain the disagreement (takes away less than ``MIN_EXPLAINED`` of it), or is
not what the line across the gaps could have missed (the speed beside them does not bend that
way, or far too little: ``MIN_BEND_DEG``, ``BEND_FACTOR``), the gaps keep the line. Gravity is
read from received samples only: a gap's line at rest runs the acceleration into the next
movement's first pull, and a still moment would seem to point 6 deg elsewhere (seed 2 at 52 Hz,
a false alarm before this).

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
has its gaps looked at. Under what movements without a gap reach (6.2 deg): the speed's bend
beside the gaps (``MIN_BEND_DEG``) tells those apart. At 7, the other lumbar sensor's gaps in the
same too-fast rep (4-6 deg off) were left on the line (seeds 104 and 105 at 52 Hz with 5 % of
the samples lost)."""
MIN_EXPLAINED = 0.7
"""... and a turn about the movement's axis must take away at least this share of it."""
GRAVITY_S = 0.2
"""Gravity's direction is the mean acceleration over this much of each still moment, next to the
movement (s)."""
MIN_BEND_DEG = 1.0
"""The speed (about the movement's axis) must bend across the gaps, as it bends at the received
samples either side, enough for the line to miss at least this much (deg) of the turn, and the
turn put in must have the sign of that miss (``_bent_miss``). A disagreement that is not the
gaps' has no such bend: a thigh's 90 deg kick read 4.9 deg off, with a gap near its slow end
where the line missed 0.1 deg the other way (simulated, 52 Hz, seed 15); where the line did miss
a peak, the bend beside the gaps showed 1.8-18 deg."""
BEND_FACTOR = 8.0
"""... and the turn put in is at most this many times that miss: a parabola through the samples
beside a gap understates a peak inside it, by 1.6-6.4 times on the gaps it was right about."""
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
        axis = _main_axis(rates * dt[moving, None])
        rows = bridged - (b0 - 1)
        bent = _bent_miss(t[moving], rates @ axis, rows, is_out[moving])
        if abs(bent) < math.radians(MIN_BEND_DEG):
            continue  # the line across the gaps missed next to nothing
        shape = _bumps(t, dt, bridged)
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
        if total * bent <= 0 or abs(total / bent) > BEND_FACTOR:
            continue  # not what the line across the gaps could have missed
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
    for lo, hi in _gap_spans(bridged):
        a, b = bridged[lo] - 1, bridged[hi - 1] + 1  # the accepted samples around the gap
        frac = (t[bridged[lo:hi]] - t[a]) / (t[b] - t[a])
        bump = frac * (1.0 - frac)
        shape[lo:hi] = bump * (t[b] - t[a]) / float(bump @ dt[bridged[lo:hi]])
    return shape / float(shape @ dt[bridged])


def _gap_spans(rows: np.ndarray) -> list[tuple[int, int]]:
    """The ranges ``[lo, hi)`` of ``rows`` (bridged row indices, ascending) that run without a
    break: one per gap."""
    starts = np.flatnonzero(np.diff(rows, prepend=-2) > 1)
    return list(zip(starts.tolist(), [*starts[1:].tolist(), len(rows)], strict=True))


def _main_axis(turns: np.ndarray) -> np.ndarray:
    """The axis most of a movement's turn is about (unit vector; (n, 3) rotation vectors in)."""
    return np.linalg.svd(turns, full_matrices=False)[2][0]


def _bent_miss(t: np.ndarray, speed: np.ndarray, rows: np.ndarray, received: np.ndarray) -> float:
    """What the straight lines across the gaps (``rows``) miss of the turn (rad, signed, summed
    over the gaps) if ``speed`` (rad/s about the movement's axis, at times ``t``) bends across
    each gap as a parabola through the two received samples either side of it."""
    total = 0.0
    for lo, hi in _gap_spans(rows):
        a, b = rows[lo] - 1, rows[hi - 1] + 1  # the samples around the gap
        if a < 0 or b >= len(speed):
            continue  # a gap running into the still moments: no bend to read
        near = [i for i in (a - 1, a, b, b + 1) if 0 <= i < len(speed) and received[i]]
        if len(near) >= 3:
            curve = np.polyfit(t[near] - t[a], speed[near], 2)[0]
            total -= curve * (t[b] - t[a]) ** 3 / 6.0  # a parabola's area over its chord's
    return total
