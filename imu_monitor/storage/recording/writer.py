"""Writing ``.imr`` recordings: whole recordings at once, or streamed crash-safely."""

from __future__ import annotations

import datetime as _dt
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from imu_monitor import __version__
from imu_monitor.errors import RecordingError
from imu_monitor.model import Gap, Marker, Recording, SampleChunk, SensorInfo, Truth
from imu_monitor.storage.recording.format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    MAGIC,
    RecordType,
    encode_json,
    encode_samples,
    encode_truth,
    frame,
)
from imu_monitor.storage.recording.reader import read_file_bytes, scan

log = logging.getLogger(__name__)

SAVE_BLOCK_S = 1.0
"""Seconds of one sensor per SAMPLES record when a whole recording is saved at once (as a live
recording's flushes): one damaged byte then costs about a second of one sensor, for 28 bytes of
framing per second (0.2 % at 200 Hz)."""
SAVE_BLOCK_SAMPLES = 1 << 16
"""Most samples per SAMPLES record (for absurd rates)."""
PRIVATE_FILE_MODE = 0o600
"""Recordings hold a person's movement data: created readable by their owner only."""


def block_samples(rate_hz: float) -> int:
    """Samples per saved block for a sensor sampling at ``rate_hz``."""
    if not rate_hz or not rate_hz > 0 or rate_hz == float("inf"):
        return SAVE_BLOCK_SAMPLES
    return max(1, min(SAVE_BLOCK_SAMPLES, int(round(rate_hz * SAVE_BLOCK_S))))


def _header(meta: dict[str, Any], sensors: dict[str, SensorInfo]) -> bytes:
    meta = dict(meta)
    meta["format_version"] = FORMAT_VERSION
    meta.setdefault("created_utc", _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"))
    meta.setdefault("app_version", __version__)
    meta.pop("load_warning", None)
    doc = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "meta": meta,
        "sensors": {name: info.to_dict() for name, info in sensors.items()},
    }
    return frame(RecordType.HEADER, encode_json(doc))


def _as_dict(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _end_record(counts: dict[str, int]) -> bytes:
    closed = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    return frame(RecordType.END, encode_json({"closed_utc": closed, "samples": counts}))


def save_recording(rec: Recording, path: str | os.PathLike[str]) -> None:
    """Write ``rec`` to ``path`` (``.imr``) atomically: a temporary file, then a rename.

    Samples are stored as float64 (bit-exact), in blocks of about ``SAVE_BLOCK_S`` of each
    sensor. The file is created 0600 (owner only).
    """
    path = Path(path)
    sensors = dict(rec.sensors)
    for name in rec.series:
        if name not in sensors:
            log.warning("save_recording: sensor %r has samples but no SensorInfo", name)
            sensors[name] = SensorInfo(placement=name, profile="unknown")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC)
            f.write(_header(rec.meta, sensors))
            counts = {}
            for name, s in rec.series.items():
                counts[name] = len(s)
                block = block_samples(sensors[name].rate_hz)
                for i in range(0, len(s), block):
                    j = min(i + block, len(s))
                    seq = None if s.seq is None else s.seq[i:j]
                    payload = encode_samples(
                        name, s.t_s[i:j], s.acc_m_s2[i:j], s.gyr_rad_s[i:j], seq
                    )
                    f.write(frame(RecordType.SAMPLES, payload))
            if rec.calibration is not None:
                f.write(frame(RecordType.CALIBRATION, encode_json(rec.calibration)))
            if rec.truth is not None:
                f.write(frame(RecordType.TRUTH, encode_truth(rec.truth)))
            for m in rec.markers:
                f.write(frame(RecordType.MARKER, encode_json(m.to_dict())))
            for e in rec.events:
                f.write(frame(RecordType.EVENT, encode_json(_as_dict(e))))
            for g in rec.gaps:
                f.write(frame(RecordType.GAP, encode_json(g.to_dict())))
            f.write(_end_record(counts))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise RecordingError(path, None, f"cannot write the recording: {e.strerror}") from e


