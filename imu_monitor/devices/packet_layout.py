"""Byte layouts of notifications: structured numpy dtypes built from a profile's ``[[packet]]``
tables, the Polar PMD delta-frame codec, and ``encode`` (SI samples -> the notifications the
firmware would send). ``imu_monitor.devices.decode`` uses these to decode."""

from __future__ import annotations

from typing import Any

import numpy as np

from imu_monitor.devices.polar_delta import (
    polar_delta_decode,
    polar_delta_decode_many,
    polar_delta_encode,
)
from imu_monitor.devices.profile_schema import PacketSpec, Profile

__all__ = [
    "PacketLayout",
    "encode",
    "polar_delta_decode",
    "polar_delta_decode_many",
    "polar_delta_encode",
]


class PacketLayout:
    """Precomputed decode/encode machinery for one packet kind of a profile."""

    def __init__(self, spec: PacketSpec, index: int) -> None:
        self.spec = spec
        self.index = index
        self.streams = spec.streams
        self.stream = next(iter(self.streams)) if len(self.streams) == 1 else None
        self.match = spec.match
        self.match_end = max((o + len(h) for o, h in spec.match), default=0)
        self.sample_nbytes = spec.sample_nbytes
        self.is_float = any(f.dtype[1] == "f" for f in spec.fields if f.name in self.streams)
        self.mats: dict[str, np.ndarray] = {}
        for f in spec.fields:
            if f.name in self.streams:
                m = np.zeros((3, 3))
                for src, (dst, sign) in enumerate(f.axes):
                    m[dst, src] = sign * f.scale
                self.mats[f.name] = m.T  # si (m, 3) = raw (m, 3) @ mat
        # axes are a signed permutation: each SI axis is one raw column times a factor, cheaper
        # than a (m, 3) @ (3, 3) product (same values)
        self._cols: dict[str, list[tuple[int, float]]] = {}
        for name, mat in self.mats.items():
            nz = [np.flatnonzero(mat[:, d]) for d in range(3)]
            if all(len(z) == 1 for z in nz):
                self._cols[name] = [(int(z[0]), float(mat[z[0], d])) for d, z in enumerate(nz)]
        self._dtypes: dict[int, np.dtype] = {}
        self.scale_by = {f.name: f.scale_by for f in spec.fields if f.scale_by is not None}
        """Stream name -> the captured value its scale is multiplied by."""
        self.factors: dict[str, float] = {}
        """Stream name -> the current captured factor (absent: 1)."""

    def set_factors(self, values: dict[str, float]) -> None:
        """Captured values by name (``Decoder.set_captured``) -> this layout's scale factors."""
        self.factors = {
            stream: float(values[cap]) for stream, cap in self.scale_by.items() if cap in values
        }

    def n_samples(self, length: int) -> int | None:
        """Samples in an uncompressed packet of ``length`` bytes, or None if it cannot be one."""
        s = self.spec
        body = length - s.data_offset
        if body <= 0 or body % self.sample_nbytes:
            return None
        n = body // self.sample_nbytes
        if (s.samples is not None and n != s.samples) or n > s.max_samples:
            return None
        return n

    def dtype(self, n: int) -> np.dtype:
        """Structured dtype of a whole packet carrying ``n`` samples (cached per ``n``).

        Header fields are ``_counter``, ``_ts``, ``_count``; interleaved samples are ``_rec``
        (shape (n,), one record per sample), planar blocks are named after their field, shape
        (n, count)."""
        dt = self._dtypes.get(n)
        if dt is not None:
            return dt
        s = self.spec
        names: list[str] = []
        formats: list[Any] = []
        offsets: list[int] = []
        for key, hf in (("_counter", s.counter), ("_ts", s.timestamp), ("_count", s.count)):
            if hf is not None:
                names.append(key)
                formats.append(hf.dtype)
                offsets.append(hf.offset)
        if s.layout == "interleaved":
            rec_off = 0
            rnames, rformats, roffsets = [], [], []
            for f in s.fields:
                rnames.append(f.name)
                rformats.append((f.dtype, (f.count,)))
                roffsets.append(rec_off)
                rec_off += f.nbytes
            rec = np.dtype(
                {"names": rnames, "formats": rformats, "offsets": roffsets, "itemsize": rec_off}
            )
            names.append("_rec")
            formats.append((rec, (n,)))
            offsets.append(s.data_offset)
        else:
            off = s.data_offset
            for f in s.fields:
                names.append(f.name)
                formats.append((f.dtype, (n, f.count)))
                offsets.append(off)
                off += f.nbytes * n
        dt = np.dtype(
            {
                "names": names,
                "formats": formats,
                "offsets": offsets,
                "itemsize": s.data_offset + n * self.sample_nbytes,
            }
        )
        self._dtypes[n] = dt
        return dt

    def raw_field(self, arr: np.ndarray, name: str) -> np.ndarray:
        """Raw values of record field ``name`` from a packet array: shape (P, n, count)."""
        if self.spec.layout == "interleaved":
            return arr["_rec"][name]
        return arr[name]

    def to_si(self, raw: np.ndarray, name: str) -> np.ndarray:
        """Raw values (..., 3) -> SI (m, 3) float64 in the sensor frame."""
        raw = raw.reshape(-1, 3)
        cols = self._cols.get(name)
        k = self.factors.get(name)
        if cols is None:
            out = raw.astype(np.float64) @ self.mats[name]
            return out if k is None else out * k
        out = np.empty(raw.shape, dtype=np.float64)
        for dst, (src, coef) in enumerate(cols):
            if k is not None:
                coef = coef * k
            np.multiply(raw[:, src], coef, out=out[:, dst], dtype=np.float64)
        return out

    def from_si(self, si: np.ndarray, name: str) -> np.ndarray:
        """SI (m, 3) -> raw (m, 3) in this field's type (rounded and clipped if integer)."""
        raw = np.asarray(si, dtype=np.float64) @ np.linalg.inv(self.mats[name])
        k = self.factors.get(name)
        if k is not None:
            raw = raw / k
        f = next(f for f in self.spec.fields if f.name == name)
        dt = np.dtype(f.dtype)
        if dt.kind == "f":
            return raw.astype(dt)
        info = np.iinfo(dt)
        return np.clip(np.rint(raw), info.min, info.max).astype(dt)


