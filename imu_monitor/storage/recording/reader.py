"""Reading ``.imr`` recordings: validate every record's CRC, decode, and recover what is valid."""

from __future__ import annotations

import logging
import os
import zlib
from dataclasses import dataclass, field

import numpy as np

from imu_monitor.errors import RecordingError
from imu_monitor.files import FileTooLargeError, NotRegularFileError, read_regular_file
from imu_monitor.model import Gap, Marker, Recording, SensorInfo, SensorSeries, Truth
from imu_monitor.storage.recording.format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    MAGIC,
    MAX_PAYLOAD,
    RECORD_CRC,
    RECORD_HEAD,
    RECORD_OVERHEAD,
    SYNC,
    RecordType,
    decode_json,
    decode_truth,
    samples_layout,
)

log = logging.getLogger(__name__)

_RECOVER_HINT = (
    "load it with allow_partial to get the valid part (`imu-monitor export FILE --csv OUT "
    "--allow-partial`, or load_recording(path, allow_partial=True) in Python; save_recording() "
    "then writes a clean copy)"
)
MAX_RECORDING_BYTES = 1 << 32
"""Largest recording read (4 GiB, about 90 sensor-hours at 200 Hz)."""


@dataclass
class ScanResult:
    """Records found in a file: (offset, type, payload start, payload length) each."""

    records: list[tuple[int, int, int, int]] = field(default_factory=list)
    problems: list[RecordingError] = field(default_factory=list)
    skips: list[int] = field(default_factory=list)
    """Index into ``records`` where data was skipped before (damage was jumped over)."""


def _record_ok(buf: bytes, mv: memoryview, off: int) -> int | None:
    """Payload length of a valid record at ``off`` (sync, length and CRC check), else None."""
    if len(buf) - off < RECORD_OVERHEAD or buf[off : off + 4] != SYNC:
        return None
    _, length, _, _ = RECORD_HEAD.unpack_from(buf, off)
    end = off + RECORD_HEAD.size + length
    if length > MAX_PAYLOAD or end + RECORD_CRC.size > len(buf):
        return None
    (crc,) = RECORD_CRC.unpack_from(buf, end)
    return length if zlib.crc32(mv[off + 4 : end]) == crc else None


def _resync(buf: bytes, mv: memoryview, off: int) -> int | None:
    """Offset of the next valid record after ``off``, or None."""
    pos = buf.find(SYNC, off + 1)
    while pos != -1:
        if _record_ok(buf, mv, pos) is not None:
            return pos
        pos = buf.find(SYNC, pos + 1)
    return None


def check_magic(buf: bytes, path: object) -> None:
    if not buf.startswith(MAGIC):
        if len(buf) < len(MAGIC) and MAGIC.startswith(buf):
            raise RecordingError(
                path, 0, "the file is empty or cut short before its header; it holds no data"
            )
        raise RecordingError(
            path,
            0,
            f"not an imu-monitor recording (.imr): it starts with {buf[:8]!r}, "
            f"expected {MAGIC!r}; check the file name, or import it with `imu-monitor import`",
        )


def scan(buf: bytes, path: object, *, allow_partial: bool) -> ScanResult:
    """Walk the records of ``buf`` (a whole file), checking framing and CRCs.

    Without ``allow_partial`` the first problem raises ``RecordingError``; with it, problems are
    collected, damaged stretches are skipped (resynchronising on the next valid record) and the
    scan goes on.
    """
    mv = memoryview(buf)
    out = ScanResult()
    n = len(buf)
    off = len(MAGIC)
    if not buf.startswith(MAGIC):
        first = _resync(buf, mv, -1) if allow_partial and len(buf) >= len(MAGIC) else None
        if first is None:
            check_magic(buf, path)
        out.problems.append(
            RecordingError(path, 0, f"the file's first bytes are damaged; skipped {first} bytes")
        )
        out.skips.append(0)
        off = first
    head = RECORD_HEAD
    crc_s = RECORD_CRC
    crc32 = zlib.crc32
    records = out.records
    while off < n:
        problem = None
        if n - off < RECORD_OVERHEAD:
            problem = (
                f"the file ends inside a record ({n - off} bytes left, a record needs at least "
                f"{RECORD_OVERHEAD}): it was cut short, e.g. the recording program was killed "
                "mid-write or a copy did not finish"
            )
        elif buf.startswith(MAGIC, off):
            problem = _second_recording(off, n)
            if not allow_partial:
                raise RecordingError(path, off, problem)
            out.problems.append(RecordingError(path, off, problem))
            break
        else:
            sync, length, rtype, _flags = head.unpack_from(buf, off)
            end = off + 12 + length
            if sync != SYNC:
                problem = (
                    f"no record starts here (found {bytes(sync)!r} instead of {SYNC!r}): "
                    "the file is damaged"
                )
            elif length > MAX_PAYLOAD or end + 4 > n:
                problem = (
                    f"the record starting here needs {length + RECORD_OVERHEAD} bytes but only "
                    f"{n - off} are left: the file was cut short (recording program killed "
                    "mid-write, copy not finished) or the record's length field is damaged"
                )
            elif crc32(mv[off + 4 : end]) != crc_s.unpack_from(buf, end)[0]:
                problem = "the record starting here fails its CRC check: the file is damaged"
            else:
                records.append((off, rtype, off + 12, length))
                off = end + 4
                continue
        if not allow_partial:
            raise RecordingError(path, off, f"{problem}; {_RECOVER_HINT}")
        nxt = _resync(buf, mv, off)
        skipped = (nxt if nxt is not None else n) - off
        out.problems.append(RecordingError(path, off, f"{problem}; skipped {skipped} bytes"))
        if nxt is None:
            break
        if nxt >= len(MAGIC) and buf.startswith(MAGIC, nxt - len(MAGIC)):
            start = nxt - len(MAGIC)
            out.problems.append(RecordingError(path, start, _second_recording(start, n)))
            break
        out.skips.append(len(records))
        off = nxt
    return out


