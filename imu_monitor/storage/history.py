"""The session history: one row per recorded session, in an SQLite database in the user's data
directory (``platformdirs.user_data_dir("imu-monitor")/history.sqlite3``; injectable for tests).

A row holds what a trainee and a coach follow over weeks: who, when, which exercise and sensors,
sets, reps, good reps, alarms, the largest lumbar excursions, tempo adherence, and the recording's
path and SHA-256 checksum. The checksum identifies a session: indexing the same file again (or a
copy of it elsewhere) updates its row instead of adding a second one.

The schema is versioned with ``PRAGMA user_version``; opening a database of an older version
upgrades it in place, one transaction per step (``MIGRATIONS``), keeping its rows. A database of
a newer version, or a file that is not one, raises ``HistoryError`` naming the file and what to do.
Like the other stores it is health data: the folder is created 0700 and the file 0600.

Angles are stored as the program keeps them: flexion positive, extension as a size (positive);
the command line shows extension negative (``cli.common.for_user``).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import math
import os
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from imu_monitor.errors import HistoryError
from imu_monitor.storage.recording.format import finite_json
from imu_monitor.storage.stores import (
    APP_DIR_NAME,
    PRIVATE_FILE_MODE,
    make_private_dir,
)

DB_NAME = "history.sqlite3"
CHECKSUM_CHUNK = 1 << 20

MIGRATIONS: tuple[str, ...] = (
    # version 1: the counts every analysis summary had from the start
    """
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        user TEXT NOT NULL,
        date TEXT NOT NULL,
        exercise TEXT NOT NULL,
        sensors TEXT NOT NULL,
        duration_s REAL NOT NULL,
        reps INTEGER NOT NULL,
        alarms INTEGER NOT NULL,
        peak_flexion_deg REAL NOT NULL,
        peak_extension_deg REAL NOT NULL,
        source TEXT NOT NULL,
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL UNIQUE,
        indexed_utc TEXT NOT NULL
    );
    CREATE INDEX sessions_by_user ON sessions (user, exercise, date);
    """,
    # version 2: sets, good reps and tempo (issue 14), and the summary the row was made from
    """
    ALTER TABLE sessions ADD COLUMN sets INTEGER;
    ALTER TABLE sessions ADD COLUMN good_reps INTEGER;
    ALTER TABLE sessions ADD COLUMN tempo_adherence REAL;
    ALTER TABLE sessions ADD COLUMN summary TEXT NOT NULL DEFAULT '{}';
    """,
)
"""``MIGRATIONS[i]`` takes a database from version ``i`` to ``i + 1``."""
SCHEMA_VERSION = len(MIGRATIONS)

_COLUMNS = (
    "user, date, exercise, sensors, duration_s, reps, alarms, peak_flexion_deg, "
    "peak_extension_deg, source, path, sha256, indexed_utc, sets, good_reps, tempo_adherence, "
    "summary"
)


def data_dir() -> Path:
    """The user's data directory of imu-monitor."""
    return Path(platformdirs.user_data_dir(APP_DIR_NAME))


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of the file's bytes, hex; read in 1 MiB pieces (memory does not grow)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHECKSUM_CHUNK):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class SessionRow:
    """One session of the history. ``sets``, ``good_reps`` and ``tempo_adherence`` (the fraction
    of reps whose every phase met the target tempo, 0-1) are None when the analysis that made the
    row did not give them. ``summary``: the analysis summary the row was made from.
    ``id`` and ``indexed_utc`` are set by the store."""

    user: str
    date: str
    """When the session started: ISO 8601 in UTC, e.g. ``2026-12-05T09:30:00+00:00``."""
    exercise: str
    sensors: tuple[str, ...]
    duration_s: float
    reps: int
    alarms: int
    peak_flexion_deg: float
    peak_extension_deg: float
    path: str
    sha256: str
    source: str = ""
    sets: int | None = None
    good_reps: int | None = None
    tempo_adherence: float | None = None
    summary: Mapping[str, Any] = field(default_factory=dict)
    id: int | None = None
    indexed_utc: str = ""

    @property
    def good_rep_rate(self) -> float | None:
        """Good reps per rep (0-1); None without reps or without a good-rep count."""
        if self.good_reps is None or not self.reps:
            return None
        return self.good_reps / self.reps

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["sensors"] = list(self.sensors)
        d["summary"] = dict(self.summary)
        d["good_rep_rate"] = self.good_rep_rate
        return d