# ------------------------------------------------------------------------------ encoding


def _encode_packets(
    lay: PacketLayout,
    rate_hz: float,
    t_s: np.ndarray,
    data: dict[str, np.ndarray],
    seq: np.ndarray,
) -> list[tuple[str, bytes, float]]:
    spec = lay.spec
    m = len(t_s)
    n = spec.encode_samples
    n_packets = m // n if spec.samples is not None else -(-m // n)
    out: list[tuple[str, bytes, float]] = []
    if n_packets == 0:
        return out
    raws = {name: lay.from_si(data[name], name) for name in lay.streams}
    bounds = [(i * n, min(m, (i + 1) * n)) for i in range(n_packets)]
    if spec.compression == "polar_delta":
        name = next(iter(lay.streams))
        ref_bytes = np.dtype(spec.fields[0].dtype).itemsize
        for k, (a, b) in enumerate(bounds):
            head = bytearray(spec.data_offset)
            for off, hx in spec.match:
                head[off : off + len(hx)] = hx
            _put_header(head, lay, k, a, b, t_s, seq)
            body = polar_delta_encode(raws[name][a:b], ref_bytes)
            out.append((spec.char_uuid, bytes(head) + body, float(t_s[b - 1])))
        return out
    # equal-sized packets first, vectorised; a short last packet (derived length) separately
    groups = [(0, n_packets if m % n == 0 or spec.samples is not None else n_packets - 1, n)]
    if groups[0][1] != n_packets:
        groups.append((groups[0][1], n_packets, m - groups[0][1] * n))
    for k0, k1, size in groups:
        if k1 <= k0:
            continue
        p = k1 - k0
        arr = np.zeros(p, dtype=lay.dtype(size))
        first = k0 * n + np.arange(p) * n
        last = first + size - 1
        if spec.counter is not None:
            cval = seq[first] if spec.counter.per == "sample" else np.arange(k0, k1)
            arr["_counter"] = np.mod(cval, spec.counter.wrap).astype(arr["_counter"].dtype)
        if spec.timestamp is not None:
            hf = spec.timestamp
            ts = t_s[first] if hf.sample == "first" else t_s[last]
            ticks = np.rint(ts / hf.units_s).astype(np.int64)
            if hf.wrap <= 2**32:
                ticks = np.mod(ticks, hf.wrap)
            arr["_ts"] = ticks.astype(arr["_ts"].dtype)
        if spec.count is not None:
            arr["_count"] = size
        sl = slice(k0 * n, k0 * n + p * size)
        for name in lay.streams:
            vals = raws[name][sl].reshape(p, size, 3)
            if spec.layout == "interleaved":
                arr["_rec"][name] = vals
            else:
                arr[name] = vals
        u8 = arr.view(np.uint8).reshape(p, -1)
        for off, hx in spec.match:
            u8[:, off : off + len(hx)] = np.frombuffer(hx, np.uint8)
        blob = u8.tobytes()
        sz = u8.shape[1]
        for i in range(p):
            out.append((spec.char_uuid, blob[i * sz : (i + 1) * sz], float(t_s[last[i]])))
    return out


