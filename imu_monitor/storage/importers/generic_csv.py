"""Generic CSV import: a time column, accelerometer xyz, gyroscope xyz, columns found by their
header names (or named by options), units from the header or options. Also reads back the files
``imu-monitor export`` writes (every placement they hold)."""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from imu_monitor.errors import ImportFileError, ImuMonitorError
from imu_monitor.model import GRAVITY_M_S2, PLACEMENTS, Recording, SensorSeries, check_placement
from imu_monitor.storage.importers.common import (
    ACC_UNITS,
    AXES,
    FIELDS,
    GYR_UNITS,
    REBASE_TIME_S,
    TIME_UNITS,
    Column,
    Table,
    check_increasing,
    check_rate,
    check_span,
    estimate_rate,
    make_recording,
    merge_skips,
    normalise_unit,
    parse_cells,
    read_table,
    valid_rate,
)
from imu_monitor.storage.importers.export_meta import apply_export_meta, read_export_meta

log = logging.getLogger(__name__)

# Header recognition: names are normalised (lower case, runs of non-alphanumerics -> "_"), a
# trailing unit is split off, and the rest is matched against these bases.
# trailing unit is split off, and the rest is matched against these bases.
_TIME_BASES = {"t", "time", "timestamp", "time_stamp", "ts", "elapsed", "elapsed_time", "seconds"}
_ACC_PREFIXES = ("a", "acc", "accel", "accelerometer", "acceleration", "linear_acceleration")
_GYR_PREFIXES = ("g", "gyr", "gyro", "gyroscope", "angular_velocity", "w", "omega", "rot")
_TIME_SUFFIXES = {"s": "s", "sec": "s", "ms": "ms", "us": "us"}
_ACC_SUFFIXES = {"m_s2": "m/s2", "m_s_2": "m/s2", "ms2": "m/s2", "g": "g", "mg": "mg"}
_GYR_SUFFIXES = {"rad_s": "rad/s", "deg_s": "deg/s", "dps": "deg/s"}


def _norm(name: str) -> str:
    return re.sub(r"[^0-9a-zµ]+", "_", name.strip().lower()).strip("_")


@dataclass
class _Group:
    """Where one sensor's channels are in the table."""

    placement: str
    fields: dict[str, Column] = field(default_factory=dict)  # ax..gz
    seq: Column | None = None


def _split_unit(n: str, suffixes: dict[str, str]) -> tuple[str, str | None]:
    for suf in sorted(suffixes, key=len, reverse=True):
        if n.endswith("_" + suf):
            return n[: -len(suf) - 1], suffixes[suf]
    return n, None


def _match_axis(base: str, prefixes: Sequence[str]) -> str | None:
    """'acc_x' / 'accx' / 'ax' -> 'x' when the prefix is one of ``prefixes``."""
    for p in prefixes:
        for sep in ("_", ""):
            for ax in AXES:
                if base == f"{p}{sep}{ax}":
                    return ax
    return None


def _classify(name: str) -> tuple[str | None, str, str | None] | None:
    """(placement prefix or None, field: t/ax../gz/seq, unit or None) for a header name."""
    n = _norm(name)
    placement = None
    for p in PLACEMENTS:
        if n.startswith(p + "_"):
            placement, n = p, n[len(p) + 1 :]
            break
    if placement is None:
        base, unit = _split_unit(n, _TIME_SUFFIXES)
        if base in _TIME_BASES or n in _TIME_BASES:
            return None, "t", unit if base in _TIME_BASES else None
    if n in ("seq", "counter", "packet_counter", "packetcounter", "sample_counter"):
        return placement, "seq", None
    base, unit = _split_unit(n, _ACC_SUFFIXES)
    ax = _match_axis(base, _ACC_PREFIXES)
    if ax is not None:
        return placement, "a" + ax, unit
    base, unit = _split_unit(n, _GYR_SUFFIXES)
    ax = _match_axis(base, _GYR_PREFIXES)
    if ax is not None:
        return placement, "g" + ax, unit
    return None


