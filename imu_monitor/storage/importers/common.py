"""What every importer shares: reading a text table, parsing and validating its cells, checking
that times increase, and building the ``Recording`` (meta data, rebased times, skipped rows).

Times are kept as in the file unless the first one is more than ``REBASE_TIME_S`` from zero
(clock timestamps such as Unix time or device uptime): then they are shifted so the first sample
is at 0 s and the offset is kept in ``meta["import"]["time_offset_s"]``. Bad rows (non-numeric
or missing cells, times that do not increase) raise ``ImportFileError`` naming the file, row and
column, unless ``skip_bad_rows``: then they are skipped and counted in
``meta["import"]["skipped_rows"]``.
"""

from __future__ import annotations

import csv
import datetime as _dt
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from imu_monitor.errors import ImportFileError, ImuMonitorError
from imu_monitor.exercises import get_exercise
from imu_monitor.files import FileTooLargeError, NotRegularFileError, read_regular_file
from imu_monitor.model import GRAVITY_M_S2, Recording, SensorInfo, SensorSeries

REBASE_TIME_S = 60.0
MIN_RATE_HZ = 1.0
MAX_RATE_HZ = 100_000.0
"""Sample rates accepted (from an option, a file header or the data): any IMU worth importing
samples between 1 Hz and 100 kHz; outside that a rate is a typo or a wrong time unit."""
MAX_IMPORT_BYTES = 1 << 30
"""Largest file read for import (1 GiB: about 8 sensor-hours of 200 Hz CSV)."""
MAX_SPAN_FACTOR = 10.0
MAX_EXTRA_SPAN_S = 600.0
MAX_RATE_MISMATCH = 0.2
"""A rate given beside a time column (``--rate``, a header's) must be within this fraction of
the rate the times themselves step at (1 / median step): at 100 Hz given for 200 Hz times, every
angular rate was read at half its size over twice the time, and the angles came out doubled."""
CONCAT_MIN_ROWS = 20
"""A backwards time jump followed by this many increasing rows that all stay before the
earlier times is a second recording joined on, not a glitch."""
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


def normalise_unit(unit: str, table: dict[str, float], what: str) -> str:
    """Canonical unit name (key of ``table``) for ``unit``; unknown ones list the known."""
    u = unit.strip().lower().replace(" ", "")
    u = _UNIT_ALIASES.get(u, u)
    if u not in table:
        raise ImuMonitorError(f"unknown {what} unit {unit!r}; known: {', '.join(table)}")
    return u


def valid_rate(value: object, what: str) -> float:
    """``value`` as a sample rate in Hz, or ``ImuMonitorError`` naming ``what`` (the option or
    the place in a file it came from) when it is not a finite number within the accepted
    range."""
    try:
        rate = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ImuMonitorError(f"{what}: {value!r} is not a number of Hz") from None
    if not math.isfinite(rate) or not MIN_RATE_HZ <= rate <= MAX_RATE_HZ:
        raise ImuMonitorError(
            f"{what}: a sample rate of {value!r} Hz is not possible; give a rate between "
            f"{MIN_RATE_HZ:g} and {MAX_RATE_HZ:g} Hz"
        )
    return rate


def read_bounded(path: Path, max_bytes: int) -> bytes:
    """The bytes of regular file ``path`` (at most ``max_bytes``), or ``ImportFileError``."""
    try:
        return read_regular_file(path, max_bytes)
    except FileNotFoundError:
        raise ImportFileError(path, "no such file; check the path") from None
    except IsADirectoryError:
        raise ImportFileError(path, "is a folder; give the path of a data file") from None
    except NotRegularFileError:
        raise ImportFileError(path, "not a regular file; give the path of a data file") from None
    except FileTooLargeError as e:
        if e.size is not None:
            raise ImportFileError(
                path, f"{e.size} bytes is more than the {max_bytes} this reads; split it"
            ) from None
        raise ImportFileError(path, f"more than {max_bytes} bytes; split it") from None
    except OSError as e:
        raise ImportFileError(path, f"cannot read the file: {e.strerror}") from None


