"""Low-level encoding of the ``.imr`` recording format (specified in docs/recording-format.md).

A file is an 8-byte magic followed by records. Every record is framed as::

    sync     4 bytes  b"IMR\\x1e"
    length   u32      payload length in bytes
    type     u16      record type (RecordType)
    flags    u16      reserved, 0
    payload  length bytes
    crc32    u32      CRC-32 (zlib / IEEE 802.3) of length, type, flags and payload

All integers and floats are little-endian. This module only turns Python objects into record
bytes and back; reading whole files lives in ``reader``, writing in ``writer``.
"""

from __future__ import annotations

import json
import math
import struct
import zlib
from enum import IntEnum
from typing import Any

import numpy as np

from imu_monitor.model import Truth, TruthRep

MAGIC = b"\x89IMR\r\n\x1a\n"
"""First 8 bytes of every recording (PNG-style: catches text-mode and 7-bit transfers)."""
SYNC = b"IMR\x1e"
"""First 4 bytes of every record; lets a reader find the next record after damage."""
FORMAT_NAME = "imu-monitor recording"
FORMAT_VERSION = 1
EXTENSION = ".imr"

RECORD_HEAD = struct.Struct("<4sIHH")  # sync, length, type, flags
RECORD_CRC = struct.Struct("<I")
RECORD_OVERHEAD = RECORD_HEAD.size + RECORD_CRC.size  # 16 bytes
MAX_PAYLOAD = 1 << 31
"""Largest payload a reader accepts (2 GiB); a bigger length field means damage."""

SAMPLES_HEAD = struct.Struct("<IBB")  # n samples, flags (bit 0: seq present), sensor name length
SAMPLES_HAS_SEQ = 0x01
JSON_ARRAYS_HEAD = struct.Struct("<I")  # JSON length, then JSON, then array bytes


class RecordType(IntEnum):
    """Record types. Readers skip types they do not know (newer writers may add some)."""

    HEADER = 1
    SAMPLES = 2
    EVENT = 3
    MARKER = 4
    GAP = 5
    CALIBRATION = 6
    TRUTH = 7
    END = 8


def frame(rtype: int, payload: bytes) -> bytes:
    """Frame ``payload`` as one record of type ``rtype`` (sync, header, payload, CRC)."""
    head = RECORD_HEAD.pack(SYNC, len(payload), int(rtype), 0)
    crc = zlib.crc32(payload, zlib.crc32(head[4:]))
    return b"".join((head, payload, RECORD_CRC.pack(crc)))


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    raise TypeError(f"cannot store {type(obj).__name__} in a recording (not JSON-serialisable)")