def _column_by_name(table: Table, name: str, option: str) -> Column:
    for i, h in enumerate(table.header):
        if h == name:
            return Column(i, h)
    for i, h in enumerate(table.header):
        if h.strip().lower() == name.strip().lower():
            return Column(i, h)
    raise ImportFileError(
        table.path,
        f"no column named {name!r} (given with {option}); the header has: "
        f"{', '.join(repr(h) for h in table.header)}",
    )


def _missing(table: Table, what: str, option: str) -> ImportFileError:
    return ImportFileError(
        table.path,
        f"no {what} column found; the header has: {', '.join(repr(h) for h in table.header)}; "
        f"name the columns with {option}",
    )


def _find_groups(
    table: Table,
    placement: str | None,
    acc_cols: Sequence[str] | None,
    gyr_cols: Sequence[str] | None,
) -> list[_Group]:
    """Which columns hold which sensor's channels (explicit options win over header names)."""
    if acc_cols is not None or gyr_cols is not None:
        if acc_cols is None or gyr_cols is None or len(acc_cols) != 3 or len(gyr_cols) != 3:
            raise ImuMonitorError("give both --acc-cols X,Y,Z and --gyr-cols X,Y,Z (3 names each)")
        g = _Group(placement or "sacrum")
        for ax, name in zip(AXES, acc_cols, strict=True):
            g.fields["a" + ax] = _column_by_name(table, name, "--acc-cols")
        for ax, name in zip(AXES, gyr_cols, strict=True):
            g.fields["g" + ax] = _column_by_name(table, name, "--gyr-cols")
        return [g]
    found: dict[str | None, _Group] = {}
    for i, h in enumerate(table.header):
        c = _classify(h)
        if c is None or c[1] == "t":
            continue
        pl, fld, unit = c
        g = found.setdefault(pl, _Group(pl or "sacrum"))
        col = Column(i, h, unit)
        if fld == "seq":
            g.seq = g.seq or col
        else:
            g.fields.setdefault(fld, col)
    prefixed = {p: g for p, g in found.items() if p is not None and len(g.fields) == 6}
    if prefixed:
        if placement is not None:
            if placement not in prefixed:
                raise ImportFileError(
                    table.path,
                    f"no columns for placement {placement!r}; the file has placements: "
                    f"{', '.join(prefixed)} (choose one with --placement, or omit it to import "
                    "all)",
                )
            return [prefixed[placement]]
        return list(prefixed.values())
    g = found.get(None) or next(iter(found.values()), None) or _Group("sacrum")
    g.placement = placement or "sacrum"
    for f in FIELDS:
        if f not in g.fields:
            kind = "accelerometer" if f[0] == "a" else "gyroscope"
            opt = "--acc-cols X,Y,Z" if f[0] == "a" else "--gyr-cols X,Y,Z"
            raise _missing(table, f"{kind} {f[1]}", opt)
    return [g]


def _unit_for(
    table: Table,
    cols: Sequence[Column],
    given: str | None,
    units: dict[str, float],
    default: str,
    what: str,
) -> tuple[str, str]:
    """(unit, how it was chosen) for a set of columns."""
    if given is not None:
        return normalise_unit(given, units, what), "option"
    found = {c.unit for c in cols if c.unit is not None}
    if len(found) > 1:
        raise ImportFileError(
            table.path,
            f"the {what} columns name different units ({', '.join(sorted(found))}); "
            f"pass the unit explicitly",
        )
    if found:
        return found.pop(), "header"
    return default, "default"


