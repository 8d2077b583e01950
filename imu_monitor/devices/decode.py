"""Decode wearable notifications into ``SampleChunk``s, as a firmware profile describes them.

One ``Decoder`` per connected sensor. ``feed()`` takes one notification; ``feed_many()`` takes a
run of notifications and decodes every run of equally long packets of one kind with a single
``np.frombuffer`` over a structured dtype (no per-sample Python). Bad bytes never raise: they are
counted by reason in ``Decoder.stats.malformed`` and skipped.

Time base (``SampleChunk.t_s``, seconds on the session clock), by the profile's
``timing.source``:

- ``timestamp``: the device timestamp, unwrapped; the first sample sits at 0 (or, when the
  decoder is given ``t0_s``, at the first packet's receive time minus ``t0_s``); samples inside
  one packet are spaced by the nominal rate.
- ``counter``: unwrapped sample counter / nominal rate, anchored the same way.
- ``receive_nominal`` (no counter, no timestamp: Thingy:52, WitMotion, MetaMotion): the first
  packet anchors a grid of nominal-rate sample times (its last sample at its receive time); later
  packets continue the grid. When receive time runs more than ``timing.reanchor_samples`` samples
  ahead of the grid (packets lost, or the device clock faster than nominal) the grid jumps forward
  by whole samples (counted in ``stats.reanchors``, the jump in ``stats.lost_samples_estimated``);
  when the grid runs ahead of receive time it is pulled back by at most a quarter sample per
  packet, so times stay monotonic. Limitation: BLE delivery jitter (one or more connection
  intervals) cannot be told from loss, so sample times are only good to a few samples, and a lost
  packet shorter than the re-anchor threshold shifts the following samples late.
- ``receive``: each packet's last sample at its receive time (Arduino Science Journal, which sends
  whenever its loop runs rather than at a fixed rate).

Acc and gyro sent in separate notifications are paired by time (within
``timing.pair_tolerance_s``); halves without a partner are dropped and counted as orphans.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from imu_monitor.devices.packet_layout import (
    PacketLayout,
    encode,
    polar_delta_decode,
    polar_delta_decode_many,
)
from imu_monitor.devices.profiles import HeaderField, Profile, normalize_uuid
from imu_monitor.model import SampleChunk

__all__ = ["DecodeStats", "Decoder", "encode"]

log = logging.getLogger(__name__)

_EMPTY3 = np.zeros((0, 3))


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
        }


# ------------------------------------------------------------------------------ decoder


class _Track:
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
class _KindState:
    """Per packet kind: counter/timestamp tracks, grid index, last time handed out."""

    counter: _Track | None = None
    ts: _Track | None = None
    grid_k: int = 0
    last_t: float = -np.inf


class _Batch:
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


MAX_GAP_S = 5.0
"""A counter/timestamp jump longer than this needs a second packet to confirm it."""


class Decoder:
    """Turns the notifications of one sensor into ``SampleChunk``s (see module docstring).

    ``t0_s``: the receive-clock time (the clock of ``t_received_s``) that is session time 0;
    None puts the first decoded sample at 0.
    """

    def __init__(self, profile: Profile, sensor: str, t0_s: float | None = None) -> None:
        self.profile = profile
        self.sensor = sensor
        self.t0_s = t0_s
        self.stats = DecodeStats()
        self.rate_hz = float(profile.rate_hz)
        self._layouts = [PacketLayout(p, i) for i, p in enumerate(profile.packets)]
        self._by_char: dict[str, list[PacketLayout]] = {}
        for lay in self._layouts:
            self._by_char.setdefault(lay.spec.char_uuid, []).append(lay)
        self._ignore: dict[str, list] = {}
        for ig in profile.ignore:
            self._ignore.setdefault(ig.char_uuid, []).append(ig)
        self._tol = profile.pair_tolerance_s
        self._max_pending = max(64, int(2.0 * self.rate_hz))
        self._pending_cap = self._max_pending
        self._last_emit_t = -np.inf
        self.resync()

    def resync(self) -> None:
        """Forget counters and time anchors (call after a reconnect: the firmware may restart
        its counter or clock). The next packet anchors again at its receive time, placed after
        the last sample already handed out. Stats are kept."""
        self._kinds: list[_KindState] = []
        for lay in self._layouts:
            st = _KindState()
            s = lay.spec
            if s.counter is not None:
                st.counter = _Track(s.counter, 1.0, True, MAX_GAP_S * self.rate_hz)
            if s.timestamp is not None:
                tps = 1.0 / (self.rate_hz * s.timestamp.units_s)
                st.ts = _Track(s.timestamp, tps, False, MAX_GAP_S / s.timestamp.units_s)
                st.ts.count_loss = s.counter is None  # the counter counts loss when present
            self._kinds.append(st)
        self._offset: float | None = None
        self._grid0: float | None = None
        self._pending: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {"acc": [], "gyr": []}
        self._resynced = self._last_emit_t > -np.inf

    # -------------------------------------------------------------- public feeding

    def feed(self, char_uuid: str, data: bytes, t_received_s: float) -> SampleChunk | None:
        """Decode one notification received at ``t_received_s`` (s, receive clock). Returns the
        complete 6-axis samples it yields, or None. Never raises on bad bytes."""
        return self.feed_many(char_uuid, (data,), (t_received_s,))

    def feed_many(
        self, char_uuid: str, payloads: Sequence[bytes], t_received_s: Sequence[float]
    ) -> SampleChunk | None:
        """Decode notifications of one characteristic in arrival order; runs of equally long
        packets of one kind decode with one ``np.frombuffer``. ``t_received_s``: (P,) s."""
        lays = self._by_char.get(char_uuid)
        if lays is None:
            char_uuid = normalize_uuid(char_uuid)
            lays = self._by_char.get(char_uuid, [])
        npk = len(payloads)
        self.stats.packets += npk
        if not lays and char_uuid not in self._ignore:
            self.stats.bad("unknown_char", npk)
            return None
        out: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]] = []
        batch = _Batch(payloads, t_received_s)
        # runs of consecutive packets of one kind and length decode together (Polar delta
        # frames: all frames of one kind); when acc and gyro come in separate packets, each
        # stream's packets are taken together (pairing sorts them out by time), so a batch of
        # alternating acc/gyro messages still vectorises
        runs: list[tuple[PacketLayout, int, list[int]]] = []
        if npk >= 32:
            runs = self._runs_many(char_uuid, lays, batch)
        else:
            for i, data in enumerate(payloads):  # arrival order (keeps pairing queues short)
                lay, n = self._classify(char_uuid, lays, data)
                if lay is None:
                    continue
                if not runs or runs[-1][0] is not lay or runs[-1][1] != n or n < 0:
                    runs.append((lay, n, []))
                runs[-1][2].append(i)
        self._pending_cap = max(
            self._max_pending, 3 * npk * (lays[0].spec.max_samples if lays else 1)
        )
        try:
            for lay, n, idx in runs:
                self._decode_run(lay, n, batch, idx, out)
        finally:
            self._pending_cap = self._max_pending
        out = [o for o in out if len(o[0])]
        if not out:
            return None
        if len(out) == 1:
            t, acc, gyr, seq = out[0]
        else:
            t = np.concatenate([o[0] for o in out])
            acc = np.concatenate([o[1] for o in out])
            gyr = np.concatenate([o[2] for o in out])
            seqs = [o[3] for o in out]
            seq = None if any(s is None for s in seqs) else np.concatenate(seqs)
        self.stats.samples += len(t)
        self._last_emit_t = float(t[-1])
        return SampleChunk(self.sensor, t, acc, gyr, seq, float(t_received_s[-1]))

    # -------------------------------------------------------------- classification

    def _runs_many(self, char: str, lays: list[PacketLayout], batch: _Batch):
        """Vectorised classification of a batch: packets grouped by length, header bytes compared
        as a 2-D array. Returns runs (layout, n, indices) in decode order: consecutive packets of
        one kind and length (compressed frames: n = -1, any length); with acc and gyro in
        separate packets, each stream's packets are taken together (pairing sorts them out by
        time), the stream of the first data packet first (it anchors the time base, as it
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
            self._classify(char, lays, payloads[i])
        order = np.flatnonzero(kind >= 0)
        if len(order) == 0:
            return []
        if self.profile.combined:
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

    def _classify(
        self, char: str, lays: list[PacketLayout], data: bytes
    ) -> tuple[PacketLayout | None, int]:
        """The packet kind of ``data`` and its sample count (-1: compressed); else count why."""
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
        for ig in self._ignore.get(char, ()):
            if all(data[o : o + len(h)] == h for o, h in ig.match):
                self.stats.ignored += 1
                return None, 0
        self.stats.bad(reason)
        return None, 0

    # -------------------------------------------------------------- decoding a run

    def _decode_run(self, lay, n, batch: _Batch, idx, out) -> None:
        """Decode packets ``idx`` of ``batch``, all of kind ``lay`` with ``n`` samples each
        (n = -1: compressed frames of any length)."""
        if n < 0:  # compressed (Polar delta frames)
            if len(idx) == 1:
                i = int(idx[0])
                self._decode_delta(lay, batch.payloads[i], batch.t_recv[i], out)
            else:
                self._decode_delta_many(lay, batch, np.asarray(idx, dtype=np.int64), out)
            return
        if len(idx) == 1:
            i = int(idx[0])
            arr = np.frombuffer(batch.payloads[i], dtype=lay.dtype(n))
            tr = np.array([float(batch.t_recv[i])])
        else:
            idx = np.asarray(idx, dtype=np.int64)
            dt = lay.dtype(n)
            arr = batch.rows(idx, dt.itemsize).view(dt).reshape(-1)
            tr = batch.tr[idx]
        p = len(arr)
        keep = None
        if lay.spec.count is not None:
            ok = arr["_count"].astype(np.int64) == n
            if not ok.all():
                self.stats.bad("count_mismatch", int((~ok).sum()))
                keep = ok
        raws = {name: lay.raw_field(arr, name) for name in lay.streams}
        if lay.is_float:
            fin = np.ones(p, dtype=bool)
            for raw in raws.values():
                fin &= np.isfinite(raw).reshape(p, -1).all(axis=1)
            if not fin.all():
                bad = ~fin if keep is None else keep & ~fin
                self.stats.bad("non_finite", int(bad.sum()))
                keep = fin if keep is None else keep & fin
        if keep is not None:
            if not keep.any():
                return
            arr, tr = arr[keep], tr[keep]
            raws = {k: v[keep] for k, v in raws.items()}
        si = {k: lay.to_si(v, k) for k, v in raws.items()}
        counter = arr["_counter"] if lay.spec.counter is not None else None
        ts = arr["_ts"] if lay.spec.timestamp is not None else None
        self._emit(lay, n, si, counter, ts, tr, out)

    def _decode_delta(self, lay, data: bytes, t_recv: float, out) -> None:
        """One Polar delta frame (the live path)."""
        spec = lay.spec
        ref_bytes = np.dtype(spec.fields[0].dtype).itemsize
        raw = polar_delta_decode(data[spec.data_offset :], 3, ref_bytes)
        if raw is None or len(raw) > spec.max_samples:
            self.stats.bad("bad_delta_frame")
            return
        hf = spec.timestamp
        ts = None
        if hf is not None:
            ts = np.frombuffer(data, dtype=hf.dtype, count=1, offset=hf.offset)
        counter = None
        if spec.counter is not None:
            counter = np.frombuffer(
                data, dtype=spec.counter.dtype, count=1, offset=spec.counter.offset
            )
        si = {lay.stream: lay.to_si(raw, lay.stream)}
        self._emit(lay, len(raw), si, counter, ts, np.array([float(t_recv)]), out)

    def _decode_delta_many(self, lay, batch: _Batch, idx: np.ndarray, out) -> None:
        """Polar delta frames ``idx`` of ``batch`` (one kind), decoded together
        (``polar_delta_decode_many``); consecutive frames with equal sample counts go to
        ``_emit`` together. Same samples, times and counts as ``_decode_delta`` frame by
        frame."""
        spec = lay.spec
        ref_bytes = np.dtype(spec.fields[0].dtype).itemsize
        pkt_start = batch.starts[idx]
        ends = pkt_start + batch.lengths[idx]
        raw, cnt = polar_delta_decode_many(
            batch.u8, pkt_start + spec.data_offset, ends, 3, ref_bytes
        )
        good = (cnt > 0) & (cnt <= spec.max_samples)
        n_bad = len(idx) - int(good.sum())
        if n_bad:
            self.stats.bad("bad_delta_frame", n_bad)
            raw = raw[np.repeat(good[cnt > 0], cnt[cnt > 0])]
            idx, pkt_start, cnt = idx[good], pkt_start[good], cnt[good]
        if len(idx) == 0:
            return
        si_all = lay.to_si(raw, lay.stream)
        u8 = batch.u8

        def header(hf):
            if hf is None:
                return None
            cols = pkt_start[:, None] + hf.offset + np.arange(hf.nbytes)
            return u8[cols].view(hf.dtype).reshape(-1)

        ts_all, counter_all = header(spec.timestamp), header(spec.counter)
        tr_all = batch.tr[idx]
        cuts = np.flatnonzero(np.diff(cnt) != 0) + 1
        bounds = np.concatenate(([0], cuts, [len(cnt)])).tolist()
        row0 = np.concatenate(([0], np.cumsum(cnt))).tolist()
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            sl = slice(a, b)
            si = {lay.stream: si_all[row0[a] : row0[b]]}
            ts = None if ts_all is None else ts_all[sl]
            counter = None if counter_all is None else counter_all[sl]
            self._emit(lay, int(cnt[a]), si, counter, ts, tr_all[sl], out)

    def _emit(self, lay, n, si, counter, ts, tr, out) -> None:
        """Give ``P`` decoded packets of ``n`` samples each their times and hand them on."""
        st = self._kinds[lay.index]
        keep = None
        seq = seq_first = tsu = None
        if counter is not None:
            seq_first, keep = st.counter.update(counter, n, self.stats)
            if lay.spec.counter.per == "packet":
                seq_first = seq_first * n
        if ts is not None:
            if keep is None or keep.all():
                tsu, keep = st.ts.update(ts, n, self.stats)
            else:  # only packets the counter accepted move the timestamp track
                tsu = np.zeros(len(ts), dtype=np.int64)
                tsu[keep], keep_ts = st.ts.update(ts[keep], n, self.stats)
                keep[np.flatnonzero(keep)[~keep_ts]] = False
        if keep is not None and not keep.all():
            if not keep.any():
                return
            sel = np.repeat(keep, n)
            si = {k: v[sel] for k, v in si.items()}
            tr = tr[keep]
            seq_first = None if seq_first is None else seq_first[keep]
            tsu = None if tsu is None else tsu[keep]
        if seq_first is not None:
            seq = (seq_first[:, None] + np.arange(n)).reshape(-1)
        rate = self.rate_hz
        src = self.profile.time_source
        if src in ("timestamp", "counter"):
            if src == "timestamp":
                hf = lay.spec.timestamp
                dev = tsu.astype(np.float64) * hf.units_s
                if hf.sample == "last":
                    dev = dev - (n - 1) / rate
            else:
                dev = seq_first.astype(np.float64) / rate
            off = self._device_offset(float(dev[0]), float(tr[0]), n)
            t = (dev - off)[:, None] + np.arange(n) / rate
        elif src == "receive":
            t = self._session(tr, n)[:, None] - np.arange(n - 1, -1, -1) / rate
        else:
            t = self._grid_times(st, n, self._session(tr, n))
        # never hand out a time at or before one already handed out for this kind (also across
        # the packets of one call, as packet by packet)
        back = t[0, 0] <= st.last_t or (len(t) > 1 and bool((t[1:, 0] <= t[:-1, -1]).any()))
        t = t.reshape(-1)
        if back:
            spacing = 0.25 / rate
            steps = np.arange(len(t)) * spacing
            t = np.maximum.accumulate(np.maximum(t, st.last_t + spacing) - steps) + steps
        st.last_t = float(t[-1])
        if lay.stream is None:
            out.append((t, si["acc"], si["gyr"], seq))
        else:
            self._pair(lay.stream, t, si[lay.stream], out)

    # -------------------------------------------------------------- time bases

    def _first_anchor(self, t_recv: float, n: int) -> float:
        """Session time of the first sample of the first packet after (re)anchoring."""
        if self._resynced:
            return self._last_emit_t + 1.0 / self.rate_hz
        if self.t0_s is None:
            return 0.0
        return t_recv - self.t0_s - (n - 1) / self.rate_hz

    def _device_offset(self, dev_first: float, t_recv: float, n: int) -> float:
        """Device seconds minus session seconds (set by the first packet)."""
        if self._offset is None:
            self._offset = dev_first - self._first_anchor(t_recv, n)
        return self._offset

    def _session(self, tr: np.ndarray, n: int) -> np.ndarray:
        """Receive times (P,) -> session seconds (last sample of each packet)."""
        if self._offset is None:
            first = self._first_anchor(float(tr[0]), n) + (n - 1) / self.rate_hz
            self._offset = float(tr[0]) - first
        return tr - self._offset

    def _grid_times(self, st: _KindState, n: int, tr: np.ndarray) -> np.ndarray:
        """receive_nominal: (P, n) sample times on the shared nominal-rate grid."""
        period = 1.0 / self.rate_hz
        p = len(tr)
        if self._grid0 is None:
            self._grid0 = float(tr[0]) - (st.grid_k + n - 1) * period
        thresh = self.profile.reanchor_samples * period
        if p <= 8:  # the usual live case: scalar arithmetic is cheaper than numpy here
            firsts = []
            k = st.grid_k
            for tr_i in tr.tolist():
                lag = tr_i - (self._grid0 + (k + n - 1) * period)
                if lag > thresh:  # lost packets or a fast device clock: jump forward
                    jump = int(round(lag * self.rate_hz))
                    k += jump
                    self.stats.reanchors += 1
                    self.stats.lost_samples_estimated += jump
                elif lag < -0.5 * period:  # grid ahead of receive time: pull it back a little
                    self._grid0 -= min(-lag, 0.25 * period)
                firsts.append(self._grid0 + k * period)
                k += n
            st.grid_k = k
            return np.asarray(firsts)[:, None] + np.arange(n) * period
        ks = st.grid_k + np.arange(p) * n
        t_first = np.empty(p)
        start = 0
        while start < p:
            lag = tr[start:] - (self._grid0 + (ks[start:] + n - 1) * period)
            bad = np.flatnonzero((lag > thresh) | (lag < -0.5 * period))
            stop = p if len(bad) == 0 else start + int(bad[0])
            t_first[start:stop] = self._grid0 + ks[start:stop] * period
            if stop == p:
                break
            lag_j = float(lag[bad[0]])
            if lag_j > thresh:  # lost packets or a fast device clock: jump forward
                jump = int(round(lag_j * self.rate_hz))
                ks[stop:] += jump
                self.stats.reanchors += 1
                self.stats.lost_samples_estimated += jump
            else:  # the grid runs ahead of receive time: pull it back a little
                self._grid0 -= min(-lag_j, 0.25 * period)
            t_first[stop] = self._grid0 + ks[stop] * period
            start = stop + 1
        st.grid_k = int(ks[-1] + n)
        return t_first[:, None] + np.arange(n) * period

    # -------------------------------------------------------------- pairing halves

    def _pair(self, name: str, t: np.ndarray, vals: np.ndarray, out: list) -> None:
        """Queue one half (acc or gyr) and emit the 6-axis samples that now have partners."""
        self._pending[name].append((t, vals))
        ta, va = _cat(self._pending["acc"])
        tg, vg = _cat(self._pending["gyr"])
        tol = self._tol
        old_a = ta <= self._last_emit_t
        old_g = tg <= self._last_emit_t
        matched_a = np.zeros(len(ta), dtype=bool)
        matched_g = np.zeros(len(tg), dtype=bool)
        ia = ig = np.zeros(0, dtype=np.int64)
        if len(ta) and len(tg):
            j = np.searchsorted(tg, ta - tol, side="left")
            jc = np.minimum(j, len(tg) - 1)
            ok = (j < len(tg)) & (np.abs(tg[jc] - ta) <= tol) & ~old_a & ~old_g[jc]
            ia, ig = np.flatnonzero(ok), jc[ok]
            if len(ig) > 1:
                first = np.concatenate(([True], ig[1:] != ig[:-1]))
                ia, ig = ia[first], ig[first]
            matched_a[ia] = True
            matched_g[ig] = True
        last_pair = ta[ia[-1]] if len(ia) else -np.inf
        horizon_a = (tg[-1] - tol) if len(tg) else -np.inf
        horizon_g = (ta[-1] - tol) if len(ta) else -np.inf
        orphan_a = ~matched_a & (old_a | (ta < horizon_a) | (ta < last_pair))
        orphan_g = ~matched_g & (old_g | (tg < horizon_g) | (tg < last_pair))
        for orphan, matched in ((orphan_a, matched_a), (orphan_g, matched_g)):
            keep = ~matched & ~orphan
            extra = int(keep.sum()) - self._pending_cap
            if extra > 0:  # the other stream stalls: drop the oldest
                orphan[np.flatnonzero(keep)[:extra]] = True
        self.stats.orphan_acc += int(orphan_a.sum())
        self.stats.orphan_gyr += int(orphan_g.sum())
        keep_a = ~matched_a & ~orphan_a
        keep_g = ~matched_g & ~orphan_g
        self._pending["acc"] = [(ta[keep_a], va[keep_a])] if keep_a.any() else []
        self._pending["gyr"] = [(tg[keep_g], vg[keep_g])] if keep_g.any() else []
        if len(ia):
            out.append((ta[ia], va[ia], vg[ig], None))
            self._last_emit_t = float(ta[ia[-1]])


def _cat(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    if not parts:
        return np.zeros(0), _EMPTY3
    if len(parts) == 1:
        return parts[0]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