def add_marker(
    path: str | os.PathLike[str], marker: Marker, *, allow_partial: bool = False
) -> None:
    """Append ``marker`` to an existing recording (annotating a session afterwards).

    The file is checked first (every record's CRC): a strict reader stops at damage, so it
    would not see a marker appended after it; a damaged file raises ``RecordingError`` (repair it
    by loading with ``allow_partial=True`` and saving) unless ``allow_partial``, when the marker
    is appended all the same (readers that skip the damage find it).
    """
    buf = read_file_bytes(path)
    scan(buf, path, allow_partial=allow_partial)
    try:
        with open(path, "ab") as f:
            f.write(frame(RecordType.MARKER, encode_json(marker.to_dict())))
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        raise RecordingError(path, None, f"cannot append the marker: {e.strerror}") from e


class RecordingWriter:
    """Streams a session to an ``.imr`` file, crash-safely.

    Records are queued in memory and written (one ``os.write``, so a killed process leaves whole
    records) at least every ``flush_interval_s``: on the next ``write_*`` call once that much
    time has passed on ``clock``, and from a background thread when writes stop coming. A
    SIGKILLed writer therefore loses at most about ``flush_interval_s`` of data. Data reaches
    the operating system, not the disk platter: it survives a killed process but not a power
    cut (``close()`` fsyncs).

    Thread-safe: samples may come from the BLE thread while markers come from the UI thread.
    Samples of one sensor must be written in time order. The file must not exist unless
    ``overwrite``; it is created 0600 (owner only).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        meta: dict[str, Any],
        sensors: dict[str, SensorInfo],
        *,
        flush_interval_s: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
        overwrite: bool = False,
        background_flush: bool = True,
    ) -> None:
        self.path = Path(path)
        self.sensors = dict(sensors)
        self.flush_interval_s = float(flush_interval_s)
        self._clock = clock
        self._lock = threading.Lock()
        self._records: list[bytes] = []
        self._chunks: dict[str, list[tuple[np.ndarray, ...]]] = {n: [] for n in self.sensors}
        self._has_seq: dict[str, bool | None] = {n: None for n in self.sensors}
        self._counts: dict[str, int] = {n: 0 for n in self.sensors}
        self._closed = False
        self._error: RecordingError | None = None
        flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
        try:
            self._fd = os.open(self.path, flags | getattr(os, "O_BINARY", 0), PRIVATE_FILE_MODE)
        except FileExistsError:
            raise RecordingError(
                self.path, None, "the file exists already; choose another name or delete it"
            ) from None
        except OSError as e:
            raise RecordingError(self.path, None, f"cannot create the file: {e.strerror}") from e
        self._write(MAGIC + _header(meta, self.sensors))
        self._last_flush = clock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if background_flush:
            self._thread = threading.Thread(
                target=self._run, name=f"recording-flush {self.path.name}", daemon=True
            )
            self._thread.start()

    # -- public API ------------------------------------------------------------------------

    def write_chunk(self, chunk: SampleChunk) -> None:
        """Queue the samples of ``chunk`` (copied, so the caller may reuse its arrays)."""
        name = chunk.sensor
        if name not in self.sensors:
            raise RecordingError(
                self.path,
                None,
                f"samples of sensor {name!r}, which is not in this recording "
                f"(sensors: {', '.join(self.sensors) or 'none'})",
            )
        n = len(chunk)
        t = np.array(chunk.t_s, dtype=np.float64).reshape(n)
        acc = np.array(chunk.acc_m_s2, dtype=np.float64).reshape(n, 3)
        gyr = np.array(chunk.gyr_rad_s, dtype=np.float64).reshape(n, 3)
        seq = None if chunk.seq is None else np.array(chunk.seq, dtype=np.int64).reshape(n)
        with self._lock:
            self._check_open()
            if n:
                self._chunks[name].append((t, acc, gyr, seq))
            self._maybe_flush()

    def write_event(self, event: dict[str, Any] | Any) -> None:
        """Queue a monitor event (a dict, or an object with ``to_dict()``)."""
        self._queue(RecordType.EVENT, encode_json(_as_dict(event)))

    def write_marker(self, marker: Marker) -> None:
        self._queue(RecordType.MARKER, encode_json(marker.to_dict()))

    def write_gap(self, gap: Gap) -> None:
        self._queue(RecordType.GAP, encode_json(gap.to_dict()))

    def set_calibration(self, calibration: dict[str, Any] | Any) -> None:
        """Record the calibration in force from now on; the last one written wins on load."""
        self._queue(RecordType.CALIBRATION, encode_json(_as_dict(calibration)))

    def write_truth(self, truth: Truth) -> None:
        """Record the simulation's ground truth (the last one written wins on load)."""
        self._queue(RecordType.TRUTH, encode_truth(truth))

    def flush(self) -> None:
        """Write everything queued to the file now."""
        with self._lock:
            self._check_open()
            self._flush_locked()

    def close(self) -> None:
        """Flush, write the END record, fsync and close. Idempotent."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        with self._lock:
            if self._closed:
                return
            try:
                self._flush_locked()
                self._write(_end_record(dict(self._counts)))
                os.fsync(self._fd)
            finally:
                self._closed = True
                os.close(self._fd)

    @property
    def samples_written(self) -> dict[str, int]:
        """Samples per sensor written to the file so far (not counting queued ones)."""
        with self._lock:
            return dict(self._counts)

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------

    def _queue(self, rtype: RecordType, payload: bytes) -> None:
        record = frame(rtype, payload)
        with self._lock:
            self._check_open()
            self._records.append(record)
            self._maybe_flush()

    def _check_open(self) -> None:
        if self._error is not None:
            raise self._error
        if self._closed:
            raise RecordingError(self.path, None, "the recording is closed; start a new one")

    def _maybe_flush(self) -> None:
        if self._clock() - self._last_flush >= self.flush_interval_s:
            self._flush_locked()

    def _flush_locked(self) -> None:
        parts = self._records
        self._records = []
        for name, chunks in self._chunks.items():
            if not chunks:
                continue
            self._chunks[name] = []
            with_seq = all(c[3] is not None for c in chunks)
            cat = [np.concatenate([c[k] for c in chunks]) for k in range(3)]
            seq = np.concatenate([c[3] for c in chunks]) if with_seq else None
            parts.append(frame(RecordType.SAMPLES, encode_samples(name, *cat, seq)))
            self._counts[name] += len(cat[0])
        self._last_flush = self._clock()
        if parts:
            self._write(b"".join(parts))

    def _write(self, data: bytes) -> None:
        """Append ``data`` (whole records). If that fails part way (a full disk, a file size
        limit), the file is cut back to where it was, so it still ends on a complete record."""
        try:
            start = os.lseek(self._fd, 0, os.SEEK_CUR)
        except OSError:
            start = None
        try:
            _write_all(self._fd, data)
        except OSError as e:
            if start is not None:
                try:  # (shrinking a file needs no space)
                    os.ftruncate(self._fd, start)
                    os.lseek(self._fd, start, os.SEEK_SET)
                except OSError:
                    log.debug("could not cut %s back to its last complete record", self.path)
            self._error = RecordingError(
                self.path,
                None,
                f"cannot write to the recording: {e.strerror}; free disk space or record to "
                "another folder",
            )
            raise self._error from e

    def _run(self) -> None:
        while not self._stop.wait(self.flush_interval_s):
            with self._lock:
                if self._closed or self._error is not None:
                    return
                try:
                    self._flush_locked()
                except RecordingError:
                    log.exception("background flush of %s failed", self.path)
                    return