def import_csv(
    path: str | os.PathLike[str],
    *,
    time_col: str | None = None,
    acc_cols: Sequence[str] | None = None,
    gyr_cols: Sequence[str] | None = None,
    time_unit: str | None = None,
    acc_unit: str | None = None,
    gyr_unit: str | None = None,
    placement: str | None = None,
    exercise: str | None = None,
    rate_hz: float | None = None,
    skip_bad_rows: bool = False,
) -> Recording:
    """Import a generic CSV file: a time column, accelerometer xyz, gyroscope xyz.

    Delimiter (comma, semicolon or tab) is detected; lines before the header that start with
    ``#`` are comments. Columns are found by common header names (t/time/timestamp,
    ax/acc_x/Acc_X/accel_x, gx/gyr_x/Gyr_X/gyro_x, with optional unit suffixes such as ``_g``,
    ``_deg_s``, ``_ms``) or given explicitly. Files written by ``imu-monitor export``
    (``t_s, <placement>_acc_x_m_s2, ..., <placement>_gyr_z_rad_s``) import every placement
    found, or only ``placement``. Units: ``acc_unit`` m/s2|g|mg, ``gyr_unit`` rad/s|deg/s,
    ``time_unit`` s|ms|us; by default taken from the header name, else m/s2, rad/s, s. Without
    a time column, ``rate_hz`` gives the times (i / rate). ``rate_hz`` defaults to 1 / median dt.
    """
    path = Path(path)
    if placement is not None:
        check_placement(placement)
    if rate_hz is not None:
        rate_hz = valid_rate(rate_hz, "--rate")
    table = read_table(path, lambda line: line.lstrip().startswith("#"))
    em = read_export_meta(path, len(table.rows))
    groups = _find_groups(table, placement, acc_cols, gyr_cols)
    t_col = None
    if time_col is not None:
        t_col = _column_by_name(table, time_col, "--time-col")
        c = _classify(t_col.name)
        t_col.unit = c[2] if c and c[1] == "t" else None
    else:
        for i, h in enumerate(table.header):
            c = _classify(h)
            if c is not None and c[1] == "t":
                t_col = Column(i, h, c[2])
                break
    if t_col is None and rate_hz is None:
        raise _missing(table, "time", "--time-col NAME (or give --rate HZ to number the rows)")
    columns: dict[str, Column] = {}
    if t_col is not None:
        columns["t"] = t_col
    for g in groups:
        for f in FIELDS:
            columns[f"{g.placement}.{f}"] = g.fields[f]
        if g.seq is not None:
            columns[f"{g.placement}.seq"] = g.seq
    seq_keys = {k for k in columns if k.endswith(".seq")}
    multi = [[f"{g.placement}.{f}" for f in FIELDS] for g in groups] if len(groups) > 1 else []
    parsed = parse_cells(
        table, columns, skip_bad_rows=skip_bad_rows, optional=seq_keys, groups=multi
    )
    units_info: dict[str, Any] = {}
    if t_col is not None:
        t_unit, how = _unit_for(table, [t_col], time_unit, TIME_UNITS, "s", "time")
        units_info["time"] = [t_unit, how]
        raw = parsed.values["t"]
        first = raw[np.isfinite(raw)][:1]
        raw_offset = 0.0
        if em is None and len(first) and abs(first[0] * TIME_UNITS[t_unit]) > REBASE_TIME_S:
            raw_offset = float(first[0])  # subtract in the file's unit: no precision lost
        t_all = (raw - raw_offset) * TIME_UNITS[t_unit]
    else:
        t_all = np.arange(len(parsed.lines)) / float(rate_hz)
        units_info["time"] = ["row number / rate", "option"]
    ok, t_skips, t_first = check_increasing(
        path, t_all, parsed.lines, t_col.name if t_col else "(row number)", skip_bad_rows
    )
    series: dict[str, SensorSeries] = {}
    rates: dict[str, float] = {}
    overflow: Counter = Counter()
    overflow_first: list[str] = []
    for g in groups:
        p = g.placement
        a_cols = [g.fields["a" + ax] for ax in AXES]
        w_cols = [g.fields["g" + ax] for ax in AXES]
        a_unit, a_how = _unit_for(table, a_cols, acc_unit, ACC_UNITS, "m/s2", "accelerometer")
        w_unit, w_how = _unit_for(table, w_cols, gyr_unit, GYR_UNITS, "rad/s", "gyroscope")
        units_info[f"{p}.acc"] = [a_unit, a_how]
        units_info[f"{p}.gyr"] = [w_unit, w_how]
        acc_raw = np.column_stack([parsed.values[f"{p}.a{ax}"] for ax in AXES])
        gyr_raw = np.column_stack([parsed.values[f"{p}.g{ax}"] for ax in AXES])
        with np.errstate(over="ignore", invalid="ignore"):
            acc = acc_raw * ACC_UNITS[a_unit]
            gyr = gyr_raw * GYR_UNITS[w_unit]
        present = np.isfinite(acc_raw).all(axis=1)  # all-empty group cells: no sample here
        finite = np.isfinite(acc).all(axis=1) & np.isfinite(gyr).all(axis=1)
        has = ok & present & finite
        lost = ok & present & ~finite
        if lost.any():
            _overflowed(path, parsed.lines[lost], p, skip_bad_rows, overflow, overflow_first)
        seq = None
        if f"{p}.seq" in parsed.values:
            sq = parsed.values[f"{p}.seq"][has]
            seq = sq.astype(np.int64) if np.isfinite(sq).all() else None
        s = SensorSeries(t_all[has], acc[has], gyr[has], seq)
        if len(s) == 0:
            raise ImportFileError(path, f"no valid samples for {p} (every row was skipped)")
        if a_how != "option":
            _warn_implausible_acc(path, s.acc_m_s2, a_unit)
        series[p] = s
        rates[p] = float(rate_hz) if rate_hz else estimate_rate(s.t_s, path)
        if rate_hz and t_col is not None:
            check_rate(
                path,
                s.t_s,
                rates[p],
                f"--rate {rates[p]:g} Hz",
                f"leave out --rate (the times give the rate), or check --time-unit ({t_unit} now)",
            )
        check_span(path, s.t_s, parsed.lines[has], rates[p], t_col.name if t_col else "(row)")
    info = {
        "rows": len(table.rows),
        "time_offset_s": raw_offset * TIME_UNITS[t_unit] if t_col is not None else 0.0,
        "units": units_info,
        "columns": {k: c.name for k, c in columns.items()},
        **merge_skips(
            (parsed.skipped, parsed.first_skipped), (t_skips, t_first), (overflow, overflow_first)
        ),
    }
    rec = make_recording("csv", path, series, rates, exercise, info, rebase=em is None)
    if em is not None:
        apply_export_meta(rec, em, rate_given=rate_hz is not None)
    return rec


