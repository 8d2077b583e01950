"""Xsens MT Manager text export (.txt): preamble lines, then a tab-separated table with
``PacketCounter``, ``SampleTimeFine``, ``Acc_X..Z`` (m/s^2), ``Gyr_X..Z`` (rad/s) and other
columns (ignored). MT Manager writes one file per sensor; ``import_xsens_sensors`` joins several
files of one session on their shared clock (SampleTimeFine, else PacketCounter)."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from imu_monitor.errors import ImportFileError, ImuMonitorError
from imu_monitor.model import Recording, SensorSeries, check_placement
from imu_monitor.storage.importers.common import (
    AXES,
    Column,
    Parsed,
    Table,
    check_increasing,
    check_rate,
    check_span,
    estimate_rate,
    make_recording,
    merge_skips,
    parse_cells,
    read_table,
    valid_rate,
)

XSENS_STF_WRAPS = (1 << 32, 864_000_000)
"""SampleTimeFine (10 kHz ticks) wraps at 2^32 (MTi 1 and 600 series) or after one day,
864 000 000 ticks (MTi 10 and 100 series)."""
XSENS_STF_HZ = 10_000.0
XSENS_COUNTER_WRAP = 1 << 16
STF_MAX_GAP_TICKS = 600 * 10_000
"""A SampleTimeFine step back is taken as a wrap only if the unwrapped step forward is at most
10 minutes; a bigger one is a jump back in time (two recordings joined, a restarted device)."""
MAX_PREAMBLE_LINES = 1000
"""Preamble lines looked through for the table's header row."""
_HEADER_CELLS = {"packetcounter", "sampletimefine", "acc_x"}
_CELL_SPLIT = re.compile(r"[\t,;]")
_XSENS_RATE = re.compile(
    r"(update\s*rate|sample\s*rate|sampling\s*rate|sampling\s*frequency|acquisition\s*frequency"
    r"|output\s*rate)\s*[:=]\s*(\S+?)\s*hz\b",
    re.IGNORECASE,
)
_XSENS_DEVICE = re.compile(r"device\s*id\s*:\s*([0-9A-Fa-f]{1,16})\b", re.IGNORECASE)


def _is_table_header(line: str) -> bool:
    return any(c.strip().lower() in _HEADER_CELLS for c in _CELL_SPLIT.split(line))


def unwrap_counter(
    raw: np.ndarray, wraps: Sequence[int], max_forward: int | None = None
) -> np.ndarray:
    """Unwrap a wrapping counter (int64 result). A backwards step gets the wrap modulus (of
    ``wraps``) that makes it closest to the median forward step, if the step forward it makes
    is at most ``max_forward`` (default half the modulus); otherwise the step stays backwards
    (a jump back in time, for the caller to report)."""
    raw = np.asarray(raw, dtype=np.int64)
    if len(raw) < 2:
        return raw.copy()
    d = np.diff(raw)
    fwd = d[d > 0]
    step = float(np.median(fwd)) if len(fwd) else 1.0
    neg = np.flatnonzero(d < 0)
    for w in sorted(wraps):
        if not len(neg):
            break
        limit = w // 2 if max_forward is None else min(max_forward, w // 2)
        cand = d[neg] + w
        fits = (cand > 0) & (cand <= max(limit, 2 * step))
        d[neg[fits]] = cand[fits]
        neg = neg[~fits]
    return np.concatenate([[raw[0]], raw[0] + np.cumsum(d)])


@dataclass
class _XsensFile:
    series: SensorSeries
    info: dict[str, Any]
    device: str
    rate_hz: float
    time_from: str


def _preamble(path: Path, table: Table, rate_given: bool) -> tuple[float | None, str]:
    """(rate from the preamble, device) of an export; a malformed rate line is refused."""
    header_rate = None
    device = ""
    for n, line in enumerate(table.comments, start=1):
        m = _XSENS_RATE.search(line)
        if m and not rate_given:
            try:
                header_rate = valid_rate(m.group(2), f"{m.group(1)} {m.group(2)!r}")
            except ImuMonitorError as e:
                raise ImportFileError(
                    path,
                    f"the preamble line does not hold a usable rate ({e}); fix the line "
                    "or pass --rate HZ",
                    row=n,
                ) from None
        m = _XSENS_DEVICE.search(line)
        if m:
            device = f"Xsens {m.group(1)}"
    return header_rate, device


