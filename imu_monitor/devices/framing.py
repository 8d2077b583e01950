"""Cutting fixed-length frames out of a byte stream that arrives in notifications (WitMotion:
20-byte ``55 61`` data and ``55 71`` register-reply frames, several per notification or split
across two).

The buffer is kept across notifications and walked frame by frame, as the vendor parsers do
(WITMOTION/WitBluetooth_BWT901BLE5_0 ``device_model.py``): a frame must start with the sync bytes
and a known kind (a packet's or ignore's header); anything else is skipped byte by byte and
counted, so the walk re-synchronises on the next good header.

``PacketJoiner`` joins a packet split over two notifications (Movesense ``gatt_sensordata_app``
since release 2.2.1: ``02 ref`` + the first 150 payload bytes, then ``03 ref`` + the rest).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from imu_monitor.devices.decode_stats import DecodeStats
from imu_monitor.devices.profile_schema import Continuation, Framing, Profile


class StreamFramer:
    """One characteristic's frame buffer. ``kinds``: the headers (``framing.header_length``
    bytes) of the frames the profile knows (decoded packets and ignored replies)."""

    def __init__(self, framing: Framing, kinds: set[bytes], stats: DecodeStats) -> None:
        self.framing = framing
        self.kinds = frozenset(kinds)
        self._kind_codes = np.array([int.from_bytes(k, "big") for k in kinds], dtype=np.uint64)
        self.stats = stats
        self._buf = bytearray()

    def reset(self) -> None:
        """Drop a partial frame (after a reconnect the stream starts afresh)."""
        self._buf.clear()

    @property
    def pending(self) -> int:
        """Bytes waiting for the rest of their frame."""
        return len(self._buf)

    def push_aligned(
        self, payloads: Sequence[bytes], t_received_s: Sequence[float]
    ) -> tuple[list[bytes], np.ndarray] | None:
        """The common case at once: nothing pending, every notification whole frames, every
        frame of a known kind (a recorded stream). Returns (frames, receive times), or None when
        the stream needs the walk of ``push`` (same result either way)."""
        fr = self.framing
        flen, hlen = fr.frame_length, fr.header_length
        if self._buf or len(payloads) < 8 or hlen > 8:
            return None
        lengths = np.fromiter(map(len, payloads), dtype=np.int64, count=len(payloads))
        if (lengths % flen).any() or not lengths.all():
            return None
        rows = np.frombuffer(b"".join(payloads), dtype=np.uint8).reshape(-1, flen)
        weights = np.left_shift(1, 8 * np.arange(hlen - 1, -1, -1, dtype=np.uint64))
        head = rows[:, :hlen].astype(np.uint64) @ weights.astype(np.uint64)
        if not np.isin(head, self._kind_codes).all():
            return None
        frames = [r.tobytes() for r in rows]
        times = np.repeat(np.asarray(t_received_s, dtype=np.float64), lengths // flen)
        return frames, times

    def push(self, data: bytes) -> list[bytes]:
        """Append one notification; return the whole frames of known kinds now complete."""
        fr = self.framing
        buf = self._buf
        buf += data
        sync, hlen, flen = fr.sync, fr.header_length, fr.frame_length
        out: list[bytes] = []
        i = 0
        n = len(buf)
        skipped = 0
        while n - i >= len(sync):
            if buf[i : i + len(sync)] != sync:
                j = buf.find(sync, i + 1)
                if j < 0:  # keep a possible partial sync at the end
                    j = max(i + 1, n - len(sync) + 1)
                skipped += j - i
                i = j
                continue
            if n - i < hlen:
                break
            if bytes(buf[i : i + hlen]) not in self.kinds:
                self.stats.bad("unknown_frame_kind")
                skipped += 1
                i += 1
                continue
            if n - i < flen:
                break
            out.append(bytes(buf[i : i + flen]))
            i += flen
        del buf[:i]
        self.stats.skipped_bytes += skipped
        return out


class PacketJoiner:
    """One characteristic's split packets (see ``profile_schema.Continuation``)."""

    def __init__(self, cont: Continuation, stats: DecodeStats) -> None:
        self.cont = cont
        self.stats = stats
        self._held: tuple[bytes, float] | None = None

    def reset(self) -> None:
        """Drop a first part still waiting (after a reconnect)."""
        self._held = None

    def push(
        self, payloads: Sequence[bytes], t_received_s: Sequence[float]
    ) -> tuple[list[bytes], list[float]]:
        """Notifications -> whole packets with their receive times (a joined packet takes its
        continuation's). A first part waits for the next notification, also across calls; one
        never continued is passed on as it is; a continuation without a first part is counted
        (``orphan_continuation``) and dropped."""
        out: list[bytes] = []
        times: list[float] = []
        first, nxt, split = self.cont.first, self.cont.next, self.cont.split_length
        for data, t in zip(payloads, t_received_s, strict=True):
            data = bytes(data)
            held, self._held = self._held, None
            if data[: len(nxt)] == nxt:
                if held is None:
                    self.stats.bad("orphan_continuation")
                else:
                    out.append(held[0] + data[len(nxt) :])
                    times.append(float(t))
                continue
            if held is not None:
                out.append(held[0])
                times.append(held[1])
            if len(data) == split and data[: len(first)] == first:
                self._held = (data, float(t))
                continue
            out.append(data)
            times.append(float(t))
        return out, times


class StreamAssembler:
    """A profile's framers and joiners by characteristic: notifications in, packets out."""

    def __init__(self, profile: Profile, stats: DecodeStats) -> None:
        self.framers: dict[str, StreamFramer] = {}
        for fr in profile.framing:
            kinds = {
                dict(x.match)[0][: fr.header_length]
                for x in (*profile.packets, *profile.ignore)
                if x.char_uuid == fr.char_uuid
            }
            self.framers[fr.char_uuid] = StreamFramer(fr, kinds, stats)
        self.joiners = {c.char_uuid: PacketJoiner(c, stats) for c in profile.continuation}
        self.chars = frozenset(self.framers) | frozenset(self.joiners)
        """Characteristics whose notifications are not one packet each."""

    def reset(self) -> None:
        for x in (*self.framers.values(), *self.joiners.values()):
            x.reset()

    def push(
        self, char_uuid: str, payloads: Sequence[bytes], t_received_s: Sequence[float]
    ) -> tuple[Sequence[bytes], Sequence[float]]:
        """The whole packets in these notifications of ``char_uuid``, with receive times (a
        packet completed by a notification takes its time)."""
        joiner = self.joiners.get(char_uuid)
        if joiner is not None:
            payloads, t_received_s = joiner.push(payloads, t_received_s)
        framer = self.framers.get(char_uuid)
        if framer is None:
            return payloads, t_received_s
        fast = framer.push_aligned(payloads, t_received_s)
        if fast is not None:
            return fast
        frames: list[bytes] = []
        times: list[float] = []
        for data, t in zip(payloads, t_received_s, strict=True):
            got = framer.push(bytes(data))
            frames += got
            times += [float(t)] * len(got)
        return frames, times
