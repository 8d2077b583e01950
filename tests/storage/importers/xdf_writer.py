"""A small XDF 1.0 writer for tests (pyxdf reads XDF but writes none).

Written from the format specification (sccn/xdf wiki, "Specifications"): the magic ``XDF:``,
then chunks ``[NumLengthBytes: 1 byte, 1|4|8][Length: that many bytes, little-endian, counting
the tag and the content][Tag: uint16][Content]``. Tags used: 1 FileHeader (XML), 2 StreamHeader
(``[StreamId: uint32][XML <info>]``), 3 Samples (``[StreamId][NumSamples: varlen]`` then per
sample ``[TimeStampBytes: 0 or 8][TimeStamp: double]`` and the values: numbers little-endian,
strings each ``[varlen length][bytes]``), 4 ClockOffset (``[StreamId][CollectionTime: double]
[OffsetValue: double]``), 6 StreamFooter (``[StreamId][XML]``). A varlen integer is
``[NumBytes: 1|4|8][value]``. Only what the importer's tests need: one Samples chunk per stream,
every sample time-stamped. Real LabRecorder files are read in tests/cli/test_lsl_xdf.py.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

FORMATS = {"double64": "<f8", "float32": "<f4", "int32": "<i4", "int16": "<i2"}


def _varlen(n: int) -> bytes:
    if n < 256:
        return struct.pack("<BB", 1, n)
    if n < 1 << 32:
        return struct.pack("<BI", 4, n)
    return struct.pack("<BQ", 8, n)


def _chunk(tag: int, content: bytes) -> bytes:
    length = len(content) + 2
    if length < 256:
        head = struct.pack("<BB", 1, length)
    elif length < 1 << 32:
        head = struct.pack("<BI", 4, length)
    else:
        head = struct.pack("<BQ", 8, length)
    return head + struct.pack("<H", tag) + content


@dataclass
class Stream:
    """One stream: ``channels`` as (label, unit, type) (unit or type None: left out; all None:
    no ``<channels>`` at all); ``data`` (n, channels) numbers or a list of strings (markers)."""

    name: str
    type: str
    rate: float
    channels: list[tuple[str | None, str | None, str | None]]
    times: np.ndarray
    data: np.ndarray | list[str]
    fmt: str = "double64"
    desc_extra: dict[str, str] = field(default_factory=dict)
    clock_offsets: list[tuple[float, float]] = field(default_factory=list)

    def header_xml(self) -> str:
        chans = ""
        if any(any(v is not None for v in c) for c in self.channels):
            parts = []
            for label, unit, ctype in self.channels:
                fields = "".join(
                    f"<{k}>{escape(v)}</{k}>"
                    for k, v in (("label", label), ("unit", unit), ("type", ctype))
                    if v is not None
                )
                parts.append(f"<channel>{fields}</channel>")
            chans = f"<channels>{''.join(parts)}</channels>"
        extra = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in self.desc_extra.items())
        return (
            '<?xml version="1.0"?><info>'
            f"<name>{escape(self.name)}</name><type>{escape(self.type)}</type>"
            f"<channel_count>{len(self.channels)}</channel_count>"
            f"<nominal_srate>{self.rate}</nominal_srate>"
            f"<channel_format>{self.fmt}</channel_format>"
            f"<source_id>{escape(self.name)}</source_id>"
            f"<created_at>0</created_at><desc>{chans}{extra}</desc></info>"
        )

    def samples(self) -> bytes:
        out = [_varlen(len(self.times))]
        for k, t in enumerate(self.times):
            out.append(struct.pack("<Bd", 8, float(t)))
            if self.fmt == "string":
                raw = str(self.data[k]).encode()
                out.append(_varlen(len(raw)) + raw)
            else:
                row = np.asarray(self.data[k], dtype=FORMATS[self.fmt])
                out.append(row.tobytes())
        return b"".join(out)


def write_xdf(path: Path, streams: list[Stream]) -> Path:
    parts = [b"XDF:", _chunk(1, b'<?xml version="1.0"?><info><version>1.0</version></info>')]
    for sid, s in enumerate(streams, start=1):
        parts.append(_chunk(2, struct.pack("<I", sid) + s.header_xml().encode()))
    for sid, s in enumerate(streams, start=1):
        parts.append(_chunk(3, struct.pack("<I", sid) + s.samples()))
        for when, value in s.clock_offsets:
            parts.append(_chunk(4, struct.pack("<Idd", sid, when, value)))
    for sid, s in enumerate(streams, start=1):
        n = len(s.times)
        first = float(s.times[0]) if n else 0.0
        last = float(s.times[-1]) if n else 0.0
        footer = (
            '<?xml version="1.0"?><info>'
            f"<first_timestamp>{first}</first_timestamp><last_timestamp>{last}</last_timestamp>"
            f"<sample_count>{n}</sample_count></info>"
        )
        parts.append(_chunk(6, struct.pack("<I", sid) + footer.encode()))
    path.write_bytes(b"".join(parts))
    return path
