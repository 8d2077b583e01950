"""Decoder bookkeeping: ``DecodeStats`` (what one decoder saw, by reason) and ``SequenceTrack``
(continuity of a counter or timestamp header field: unwrapping, loss counting, dropping duplicates
and implausible jumps)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from imu_monitor.devices.profile_schema import HeaderField

MAX_GAP_S = 5.0
"""A counter/timestamp jump longer than this needs a second packet to confirm it."""


@dataclass
class DecodeStats:
    """Counters of one decoder. ``malformed``: skipped packets by reason. ``lost_samples``: from
    the firmware counter (or timestamp gaps when there is no counter).
    ``lost_samples_estimated``: receive-time re-anchor jumps (no counter, no timestamp)."""

    packets: int = 0
    samples: int = 0
    malformed: dict[str, int] = field(default_factory=dict)
    lost_samples: int = 0
    lost_samples_estimated: int = 0
    orphan_acc: int = 0
    orphan_gyr: int = 0
    reanchors: int = 0
    resyncs: int = 0
    ignored: int = 0
    ignored_by: dict[str, int] = field(default_factory=dict)
    """Ignored notifications by the ignore rule's name (named rules only)."""
    skipped_bytes: int = 0
    """Framed streams: bytes skipped while re-synchronising on a frame header."""

    def bad(self, reason: str, n: int = 1) -> None:
        self.malformed[reason] = self.malformed.get(reason, 0) + n

    @property
    def malformed_total(self) -> int:
        return sum(self.malformed.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "packets": self.packets,
            "samples": self.samples,
            "malformed": dict(self.malformed),
            "malformed_total": self.malformed_total,
            "lost_samples": self.lost_samples,
            "lost_samples_estimated": self.lost_samples_estimated,
            "orphan_acc": self.orphan_acc,
            "orphan_gyr": self.orphan_gyr,
            "reanchors": self.reanchors,
            "resyncs": self.resyncs,
            "ignored": self.ignored,
            "ignored_by": dict(self.ignored_by),
            "skipped_bytes": self.skipped_bytes,
        }


class SequenceTrack:
    """Continuity of one integer header field (counter or timestamp) of one packet kind.

    Accepts a packet when its step from the previous one is plausible: at least ``lo`` ticks
    (counters: exactly the previous packet's samples or more; timestamps: forward) and at most
    the expected step plus ``max_gap_s``. Smaller steps are duplicates / out of order and are
    dropped; larger ones are dropped as implausible unless two packets in a row agree on the new
    position (a real long gap): then the track follows them.
    """

    def __init__(self, hf: HeaderField, ticks_per_sample: float, counter: bool, max_gap: float):
        self.hf = hf
        self.wrap = hf.wrap if hf.wrap <= 2**32 else None
        self.tps = ticks_per_sample
        self.counter = counter
        self.per_packet = counter and hf.per == "packet"
        self.max_gap = max_gap if self.wrap is None else min(max_gap, self.wrap // 2 - 1)
        self.last: int | None = None  # unwrapped value of the previous accepted packet
        self.last_n = 0
        self.count_loss = True
        self.cand: int | None = None  # raw value of a recent implausible jump
        self.cand_votes = 0

    def _step1(self, a: int, b: int) -> int:
        """Signed step from raw value ``a`` to raw value ``b`` (modulo the wrap)."""
        d = b - a
        if self.wrap is not None:
            d %= self.wrap
            if d >= self.wrap // 2:
                d -= self.wrap
        return d

    def _expect1(self, n_prev: int) -> float:
        return 1 if self.per_packet else n_prev * self.tps

    def _ok(self, d: int, e: float) -> int:
        """1: plausible step, 0: backwards / duplicate, 2: implausibly far ahead."""
        if d < (e if self.counter else 1):
            return 0
        return 1 if d <= e + self.max_gap else 2

    def _lost1(self, d: int, e: float, n: int) -> int:
        if not self.count_loss:
            return 0
        if self.counter:
            return int(d - e) * (n if self.per_packet else 1)
        extra = (d - e) / self.tps
        return int(round(extra)) if extra > 0.75 else 0

    def update(self, raw: np.ndarray, n: int, stats: DecodeStats) -> tuple[np.ndarray, np.ndarray]:
        """Raw field values (P,) of packets with ``n`` samples -> (unwrapped (P,), keep (P,))."""
        p = len(raw)
        raw = raw.astype(np.int64)  # u64 beyond 2**63 (garbage) wraps negative: a big jump
        if p > 9 and self.last is None:  # the first packet anchors; the rest may vectorise
            self.last, self.last_n, self._last_raw = int(raw[0]), n, int(raw[0])
            u_rest, keep_rest = self.update(raw[1:], n, stats)
            u = np.concatenate(([int(raw[0])], u_rest))
            return u, np.concatenate(([True], keep_rest))
        if p > 8 and self.last is not None:
            res = self._update_vec(raw, n, stats)
            if res is not None:
                return res
        keep = np.ones(p, dtype=bool)
        u = np.zeros(p, dtype=np.int64)
        for i, x in enumerate(raw.tolist()):
            if self.last is None:
                self.last, self.last_n, self._last_raw = x, n, x
                u[i] = x
                continue
            di = self._step1(self._last_raw, x)
            ei = self._expect1(self.last_n)
            ok = self._ok(di, ei)
            if ok == 1:
                stats.lost_samples += self._lost1(di, ei, n)
            elif ok == 0:
                keep[i] = False
                stats.bad("out_of_order")
                continue
            else:
                # a big jump: follow it only if the next packet confirms it
                dc = None if self.cand is None else self._step1(self.cand, x)
                if dc is not None and self._ok(dc, self._expect1(n)) == 1:
                    self.cand_votes += 1
                else:
                    self.cand_votes = 1
                self.cand = x
                if self.cand_votes < 2:
                    keep[i] = False
                    stats.bad("implausible_jump")
                    continue
                stats.resyncs += 1
            self.last += di
            self.last_n, self._last_raw = n, x
            self.cand, self.cand_votes = None, 0
            u[i] = self.last
        return u, keep

    def _update_vec(self, raw: np.ndarray, n: int, stats: DecodeStats):
        """Vectorised ``update`` for long runs where every step is plausible; else None."""
        prev = np.concatenate(([self._last_raw], raw[:-1]))
        d = raw - prev
        if self.wrap is not None:
            d = np.mod(d, self.wrap)
            d = np.where(d >= self.wrap // 2, d - self.wrap, d)
        e = np.full(len(raw), self._expect1(n), dtype=np.float64)
        e[0] = self._expect1(self.last_n)
        lo = e if self.counter else 1
        if not ((d >= lo) & (d <= e + self.max_gap)).all():
            return None
        if not self.count_loss:
            pass
        elif self.counter:
            stats.lost_samples += int((d - e).sum()) * (n if self.per_packet else 1)
        else:
            extra = (d - e) / self.tps
            stats.lost_samples += int(np.rint(extra[extra > 0.75]).sum())
        u = self.last + np.cumsum(d)
        self.last, self.last_n, self._last_raw = int(u[-1]), n, int(raw[-1])
        self.cand, self.cand_votes = None, 0
        return u, np.ones(len(raw), dtype=bool)


@dataclass
class KindState:
    """Per packet kind: counter/timestamp tracks, grid index, last time handed out."""

    counter: SequenceTrack | None = None
    ts: SequenceTrack | None = None
    grid_k: int = 0
    last_t: float = -np.inf