def _second_recording(off: int, n: int) -> str:
    return (
        "a second recording starts here (two files were joined into one); only the first is "
        f"loaded; split the file: `head -c {off} FILE > first.imr` and "
        f"`tail -c {n - off} FILE > second.imr`"
    )


def read_file_bytes(path: str | os.PathLike[str]) -> bytes:
    """The bytes of the regular file ``path`` (at most ``MAX_RECORDING_BYTES``)."""
    try:
        return read_regular_file(path, MAX_RECORDING_BYTES)
    except FileNotFoundError:
        raise RecordingError(path, None, "no such file; check the path") from None
    except IsADirectoryError:
        raise RecordingError(path, None, "is a folder; give a recording's path") from None
    except NotRegularFileError:
        raise RecordingError(path, None, "not a regular file; give a recording's path") from None
    except FileTooLargeError:
        raise RecordingError(
            path, None, f"larger than {MAX_RECORDING_BYTES} bytes; this is not a recording"
        ) from None
    except OSError as e:
        raise RecordingError(path, None, f"cannot read the file: {e.strerror}") from e


def _assemble(buf: bytes, blocks: list[tuple[int, int, int]]) -> SensorSeries:
    """Build a series from SAMPLES blocks (offset of the first row, n, columns) in file order.

    The rows of all blocks are joined with one ``bytes.join`` and split into columns with
    strided copies: loading costs little per block.
    """
    if not blocks:
        return SensorSeries.empty()
    mv = memoryview(buf)
    widths = {c for _, _, c in blocks}
    if len(widths) == 1:
        cols = widths.pop()
        joined = b"".join([mv[p : p + 8 * n * cols] for p, n, _ in blocks])
        rows = np.frombuffer(joined, dtype="<f8").reshape(-1, cols)
    else:  # some blocks without seq: keep the 7 common columns
        cols = 7
        rows = np.concatenate(
            [np.frombuffer(buf, "<f8", n * c, p).reshape(n, c)[:, :7] for p, n, c in blocks]
        )
    seq = (
        np.ascontiguousarray(rows[:, 7:8]).view("<i8")[:, 0].astype(np.int64) if cols == 8 else None
    )
    return SensorSeries(
        rows[:, 0].astype(np.float64),
        rows[:, 1:4].astype(np.float64),
        rows[:, 4:7].astype(np.float64),
        seq,
    )


