"""The accelerometer's offset, estimated from the session's own postures with the gyroscope's help.

A consumer accelerometer reads gravity 15-80 mg off (zero-g offset) and 1-3 % too large or small
(sensitivity). Held in one posture the error is a fixed tilt of the gravity direction, which the
neutral captured in that posture absorbs; but turned 45 deg into another posture (the bottom of
a hip thrust) the error tilts differently, and the inclination the orientation filter anchors to
there is 1-2 deg off. Over a 45 deg turn the gyroscope is the better judge: integrated over the
second or two of the move, with its bias taken from the session's still moments (a breath turns
the thorax through any one of them: ``_bias``), it turns the gravity seen in one still posture
into the next one to within its 1 % scale error.

So, between every two still moments of a sensor at most ``MAX_GAP_S`` apart whose gyro-measured
turn is at least ``MIN_TURN_DEG``, the gravity direction of the first, turned by the gyro, should
be the gravity direction of the second. The offset ``b`` (sensor frame, m/s^2) is the one that
makes the corrected accelerations ``a - b`` agree best over all those pairs (least squares of the
unit-vector differences, in radians), with a prior pulling it towards 0 with an sd of
``PRIOR_SD_M_S2``. Pairs only see how the offset changes the tilt *between* postures: a turn
about one axis tells nothing of the offset along that axis, nor do turns from one posture tell
all of the rest; the prior keeps what cannot be seen at 0 rather than letting noise set it. That
unseen part tilts every visited posture alike, which the neutral absorbs. A constant offset also
absorbs the sensitivity error at the postures the session visits, which is where it matters.

A finished recording is corrected over the whole session (``analysis``, with either filter,
and a replay: ``analysis.calibrate_with_acc_offsets``); the live monitor measures the offsets
over the first reps and corrects from then on (``live_acc_offset``). Imports only core types,
numpy, scipy and ``gyro_bias``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.optimize import least_squares
from scipy.spatial.transform import Rotation

from imu_monitor.model import SensorSeries
from imu_monitor.processing.gyro_bias import FORGET_S, MAX_S, moment_rate

STILL_GYRO_DEG_S = 4.0
"""A still moment: the angular rate (50 ms average, the session's median rate taken as the bias)
stays under this (deg/s) ..."""
STILL_MIN_S = 0.4
"""... for at least this long (s): a hold at the top of a rep or a rest at its bottom."""
MAX_GAP_S = 6.0
"""Two still moments are paired when at most this far apart (s): the gyro is integrated across
the gap, and its bias drift over it must stay small."""
MIN_TURN_DEG = 10.0
"""... and when the gyro turned the sensor by at least this much between them (deg): smaller
turns barely see the offset."""
PRIOR_SD_M_S2 = 0.15
"""The offset's prior sd per axis (m/s^2, about 15 mg: what a factory trim leaves)."""
PAIR_SD_RAD = 0.008
"""How well one pair's gravity directions are expected to agree once the offset is off (rad,
about 0.5 deg: a 1 % gyro scale error over a 45 deg turn); it weights the prior against the
pairs."""
MAX_OFFSET_M_S2 = 0.8
"""The fit looks for an offset within this per axis (m/s^2, about 80 mg: the largest untrimmed
offset a consumer datasheet gives, InvenSense MPU-6050's z axis)."""
WIDE_OFFSET_M_S2 = 2.0
"""Where the fit within ``MAX_OFFSET_M_S2`` leaves the pairs more than ``MAX_MISMATCH_DEG`` from
the gyro, it is tried again within this (m/s^2, about 200 mg), and applied if that explains
them: an untrimmed part can lie beyond its datasheet's figure, and the simulator's per-axis sd of
80 mg (``bench_accuracy.py --acc-offset-mg 80``) put seed 116's beyond the bound, its one-sensor
hip thrust's lockout 6 deg extended (6 false alarms). Only then: the hip thrust's lateral
offset, which its turns barely see, runs to the 80 mg bound in some sessions, and a wider bound
for every session would let it run further."""
MAX_MISMATCH_DEG = 2.0
"""The offset is applied only when, with it, the pairs' gravity directions agree with the gyro
within this (median, deg; people's sessions: 0.2-1.9). Otherwise the still moments and the gyro
disagree for another reason (moments that were not still, turns the gyro got wrong) and the
accelerations are left as recorded, with the reason."""


@dataclass(frozen=True)
class AccOffset:
    """An estimated accelerometer offset (sensor frame, m/s^2) and what it rests on."""

    offset_m_s2: tuple[float, float, float]
    pairs: int
    """Still-moment pairs used (0: not estimated, the offset is zero)."""
    largest_turn_deg: float
    mismatch_deg: tuple[float, float] = (math.nan, math.nan)
    """Median disagreement of the pairs with the gyro (deg): without the offset, with it."""
    not_applied: str = ""
    """Why the offset was not applied (the offset is then zero); empty when it was."""

    @property
    def applied(self) -> bool:
        return self.pairs > 0 and not self.not_applied

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "offset_m_s2": [round(v, 4) for v in self.offset_m_s2],
            "pairs": self.pairs,
            "largest_turn_deg": round(self.largest_turn_deg, 1),
        }
        if self.pairs:
            out["mismatch_deg"] = [round(v, 2) for v in self.mismatch_deg]
        if self.not_applied:
            out["not_applied"] = self.not_applied
        return out


