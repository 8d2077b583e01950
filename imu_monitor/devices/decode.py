"""Decode wearable notifications into ``SampleChunk``s, as a firmware profile describes them.

One ``Decoder`` per connected sensor. ``feed()`` takes one notification; ``feed_many()`` takes a
run of notifications and decodes every run of equally long packets of one kind with a single
``np.frombuffer`` over a structured dtype (no per-sample Python). Bad bytes never raise: they are
counted by reason in ``Decoder.stats.malformed`` and skipped, and so are packets whose samples
no IMU can measure (``plausibility``: reason ``implausible``).

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

A characteristic with ``[[framing]]`` is a byte stream: notifications go through a
``framing.StreamFramer`` (buffer kept across notifications, every frame's header checked) and each
whole frame is then decoded as a packet received with the notification that completed it.
Fields with ``scale_by`` are scaled by a value a start reply carried (``set_captured``).

Acc and gyro sent in separate notifications are paired by time (within
``timing.pair_tolerance_s``); halves without a partner are dropped and counted as orphans.

Length: one class; its batch, delta, joined-packet and time-base paths share the per-kind
state they update, so they stay together. Stateless parts live apart (``batch``, ``framing``,
``polar_delta``, ``timebase``, ``decode_stats``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np

from imu_monitor.devices.batch import NotificationBatch, classify, runs_many
from imu_monitor.devices.decode_stats import MAX_GAP_S, DecodeStats, KindState, SequenceTrack
from imu_monitor.devices.framing import StreamAssembler
from imu_monitor.devices.packet_layout import (
    PacketLayout,
    encode,
    polar_delta_decode,
    polar_delta_decode_many,
)
from imu_monitor.devices.pairing import HalfPairer
from imu_monitor.devices.plausibility import implausible_packets
from imu_monitor.devices.profile_schema import Profile, normalize_uuid
from imu_monitor.devices.timebase import NominalGrid
from imu_monitor.model import SampleChunk

__all__ = ["DecodeStats", "Decoder", "encode"]

log = logging.getLogger(__name__)


CARRY_TOLERANCE_S = 0.25
"""How much further (s) than during the previous connection a packet's last sample may lie after
its receive time when a reconnected device's clock is taken to have run on (host scheduling,
clock drift); a restarted clock puts the samples before the last handed out, a jumped one far
beyond this."""


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
        self._assembler = StreamAssembler(profile, self.stats)
        self.on_half: Callable[[str, np.ndarray, np.ndarray], None] | None = None
        """Called with (stream, t_s, values) for every acc or gyr half before pairing (when the
        device sends them separately): to see what one message means on its own."""
        self.captured: dict[str, float] = {}
        self.set_captured({c.name: c.default for c in profile.captures if c.default is not None})
        self._tol = profile.pair_tolerance_s
        self._max_pending = max(64, int(2.0 * self.rate_hz))
        self._pending_cap = self._max_pending
        self._last_emit_t = -np.inf
        self.resync()

    def resync(self) -> None:
        """Forget counters and time anchors (call after a reconnect: the firmware may restart
        its counter or clock). The next packet anchors again at its receive time, placed after
        the last sample already handed out. Stats are kept."""
        self._kinds: list[KindState] = []
        for lay in self._layouts:
            st = KindState()
            s = lay.spec
            if s.counter is not None:
                st.counter = SequenceTrack(s.counter, 1.0, True, MAX_GAP_S * self.rate_hz)
            if s.timestamp is not None:
                tps = 1.0 / (self.rate_hz * s.timestamp.units_s)
                st.ts = SequenceTrack(s.timestamp, tps, False, MAX_GAP_S / s.timestamp.units_s)
                st.ts.count_loss = s.counter is None  # the counter counts loss when present
            self._kinds.append(st)
        self._offset: float | None = None
        self._carried: tuple[float, float, float] | None = None
        self.ahead_s = 0.0
        """How far the time base put a packet's last sample after its receive time, at most
        (s; > 0 when the first packet anchored late)."""
        self._grid = NominalGrid(self.rate_hz, self.profile.reanchor_samples, self.stats)
        self._pairer = HalfPairer(self._tol, self.stats)
        self._resynced = self._last_emit_t > -np.inf
        self._assembler.reset()

    def set_captured(self, values: dict[str, float]) -> None:
        """Values a start reply carried (``devices.replies.check_reply``), e.g. Polar's
        conversion factor: fields with ``scale_by`` scale by them from now on."""
        self.captured.update({k: float(v) for k, v in values.items()})
        for lay in self._layouts:
            lay.set_factors(self.captured)

    @property
    def device_offset_s(self) -> float | None:
        """Device seconds minus session seconds, once the first packet anchored it (``timestamp``
        and ``counter`` time sources; None for the others)."""
        return self._offset if self.profile.time_source in ("timestamp", "counter") else None

    def continue_device_clock(
        self, device_offset_s: float | None, after_t_s: float | None, ahead_s: float = 0.0
    ) -> None:
        """After a reconnect, before the first packet: the device's clock (timestamp or counter)
        may have run on while the link was down. The first packet then keeps the previous
        connection's ``device_offset_s`` when its samples fall after ``after_t_s`` (the last
        session time handed out) and its last sample lies no further after its receive time
        than ``ahead_s`` (the previous connection's ``ahead_s``) plus ``CARRY_TOLERANCE_S``;
        else (a restarted or jumped device clock) it anchors on its receive time as usual. So a
        first packet that arrives late (notifications held back while the link came back) does
        not shift the rest of the session."""
        if device_offset_s is None or after_t_s is None:
            self._carried = None
        else:
            self._carried = (float(device_offset_s), float(after_t_s), max(float(ahead_s), 0.0))

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
        if char_uuid in self._assembler.chars:  # split packets joined, frames cut
            payloads, t_received_s = self._assembler.push(char_uuid, payloads, t_received_s)
            if not payloads:
                return None
            npk = len(payloads)
        ignore = self._ignore.get(char_uuid, ())
        out: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]] = []
        batch = NotificationBatch(payloads, t_received_s)
        # runs of consecutive packets of one kind and length decode together (Polar delta
        # frames: all frames of one kind); when acc and gyro come in separate packets, each
        # stream's packets are taken together (pairing sorts them out by time), so a batch of
        # alternating acc/gyro messages still vectorises
        runs: list[tuple[PacketLayout, int, list[int]]] = []
        if npk >= 32:
            runs = runs_many(lays, batch, ignore, self.stats, self.profile.combined)
        else:
            for i, data in enumerate(payloads):  # arrival order (keeps pairing queues short)
                lay, n = classify(data, lays, ignore, self.stats)
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

    def _decode_run(self, lay, n, batch: NotificationBatch, idx, out) -> None:
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

    def _decode_delta_many(self, lay, batch: NotificationBatch, idx: np.ndarray, out) -> None:
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
        bad = implausible_packets(si, n)  # header-less garbage decodes to tens of g
        if bad is not None:
            self.stats.bad("implausible", int(bad.sum() if keep is None else (bad & keep).sum()))
            keep = ~bad if keep is None else keep & ~bad
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
            if self.t0_s is not None:
                ahead = float(np.max(t[:, -1] - (tr - self.t0_s)))
                if ahead > self.ahead_s:
                    self.ahead_s = ahead
        elif src == "receive":
            t = self._session(tr, n)[:, None] - np.arange(n - 1, -1, -1) / rate
        else:
            t = self._grid.times(st, n, self._session(tr, n))
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
            if self.on_half is not None:
                self.on_half(lay.stream, t, si[lay.stream])
            self._last_emit_t = self._pairer.pair(
                lay.stream, t, si[lay.stream], self._last_emit_t, self._pending_cap, out
            )

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
            self._offset = self._carried_offset(dev_first, t_recv, n)
        if self._offset is None:
            self._offset = dev_first - self._first_anchor(t_recv, n)
        return self._offset

    def _carried_offset(self, dev_first: float, t_recv: float, n: int) -> float | None:
        """The previous connection's offset, if this first packet fits it (see
        ``continue_device_clock``)."""
        carried, self._carried = self._carried, None
        if carried is None or self.t0_s is None:
            return None
        offset, after_t, ahead = carried
        t_first = dev_first - offset
        t_last = t_first + (n - 1) / self.rate_hz
        if t_first > after_t and t_last <= t_recv - self.t0_s + ahead + CARRY_TOLERANCE_S:
            self.ahead_s = ahead
            return offset
        return None

    def _session(self, tr: np.ndarray, n: int) -> np.ndarray:
        """Receive times (P,) -> session seconds (last sample of each packet)."""
        if self._offset is None:
            first = self._first_anchor(float(tr[0]), n) + (n - 1) / self.rate_hz
            self._offset = float(tr[0]) - first
        return tr - self._offset
