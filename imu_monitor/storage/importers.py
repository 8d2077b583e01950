"""Import other tools' recordings (generic CSV, Xsens MT Manager text export) as ``Recording``.

Imported recordings have ``meta["source"] = "import:<format>"``, profile ``import`` and no
calibration (downstream calibrates from the first still period). Times are kept as in the file
unless the first one is more than ``REBASE_TIME_S`` from zero (clock timestamps such as Unix time
or device uptime): then they are shifted so the first sample is at 0 s and the offset is kept in
``meta["import"]["time_offset_s"]``. Bad rows (non-numeric or missing cells, times that do not
increase) raise ``ImportFileError`` naming the file, row and column, unless ``skip_bad_rows``:
then they are skipped and counted in ``meta["import"]["skipped_rows"]``.
"""

from __future__ import annotations

import csv
import datetime as _dt
import logging
import math
import os
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from imu_monitor.errors import ImportFileError, ImuMonitorError
from imu_monitor.model import GRAVITY_M_S2, PLACEMENTS, Recording, SensorInfo, SensorSeries

log = logging.getLogger(__name__)

REBASE_TIME_S = 60.0
AXES = ("x", "y", "z")
FIELDS = ("ax", "ay", "az", "gx", "gy", "gz")

ACC_UNITS = {"m/s2": 1.0, "g": GRAVITY_M_S2, "mg": GRAVITY_M_S2 / 1000.0}
GYR_UNITS = {"rad/s": 1.0, "deg/s": math.pi / 180.0}
TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6}
_UNIT_ALIASES = {
    "m/s^2": "m/s2", "m_s2": "m/s2", "m_s_2": "m/s2", "ms2": "m/s2", "mps2": "m/s2",
    "rad_s": "rad/s", "rads": "rad/s", "deg_s": "deg/s", "dps": "deg/s", "degs": "deg/s",
    "sec": "s", "msec": "ms", "µs": "us", "usec": "us",
}  # fmt: skip

# Header recognition: names are normalised (lower case, runs of non-alphanumerics -> "_"), a
# trailing unit is split off, and the rest is matched against these bases.
_TIME_BASES = {"t", "time", "timestamp", "time_stamp", "ts", "elapsed", "elapsed_time", "seconds"}
_ACC_PREFIXES = ("a", "acc", "accel", "accelerometer", "acceleration", "linear_acceleration")
_GYR_PREFIXES = ("g", "gyr", "gyro", "gyroscope", "angular_velocity", "w", "omega", "rot")
_TIME_SUFFIXES = {"s": "s", "sec": "s", "ms": "ms", "us": "us"}
_ACC_SUFFIXES = {"m_s2": "m/s2", "m_s_2": "m/s2", "ms2": "m/s2", "g": "g", "mg": "mg"}
_GYR_SUFFIXES = {"rad_s": "rad/s", "deg_s": "deg/s", "dps": "deg/s"}


def normalise_unit(unit: str, table: dict[str, float], what: str) -> str:
    """Canonical unit name (key of ``table``) for ``unit``; unknown ones list the known."""
    u = unit.strip().lower().replace(" ", "")
    u = _UNIT_ALIASES.get(u, u)
    if u not in table:
        raise ImuMonitorError(f"unknown {what} unit {unit!r}; known: {', '.join(table)}")
    return u


def _norm(name: str) -> str:
    return re.sub(r"[^0-9a-zµ]+", "_", name.strip().lower()).strip("_")


@dataclass
class _Column:
    index: int
    name: str
    unit: str | None = None


@dataclass
class _Group:
    """Where one sensor's channels are in the table."""

    placement: str
    fields: dict[str, _Column] = field(default_factory=dict)  # ax..gz
    seq: _Column | None = None


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