def _number(v: Any, default: float = 0.0) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return default
    return x if math.isfinite(x) else default


def _count(v: Any) -> int | None:
    return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def tempo_adherence(summary: Mapping[str, Any]) -> float | None:
    """The fraction of a session's reps whose every phase met the target tempo (0-1): one less
    the reps off tempo (``faulty_reps_by_direction.tempo`` of each set) per rep of the sets.
    None without sets or reps."""
    sets = summary.get("sets")
    if not isinstance(sets, list):
        return None
    reps = off = 0
    for st in sets:
        if not isinstance(st, Mapping):
            return None
        faulty = st.get("faulty_reps_by_direction")
        n, k = (
            _count(st.get("reps")),
            _count(faulty.get("tempo")) if isinstance(faulty, Mapping) else None,
        )
        if n is None or k is None:
            return None
        reps, off = reps + n, off + k
    return 1.0 - off / reps if reps else None


def session_row(
    meta: Mapping[str, Any],
    summary: Mapping[str, Any],
    *,
    path: str | os.PathLike[str],
    sha256: str,
    duration_s: float,
    user: str | None = None,
) -> SessionRow:
    """The row for a recording: ``meta`` is its header (``Recording.meta``: user, start time,
    source), ``summary`` the analysis summary (``Analysis.summary()`` or, at the end of a live
    session, ``Pipeline.summary()``). ``user`` overrides the recording's own.

    The start time is the recording's ``created_utc``, else the file's modification time.
    Sets, good reps and tempo adherence come from the summary's sets block
    (``processing.sets``: ``sets_count``, ``good_reps``, and per set its reps and those off the
    target tempo); a summary without one (an older analysis) leaves them None."""
    date = str(meta.get("created_utc") or "")
    if not date:
        mtime = os.stat(path).st_mtime
        date = _dt.datetime.fromtimestamp(mtime, _dt.UTC).isoformat(timespec="seconds")
    sets = summary.get("sets")
    n_sets = _count(summary.get("sets_count"))
    if n_sets is None and isinstance(sets, list):
        n_sets = len(sets)
    return SessionRow(
        user=str(user or meta.get("user") or "default"),
        date=date,
        exercise=str(summary.get("exercise") or meta.get("exercise") or ""),
        sensors=tuple(str(s) for s in summary.get("sensors", ())),
        duration_s=_number(duration_s),
        reps=int(summary.get("reps", 0)),
        alarms=int(summary.get("alarms", 0)),
        peak_flexion_deg=_number(summary.get("max_flexion_deg")),
        peak_extension_deg=abs(_number(summary.get("max_extension_deg"))),
        path=str(Path(path).resolve()),
        sha256=sha256,
        source=str(meta.get("source") or ""),
        sets=n_sets,
        good_reps=_count(summary.get("good_reps")),
        tempo_adherence=tempo_adherence(summary),
        summary=dict(summary),
    )