def _num(v: float) -> str:
    return f"{float(v):.10g}"


@dataclass
class Column:
    index: int
    name: str
    unit: str | None = None


def _sniff_delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in ("\t", ",", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


@dataclass
class Table:
    path: Path
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (1-based line number, cells)
    comments: list[str]


def read_table(path: Path, is_comment: Callable[[str], bool]) -> Table:
    """Comment lines, header and rows of a delimited text file.

    A cell too long for the csv module and a quote left open at the end of a line (which would
    swallow the lines after it) are refused with the row they are in.
    """
    text = read_bounded(path, MAX_IMPORT_BYTES).decode("utf-8-sig", errors="replace")
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
    rows = []
    header: list[str] = []
    last = 0
    try:
        for cells in reader:
            if reader.line_num != last + 1:
                raise ImportFileError(
                    path,
                    'a quote (") opened in this row is not closed on the same line; fix the '
                    "quotes (sensor data needs none)",
                    row=h + last + 1,
                )
            last = reader.line_num
            if not header and not rows and last == 1:
                header = [c.strip() for c in cells]
            elif cells and any(c.strip() for c in cells):
                rows.append((h + last, cells))
    except csv.Error as e:
        raise ImportFileError(
            path, f"cannot split the row into cells ({e}); fix or remove it", row=h + last + 1
        ) from None
    return Table(path, header, rows, comments)


@dataclass
class Parsed:
    values: dict[str, np.ndarray]  # key -> float64 array over kept rows (NaN where allowed)
    lines: np.ndarray  # line number of each kept row
    skipped: Counter = field(default_factory=Counter)
    first_skipped: list[str] = field(default_factory=list)


def parse_cells(
    table: Table,
    columns: dict[str, Column],
    *,
    skip_bad_rows: bool,
    optional: set[str] = frozenset(),
    groups: Sequence[Sequence[str]] = (),
) -> Parsed:
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
    return Parsed({k: out[keep, c] for c, k in enumerate(keys)}, lines[keep], skipped, first)


def check_increasing(
    path: Path, t: np.ndarray, lines: np.ndarray, column: str, skip_bad_rows: bool
) -> tuple[np.ndarray, Counter, list[str]]:
    """Mask of rows whose time increases over every earlier kept row (NaN times are bad)."""
    known = np.where(np.isnan(t), -np.inf, t)
    prev_max = np.concatenate([[-np.inf], np.maximum.accumulate(known)[:-1]]) if len(t) else t
    ok = t > prev_max
    _refuse_concatenation(path, t, prev_max, lines, column)
    skipped: Counter = Counter()
    first: list[str] = []
    bad = np.flatnonzero(~ok)
    for i in bad[:5]:
        if math.isnan(t[i]):
            msg = "no time in this row"
        elif t[i] == prev_max[i]:
            msg = f"duplicate time {_num(t[i])} (the same as an earlier row)"
        else:
            msg = f"time {_num(t[i])} is before an earlier row's {_num(prev_max[i])} (unsorted)"
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


def _refuse_concatenation(
    path: Path, t: np.ndarray, prev_max: np.ndarray, lines: np.ndarray, column: str
) -> None:
    """Raise when the times jump back and then run on, increasing, for ``CONCAT_MIN_ROWS`` rows
    that all stay before the earlier times: two recordings in one file. Skipping those rows as
    unsorted would silently drop the second recording."""
    n = len(t)
    if n <= CONCAT_MIN_ROWS:
        return
    with np.errstate(invalid="ignore"):
        inc = np.append(t[1:] > t[:-1], False)  # row i -> i+1 increases
    # next_break[i]: first row k >= i whose step to k+1 does not increase
    idx = np.where(inc, n, np.arange(n))
    next_break = np.minimum.accumulate(idx[::-1])[::-1]
    k = CONCAT_MIN_ROWS - 1
    cand = np.arange(1, n - k)
    with np.errstate(invalid="ignore"):
        jump = (t[cand] < prev_max[cand]) & (next_break[cand] >= cand + k)
        jump &= t[cand + k] < prev_max[cand]
    hits = cand[jump]
    if len(hits):
        i = int(hits[0])
        run = int(min(next_break[i], n - 1) - i + 1)
        raise ImportFileError(
            path,
            f"the time jumps back from {_num(prev_max[i])} to {_num(t[i])} and then runs on "
            f"for {run} rows: two recordings seem to be joined in one file; split it before "
            "this row and import each part",
            row=int(lines[i]),
            column=column,
        )


def check_span(path: Path, t: np.ndarray, lines: np.ndarray, rate_hz: float, column: str) -> None:
    """Refuse times that spread the samples over far more time than the rate allows (more than
    ``MAX_SPAN_FACTOR`` times as long, and ``MAX_EXTRA_SPAN_S`` more): a time column that is not
    a clock (random counters, a glitched row far in the future)."""
    if len(t) < 2:
        return
    expected = len(t) / rate_hz
    span = float(t[-1] - t[0])
    if span <= MAX_SPAN_FACTOR * expected or span <= expected + MAX_EXTRA_SPAN_S:
        return
    steps = np.diff(t)
    i = int(np.argmax(steps)) + 1
    raise ImportFileError(
        path,
        f"the times spread {len(t)} samples over {_num(span)} s where {rate_hz:g} Hz needs about "
        f"{_num(expected)} s; the biggest step, {_num(steps[i - 1])} s, is at this row: check "
        "the time column (or remove the rows that are not part of the session)",
        row=int(lines[i]),
        column=column,
    )


def check_rate(path: Path, t: np.ndarray, rate_hz: float, what: str, advice: str) -> None:
    """Refuse ``rate_hz`` (``what`` names where it came from) when the times ``t`` step at a rate
    more than ``MAX_RATE_MISMATCH`` away from it; ``advice`` says what to do instead."""
    steps = np.diff(t)
    steps = steps[np.isfinite(steps) & (steps > 0)]
    if len(steps) < 2:
        return
    step = float(np.median(steps))
    if abs(rate_hz * step - 1.0) <= MAX_RATE_MISMATCH:
        return
    raise ImportFileError(
        path,
        f"{what} does not fit the file's times: they step by {step * 1e3:.4g} ms (median), "
        f"{1.0 / step:.4g} Hz; {advice}",
    )


def estimate_rate(t: np.ndarray, path: Path | None = None) -> float:
    """1 / median time step, checked against the accepted rates."""
    if len(t) < 2:
        raise ImportFileError(
            path, "cannot estimate the sample rate from fewer than 2 samples; pass --rate HZ"
        )
    with np.errstate(divide="ignore", over="ignore"):
        rate = float(1.0 / np.median(np.diff(t)))
    try:
        return valid_rate(rate, "the rate estimated from the times")
    except ImuMonitorError as e:
        raise ImportFileError(
            path,
            f"{e} (median time step {_num(1 / rate) if rate else 'inf'} s); check the time "
            "unit (--time-unit ms or us) or pass --rate HZ",
        ) from None


def make_recording(
    fmt: str,
    path: Path,
    series: dict[str, SensorSeries],
    rates: dict[str, float],
    exercise: str | None,
    info: dict[str, Any],
    device: str = "",
    *,
    rebase: bool = True,
) -> Recording:
    starts = [float(s.t_s[0]) for s in series.values() if len(s)]
    offset = 0.0
    if rebase and starts and abs(min(starts)) > REBASE_TIME_S:
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
        get_exercise(exercise)  # an unknown name raises with the list of known ones
        meta["exercise"] = exercise
    sensors = {
        p: SensorInfo(placement=p, profile="import", device=device, rate_hz=rates[p])
        for p in series
    }
    return Recording(meta=meta, sensors=sensors, series=series)


def merge_skips(*parts: tuple[Counter, list[str]]) -> dict[str, Any]:
    total: Counter = Counter()
    first: list[str] = []
    for c, f in parts:
        total.update(c)
        first.extend(f)
    return {"skipped_rows": int(sum(total.values())), "skipped": dict(total), "examples": first[:5]}