def _sniff_delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in ("\t", ",", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


@dataclass
class _Table:
    path: Path
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (1-based line number, cells)
    comments: list[str]


def _read_table(path: Path, is_comment: Callable[[str], bool]) -> _Table:
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except FileNotFoundError:
        raise ImportFileError(path, "no such file; check the path") from None
    except OSError as e:
        raise ImportFileError(path, f"cannot read the file: {e.strerror}") from e
    lines = text.splitlines()
    comments = []
    h = 0
    while h < len(lines) and (not lines[h].strip() or is_comment(lines[h])):
        comments.append(lines[h])
        h += 1
    if h >= len(lines):
        raise ImportFileError(path, "no header row found (the file is empty or all comments)")
    delim = _sniff_delimiter(lines[h])
    reader = csv.reader(lines[h:], delimiter=delim)
    header = [c.strip() for c in next(reader)]
    rows = []
    for cells in reader:
        if cells and any(c.strip() for c in cells):
            rows.append((h + reader.line_num, cells))
    return _Table(path, header, rows, comments)


@dataclass
class _Parsed:
    values: dict[str, np.ndarray]  # key -> float64 array over kept rows (NaN where allowed)
    lines: np.ndarray  # line number of each kept row
    skipped: Counter = field(default_factory=Counter)
    first_skipped: list[str] = field(default_factory=list)


def _parse_cells(
    table: _Table,
    columns: dict[str, _Column],
    *,
    skip_bad_rows: bool,
    optional: set[str] = frozenset(),
    groups: Sequence[Sequence[str]] = (),
) -> _Parsed:
    """Parse the named columns of every row as floats.

    ``optional`` keys may hold empty or non-finite cells (NaN). Each tuple in ``groups`` is a
    set of keys that may be *all* empty together (that sensor has no sample in that row).
    A bad row raises ``ImportFileError`` unless ``skip_bad_rows``.
    """
    keys = list(columns)
    idx = [columns[k].index for k in keys]
    out = np.full((len(table.rows), len(keys)), np.nan)
    keep = np.ones(len(table.rows), dtype=bool)
    lines = np.fromiter((ln for ln, _ in table.rows), dtype=np.int64, count=len(table.rows))
    skipped: Counter = Counter()
    first: list[str] = []
    group_of = {k: g for g in groups for k in g}
    for r, (line, cells) in enumerate(table.rows):
        err = None
        row_vals = out[r]
        for c, (k, i) in enumerate(zip(keys, idx, strict=True)):
            cell = cells[i].strip() if i < len(cells) else None
            if cell is None or cell == "":
                g = group_of.get(k)
                if k in optional:
                    continue
                if g is not None and all(
                    columns[m].index >= len(cells) or not cells[columns[m].index].strip() for m in g
                ):
                    continue
                what = "missing" if cell is None else "empty"
                err = ("missing cell", f"the cell is {what} (the row has {len(cells)} cells)", k)
                break
            try:
                v = float(cell)
            except ValueError:
                err = ("non-numeric cell", f"{cell!r} is not a number", k)
                break
            if not math.isfinite(v) and k not in optional:
                err = ("non-finite cell", f"{cell!r} is not a finite number", k)
                break
            row_vals[c] = v
        if err is not None:
            reason, msg, k = err
            if not skip_bad_rows:
                raise ImportFileError(
                    table.path,
                    f"{msg}; fix the file or pass --skip-bad-rows to skip such rows",
                    row=line,
                    column=columns[k].name,
                )
            keep[r] = False
            skipped[reason] += 1
            if len(first) < 5:
                first.append(f"row {line} column {columns[k].name!r}: {msg}")
    return _Parsed({k: out[keep, c] for c, k in enumerate(keys)}, lines[keep], skipped, first)


def _check_increasing(
    path: Path, t: np.ndarray, lines: np.ndarray, column: str, skip_bad_rows: bool
) -> tuple[np.ndarray, Counter, list[str]]:
    """Mask of rows whose time increases over every earlier kept row (NaN times are bad)."""
    known = np.where(np.isnan(t), -np.inf, t)
    prev_max = np.concatenate([[-np.inf], np.maximum.accumulate(known)[:-1]]) if len(t) else t
    ok = t > prev_max
    skipped: Counter = Counter()
    first: list[str] = []
    bad = np.flatnonzero(~ok)
    for i in bad[:5]:
        if math.isnan(t[i]):
            msg = "no time in this row"
        elif t[i] == prev_max[i]:
            msg = f"duplicate time {t[i]!r} (the same as an earlier row)"
        else:
            msg = f"time {t[i]!r} is before an earlier row's {prev_max[i]!r} (unsorted)"
        if not skip_bad_rows:
            raise ImportFileError(
                path,
                f"{msg}; times must increase: sort the file, or pass --skip-bad-rows",
                row=int(lines[i]),
                column=column,
            )
        first.append(f"row {int(lines[i])} column {column!r}: {msg}")
    for i in bad:
        reason = (
            "missing time"
            if math.isnan(t[i])
            else "duplicate time"
            if t[i] == prev_max[i]
            else "unsorted time"
        )
        skipped[reason] += 1
    return ok, skipped, first


def _estimate_rate(t: np.ndarray) -> float:
    if len(t) < 2:
        raise ImuMonitorError("cannot estimate the sample rate from fewer than 2 samples")
    return float(1.0 / np.median(np.diff(t)))


def _recording(
    fmt: str,
    path: Path,
    series: dict[str, SensorSeries],
    rates: dict[str, float],
    exercise: str | None,
    info: dict[str, Any],
    device: str = "",
) -> Recording:
    starts = [float(s.t_s[0]) for s in series.values() if len(s)]
    offset = 0.0
    if starts and abs(min(starts)) > REBASE_TIME_S:
        offset = min(starts)
        for s in series.values():
            s.t_s = s.t_s - offset
    info["time_offset_s"] = info.get("time_offset_s", 0.0) + offset
    meta: dict[str, Any] = {
        "source": f"import:{fmt}",
        "created_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "import": {"file": str(path), "format": fmt, **info},
    }
    if exercise:
        from imu_monitor.exercises import get_exercise

        get_exercise(exercise)  # an unknown name raises with the list of known ones
        meta["exercise"] = exercise
    sensors = {
        p: SensorInfo(placement=p, profile="import", device=device, rate_hz=rates[p])
        for p in series
    }
    return Recording(meta=meta, sensors=sensors, series=series)


def _merge_skips(*parts: tuple[Counter, list[str]]) -> dict[str, Any]:
    total: Counter = Counter()
    first: list[str] = []
    for c, f in parts:
        total.update(c)
        first.extend(f)
    return {"skipped_rows": int(sum(total.values())), "skipped": dict(total), "examples": first[:5]}


def _column_by_name(table: _Table, name: str, option: str) -> _Column:
    for i, h in enumerate(table.header):
        if h == name:
            return _Column(i, h)
    for i, h in enumerate(table.header):
        if h.strip().lower() == name.strip().lower():
            return _Column(i, h)
    raise ImportFileError(
        table.path,
        f"no column named {name!r} (given with {option}); the header has: "
        f"{', '.join(repr(h) for h in table.header)}",
    )


def _missing(table: _Table, what: str, option: str) -> ImportFileError:
    return ImportFileError(
        table.path,
        f"no {what} column found; the header has: {', '.join(repr(h) for h in table.header)}; "
        f"name the columns with {option}",
    )


def _find_groups(
    table: _Table,
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
        col = _Column(i, h, unit)
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
    table: _Table,
    cols: Sequence[_Column],
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
        from imu_monitor.model import check_placement

        check_placement(placement)
    table = _read_table(path, lambda line: line.lstrip().startswith("#"))
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
                t_col = _Column(i, h, c[2])
                break
    if t_col is None and rate_hz is None:
        raise _missing(table, "time", "--time-col NAME (or give --rate HZ to number the rows)")
    columns: dict[str, _Column] = {}
    if t_col is not None:
        columns["t"] = t_col
    for g in groups:
        for f in FIELDS:
            columns[f"{g.placement}.{f}"] = g.fields[f]
        if g.seq is not None:
            columns[f"{g.placement}.seq"] = g.seq
    seq_keys = {k for k in columns if k.endswith(".seq")}
    multi = [[f"{g.placement}.{f}" for f in FIELDS] for g in groups] if len(groups) > 1 else []
    parsed = _parse_cells(
        table, columns, skip_bad_rows=skip_bad_rows, optional=seq_keys, groups=multi
    )
    units_info: dict[str, Any] = {}
    if t_col is not None:
        t_unit, how = _unit_for(table, [t_col], time_unit, TIME_UNITS, "s", "time")
        units_info["time"] = [t_unit, how]
        raw = parsed.values["t"]
        first = raw[np.isfinite(raw)][:1]
        raw_offset = 0.0
        if len(first) and abs(first[0] * TIME_UNITS[t_unit]) > REBASE_TIME_S:
            raw_offset = float(first[0])  # subtract in the file's unit: no precision lost
        t_all = (raw - raw_offset) * TIME_UNITS[t_unit]
    else:
        t_all = np.arange(len(parsed.lines)) / float(rate_hz)
        units_info["time"] = ["row number / rate", "option"]
    ok, t_skips, t_first = _check_increasing(
        path, t_all, parsed.lines, t_col.name if t_col else "(row number)", skip_bad_rows
    )
    series: dict[str, SensorSeries] = {}
    rates: dict[str, float] = {}
    for g in groups:
        p = g.placement
        a_cols = [g.fields["a" + ax] for ax in AXES]
        w_cols = [g.fields["g" + ax] for ax in AXES]
        a_unit, a_how = _unit_for(table, a_cols, acc_unit, ACC_UNITS, "m/s2", "accelerometer")
        w_unit, w_how = _unit_for(table, w_cols, gyr_unit, GYR_UNITS, "rad/s", "gyroscope")
        units_info[f"{p}.acc"] = [a_unit, a_how]
        units_info[f"{p}.gyr"] = [w_unit, w_how]
        acc = np.column_stack([parsed.values[f"{p}.a{ax}"] for ax in AXES]) * ACC_UNITS[a_unit]
        gyr = np.column_stack([parsed.values[f"{p}.g{ax}"] for ax in AXES]) * GYR_UNITS[w_unit]
        has = ok & np.isfinite(acc).all(axis=1)  # all-empty group cells: no sample here
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
        rates[p] = float(rate_hz) if rate_hz else _estimate_rate(s.t_s)
    info = {
        "rows": len(table.rows),
        "time_offset_s": raw_offset * TIME_UNITS[t_unit] if t_col is not None else 0.0,
        "units": units_info,
        "columns": {k: c.name for k, c in columns.items()},
        **_merge_skips((parsed.skipped, parsed.first_skipped), (t_skips, t_first)),
    }
    return _recording("csv", path, series, rates, exercise, info)


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


# --- Xsens MT Manager text export ---------------------------------------------------------

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
    from imu_monitor.model import check_placement

    check_placement(placement)
    table = _read_table(path, lambda line: line.lstrip().startswith("//"))
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
    columns: dict[str, _Column] = {}
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
            columns[f"{kind[0]}{ax}"] = _Column(
                names[key.lower()], table.header[names[key.lower()]]
            )
    optional = set()
    for key, name in (("stf", "sampletimefine"), ("pc", "packetcounter")):
        if name in names:
            columns[key] = _Column(names[name], table.header[names[name]])
            optional.add(key)
    parsed = _parse_cells(table, columns, skip_bad_rows=skip_bad_rows, optional=optional)
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
    ok, t_skips, t_first = _check_increasing(path, t, parsed.lines, t_name, skip_bad_rows)
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
        **_merge_skips((parsed.skipped, parsed.first_skipped), (t_skips, t_first)),
    }
    rates = {placement: float(rate or _estimate_rate(s.t_s))}
    return _recording("xsens", path, {placement: s}, rates, exercise, info, device=device)


IMPORTERS: dict[str, Callable[..., Recording]] = {"csv": import_csv, "xsens": import_xsens}
"""Known import formats."""


def import_file(path: str | os.PathLike[str], fmt: str, **options: Any) -> Recording:
    """Import ``path`` in format ``fmt`` (a key of ``IMPORTERS``) with that importer's options."""
    try:
        fn = IMPORTERS[fmt]
    except KeyError:
        raise ImuMonitorError(
            f"unknown import format {fmt!r}; known formats: {', '.join(IMPORTERS)}"
        ) from None
    return fn(path, **options)
