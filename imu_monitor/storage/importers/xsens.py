"""Xsens MT Manager text export (.txt): ``//`` preamble lines, then a tab-separated table with
``PacketCounter``, ``SampleTimeFine``, ``Acc_X..Z`` (m/s^2), ``Gyr_X..Z`` (rad/s) and other
columns (ignored)."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from imu_monitor.errors import ImportFileError
from imu_monitor.model import Recording, SensorSeries, check_placement
from imu_monitor.storage.importers.common import (
    AXES,
    Column,
    check_increasing,
    estimate_rate,
    make_recording,
    merge_skips,
    parse_cells,
    read_table,
)

XSENS_STF_WRAPS = (1 << 32, 864_000_000)
"""SampleTimeFine (10 kHz ticks) wraps at 2^32 (MTi 1 and 600 series) or after one day,
864 000 000 ticks (MTi 10 and 100 series)."""
XSENS_STF_HZ = 10_000.0
XSENS_COUNTER_WRAP = 1 << 16
_XSENS_RATE = re.compile(r"update\s*rate\s*:\s*([0-9.]+)\s*hz", re.IGNORECASE)
_XSENS_DEVICE = re.compile(r"device\s*id\s*:\s*([0-9A-Fa-f]+)", re.IGNORECASE)


def unwrap_counter(raw: np.ndarray, wraps: Sequence[int]) -> np.ndarray:
    """Unwrap a wrapping counter (int64 result). A backwards step gets the wrap modulus (of
    ``wraps``) that makes it closest to the median forward step."""
    raw = np.asarray(raw, dtype=np.int64)
    if len(raw) < 2:
        return raw.copy()
    d = np.diff(raw)
    fwd = d[d > 0]
    step = float(np.median(fwd)) if len(fwd) else 1.0
    neg = np.flatnonzero(d < 0)
    for i in neg:
        cands = [int(d[i]) + w for w in wraps if int(d[i]) + w > 0]
        if cands:
            d[i] = min(cands, key=lambda v: abs(v - step))
    return np.concatenate([[raw[0]], raw[0] + np.cumsum(d)])


def import_xsens(
    path: str | os.PathLike[str],
    *,
    placement: str | None = None,
    exercise: str | None = None,
    rate_hz: float | None = None,
    skip_bad_rows: bool = False,
) -> Recording:
    """Import an Xsens MT Manager text export (.txt).

    ``//`` lines before the header are comments (``// Update Rate: 100.0Hz`` gives the rate,
    ``DeviceId`` the device). The header row is tab-separated (comma/semicolon also accepted)
    with ``Acc_X..Z`` (m/s^2) and ``Gyr_X..Z`` (rad/s); other columns are ignored. Time comes
    from ``SampleTimeFine`` (10 kHz ticks, wrapping) when every row has one, else from
    ``PacketCounter`` (u16, wrapping) divided by the rate (rows without a time are bad rows).
    ``seq`` is the unwrapped PacketCounter.
    """
    path = Path(path)
    placement = placement or "sacrum"
    check_placement(placement)
    table = read_table(path, lambda line: line.lstrip().startswith("//"))
    header_rate = None
    device = ""
    for line in table.comments:
        m = _XSENS_RATE.search(line)
        if m:
            header_rate = float(m.group(1))
        m = _XSENS_DEVICE.search(line)
        if m:
            device = f"Xsens {m.group(1)}"
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
        t[stf_ok] = unwrap_counter(stf[stf_ok].astype(np.int64), XSENS_STF_WRAPS) / XSENS_STF_HZ
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
    info = {
        "rows": len(table.rows),
        "time_from": time_from,
        "header_rate_hz": header_rate,
        "units": {"time": ["s", time_from], "acc": ["m/s2", "xsens"], "gyr": ["rad/s", "xsens"]},
        **merge_skips((parsed.skipped, parsed.first_skipped), (t_skips, t_first)),
    }
    rates = {placement: float(rate or estimate_rate(s.t_s))}
    return make_recording("xsens", path, {placement: s}, rates, exercise, info, device=device)