NO_OFFSET = AccOffset((0.0, 0.0, 0.0), 0, 0.0)


def still_runs(t: np.ndarray, gyr: np.ndarray) -> list[tuple[int, int]]:
    """Index ranges [a, b) of the still moments (see ``STILL_GYRO_DEG_S``, ``STILL_MIN_S``)."""
    step = float(np.median(np.diff(t)))
    window = round(0.05 / step) if step > 0 else 1  # 50 ms (repeated times: one sample)
    speed = np.degrees(np.linalg.norm(gyr - np.median(gyr, axis=0), axis=1))
    speed = uniform_filter1d(speed, max(1, window))
    still = np.concatenate(([False], speed < STILL_GYRO_DEG_S, [False]))
    edges = np.flatnonzero(np.diff(still.astype(np.int8)))
    starts, ends = edges[::2], edges[1::2]
    return [(a, b) for a, b in zip(starts, ends, strict=True) if t[b - 1] - t[a] >= STILL_MIN_S]


def _quat_mul(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Hamilton products of quaternions stored component first, ``(4, ...)``, scalar last."""
    px, py, pz, pw = p
    qx, qy, qz, qw = q
    return np.array(
        (
            pw * qx + px * qw + py * qz - pz * qy,
            pw * qy - px * qz + py * qw + pz * qx,
            pw * qz + px * qy - py * qx + pz * qw,
            pw * qw - px * qx - py * qy - pz * qz,
        )
    )


def _scan(quats: np.ndarray) -> np.ndarray:
    """Inclusive product scan along the last axis of ``(4, ..., m)`` quaternions, earlier ones on
    the left (Hillis-Steele: log2(m) vectorised passes)."""
    k = 1
    while k < quats.shape[-1]:
        quats[..., k:] = _quat_mul(quats[..., :-k], quats[..., k:])
        k *= 2
    return quats


SCAN_BLOCK = 256
"""Steps per block of the strapdown scan (``strapdown``)."""
STEP_SAMPLES = 4
"""Samples per strapdown step: their rotation vectors are summed (at 200 Hz, 20 ms; for the
turns of a rep, 45 deg/s about a steady axis, the error of that is far below 0.001 deg)."""


def strapdown(rotvecs: np.ndarray) -> np.ndarray:
    """(m + 1, 4) quaternions, scalar last: the sensor's rotation (body frame) after each of the
    m steps ``rotvecs`` (m, 3), the first row the identity. A blocked product scan: each block of
    ``SCAN_BLOCK`` steps is scanned at once with all the others, then the blocks' totals, then
    each block is put after the ones before it."""
    steps = Rotation.from_rotvec(rotvecs).as_quat()
    n = len(steps) + 1
    blocks = -(-n // SCAN_BLOCK)
    quats = np.zeros((4, blocks * SCAN_BLOCK))
    quats[3] = 1.0  # identity: the first sample and the padding
    quats[:, 1:n] = steps.T
    quats = _scan(quats.reshape(4, blocks, SCAN_BLOCK))
    before = np.zeros((4, blocks))
    before[3] = 1.0
    before[:, 1:] = _scan(quats[:, :-1, -1].copy())  # the product of all earlier blocks
    quats = _quat_mul(before[:, :, None], quats).reshape(4, -1)[:, :n].T
    return quats / np.linalg.norm(quats, axis=1, keepdims=True)


BIAS_BLOCK = 256
"""Still moments whose bias is averaged at once (``_bias``)."""


def _bias(
    t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, runs: list[tuple[int, int]]
) -> np.ndarray:
    """The gyro's bias at every sample ((n, 3) rad/s) from the still moments ``runs`` (index
    ranges, their middle halves). Each moment observes it as the live filter's tracker does
    (``gyro_bias.moment_rate``: its mean rate less the turn the accelerometer saw), and the bias
    at a moment is the average of all of them, weighted by duration squared and by their
    distance in time (``gyro_bias.FORGET_S``, both ways: the recording is there whole),
    interpolated in time between moments. Not each moment's own rate: a moment is 0.2-1 s of a
    3-5 s breath, whose turn of the thorax (up to ~0.8 deg/s) would pass for bias, and
    integrated over a rep it sets a hip thrust's still postures 1-2 deg apart, which the
    offset fit would take for an offset."""
    times, rates, weights = [], [], []
    for a, b in runs:
        step = (t[b - 1] - t[a]) / max(b - a - 1, 1)
        rate = moment_rate(gyr[a:b], acc[a:b], step) if step > 0 else None
        times.append(0.5 * (t[a] + t[b - 1]))
        rates.append(gyr[a:b].mean(axis=0) if rate is None else rate)
        weights.append(min(t[b - 1] - t[a], MAX_S) ** 2 + 1e-9)
    tm, r, w = np.array(times), np.array(rates), np.array(weights)
    at_moments = np.empty_like(r)
    for i in range(0, len(tm), BIAS_BLOCK):  # blocks of rows: an hour's moments stay small
        near = w[None, :] * np.exp(-np.abs(tm[i : i + BIAS_BLOCK, None] - tm[None, :]) / FORGET_S)
        at_moments[i : i + BIAS_BLOCK] = near @ r / near.sum(axis=1, keepdims=True)
    return np.column_stack([np.interp(t, tm, at_moments[:, k]) for k in range(3)])


def _pairs(series: SensorSeries) -> list[tuple[np.ndarray, np.ndarray, Rotation]]:
    t, acc, gyr = series.t_s, series.acc_m_s2, series.gyr_rad_s
    ok = np.isfinite(t) & np.isfinite(acc).all(axis=1) & np.isfinite(gyr).all(axis=1)
    t, acc, gyr = t[ok], acc[ok], gyr[ok]
    if len(t) < 3:
        return []
    # the middle half of each still moment: its ends are where a movement starts or settles
    runs = [(a + (b - a) // 4, b - (b - a) // 4) for a, b in still_runs(t, gyr)]
    if len(runs) < 2:
        return []
    mids = np.array([(a + b) // 2 for a, b in runs])
    bias = _bias(t, acc, gyr, runs)
    # the gyro integrated in steps of STEP_SAMPLES samples: node m is sample m * STEP_SAMPLES
    # (the last node the last sample); a still moment's middle is taken at its nearest node
    increments = (gyr[:-1] - bias[:-1]) * np.diff(t)[:, None]
    starts = np.arange(0, len(increments), STEP_SAMPLES)
    body = Rotation.from_quat(strapdown(np.add.reduceat(increments, starts, axis=0)))
    nodes = np.minimum(np.rint(mids / STEP_SAMPLES).astype(int), len(starts))
    out = []
    for (a0, b0), (a1, b1), i, j in zip(runs, runs[1:], nodes, nodes[1:], strict=False):
        if t[a1] - t[b0 - 1] > MAX_GAP_S:
            continue
        rot = body[i].inv() * body[j]  # from the middle of one still moment to the next's
        if math.degrees(rot.magnitude()) >= MIN_TURN_DEG:
            out.append((acc[a0:b0].mean(axis=0), acc[a1:b1].mean(axis=0), rot))
    return out


def estimate_acc_offset(series: SensorSeries) -> AccOffset:
    """The offset of one sensor from the still-moment pairs of its recording (module
    docstring); ``NO_OFFSET`` when the sensor never turned ``MIN_TURN_DEG`` between two still
    moments, a zero offset with ``not_applied`` when the fit does not explain the pairs
    (``MAX_MISMATCH_DEG``)."""
    pairs = _pairs(series)
    if not pairs:
        return NO_OFFSET
    first = np.array([p[0] for p in pairs])
    second = np.array([p[1] for p in pairs])
    back = Rotation.concatenate([p[2] for p in pairs]).inv()

    def mismatch(b: np.ndarray) -> np.ndarray:
        u = first - b
        v = second - b
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        # gravity seen at the first moment, turned into the second moment's sensor frame
        return v - back.apply(u)

    def residuals(b: np.ndarray) -> np.ndarray:
        return np.concatenate([(mismatch(b) / PAIR_SD_RAD).ravel(), b / PRIOR_SD_M_S2])

    def fitted(bound: float) -> np.ndarray:
        # soft_l1: a pair whose still moment was not still weighs like a few, not like hundreds
        return least_squares(residuals, np.zeros(3), bounds=(-bound, bound), loss="soft_l1").x

    def median_deg(x: np.ndarray) -> float:
        return math.degrees(float(np.median(np.linalg.norm(mismatch(x), axis=1))))

    b = fitted(MAX_OFFSET_M_S2)
    turns = max(math.degrees(p[2].magnitude()) for p in pairs)
    before, after = median_deg(np.zeros(3)), median_deg(b)
    if after > MAX_MISMATCH_DEG:
        wide = fitted(WIDE_OFFSET_M_S2)
        wide_deg = median_deg(wide)
        if wide_deg <= MAX_MISMATCH_DEG:
            b, after = wide, wide_deg
    reason = ""
    if after > MAX_MISMATCH_DEG:
        reason = (
            f"the still postures disagree with the gyro by {after:.1f} deg (median) even with "
            "an offset: the accelerations were left as recorded"
        )
    offset = (0.0, 0.0, 0.0) if reason else (float(b[0]), float(b[1]), float(b[2]))
    return AccOffset(offset, len(pairs), turns, (before, after), reason)


def remove_acc_offset(series: SensorSeries, offset: AccOffset) -> SensorSeries:
    """``series`` with ``offset`` taken off its accelerations (the same object if it is zero)."""
    if not offset.applied:
        return series
    return take_off_offset(series, offset.offset_m_s2)


def take_off_offset(samples: Any, offset_m_s2: Any) -> Any:
    """A copy of ``samples`` (a ``SensorSeries`` or ``SampleChunk``) whose accelerations have
    ``offset_m_s2`` (3 numbers, sensor frame) taken off."""
    return replace(samples, acc_m_s2=samples.acc_m_s2 - np.asarray(offset_m_s2, dtype=np.float64))