class HistoryStore:
    """The history database under ``directory`` (default: the user's data directory).

    Each call opens its own connection (the store can be shared between the dashboard and a
    command, and SQLite serialises the writers); the first one creates or upgrades the schema.
    """

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory is not None else data_dir()
        self.path = self.directory / DB_NAME
        self._ready = False

    # -- queries ---------------------------------------------------------------------------------
    def sessions(self, user: str | None = None, exercise: str | None = None) -> list[SessionRow]:
        """The sessions of ``user`` (None: everyone) and ``exercise`` (None: all), oldest
        first."""
        where, args = [], []
        if user is not None:
            where.append("user = ?")
            args.append(user)
        if exercise is not None:
            where.append("exercise = ?")
            args.append(exercise)
        sql = f"SELECT id, {_COLUMNS} FROM sessions"
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._connection() as con:
            return [_row(r) for r in con.execute(sql + " ORDER BY date, id", args)]

    def get(self, sha256: str) -> SessionRow | None:
        """The session of the file with this checksum, or None."""
        with self._connection() as con:
            r = con.execute(f"SELECT id, {_COLUMNS} FROM sessions WHERE sha256 = ?", (sha256,))
            found = r.fetchone()
        return None if found is None else _row(found)

    def users(self) -> list[str]:
        """Everyone with a session in the history, sorted."""
        with self._connection() as con:
            return [u for (u,) in con.execute("SELECT DISTINCT user FROM sessions ORDER BY user")]

    def exercises(self, user: str | None = None) -> list[str]:
        """The exercises with a session (of ``user``; None: anyone), sorted."""
        sql, args = "SELECT DISTINCT exercise FROM sessions", ()
        if user is not None:
            sql, args = sql + " WHERE user = ?", (user,)
        with self._connection() as con:
            return [e for (e,) in con.execute(sql + " ORDER BY exercise", args)]

    # -- changes ---------------------------------------------------------------------------------
    def add(self, row: SessionRow) -> int:
        """Insert ``row``, or update the session with the same checksum; returns its id."""
        return self.add_many([row])[0]

    def add_many(self, rows: list[SessionRow]) -> list[int]:
        """``add`` for several rows in one transaction."""
        now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        ids = []
        with self._connection() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                for row in rows:
                    values = _values(row, now)
                    con.execute(
                        f"INSERT INTO sessions ({_COLUMNS}) VALUES ({', '.join('?' * 17)}) "
                        "ON CONFLICT (sha256) DO UPDATE SET "
                        + ", ".join(
                            f"{c} = excluded.{c}" for c in _COLUMNS.split(", ") if c != "sha256"
                        ),
                        values,
                    )
                    (i,) = con.execute(
                        "SELECT id FROM sessions WHERE sha256 = ?", (row.sha256,)
                    ).fetchone()
                    ids.append(int(i))
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return ids

    def remove(self, sha256: str) -> bool:
        """Forget the session with this checksum; True when there was one."""
        with self._connection() as con:
            return con.execute("DELETE FROM sessions WHERE sha256 = ?", (sha256,)).rowcount > 0

    # -- the database ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        if not self._ready:
            self._create_private()
        try:
            con = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        except sqlite3.Error as e:
            raise self._error(f"cannot open it ({e})") from None
        try:
            # write-ahead log: a commit is one append, synced at checkpoints, not at every row
            con.execute("PRAGMA synchronous = NORMAL")
            if not self._ready:
                con.execute("PRAGMA journal_mode = WAL")
                self._migrate(con)
                self._ready = True
            yield con
        except sqlite3.DatabaseError as e:
            raise self._error(f"not a history database we can use ({e})") from None
        finally:
            con.close()

    def _error(self, reason: str) -> HistoryError:
        return HistoryError(
            f"history database {self.path}: {reason}; move it away and index your recordings "
            "again (imu-monitor history add DIR)",
            path=self.path,
        )

    def _create_private(self) -> None:
        make_private_dir(self.directory)
        if not self.path.exists():
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE)
            os.close(fd)
        elif not self.path.is_file():
            raise self._error("not a regular file")

    def _migrate(self, con: sqlite3.Connection) -> None:
        (version,) = con.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:
            raise HistoryError(
                f"history database {self.path}: schema version {version} was written by a newer "
                f"imu-monitor (this one knows up to {SCHEMA_VERSION}); update imu-monitor",
                path=self.path,
            )
        for v in range(version, SCHEMA_VERSION):
            con.executescript(f"BEGIN; {MIGRATIONS[v]} PRAGMA user_version = {v + 1}; COMMIT;")


def _values(row: SessionRow, now: str) -> tuple[Any, ...]:
    return (
        row.user,
        row.date,
        row.exercise,
        json.dumps(list(row.sensors)),
        float(row.duration_s),
        int(row.reps),
        int(row.alarms),
        float(row.peak_flexion_deg),
        float(row.peak_extension_deg),
        row.source,
        row.path,
        row.sha256,
        now,
        row.sets,
        row.good_reps,
        row.tempo_adherence,
        json.dumps(finite_json(dict(row.summary)), default=str, allow_nan=False),
    )


def _row(r: tuple[Any, ...]) -> SessionRow:
    (i, user, date, exercise, sensors, duration, reps, alarms, flex, ext, source, path, sha,
     indexed, sets, good, tempo, summary) = r  # fmt: skip
    return SessionRow(
        user=user,
        date=date,
        exercise=exercise,
        sensors=tuple(json.loads(sensors)),
        duration_s=duration,
        reps=reps,
        alarms=alarms,
        peak_flexion_deg=flex,
        peak_extension_deg=ext,
        path=path,
        sha256=sha,
        source=source,
        sets=sets,
        good_reps=good,
        tempo_adherence=tempo,
        summary=json.loads(summary or "{}"),
        id=i,
        indexed_utc=indexed,
    )