def _counter_faults(
    path: Path, parsed: Parsed, columns: dict[str, Column], skip_bad_rows: bool
) -> Parsed:
    """Drop (or refuse) rows whose SampleTimeFine or PacketCounter is not a counter value: not
    a whole number, negative, or beyond the counter's range."""
    bad = np.zeros(len(parsed.lines), dtype=bool)
    first: list[str] = []
    skipped: Counter = Counter()
    for key, top in (("stf", 1 << 32), ("pc", XSENS_COUNTER_WRAP)):
        v = parsed.values.get(key)
        if v is None:
            continue
        with np.errstate(invalid="ignore"):
            wrong = np.isfinite(v) & ((v < 0) | (v >= top) | (v != np.floor(v)))
        for i in np.flatnonzero(wrong & ~bad):
            msg = f"{v[i]:.10g} is not a counter value (a whole number from 0 to {top - 1})"
            if not skip_bad_rows:
                raise ImportFileError(
                    path,
                    f"{msg}; fix the file or pass --skip-bad-rows to skip such rows",
                    row=int(parsed.lines[i]),
                    column=columns[key].name,
                )
            skipped["counter out of range"] += 1
            if len(first) < 5:
                first.append(f"row {int(parsed.lines[i])} column {columns[key].name!r}: {msg}")
        bad |= wrong
    if not bad.any():
        return parsed
    keep = ~bad
    return Parsed(
        {k: v[keep] for k, v in parsed.values.items()},
        parsed.lines[keep],
        parsed.skipped + skipped,
        (parsed.first_skipped + first)[:5],
    )


def _read_xsens(path: Path, rate_hz: float | None, skip_bad_rows: bool) -> _XsensFile:
    if rate_hz is not None:
        rate_hz = valid_rate(rate_hz, "--rate")
    lines_seen = [0]

    def is_preamble(line: str) -> bool:
        lines_seen[0] += 1
        return lines_seen[0] <= MAX_PREAMBLE_LINES and not _is_table_header(line)

    table = read_table(path, is_preamble)
    if not _is_table_header("\t".join(table.header)):
        raise ImportFileError(
            path,
            f"no table header (a line naming PacketCounter, SampleTimeFine or Acc_X) in the first "
            f"{MAX_PREAMBLE_LINES} lines; is this an MT Manager text export?",
        )
    header_rate, device = _preamble(path, table, rate_hz is not None)
    names = {h.strip().lower(): i for i, h in enumerate(table.header)}
    columns: dict[str, Column] = {}
    for kind, what in (("acc", "Acc"), ("gyr", "Gyr")):
        for ax in AXES:
            key = f"{what}_{ax.upper()}"
            if key.lower() not in names:
                raise ImportFileError(
                    path,
                    f"no {key} column; the header has: "
                    f"{', '.join(repr(h) for h in table.header)}; export accelerometer and "
                    "gyroscope data (Acc_X..Z, Gyr_X..Z) from MT Manager, or import the file "
                    "with --format csv and --acc-cols/--gyr-cols",
                )
            columns[f"{kind[0]}{ax}"] = Column(names[key.lower()], table.header[names[key.lower()]])
    optional = set()
    for key, name in (("stf", "sampletimefine"), ("pc", "packetcounter")):
        if name in names:
            columns[key] = Column(names[name], table.header[names[name]])
            optional.add(key)
    parsed = parse_cells(table, columns, skip_bad_rows=skip_bad_rows, optional=optional)
    parsed = _counter_faults(path, parsed, columns, skip_bad_rows)
    rate = rate_hz or header_rate
    stf = parsed.values.get("stf")
    pc = parsed.values.get("pc")
    seq = None
    if pc is not None and np.isfinite(pc).all() and len(pc):
        seq = unwrap_counter(pc.astype(np.int64), (XSENS_COUNTER_WRAP,))
    stf_ok = None if stf is None else np.isfinite(stf)
    if stf is not None and stf_ok.any() and (stf_ok.all() or seq is None or not rate):
        # Rows without a SampleTimeFine get NaN and are reported as bad rows below.
        t = np.full(len(stf), np.nan)
        ticks = unwrap_counter(stf[stf_ok].astype(np.int64), XSENS_STF_WRAPS, STF_MAX_GAP_TICKS)
        t[stf_ok] = ticks / XSENS_STF_HZ
        time_from, t_name = "SampleTimeFine", columns["stf"].name
    elif seq is not None:
        if not rate:
            raise ImportFileError(
                path,
                "time comes from PacketCounter (no complete SampleTimeFine column) but the rate "
                "is unknown (no '// Update Rate: ...Hz' line): pass --rate HZ",
            )
        t = seq / float(rate)
        time_from, t_name = "PacketCounter / rate", columns["pc"].name
    else:
        raise ImportFileError(
            path,
            "no complete SampleTimeFine or PacketCounter column to take the time from; export "
            "one of them from MT Manager, or import with --format csv --rate HZ",
        )
    ok, t_skips, t_first = check_increasing(path, t, parsed.lines, t_name, skip_bad_rows)
    acc = np.column_stack([parsed.values["a" + ax] for ax in AXES])
    gyr = np.column_stack([parsed.values["g" + ax] for ax in AXES])
    s = SensorSeries(t[ok], acc[ok], gyr[ok], None if seq is None else seq[ok])
    if len(s) == 0:
        raise ImportFileError(path, "no valid samples (every row was skipped)")
    rate_used = float(rate or estimate_rate(s.t_s, path))
    if rate and time_from == "SampleTimeFine":
        given = f"--rate {rate_used:g} Hz"
        if not rate_hz:
            given = f"the header's Update Rate ({rate_used:g} Hz)"
        check_rate(
            path,
            s.t_s,
            rate_used,
            given,
            "pass the rate the SampleTimeFine times step at with --rate, or check the export",
        )
    check_span(path, s.t_s, parsed.lines[ok], rate_used, t_name)
    info = {
        "rows": len(table.rows),
        "time_from": time_from,
        "header_rate_hz": header_rate,
        "units": {"time": ["s", time_from], "acc": ["m/s2", "xsens"], "gyr": ["rad/s", "xsens"]},
        **merge_skips((parsed.skipped, parsed.first_skipped), (t_skips, t_first)),
    }
    return _XsensFile(s, info, device, rate_used, time_from)


