import hashlib
import sqlite3
import stat

import pytest

from imu_monitor.errors import HistoryError
from imu_monitor.storage.history import (
    DB_NAME,
    SCHEMA_VERSION,
    HistoryStore,
    SessionRow,
    file_sha256,
    session_row,
    tempo_adherence,
)


def _row(sha="a" * 64, **kw):
    d = dict(
        user="ann",
        date="2026-12-01T10:00:00+00:00",
        exercise="back-kick",
        sensors=("sacrum",),
        duration_s=600.0,
        reps=20,
        alarms=3,
        peak_flexion_deg=12.5,
        peak_extension_deg=8.0,
        path="/rec/a.imu",
        sha256=sha,
        source="sim",
        sets=2,
        good_reps=15,
        tempo_adherence=0.8,
        summary={"reps": 20, "mean_tempo_s": {"hold": 1.5}},
    )
    d.update(kw)
    return SessionRow(**d)


def test_rows_come_back_as_written(tmp_path):
    store = HistoryStore(tmp_path)
    i = store.add(_row())
    (got,) = store.sessions()
    assert got.id == i and got.indexed_utc
    assert got.to_dict() | {"id": None, "indexed_utc": ""} == _row().to_dict()
    assert got.good_rep_rate == 0.75


def test_same_checksum_updates_instead_of_adding(tmp_path):
    store = HistoryStore(tmp_path)
    first = store.add(_row(reps=20, path="/old/a.imu"))
    again = store.add(_row(reps=22, path="/new/a.imu"))
    store.add(_row(sha="b" * 64))
    assert first == again
    rows = store.sessions()
    assert len(rows) == 2
    assert store.get("a" * 64).reps == 22 and store.get("a" * 64).path == "/new/a.imu"


def test_queries_by_user_and_exercise_oldest_first(tmp_path):
    store = HistoryStore(tmp_path)
    store.add_many(
        [
            _row("1" * 64, user="bo", date="2026-12-03T09:00:00+00:00"),
            _row("2" * 64, user="ann", date="2026-12-02T09:00:00+00:00"),
            _row("3" * 64, user="ann", date="2026-12-01T09:00:00+00:00", exercise="hip-thrust"),
            _row("4" * 64, user="ann", date="2026-11-30T09:00:00+00:00"),
        ]
    )
    assert [r.sha256[0] for r in store.sessions(user="ann")] == ["4", "3", "2"]
    assert [r.sha256[0] for r in store.sessions(user="ann", exercise="back-kick")] == ["4", "2"]
    assert [r.sha256[0] for r in store.sessions(exercise="back-kick")] == ["4", "2", "1"]
    assert store.users() == ["ann", "bo"]
    assert store.exercises("ann") == ["back-kick", "hip-thrust"]
    assert store.exercises("bo") == ["back-kick"]
    assert store.remove("1" * 64) and not store.remove("1" * 64)
    assert store.users() == ["ann"]


def test_database_is_owner_only(tmp_path):
    store = HistoryStore(tmp_path / "data")
    store.add(_row())
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.directory.stat().st_mode) == 0o700


V1_SCHEMA = """
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY, user TEXT NOT NULL, date TEXT NOT NULL, exercise TEXT NOT NULL,
    sensors TEXT NOT NULL, duration_s REAL NOT NULL, reps INTEGER NOT NULL,
    alarms INTEGER NOT NULL, peak_flexion_deg REAL NOT NULL, peak_extension_deg REAL NOT NULL,
    source TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL UNIQUE,
    indexed_utc TEXT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user, exercise, date);
PRAGMA user_version = 1;
"""


def test_a_version_1_database_is_upgraded_and_keeps_its_rows(tmp_path):
    # written here as the first released version wrote it, not through the code under test
    con = sqlite3.connect(tmp_path / DB_NAME)
    con.executescript(V1_SCHEMA)
    con.execute(
        "INSERT INTO sessions VALUES (7, 'ann', '2026-11-01T08:00:00+00:00', 'back-kick', "
        "'[\"sacrum\", \"upper_lumbar\"]', 1800.5, 40, 4, 14.0, 6.5, 'ble', '/r/old.imu', "
        "'" + "c" * 64 + "', '2026-11-01T09:00:00+00:00')"
    )
    con.commit()
    con.close()

    store = HistoryStore(tmp_path)
    (old,) = store.sessions(user="ann")
    assert (old.id, old.reps, old.alarms, old.sensors) == (7, 40, 4, ("sacrum", "upper_lumbar"))
    assert (old.sets, old.good_reps, old.tempo_adherence, old.summary) == (None, None, None, {})
    assert old.good_rep_rate is None
    con = sqlite3.connect(tmp_path / DB_NAME)
    assert con.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    con.close()
    store.add(_row(sha="c" * 64))  # the old session indexed again: updated with the new columns
    (new,) = store.sessions(user="ann")
    assert (new.id, new.good_reps, new.sets) == (7, 15, 2)


def test_a_newer_database_is_refused_by_name(tmp_path):
    con = sqlite3.connect(tmp_path / DB_NAME)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(HistoryError, match="newer imu-monitor") as e:
        HistoryStore(tmp_path).sessions()
    assert e.value.path == str(tmp_path / DB_NAME)


def test_a_file_that_is_not_a_database_is_refused_by_name(tmp_path):
    (tmp_path / DB_NAME).write_bytes(b"not sqlite at all, " * 100)
    with pytest.raises(HistoryError, match=r"history database .*history.sqlite3.*move it away"):
        HistoryStore(tmp_path).sessions()


def test_session_row_from_a_summary(tmp_path):
    f = tmp_path / "s.imu"
    f.write_bytes(b"x" * 3_000_000)
    summary = {
        "exercise": "hip-thrust",
        "sensors": ["sacrum"],
        "reps": 12,
        "alarms": 2,
        "max_flexion_deg": 11.0,
        "max_extension_deg": 9.5,
        "mean_tempo_s": {"hold": float("nan")},
    }
    meta = {"user": "bo", "created_utc": "2026-12-04T18:00:00+00:00", "source": "ble"}
    row = session_row(meta, summary, path=f, sha256=file_sha256(f), duration_s=300.0)
    assert (row.user, row.date, row.exercise, row.reps, row.alarms) == (
        "bo",
        "2026-12-04T18:00:00+00:00",
        "hip-thrust",
        12,
        2,
    )
    assert row.sha256 == hashlib.sha256(b"x" * 3_000_000).hexdigest()
    assert (row.sets, row.good_reps, row.tempo_adherence) == (None, None, None)

    def one_set(reps, off_tempo):
        return {"reps": reps, "faulty_reps_by_direction": {"flexion": 1, "tempo": off_tempo}}

    sets = {"sets_count": 3, "good_reps": 9, "sets": [one_set(4, 1), one_set(4, 0), one_set(2, 1)]}
    row2 = session_row({}, summary | sets, path=f, sha256="d" * 64, duration_s=300.0, user="cy")
    assert (row2.user, row2.sets, row2.good_reps) == ("cy", 3, 9)
    assert row2.tempo_adherence == pytest.approx(1 - 2 / 10)
    assert tempo_adherence({"sets": []}) is None  # no reps: nothing to adhere to
    assert tempo_adherence({"sets": [{"reps": 3}]}) is None  # not a sets block we know
    assert row2.date.endswith("+00:00")  # the file's time when the recording has none
    store = HistoryStore(tmp_path / "h")
    store.add(row)  # NaN in the summary is stored as null
    assert store.sessions()[0].summary["mean_tempo_s"] == {"hold": None}
