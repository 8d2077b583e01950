"""Classifying notifications: ``NotificationBatch`` (the payloads of one ``feed_many`` call as one
byte buffer) and the functions that tell each payload's packet kind and sample count, per payload
or vectorised over a batch (header bytes compared as a 2-D array)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from imu_monitor.devices.decode_stats import DecodeStats
from imu_monitor.devices.packet_layout import PacketLayout
from imu_monitor.devices.profile_schema import IgnoreSpec


class NotificationBatch:
    """The payloads of one ``feed_many`` call as one byte buffer (built on first use)."""

    def __init__(self, payloads: Sequence[bytes], t_received_s: Sequence[float]) -> None:
        self.payloads = payloads
        self.t_recv = t_received_s
        self._u8: np.ndarray | None = None
        self._starts: np.ndarray | None = None
        self._lengths: np.ndarray | None = None
        self._tr: np.ndarray | None = None

    @property
    def lengths(self) -> np.ndarray:
        """(P,) int64 payload lengths, bytes."""
        if self._lengths is None:
            self._lengths = np.fromiter(
                map(len, self.payloads), dtype=np.int64, count=len(self.payloads)
            )
        return self._lengths

    @property
    def u8(self) -> np.ndarray:
        """All payloads back to back, uint8 (sum of lengths,)."""
        if self._u8 is None:
            self._u8 = np.frombuffer(b"".join(self.payloads), dtype=np.uint8)
        return self._u8

    @property
    def starts(self) -> np.ndarray:
        """(P,) int64 offset of each payload in ``u8``."""
        if self._starts is None:
            lengths = self.lengths
            self._starts = np.cumsum(lengths) - lengths
        return self._starts

    @property
    def tr(self) -> np.ndarray:
        """(P,) float64 receive times, s."""
        if self._tr is None:
            t = self.t_recv
            if isinstance(t, np.ndarray):
                self._tr = t.astype(np.float64, copy=False).reshape(-1)
            else:
                self._tr = np.fromiter(t, dtype=np.float64, count=len(t))
        return self._tr

    def unique_lengths(self) -> list[int]:
        """The distinct payload lengths, ascending."""
        lengths = self.lengths
        lo, hi = int(lengths.min()), int(lengths.max())
        return [lo] if lo == hi else np.unique(lengths).tolist()

    def rows(self, idx: np.ndarray, length: int) -> np.ndarray:
        """The payloads ``idx`` (ascending, all ``length`` bytes long) as a (len(idx), length)
        uint8 array (a view when they lie back to back)."""
        p = len(idx)
        if p and idx[-1] - idx[0] == p - 1:  # consecutive packets: back to back
            first = int(self.starts[idx[0]])
            return self.u8[first : first + p * length].reshape(p, length)
        if len(self.u8) == len(self.payloads) * length:  # every packet this long: row gather
            return self.u8.reshape(-1, length)[idx]
        return self.u8[self.starts[idx][:, None] + np.arange(length)]


def classify(
    data: bytes, lays: list[PacketLayout], ignore: Sequence[IgnoreSpec], stats: DecodeStats
) -> tuple[PacketLayout | None, int]:
    """The packet kind of ``data`` and its sample count (-1: compressed); else (None, 0), counted
    in ``stats`` as ignored (it fits one of ``ignore``) or malformed by reason."""
    reason = "no_match"
    for lay in lays:
        if len(data) < lay.match_end:
            reason = "short"
            continue
        if any(data[o : o + len(h)] != h for o, h in lay.match):
            reason = "no_match" if reason != "short" else reason
            continue
        if lay.spec.compression is not None:
            return lay, -1
        n = lay.n_samples(len(data))
        if n is None:
            reason = "short" if len(data) < lay.spec.min_length else "length"
            continue
        return lay, n
    for ig in ignore:
        if all(data[o : o + len(h)] == h for o, h in ig.match):
            stats.ignored += 1
            if ig.name:
                stats.ignored_by[ig.name] = stats.ignored_by.get(ig.name, 0) + 1
            return None, 0
    stats.bad(reason)
    return None, 0


def runs_many(
    lays: list[PacketLayout],
    batch: NotificationBatch,
    ignore: Sequence[IgnoreSpec],
    stats: DecodeStats,
    combined: bool,
) -> list[tuple[PacketLayout, int, np.ndarray]]:
    """Vectorised classification of a batch: packets grouped by length, header bytes compared
    as a 2-D array. Returns runs (layout, n, indices) in decode order: consecutive packets of
    one kind and length (compressed frames: n = -1, any length); with acc and gyro in
    separate packets (``combined``), each stream's packets are taken together (pairing sorts them
    out by time), the stream of the first data packet first (it anchors the time base, as it
    would packet by packet)."""
    payloads = batch.payloads
    npk = len(payloads)
    lengths = batch.lengths
    kind = np.full(npk, -1, dtype=np.int64)
    nsamp = np.zeros(npk, dtype=np.int64)
    for length in batch.unique_lengths():
        fits = []
        for k, lay in enumerate(lays):
            if length < lay.match_end:
                continue
            n = -1 if lay.spec.compression is not None else lay.n_samples(length)
            if n is not None:
                fits.append((k, lay, n))
        if not fits:
            continue
        idx = np.flatnonzero(lengths == length)
        grid = batch.rows(idx, length)
        free = np.ones(len(idx), dtype=bool)
        for k, lay, n in fits:
            ok = free.copy()
            for off, hx in lay.match:
                for j, byte in enumerate(hx):
                    ok &= grid[:, off + j] == byte
            kind[idx[ok]] = k
            nsamp[idx[ok]] = n
            free &= ~ok
    for i in np.flatnonzero(kind < 0).tolist():  # not data: count why (or ignore it)
        classify(payloads[i], lays, ignore, stats)
    order = np.flatnonzero(kind >= 0)
    if len(order) == 0:
        return []
    if combined:
        stream_id = np.array([0 if lay.stream == "acc" else 1 for lay in lays])
        sid = stream_id[kind[order]]
        order = order[np.argsort(sid != sid[0], kind="stable")]
    k_ord, n_ord = kind[order], nsamp[order]
    cuts = np.flatnonzero((np.diff(k_ord) != 0) | (np.diff(n_ord) != 0)) + 1
    starts = np.concatenate(([0], cuts)).tolist()
    return [
        (lays[int(k_ord[a])], int(n_ord[a]), seg)
        for a, seg in zip(starts, np.split(order, cuts), strict=True)
    ]
