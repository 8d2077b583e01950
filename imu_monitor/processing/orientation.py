"""Orientation per sensor: gyro + accelerometer fusion with vqf (6D, no magnetometer).

``quat_ws`` is the sensor-to-earth rotation as a (w, x, y, z) quaternion:
``v_earth = R(quat_ws) v_sensor``; earth z is up, the heading is arbitrary (and drifts), so only
the inclination (where "up" is in the sensor frame) carries meaning downstream.

Samples first pass ``quality.clean_chunk``: non-finite and backwards samples never reach vqf,
short gaps are bridged with interpolated samples that feed the filter but are not output.

Start-up: vqf already initialises its inclination from the data. Its accelerometer low-pass
(``filterVec``) outputs the running *mean* of the samples seen so far during its first ``tauAcc``
seconds, and the inclination correction applies that direction in full, so the very first
estimate is the inclination of the first sample and the following ones average the first samples
(measured: pitch error below 0.1 deg from the first sample when the sensor starts at rest
at 90 deg). After a long gap (not bridged) the same re-initialisation is triggered again by
clearing the low-pass state, so the inclination is taken afresh from the samples after the gap
instead of converging slowly with the 3 s time constant; the gyro bias estimate is kept.

Online (``OrientationStream``, and ``estimate_orientation(offline=False)`` which runs the same
code) is causal; offline (``offline=True``) uses ``vqf.offlineVQF``, which filters forward and
backward over each stretch between long gaps. Online, the gyro bias comes from the sensor's still
moments (``gyro_bias.StillBias``) instead of vqf's rest estimate, which breathing misleads.
Online, a bridged gap can also take another sensor's gyro instead of the straight line between
its ends (``OrientationStream.gyro_fill``; the live pipeline pairs the two lumbar sensors).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
import vqf

from imu_monitor.errors import ImuMonitorError
from imu_monitor.processing.gap_turn import closed_gaps
from imu_monitor.processing.gyro_bias import BLOCK_SAMPLES, SIGMA_DEG_S, StillBias
from imu_monitor.processing.quality import (
    GAP_FACTOR,
    MAX_BRIDGE_S,
    CleanChunk,
    GapInfo,
    QualityCounts,
    QualityStream,
    clean_samples,
)

log = logging.getLogger(__name__)

BIAS_CLIP_DEG_S = 6.0
"""vqf's ``biasClip`` (deg/s): the largest gyro bias per axis the filter estimates. vqf's default
(2) clipped the estimate we hand it (``gyro_bias``): a consumer gyro's 2-5 deg/s at power-on,
which ``check-device`` accepts with a warning, then leaned the live inclination by up to 9 deg
(simulated, ``bench_accuracy.py --live --gyro-bias-max 5``)."""


class _Samples(Protocol):
    t_s: np.ndarray
    acc_m_s2: np.ndarray
    gyr_rad_s: np.ndarray
    seq: np.ndarray | None


@dataclass
class OrientationResult:
    """Orientation of the accepted samples of a series or chunk.

    ``t_s``: (k,) s. ``quat_ws``: (k, 4) float64, (w, x, y, z), sensor-to-earth, 6D.
    ``index``: (k,) int64, index of each output sample into the input series/chunk.
    ``counts``: quality counts for this input (for a stream: of this chunk; the stream's
    ``counts`` attribute has the running totals). ``gaps``: gaps that ended in this input.
    ``turn_rate_rad_s``: (k, 3) the gyro's readings less the filter's bias estimate at each
    sample, the turn the filter integrates (None where not known): the sensor's own turn, which,
    unlike the inclination of ``quat_ws``, does not move while the filter settles towards the
    accelerometer (``height``'s still test).
    """

    t_s: np.ndarray
    quat_ws: np.ndarray
    index: np.ndarray
    counts: QualityCounts
    gaps: list[GapInfo] = field(default_factory=list)
    turn_rate_rad_s: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.t_s.shape[0])


def _segments(clean: CleanChunk, start_flags: np.ndarray) -> list[tuple[int, int, bool]]:
    """Split the filter samples at long gaps: (start, stop, reinit_before) in filter indices."""
    cut = np.flatnonzero(start_flags)
    bounds = [0, *cut.tolist(), clean.filter_t_s.shape[0]]
    segs = []
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        if b > a:
            segs.append((a, b, bool(a in set(cut.tolist()))))
    return segs


def _long_gap_starts(clean: CleanChunk) -> np.ndarray:
    """(m,) bool over filter samples: True where a long (not bridged) gap ends."""
    flags = np.zeros(clean.filter_t_s.shape[0], dtype=bool)
    long_end_t = [g.t_end_s for g in clean.gaps if not g.bridged]
    if long_end_t:
        flags[np.searchsorted(clean.filter_t_s, long_end_t)] = True
    return flags


def _reinit_inclination(f: vqf.VQF) -> None:
    """Make vqf take its inclination afresh from the next samples (its start-up averaging)."""
    st = f.state
    st["accLpState"] = np.full(6, np.nan)
    f.state = st


def _result(clean: CleanChunk, parts: list[dict[str, np.ndarray]]) -> OrientationResult:
    """The result for the accepted samples, given vqf's output (``quat6D``, ``bias``) for the
    filter samples in consecutive parts (the segments)."""
    quat = _joined(parts, "quat6D", 4)
    turn = clean.filter_gyr_rad_s - _joined(parts, "bias", 3)
    if quat.shape[0] != clean.t_s.shape[0]:  # drop the bridging samples' rows
        # (a gather by index: several times faster than a boolean mask over rows)
        rows = np.flatnonzero(clean.filter_is_output)
        quat, turn = quat.take(rows, axis=0), turn.take(rows, axis=0)
    return OrientationResult(clean.t_s, quat, clean.index, clean.counts, clean.gaps, turn)


def _joined(parts: list[dict[str, np.ndarray]], key: str, width: int) -> np.ndarray:
    """The parts' ``key`` rows one after the other ((m, width); none: (0, width))."""
    if len(parts) == 1:
        return np.asarray(parts[0][key])
    return np.concatenate([np.empty((0, width)), *(p[key] for p in parts)])


def _params(params: dict[str, Any] | None) -> dict[str, Any]:
    return {"biasClip": BIAS_CLIP_DEG_S, **(params or {})}


class OrientationStream:
    """Streaming orientation for one sensor: quality checks + vqf, state kept across chunks.

    ``update(chunk)`` returns the orientation of the chunk's accepted samples; feeding a series in
    any chunking gives exactly the result of ``estimate_orientation(series, offline=False)``.
    """

    def __init__(
        self,
        rate_hz: float,
        *,
        params: dict[str, Any] | None = None,
        max_bridge_s: float = MAX_BRIDGE_S,
        gap_factor: float = GAP_FACTOR,
        still_bias: bool = True,
    ) -> None:
        if not rate_hz > 0:
            raise ImuMonitorError(f"orientation needs a positive sample rate, got {rate_hz} Hz")
        self.rate_hz = float(rate_hz)
        self.params = _params(params)
        self.quality = QualityStream(rate_hz, max_bridge_s=max_bridge_s, gap_factor=gap_factor)
        self._vqf = vqf.VQF(1.0 / self.rate_hz, **self.params)
        self.still_bias: StillBias | None = None
        """The gyro bias from still moments (``gyro_bias``), unless ``still_bias=False``."""
        if still_bias:
            self.still_bias = StillBias(self.rate_hz)
            self._vqf.setRestBiasEstEnabled(False)
        self.gyro_fill: GyroFill | None = None
        """Where set, a bridged gap's gyro takes the shape of the turn it gives for the gap's
        times (``_filled``; rows it leaves NaN: not known): another sensor's turn, for a sensor
        that lost a burst while it moved. The stream then depends on what that sensor has
        delivered, not only on this one's samples."""
        self._in_block = 0  # filter samples since the last block boundary (``BLOCK_SAMPLES``)
        self._block_gyr: list[np.ndarray] = []
        self._block_acc: list[np.ndarray] = []

    @property
    def counts(self) -> QualityCounts:
        """Running quality counts since the stream started."""
        return self.quality.counts

    @property
    def gaps(self) -> list[GapInfo]:
        """The latest gaps (``quality.RECENT_GAPS``; ``counts.gaps`` counts every one)."""
        return list(self.quality.gaps)

    def reinit_inclination(self) -> None:
        """Take the inclination afresh from the next samples (as at the start and after a long
        gap): for a sensor known to be still now, whose filter may not have settled yet."""
        _reinit_inclination(self._vqf)

    def latest(self) -> np.ndarray:
        """The orientation after the last sample fed, ``quat_ws`` (4,) (w, x, y, z)."""
        return np.array(self._vqf.getQuat6D(), dtype=np.float64)

    def update(self, chunk: _Samples) -> OrientationResult:
        """Process the next chunk (``SampleChunk`` or ``SensorSeries``) of this sensor."""
        before = self.quality.state
        clean = self.quality.update(chunk.t_s, chunk.acc_m_s2, chunk.gyr_rad_s, chunk.seq)
        if self.gyro_fill is not None:
            clean = _filled(clean, self.gyro_fill, before.t_s, before.gyr_rad_s)
        parts = []
        if clean.filter_t_s.shape[0]:
            gyr = np.ascontiguousarray(clean.filter_gyr_rad_s, dtype=np.float64)
            acc = np.ascontiguousarray(clean.filter_acc_m_s2, dtype=np.float64)
            for a, b, reinit in _segments(clean, _long_gap_starts(clean)):
                if reinit:
                    _reinit_inclination(self._vqf)
                    if self.still_bias is not None:
                        self.still_bias.restart()
                if self.still_bias is None:
                    parts.append(self._vqf.updateBatch(gyr[a:b], acc[a:b]))
                else:
                    parts.extend(self._update_in_blocks(gyr[a:b], acc[a:b]))
        return _result(clean, parts)

    def _update_in_blocks(self, gyr: np.ndarray, acc: np.ndarray) -> list[dict[str, np.ndarray]]:
        """vqf over these samples, the bias tracker fed in blocks of ``BLOCK_SAMPLES`` counted
        from the stream's start (so the chunking does not matter) and its estimate handed to vqf
        at each block's end."""
        tracker = self.still_bias
        assert tracker is not None
        parts = []
        a = 0
        while a < len(gyr):
            b = min(len(gyr), a + BLOCK_SAMPLES - self._in_block)
            parts.append(self._vqf.updateBatch(gyr[a:b], acc[a:b]))
            self._block_gyr.append(gyr[a:b])
            self._block_acc.append(acc[a:b])
            self._in_block += b - a
            if self._in_block == BLOCK_SAMPLES:
                if tracker.feed(np.concatenate(self._block_gyr), np.concatenate(self._block_acc)):
                    self._vqf.setBiasEstimate(tracker.bias, math.radians(SIGMA_DEG_S))
                self._block_gyr, self._block_acc, self._in_block = [], [], 0
            a = b
        return parts


FILL_MIN_BEND_DEG_S = 5.0
"""A given turn (``OrientationStream.gyro_fill``) may bend a gap's line by at most the sensor's
own speed at the gap's ends, or this (deg/s) where that is less: a larger bend within a tenth
of a second is not this sensor's (the skin over the sacrum rings at 5-12 Hz, 60 deg/s, after a
too-fast rep's abrupt top, while the trunk's sensor slows down smoothly at 15-20 deg/s), and
the gap keeps the line."""
GyroFill = Callable[[np.ndarray], "np.ndarray | None"]
"""Gyro readings ((n, 3) rad/s, this sensor's frame; NaN rows: not known) for the times given
((n,) s), or None (``OrientationStream.gyro_fill``)."""


def _filled(
    clean: CleanChunk, fill: GyroFill, t_before: float, gyr_before: np.ndarray | None
) -> CleanChunk:
    """``clean`` with each bridged gap's gyro shaped by ``fill``: the straight line between the
    gap's ends (``t_before``, ``gyr_before``: the last sample before this chunk) plus how far
    the given turn departs from its own line between the same times; so a relative turn between
    the two sensors that is steady across the gap costs nothing. Where ``fill`` does not know
    the gap's end yet, the given turn is taken from the gap's start on, and the rest of the gap
    is on the line from there to its end."""
    is_out = clean.filter_is_output
    if is_out.all():
        return clean
    t, gyr = clean.filter_t_s, clean.filter_gyr_rad_s.copy()
    if gyr_before is not None and np.isfinite(t_before):  # the sample before the chunk, as row -1
        t = np.concatenate(([t_before], t))
        gyr = np.concatenate((np.asarray(gyr_before, np.float64)[None, :], gyr))
        is_out = np.concatenate(([True], is_out))
    edges = np.flatnonzero(np.diff(np.concatenate(([1], is_out.astype(np.int8), [1]))))
    changed = False
    for a, b in zip(edges[::2], edges[1::2], strict=True):  # bridging rows [a, b)
        if a == 0 or b >= len(t):
            continue  # (no accepted sample on one side in these rows)
        at = t[a - 1 : b + 1]
        given = fill(at)
        if given is None or not np.isfinite(given[0]).all():
            continue
        known = np.isfinite(given).all(axis=1)
        line = gyr[a:b]  # the straight line between the ends: the cleaner's bridge
        frac = ((at[1:-1] - at[0]) / (at[-1] - at[0]))[:, None]
        if known[-1]:
            own_line = given[0] + frac * (given[-1] - given[0])
            shaped = line + (given[1:-1] - own_line)
        else:
            shaped = given[1:-1] + (gyr[a - 1] - given[0])
        inner = known[1:-1]
        own = np.linalg.norm(gyr[[a - 1, b]], axis=1).max()
        bend = np.linalg.norm((shaped - line)[inner], axis=1)
        if bend.size and bend.max() > max(own, math.radians(FILL_MIN_BEND_DEG_S)):
            continue  # a bend its own ends cannot have: the two did not turn together here
        gyr[a:b][inner] = shaped[inner]
        rest = np.flatnonzero(~inner) + a
        if len(rest) and inner.any():  # the line from the last given sample to the gap's end
            anchors = np.concatenate(([a - 1], np.flatnonzero(inner) + a, [b]))
            for k in range(3):
                gyr[rest, k] = np.interp(t[rest], t[anchors], gyr[anchors, k])
        changed |= bool(inner.any())
    if not changed:
        return clean
    if len(gyr) > len(clean.filter_t_s):
        gyr = gyr[1:]
    return replace(clean, filter_gyr_rad_s=gyr)


def estimate_orientation(
    series: _Samples,
    rate_hz: float,
    *,
    offline: bool = False,
    params: dict[str, Any] | None = None,
    max_bridge_s: float = MAX_BRIDGE_S,
    gap_factor: float = GAP_FACTOR,
) -> OrientationResult:
    """Orientation of a whole series (batch).

    ``rate_hz``: nominal sample rate. ``params``: vqf parameters (``vqf.VQF`` keyword names).
    ``offline=False`` gives exactly what ``OrientationStream`` gives in real time;
    ``offline=True`` runs ``vqf.offlineVQF`` (forward-backward, more accurate after the fact).
    """
    if not offline:
        return OrientationStream(
            rate_hz, params=params, max_bridge_s=max_bridge_s, gap_factor=gap_factor
        ).update(series)
    if not rate_hz > 0:
        raise ImuMonitorError(f"orientation needs a positive sample rate, got {rate_hz} Hz")
    clean = clean_samples(
        series.t_s,
        series.acc_m_s2,
        series.gyr_rad_s,
        series.seq,
        rate_hz,
        max_bridge_s=max_bridge_s,
        gap_factor=gap_factor,
    )
    clean = closed_gaps(clean)
    gyr = np.ascontiguousarray(clean.filter_gyr_rad_s, dtype=np.float64)
    acc = np.ascontiguousarray(clean.filter_acc_m_s2, dtype=np.float64)
    parts = []
    for a, b, _ in _segments(clean, _long_gap_starts(clean)):
        if b - a < 2:  # offlineVQF needs a few samples; a lone sample gets the acc inclination
            parts.append({"quat6D": _quat_from_acc(acc[a:b]), "bias": np.zeros((b - a, 3))})
            continue
        out = vqf.offlineVQF(
            np.ascontiguousarray(gyr[a:b]),
            np.ascontiguousarray(acc[a:b]),
            None,
            1.0 / rate_hz,
            _params(params),
        )
        parts.append(out)
    return _result(clean, parts)


def _quat_from_acc(acc: np.ndarray) -> np.ndarray:
    """(n, 4) quaternions (w, x, y, z) rotating each acc direction onto earth z (zero heading)."""
    a = acc / np.linalg.norm(acc, axis=1, keepdims=True)
    # rotation taking a to z: axis a x z, half-angle formula
    w = np.sqrt(np.clip((1.0 + a[:, 2]) / 2.0, 0.0, 1.0))
    safe = np.maximum(w, 1e-9)
    q = np.column_stack((w, a[:, 1] / (2 * safe), -a[:, 0] / (2 * safe), np.zeros(len(a))))
    q[w < 1e-6] = (0.0, 1.0, 0.0, 0.0)
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def estimate_rate_hz(t_s: np.ndarray) -> float:
    """Nominal sample rate (Hz) from the median time step of ``t_s`` (s)."""
    dt = np.diff(np.asarray(t_s, dtype=np.float64))
    dt = dt[np.isfinite(dt) & (dt > 0)]
    if dt.size == 0:
        raise ImuMonitorError("cannot tell the sample rate: fewer than two increasing timestamps")
    return float(1.0 / np.median(dt))