def _put_header(head: bytearray, lay: PacketLayout, k: int, a: int, b: int, t_s, seq) -> None:
    spec = lay.spec
    if spec.counter is not None:
        hf = spec.counter
        v = int(seq[a]) if hf.per == "sample" else k
        head[hf.offset : hf.offset + hf.nbytes] = np.array(v % hf.wrap).astype(hf.dtype).tobytes()
    if spec.timestamp is not None:
        hf = spec.timestamp
        ts = t_s[a] if hf.sample == "first" else t_s[b - 1]
        ticks = int(round(float(ts) / hf.units_s))
        if hf.wrap <= 2**32:
            ticks %= hf.wrap
        head[hf.offset : hf.offset + hf.nbytes] = np.array(ticks).astype(hf.dtype).tobytes()
    if spec.count is not None:
        hf = spec.count
        head[hf.offset : hf.offset + hf.nbytes] = np.array(b - a).astype(hf.dtype).tobytes()


def encode(
    profile: Profile,
    t_s: np.ndarray,
    acc_m_s2: np.ndarray,
    gyr_rad_s: np.ndarray,
    seq: np.ndarray | None,
    captured: dict[str, float] | None = None,
) -> list[tuple[str, bytes, float]]:
    """The notifications the real firmware would send for these samples.

    ``t_s``: (m,) sample times in seconds (device clock; timestamps are encoded from it).
    ``acc_m_s2``, ``gyr_rad_s``: (m, 3) in the sensor frame. ``seq``: (m,) sample counter, or
    None to count from 0. Returns ``(char_uuid, payload, t_send_s)`` in send order, ``t_send_s``
    = time of the last sample in the payload. Fixed-size packets: a trailing partial packet is
    not sent (the firmware waits for it to fill). Values beyond the integer range are clipped,
    as the sensor saturates. Fields the program does not decode (WitMotion angles, Thingy:52
    compass) are sent as zeros. ``captured``: the values the device's start replies carry
    (Polar's conversion factor): raw values are scaled by them as the device would.
    """
    t_s = np.asarray(t_s, dtype=np.float64)
    data = {
        "acc": np.asarray(acc_m_s2, dtype=np.float64).reshape(-1, 3),
        "gyr": np.asarray(gyr_rad_s, dtype=np.float64).reshape(-1, 3),
    }
    m = len(t_s)
    if data["acc"].shape[0] != m or data["gyr"].shape[0] != m:
        raise ValueError(f"encode: t_s has {m} samples but acc/gyr have a different count")
    seq_arr = np.arange(m, dtype=np.int64) if seq is None else np.asarray(seq, dtype=np.int64)
    layouts = [PacketLayout(p, i) for i, p in enumerate(profile.packets)]
    if captured:
        for lay in layouts:
            lay.set_factors(captured)
    chosen: list[PacketLayout] = []
    both = [lay for lay in layouts if len(lay.streams) == 2]
    if both:
        chosen = both[:1]
    else:
        for name in ("acc", "gyr"):
            chosen.append(next(lay for lay in layouts if lay.streams == {name}))
    out: list[tuple[str, bytes, float]] = []
    for lay in chosen:
        out.extend(_encode_packets(lay, profile.rate_hz, t_s, data, seq_arr))
    out.sort(key=lambda x: x[2])  # stable: acc before gyro at equal times
    for cont in profile.continuation:  # split what does not fit one notification
        split: list[tuple[str, bytes, float]] = []
        for char, payload, t in out:
            if char == cont.char_uuid and len(payload) > cont.split_length:
                split.append((char, payload[: cont.split_length], t))
                split.append((char, cont.next + payload[cont.split_length :], t))
            else:
                split.append((char, payload, t))
        out = split
    return out
