"""Sample quality: bad input never silently reaches the orientation filter.

Per sensor, every sample passes these checks, in order:

1. **Non-finite** (NaN/inf in time, acc or gyro): dropped, counted in ``nan_samples``.
2. **Backwards or repeated**: a sample whose time is not later than the latest accepted sample
   (or whose ``seq`` is not larger, when the firmware sends one) is dropped and counted in
   ``backwards_or_repeated``.
3. **Gaps**: between two accepted samples, ``dt > gap_factor * (1 / rate_hz)`` (or a ``seq`` jump
   of more than one) is a gap. ``samples_missing`` counts the samples lost: from ``seq`` when the
   firmware sends one, else ``round(dt * rate_hz) - 1``. A gap of at most ``max_bridge_s``
   (from the last sample before to the first after) is *bridged*: the filter gets linearly
   interpolated samples in its place, which are never output. Longer gaps are reported as gaps
   (``GapInfo``) and the filter simply continues.

The core, ``clean_chunk``, works on arrays and takes/returns the state of the previous chunk, so
cleaning a series in one call (``clean_samples``) and chunk by chunk (``QualityStream``) give the
same result. Bridging is causal: a gap is known when the next sample arrives.

Length: one stage, its counters and state types, its three steps and its streaming wrapper;
apart they would only pass the counters around.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from imu_monitor.errors import ImuMonitorError

GAP_FACTOR = 1.5
"""A step longer than this many nominal sample periods is a gap."""
RECENT_GAPS = 1000
"""Gaps a stream keeps (``QualityStream.gaps``); every one is counted."""
MAX_BRIDGE_S = 0.25
"""Gaps up to this length (s) are bridged with interpolated samples for the filter; after a
longer one the filter takes its inclination afresh (``orientation``). A lost notification of a
52 Hz wearable (Polar Verity Sense) leaves a gap of 0.1-0.15 s: at 0.1 s those gaps re-took the
inclination from the accelerometer in the middle of a movement, which moved the thigh's angle
1.3 deg in 140 ms and timed a phase 0.38 s off (simulated sessions at 50 Hz, bursts of 4-8 lost
samples: worst phase error 547 -> 78 ms, hip thrust 2 sensors RMSE 0.89 -> 0.79 deg). Gaps of
0.3-0.7 s went wrong when bridged (hip thrust worst session 1.65 -> 3.15 deg at 0.5 s)."""


@dataclass
class QualityCounts:
    """Running counts of what the quality stage found in one sensor's samples."""

    samples_in: int = 0
    samples_ok: int = 0
    nan_samples: int = 0
    backwards_or_repeated: int = 0
    gaps: int = 0
    samples_missing: int = 0
    gaps_bridged: int = 0
    samples_bridged: int = 0
    longest_gap_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def add(self, other: QualityCounts) -> None:
        """Accumulate ``other`` into this (in place)."""
        for name in (
            "samples_in",
            "samples_ok",
            "nan_samples",
            "backwards_or_repeated",
            "gaps",
            "samples_missing",
            "gaps_bridged",
            "samples_bridged",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.longest_gap_s = max(self.longest_gap_s, other.longest_gap_s)


def gaps_note(counts: Mapping[str, Any]) -> str:
    """The gaps in one sensor's data in words, from its counts (``QualityCounts.to_dict``, or
    an analysis' ``quality`` entry); empty without gaps. Gaps over ``MAX_BRIDGE_S`` are named
    apart: the orientation starts afresh after each."""
    n = int(counts.get("gaps", 0))
    if not n:
        return ""
    unbridged = n - int(counts.get("gaps_bridged", 0))
    text = (
        f"{n} gap{'s' if n > 1 else ''} in the data, {int(counts.get('samples_missing', 0))} "
        f"samples missing, the longest {float(counts.get('longest_gap_s', 0.0)):.2f} s"
    )
    if unbridged:
        text += (
            f"; {unbridged} over {MAX_BRIDGE_S:g} s, after which the orientation takes its "
            "inclination afresh"
        )
    return text


@dataclass
class GapInfo:
    """A gap between accepted samples: ``t_start_s`` the last before, ``t_end_s`` the next."""

    t_start_s: float
    t_end_s: float
    samples_missing: int
    bridged: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class QualityState:
    """What the cleaner remembers between chunks: the last accepted sample."""

    t_s: float = -math.inf
    acc_m_s2: np.ndarray | None = None
    gyr_rad_s: np.ndarray | None = None
    seq: int | None = None


@dataclass
class CleanChunk:
    """The result of cleaning one chunk.

    ``index``: (k,) int64, indices of the accepted samples into the input chunk.
    ``t_s``: (k,) their times. ``filter_t_s``, ``filter_acc_m_s2``, ``filter_gyr_rad_s``: (m, ...)
    with m >= k, the samples to feed the filter, accepted ones plus bridging ones, in time order.
    ``filter_is_output``: (m,) bool, True for accepted (real) samples; exactly k are True and they
    are in the order of ``index``. ``gaps``: the gaps that ended in this chunk.
    """

    index: np.ndarray
    t_s: np.ndarray
    filter_t_s: np.ndarray
    filter_acc_m_s2: np.ndarray
    filter_gyr_rad_s: np.ndarray
    filter_is_output: np.ndarray
    counts: QualityCounts
    gaps: list[GapInfo] = field(default_factory=list)


SLOW_RATE_HZ = 25.0
"""Below this sample rate the monitor works but coarsely (``slow_rate_note``)."""


def slow_rate_note(rates_hz: dict[str, float]) -> str | None:
    """What a user is told when a sensor streams below ``SLOW_RATE_HZ`` (placement -> nominal
    rate in Hz), or None. Measured on simulated sessions at 10 Hz (docs/accuracy.md)."""
    slow = {p: r for p, r in rates_hz.items() if r < SLOW_RATE_HZ}
    if not slow:
        return None
    which = ", ".join(f"{p} {r:g} Hz" for p, r in slow.items())
    return (
        f"slow sensor ({which}): phases are timed to about a sample and alarms come up to a "
        "sample late; with two sensors on a hip thrust or bridge, 10 Hz gave false alarms in "
        f"simulated sessions. Stream at {SLOW_RATE_HZ:g} Hz or more where the wearable allows."
    )


def _check_shapes(t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, seq: np.ndarray | None) -> int:
    n = t.shape[0]
    if t.ndim != 1 or acc.shape != (n, 3) or gyr.shape != (n, 3):
        raise ImuMonitorError(
            f"sample arrays do not match: t_s {t.shape}, acc_m_s2 {acc.shape}, gyr_rad_s "
            f"{gyr.shape}; expected (n,), (n, 3), (n, 3) — check the source/decoder"
        )
    if seq is not None and seq.shape != (n,):
        raise ImuMonitorError(f"seq has shape {seq.shape}, expected ({n},) like t_s")
    return n


def _all_good(
    t: np.ndarray,
    acc: np.ndarray,
    gyr: np.ndarray,
    sq: np.ndarray | None,
    state: QualityState,
    max_dt_s: float,
) -> bool:
    """True when every sample is finite, each step (also from the previous chunk) is forward
    and no longer than ``max_dt_s``, and the counter (if any) steps by exactly one."""
    have_prev = state.acc_m_s2 is not None
    dt = np.diff(t, prepend=state.t_s) if have_prev else np.diff(t)
    if len(dt) and not (dt.min() > 0.0 and dt.max() <= max_dt_s):
        return False
    if sq is not None:
        if state.seq is not None and have_prev:
            dseq = np.diff(sq, prepend=state.seq)
        else:
            dseq = np.diff(sq)
        if len(dseq) and not (dseq.min() == 1 and dseq.max() == 1):
            return False
    return bool(np.isfinite(t).all() and np.isfinite(acc).all() and np.isfinite(gyr).all())


def clean_chunk(
    t_s: np.ndarray,
    acc_m_s2: np.ndarray,
    gyr_rad_s: np.ndarray,
    seq: np.ndarray | None,
    rate_hz: float,
    state: QualityState,
    *,
    max_bridge_s: float = MAX_BRIDGE_S,
    gap_factor: float = GAP_FACTOR,
) -> tuple[CleanChunk, QualityState]:
    """Clean one chunk of samples given the state after the previous chunk.

    Shapes: ``t_s`` (n,) s, ``acc_m_s2`` (n, 3), ``gyr_rad_s`` (n, 3), ``seq`` (n,) or None.
    Returns the cleaned chunk and the new state (``state`` itself is not modified). Vectorised:
    no Python loop over samples.
    """
    if rate_hz <= 0:
        raise ImuMonitorError(f"sample rate must be positive, got {rate_hz} Hz")
    t = np.asarray(t_s, dtype=np.float64)
    acc = np.asarray(acc_m_s2, dtype=np.float64)
    gyr = np.asarray(gyr_rad_s, dtype=np.float64)
    sq = None if seq is None else np.asarray(seq, dtype=np.int64)
    n = _check_shapes(t, acc, gyr, sq)
    dt_nom = 1.0 / rate_hz
    if n and _all_good(t, acc, gyr, sq, state, gap_factor * dt_nom):
        # the common live case (a few clean samples): nothing to drop, count or bridge; the
        # result is identical to the general path below, at a fraction of the numpy calls
        counts = QualityCounts(samples_in=n, samples_ok=n)
        index = np.arange(n)
        new_state = QualityState(
            float(t[-1]), acc[-1].copy(), gyr[-1].copy(), None if sq is None else int(sq[-1])
        )
        return (
            CleanChunk(index, t, t, acc, gyr, np.ones(n, dtype=bool), counts, []),
            new_state,
        )
    counts = QualityCounts(samples_in=n)
    index, t_ok, acc_ok, gyr_ok, seq_ok = _accepted(t, acc, gyr, sq, state, counts)
    if index.size == 0:
        empty3 = np.zeros((0, 3))
        return (
            CleanChunk(index, t_ok, t_ok, empty3, empty3, np.zeros(0, bool), counts, []),
            QualityState(state.t_s, state.acc_m_s2, state.gyr_rad_s, state.seq),
        )
    steps = _gaps(t_ok, seq_ok, state, dt_nom, gap_factor, max_bridge_s, counts)
    is_out, ft, facc, fgyr = _bridged(t_ok, acc_ok, gyr_ok, state, steps, counts)
    new_state = QualityState(
        float(t_ok[-1]),
        acc_ok[-1].copy(),
        gyr_ok[-1].copy(),
        None if seq_ok is None else int(seq_ok[-1]),
    )
    return CleanChunk(index, t_ok, ft, facc, fgyr, is_out, counts, steps.gaps), new_state


def _accepted(
    t: np.ndarray,
    acc: np.ndarray,
    gyr: np.ndarray,
    sq: np.ndarray | None,
    state: QualityState,
    counts: QualityCounts,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """The finite samples later (in time and counter) than every earlier one: their indices
    into the chunk and their rows. Counts NaN and backwards/repeated samples."""
    n = t.size
    all_finite = bool(np.isfinite(t).all() and np.isfinite(acc).all() and np.isfinite(gyr).all())
    if all_finite:  # the per-sample test below is several times slower
        fin_idx = np.arange(n)
    else:
        finite = np.isfinite(t) & np.isfinite(acc).all(axis=1) & np.isfinite(gyr).all(axis=1)
        counts.nan_samples = int(n - finite.sum())
        fin_idx = np.flatnonzero(finite)
    tf = t if all_finite else t[fin_idx]
    # accepted iff later than every earlier finite sample (the running max is always attained by
    # an accepted sample, so this equals "later than the last accepted one")
    prev_max = np.maximum.accumulate(np.concatenate(([state.t_s], tf)))[:-1]
    ok = tf > prev_max
    if sq is not None:
        sf = sq if all_finite else sq[fin_idx]
        s0 = np.iinfo(np.int64).min if state.seq is None else state.seq
        prev_smax = np.maximum.accumulate(np.concatenate(([s0], sf)))[:-1]
        ok &= sf > prev_smax
    counts.backwards_or_repeated = int(fin_idx.size - ok.sum())
    index = fin_idx if counts.backwards_or_repeated == 0 else fin_idx[ok]
    counts.samples_ok = int(index.size)
    if index.size == n:  # every sample accepted (the usual case): no copies
        return index, t, acc, gyr, sq
    return index, t[index], acc[index], gyr[index], None if sq is None else sq[index]


@dataclass
class _Steps:
    """The steps between consecutive accepted samples (the first from the previous chunk's last
    sample) and, per gap, where it is (``gi``: the accepted sample after it) and how many
    samples bridge it (``n_ins``, 0 for a gap too long to bridge)."""

    dt: np.ndarray
    t_prev: np.ndarray
    gi: np.ndarray
    n_ins: np.ndarray
    gaps: list[GapInfo]


def _gaps(
    t_ok: np.ndarray,
    seq_ok: np.ndarray | None,
    state: QualityState,
    dt_nom: float,
    gap_factor: float,
    max_bridge_s: float,
    counts: QualityCounts,
) -> _Steps:
    """Find the gaps (a time step over ``gap_factor`` nominal steps, or a counter jump) and
    decide which are bridged; counts them."""
    have_prev = state.acc_m_s2 is not None
    t_prev = np.concatenate(([state.t_s], t_ok[:-1]))
    dt = t_ok - t_prev
    if not have_prev:
        dt[0] = dt_nom  # the very first sample has no predecessor
    is_gap = dt > gap_factor * dt_nom
    dseq = None
    if seq_ok is not None and state.seq is not None:
        dseq = seq_ok - np.concatenate(([state.seq], seq_ok[:-1]))
    elif seq_ok is not None:
        dseq = np.diff(seq_ok, prepend=seq_ok[0])
    if dseq is not None:
        is_gap |= dseq > 1
    if not have_prev:
        is_gap[0] = False
    # from here on per gap (entry i: the gap before accepted sample gi[i])
    gi = np.flatnonzero(is_gap)
    dt_gap = dt[gi]
    missing_t = np.maximum(np.rint(dt_gap / dt_nom).astype(np.int64) - 1, 0)
    missing = missing_t if dseq is None else np.maximum(dseq[gi] - 1, 0)
    bridge = dt_gap <= max_bridge_s + 1e-9
    # bridging samples, evenly spaced in the gap (at least one when the time step is long)
    n_ins = np.where(bridge, np.maximum(missing_t, 1), 0)
    counts.gaps = int(gi.size)
    counts.samples_missing = int(missing.sum())
    counts.gaps_bridged = int(bridge.sum())
    counts.samples_bridged = int(n_ins.sum())
    gaps: list[GapInfo] = []
    if gi.size:
        counts.longest_gap_s = float(dt_gap.max())
        # converted in bulk (tolist gives Python floats/ints/bools, as float()/int()/bool() would)
        gaps = [
            GapInfo(a, b, c, d)
            for a, b, c, d in zip(
                t_prev[gi].tolist(),
                t_ok[gi].tolist(),
                missing.tolist(),
                bridge.tolist(),
                strict=True,
            )
        ]
    return _Steps(dt, t_prev, gi, n_ins, gaps)


def _bridged(
    t_ok: np.ndarray,
    acc_ok: np.ndarray,
    gyr_ok: np.ndarray,
    state: QualityState,
    steps: _Steps,
    counts: QualityCounts,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The filter input: the accepted samples with the bridging samples (linear between the
    samples around each bridged gap) in place, and which rows are accepted samples."""
    k = t_ok.size
    total = int(k + counts.samples_bridged)
    if total == k:  # nothing to bridge: the filter input is the accepted samples themselves
        return np.ones(k, dtype=bool), t_ok, acc_ok, gyr_ok
    gi, n_ins, dt, t_prev = steps.gi, steps.n_ins, steps.dt, steps.t_prev
    have_prev = state.acc_m_s2 is not None
    # the bridged gaps: the accepted sample after each (gb) and how many samples fill it
    cnt = n_ins[n_ins > 0]
    gb = gi[n_ins > 0]
    shift = np.zeros(k, dtype=np.int64)
    shift[gb] = cnt
    pos = np.arange(k) + np.cumsum(shift)  # of the accepted samples in the filter input
    is_out = np.zeros(total, dtype=bool)
    is_out[pos] = True
    # each bridging sample: the accepted sample it precedes (owner), its number within the
    # gap (1, 2, ...) and the gap's count
    owner = np.repeat(gb, cnt)
    j = np.arange(total - k) - np.repeat(np.cumsum(cnt) - cnt, cnt) + 1
    frac = (j / (np.repeat(cnt, cnt) + 1))[:, None]
    first_acc = state.acc_m_s2 if have_prev else acc_ok[0]
    first_gyr = state.gyr_rad_s if have_prev else gyr_ok[0]
    # the accepted sample before each gap (the previous chunk's last one before the first)
    before = owner - 1
    from_prev = before < 0
    acc0, gyr0 = acc_ok[np.maximum(before, 0)], gyr_ok[np.maximum(before, 0)]
    acc0[from_prev], gyr0[from_prev] = first_acc, first_gyr
    # filter row i is row src[i] of (accepted samples, bridging samples): a gather is several
    # times faster than scattering the accepted rows into place
    src = np.empty(total, dtype=np.int64)
    src[pos] = np.arange(k)
    src[~is_out] = np.arange(k, total)
    ft = np.concatenate((t_ok, t_prev[owner] + frac[:, 0] * dt[owner])).take(src)
    facc = np.concatenate((acc_ok, acc0 + frac * (acc_ok[owner] - acc0))).take(src, axis=0)
    fgyr = np.concatenate((gyr_ok, gyr0 + frac * (gyr_ok[owner] - gyr0))).take(src, axis=0)
    return is_out, ft, facc, fgyr


def clean_samples(
    t_s: np.ndarray,
    acc_m_s2: np.ndarray,
    gyr_rad_s: np.ndarray,
    seq: np.ndarray | None,
    rate_hz: float,
    *,
    max_bridge_s: float = MAX_BRIDGE_S,
    gap_factor: float = GAP_FACTOR,
) -> CleanChunk:
    """Clean a whole series in one call (same result as ``QualityStream`` over any chunking)."""
    out, _ = clean_chunk(
        t_s,
        acc_m_s2,
        gyr_rad_s,
        seq,
        rate_hz,
        QualityState(),
        max_bridge_s=max_bridge_s,
        gap_factor=gap_factor,
    )
    return out


class QualityStream:
    """Streaming wrapper around ``clean_chunk``: keeps the state and the running counts."""

    def __init__(
        self, rate_hz: float, *, max_bridge_s: float = MAX_BRIDGE_S, gap_factor: float = GAP_FACTOR
    ) -> None:
        self.rate_hz = float(rate_hz)
        self.max_bridge_s = float(max_bridge_s)
        self.gap_factor = float(gap_factor)
        self.state = QualityState()
        self.counts = QualityCounts()
        self.gaps: deque[GapInfo] = deque(maxlen=RECENT_GAPS)
        """The latest gaps (``counts.gaps`` counts every one)."""

    def update(
        self,
        t_s: np.ndarray,
        acc_m_s2: np.ndarray,
        gyr_rad_s: np.ndarray,
        seq: np.ndarray | None = None,
    ) -> CleanChunk:
        """Clean the next chunk; ``index`` in the result refers to this chunk's samples."""
        out, self.state = clean_chunk(
            t_s,
            acc_m_s2,
            gyr_rad_s,
            seq,
            self.rate_hz,
            self.state,
            max_bridge_s=self.max_bridge_s,
            gap_factor=self.gap_factor,
        )
        self.counts.add(out.counts)
        self.gaps.extend(out.gaps)
        return out