def load_recording(path: str | os.PathLike[str], *, allow_partial: bool = False) -> Recording:
    """Load a whole ``.imr`` recording.

    Every record's CRC is checked. A truncated or damaged file raises ``RecordingError`` (with
    ``.path`` and ``.offset``, the byte where the damage starts) unless ``allow_partial``: then
    every valid record is used, damaged stretches are skipped, holes in the sample stream that
    the damage caused become ``Gap(reason="file_damaged")``, and ``meta["load_warning"]`` says
    what was lost. A file whose writer never closed it (no END record) but is otherwise intact
    loads normally; ``meta["load_warning"]`` says so.
    """
    buf = read_file_bytes(path)
    result = scan(buf, path, allow_partial=allow_partial)
    records = result.records
    warnings = [str(p) for p in result.problems]
    if records and records[0][1] == RecordType.HEADER and records[0][0] == len(MAGIC):
        _, _, hp, hl = records[0]
        header = decode_json(buf[hp : hp + hl])
        if header.get("format") != FORMAT_NAME:
            raise RecordingError(path, hp, f"the header does not name the format {FORMAT_NAME!r}")
        first_record = 1
    elif any(r[1] == RecordType.SAMPLES for r in records):
        # allow_partial only (else the scan raised): the samples name their sensor, so they
        # are recovered without the header; its meta data (exercise, devices) is lost.
        header = {"format_version": FORMAT_VERSION, "meta": {}, "sensors": {}}
        warnings.append(
            f"{path}: the header record (meta data, sensors) is damaged: the samples were "
            "recovered from their own records, sensor rates estimated from their times, "
            "profiles and devices unknown"
        )
        first_record = 0
    else:
        raise RecordingError(
            path,
            len(MAGIC),
            "the header record (meta data and sensors) is missing or damaged and no samples "
            "were found after it; restore the file from a backup",
        )
    version = int(header.get("format_version", 0))
    if version > FORMAT_VERSION:
        log.warning(
            "%s: written by a newer format version %d (this program reads %d); "
            "unknown records are skipped",
            path,
            version,
            FORMAT_VERSION,
        )
    meta = dict(header.get("meta") or {})
    meta["format_version"] = version
    sensors = {k: SensorInfo.from_dict(v) for k, v in (header.get("sensors") or {}).items()}

    blocks: dict[str, list[tuple[int, int, int]]] = {name: [] for name in sensors}
    markers: list[Marker] = []
    events: list[dict] = []
    gaps: list[Gap] = []
    calibration = None
    truth: Truth | None = None
    closed = False
    recovered: set[str] = set()
    skip_at = set(result.skips)
    # Per sensor: (last time before a skip, skip count then), to turn skipped damage into gaps.
    last_t: dict[str, float] = {}
    last_epoch: dict[str, int] = {}
    epoch = 0
    samples_type = int(RecordType.SAMPLES)
    for idx in range(first_record, len(records)):
        if idx in skip_at:
            epoch += 1
        off, rtype, p, length = records[idx]
        try:
            if rtype == samples_type:
                sensor, n, cols, tp = samples_layout(buf, p, length)
                if sensor not in blocks:
                    if first_record:
                        log.warning("%s: samples of sensor %r not in the header", path, sensor)
                    sensors[sensor] = SensorInfo(placement=sensor, profile="unknown")
                    blocks[sensor] = []
                    recovered.add(sensor)
                if n == 0:
                    continue
                if skip_at and last_epoch.get(sensor, epoch) != epoch:
                    # Damage was skipped since this sensor's last block: a hole in time?
                    t_first = float(np.frombuffer(buf, "<f8", 1, tp)[0])
                    if t_first - last_t[sensor] > 1.5 / sensors[sensor].rate_hz:
                        gaps.append(Gap(sensor, last_t[sensor], t_first, "file_damaged"))
                blocks[sensor].append((tp, n, cols))
                if skip_at:
                    last_t[sensor] = float(np.frombuffer(buf, "<f8", 1, tp + 8 * cols * (n - 1))[0])
                    last_epoch[sensor] = epoch
            elif rtype == RecordType.EVENT:
                events.append(decode_json(buf[p : p + length]))
            elif rtype == RecordType.MARKER:
                markers.append(Marker.from_dict(decode_json(buf[p : p + length])))
            elif rtype == RecordType.GAP:
                gaps.append(Gap.from_dict(decode_json(buf[p : p + length])))
            elif rtype == RecordType.CALIBRATION:
                calibration = decode_json(buf[p : p + length])
            elif rtype == RecordType.TRUTH:
                truth = decode_truth(buf[p : p + length])
            elif rtype == RecordType.END:
                closed = True
            elif rtype == RecordType.HEADER:
                raise ValueError("a second header record")
            else:
                log.debug("%s: skipping record of unknown type %d at byte %d", path, rtype, off)
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
            # The CRC matched, so the writer wrote this: a bug or a foreign writer, not damage.
            err = RecordingError(
                path, off, f"record of type {rtype} cannot be decoded ({e}); report this"
            )
            if not allow_partial:
                raise err from e
            warnings.append(str(err))
    if not closed:
        warnings.append(
            f"{path}: the file was not closed by its writer (the recording program stopped "
            "mid-session); all data written up to then is intact"
        )
        log.debug(warnings[-1])  # said by meta["load_warning"], which every command prints
    series = {name: _assemble(buf, b) for name, b in blocks.items()}
    for name in recovered:
        t = series[name].t_s
        steps = np.diff(t)
        steps = steps[steps > 0]
        if len(steps):
            sensors[name].rate_hz = float(1.0 / np.median(steps))
    if first_record == 0 and isinstance(calibration, dict) and calibration.get("exercise"):
        meta.setdefault("exercise", calibration["exercise"])
    for name, s in series.items():
        back = np.flatnonzero(np.diff(s.t_s) < 0)
        if len(back):
            i = int(back[0])
            warnings.append(
                f"{path}: the times of sensor {name!r} go back from {s.t_s[i]:.6g} s to "
                f"{s.t_s[i + 1]:.6g} s (sample {i + 1} of {len(s)}): samples of two sessions "
                "seem mixed in this file; analysis drops the samples that go back"
            )
    if warnings:
        meta["load_warning"] = "; ".join(warnings)
    return Recording(
        meta=meta,
        sensors=sensors,
        series=series,
        markers=markers,
        events=events,
        gaps=gaps,
        calibration=calibration,
        truth=truth,
    )