def import_xsens(
    path: str | os.PathLike[str],
    *,
    placement: str | None = None,
    exercise: str | None = None,
    rate_hz: float | None = None,
    skip_bad_rows: bool = False,
) -> Recording:
    """Import an Xsens MT Manager text export (.txt) of one sensor.

    Lines before the table's header row (the first line naming ``PacketCounter``,
    ``SampleTimeFine`` or ``Acc_X``) are the preamble: ``// Update Rate: 100.0Hz`` or
    ``Acquisition frequency: 100 Hz`` (with or without ``//``) gives the rate, ``DeviceId`` the
    device. The header row is tab-separated (comma/semicolon also accepted) with ``Acc_X..Z``
    (m/s^2) and ``Gyr_X..Z`` (rad/s); other columns are ignored. Time comes from
    ``SampleTimeFine`` (10 kHz ticks, wrapping) when every row has one, else from
    ``PacketCounter`` (u16, wrapping) divided by the rate (rows without a time are bad rows).
    ``seq`` is the unwrapped PacketCounter.
    """
    placement = check_placement(placement or "sacrum")
    f = _read_xsens(Path(path), rate_hz, skip_bad_rows)
    return make_recording(
        "xsens",
        Path(path),
        {placement: f.series},
        {placement: f.rate_hz},
        exercise,
        f.info,
        device=f.device,
    )


def import_xsens_sensors(
    files: Mapping[str, str | os.PathLike[str]],
    *,
    exercise: str | None = None,
    rate_hz: float | None = None,
    skip_bad_rows: bool = False,
) -> Recording:
    """Import one MT Manager export per sensor (``{placement: file}``) as one recording.

    MT Manager writes one file per device; devices recorded together share SampleTimeFine (and
    PacketCounter), so the files are aligned on it: each sample keeps its own time on that
    shared clock. Every file must take its time from the same column, and their time ranges
    must overlap (else they are not one session).
    """
    if not files:
        raise ImuMonitorError("give at least one --sensor PLACEMENT=FILE")
    read: dict[str, _XsensFile] = {}
    for placement, file in files.items():
        read[check_placement(placement)] = _read_xsens(Path(file), rate_hz, skip_bad_rows)
    sources = {f.time_from for f in read.values()}
    if len(sources) > 1:
        which = ", ".join(f"{p}: {f.time_from}" for p, f in read.items())
        raise ImuMonitorError(
            f"the files take their time from different columns ({which}); export SampleTimeFine "
            "(or PacketCounter) for every sensor so they can be aligned"
        )
    spans = {p: (float(f.series.t_s[0]), float(f.series.t_s[-1])) for p, f in read.items()}
    start = max(a for a, _ in spans.values())
    end = min(b for _, b in spans.values())
    if start >= end:
        which = ", ".join(f"{p} {a:.6g}-{b:.6g} s" for p, (a, b) in spans.items())
        raise ImuMonitorError(
            f"the files do not overlap in time on {sources.pop()} ({which}): they are not from "
            "one recording session; export the sensors of one session together"
        )
    info = {
        "files": {p: str(files[p]) for p in read},
        "aligned_on": next(iter(read.values())).time_from,
        "sensors": {p: f.info for p, f in read.items()},
        "units": next(iter(read.values())).info["units"],
        "rows": sum(f.info["rows"] for f in read.values()),
        **merge_skips(
            *[(Counter(f.info["skipped"]), list(f.info["examples"])) for f in read.values()]
        ),
    }
    rec = make_recording(
        "xsens",
        Path(next(iter(files.values()))),
        {p: f.series for p, f in read.items()},
        {p: f.rate_hz for p, f in read.items()},
        exercise,
        info,
    )
    for p, f in read.items():
        rec.sensors[p].device = f.device
    rec.meta["import"]["file"] = ", ".join(str(v) for v in files.values())
    return rec