def finite_json(obj: Any) -> Any:
    """Replace non-finite floats by None: RFC 8259 JSON has no NaN or Infinity."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): finite_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite_json(v) for v in obj]
    return obj


def encode_json(obj: Any) -> bytes:
    """UTF-8 JSON (RFC 8259) with numpy scalars/arrays converted and NaN/inf written as null."""
    plain = json.loads(json.dumps(obj, default=_json_default))
    return json.dumps(finite_json(plain), separators=(",", ":"), allow_nan=False).encode("utf-8")


def decode_json(payload: bytes | memoryview) -> Any:
    return json.loads(bytes(payload).decode("utf-8"))


def encode_samples(
    sensor: str, t_s: np.ndarray, acc: np.ndarray, gyr: np.ndarray, seq: np.ndarray | None
) -> bytes:
    """Payload of a SAMPLES record: one block of consecutive samples of one sensor.

    ``t_s`` shape (n,) s; ``acc`` (n, 3) m/s^2; ``gyr`` (n, 3) rad/s; ``seq`` (n,) or None.
    Layout: u32 n, u8 flags, u8 name length, name (UTF-8), then n rows of
    f64 t, ax, ay, az, gx, gy, gz and, if flags bit 0 is set, i64 seq (8 or 7 columns).
    """
    name = sensor.encode("utf-8")
    if len(name) > 255:
        raise ValueError(f"sensor name {sensor!r} is longer than 255 bytes")
    n = int(np.shape(t_s)[0])
    rows = np.empty((n, 8 if seq is not None else 7), dtype="<f8")
    rows[:, 0] = t_s
    rows[:, 1:4] = np.reshape(acc, (n, 3))
    rows[:, 4:7] = np.reshape(gyr, (n, 3))
    if seq is not None:
        rows[:, 7:8].view("<i8")[:, 0] = seq
    head = SAMPLES_HEAD.pack(n, SAMPLES_HAS_SEQ if seq is not None else 0, len(name))
    return b"".join((head, name, rows.tobytes()))


def samples_layout(buf: bytes, start: int, length: int) -> tuple[str, int, int, int]:
    """Parse a SAMPLES payload header at ``buf[start:start+length]``.

    Returns (sensor, n, columns (8 with seq, else 7), offset of the first row in ``buf``).
    Raises ValueError if the payload length does not match its header.
    """
    n, flags, name_len = SAMPLES_HEAD.unpack_from(buf, start)
    p = start + SAMPLES_HEAD.size
    sensor = buf[p : p + name_len].decode("utf-8")
    p += name_len
    cols = 8 if flags & SAMPLES_HAS_SEQ else 7
    if SAMPLES_HEAD.size + name_len + 8 * n * cols != length:
        raise ValueError(f"samples block says {n} samples but holds {length} bytes")
    return sensor, n, cols, p


def encode_json_arrays(fields: dict[str, Any], arrays: dict[str, np.ndarray]) -> bytes:
    """Payload holding JSON ``fields`` plus named numpy arrays (little-endian, C order).

    Layout: u32 JSON length, JSON ``{"fields": ..., "arrays": [{"name", "dtype", "shape",
    "offset"}]}`` (offset in bytes from the end of the JSON), then the array bytes.
    """
    index = []
    blobs = []
    offset = 0
    for name, arr in arrays.items():
        a = np.ascontiguousarray(arr)
        a = a.astype(a.dtype.newbyteorder("<"), copy=False)
        index.append({"name": name, "dtype": a.dtype.str, "shape": list(a.shape), "offset": offset})
        blob = a.tobytes()
        blobs.append(blob)
        offset += len(blob)
    js = encode_json({"fields": fields, "arrays": index})
    return b"".join([JSON_ARRAYS_HEAD.pack(len(js)), js, *blobs])


def decode_json_arrays(payload: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Inverse of ``encode_json_arrays``; arrays are copies (writable, native order)."""
    (js_len,) = JSON_ARRAYS_HEAD.unpack_from(payload, 0)
    base = JSON_ARRAYS_HEAD.size + js_len
    doc = decode_json(payload[JSON_ARRAYS_HEAD.size : base])
    arrays = {}
    for item in doc["arrays"]:
        dtype = np.dtype(item["dtype"])
        shape = tuple(int(s) for s in item["shape"])
        count = int(np.prod(shape, dtype=np.int64))
        start = base + int(item["offset"])
        if start + count * dtype.itemsize > len(payload):
            raise ValueError(f"array {item['name']!r} runs past the end of its record")
        a = np.frombuffer(payload, dtype=dtype, count=count, offset=start).reshape(shape)
        arrays[item["name"]] = a.astype(dtype.newbyteorder("="))
    return doc["fields"], arrays


def encode_truth(truth: Truth) -> bytes:
    """Payload of a TRUTH record (JSON fields + arrays; see docs/recording-format.md)."""
    arrays: dict[str, np.ndarray] = {
        "t_s": np.asarray(truth.t_s, dtype=np.float64),
        "lumbar_flexion_deg": np.asarray(truth.lumbar_flexion_deg, dtype=np.float64),
        "lumbar_lateral_deg": np.asarray(truth.lumbar_lateral_deg, dtype=np.float64),
    }
    if truth.hip_flexion_deg is not None:
        arrays["hip_flexion_deg"] = np.asarray(truth.hip_flexion_deg, dtype=np.float64)
    for placement, pitch in truth.segment_pitch_deg.items():
        arrays[f"segment_pitch_deg/{placement}"] = np.asarray(pitch, dtype=np.float64)
    if truth.skin_error_deg is not None:
        arrays["skin_error_deg"] = np.asarray(truth.skin_error_deg, dtype=np.float64)
    fields = {
        "reps": [r.to_dict() for r in truth.reps],
        "mounting_quat": {k: [float(x) for x in v] for k, v in truth.mounting_quat.items()},
        "gyro_bias_rad_s": {k: [float(x) for x in v] for k, v in truth.gyro_bias_rad_s.items()},
    }
    return encode_json_arrays(fields, arrays)


def decode_truth(payload: bytes) -> Truth:
    fields, arrays = decode_json_arrays(payload)
    prefix = "segment_pitch_deg/"
    return Truth(
        t_s=arrays["t_s"],
        lumbar_flexion_deg=arrays["lumbar_flexion_deg"],
        lumbar_lateral_deg=arrays["lumbar_lateral_deg"],
        hip_flexion_deg=arrays.get("hip_flexion_deg"),
        reps=[TruthRep.from_dict(r) for r in fields.get("reps", [])],
        segment_pitch_deg={k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)},
        mounting_quat={k: [float(x) for x in v] for k, v in fields["mounting_quat"].items()},
        gyro_bias_rad_s={k: [float(x) for x in v] for k, v in fields["gyro_bias_rad_s"].items()},
        skin_error_deg=arrays.get("skin_error_deg"),
    )