def _overflowed(
    path: Path, lines: np.ndarray, placement: str, skip: bool, counts: Counter, first: list[str]
) -> None:
    """Rows whose values overflow to infinity once converted to SI units: refused, or counted
    as skipped (never dropped silently)."""
    msg = f"a {placement} value is too large to convert to SI units (it overflows)"
    if not skip:
        raise ImportFileError(
            path,
            f"{msg}; fix the file or pass --skip-bad-rows to skip such rows",
            row=int(lines[0]),
        )
    counts["value overflows"] += len(lines)
    for line in lines[: max(0, 5 - len(first))]:
        first.append(f"row {int(line)}: {msg}")


def _warn_implausible_acc(path: Path, acc: np.ndarray, unit: str) -> None:
    """Log a hint when the median |acc| is far from 1 g in the assumed unit."""
    with np.errstate(over="ignore", invalid="ignore"):
        norm = float(np.median(np.linalg.norm(acc, axis=1)))
    if not 0.3 * GRAVITY_M_S2 < norm < 3.0 * GRAVITY_M_S2:
        log.warning(
            "%s: the median acceleration magnitude is %.3g m/s^2 with the accelerometer unit "
            "%s; if the sensor was mostly still that unit is wrong (pass --acc-unit g or mg)",
            path,
            norm,
            unit,
        )
