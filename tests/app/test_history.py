import json

import pytest

from imu_monitor.app.history import index_archive, index_file, index_session, recordings_in
from imu_monitor.errors import HistoryError
from imu_monitor.processing.analysis import analyze_recording
from imu_monitor.simulator import SimulationConfig, simulate_session
from imu_monitor.storage.history import HistoryStore, file_sha256
from imu_monitor.storage.recording import load_recording, save_recording


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """Three sessions of two users in nested folders, a file that is not a recording, and one
    whose sensor set cannot be judged (no sacrum)."""
    d = tmp_path_factory.mktemp("archive")
    (d / "ann").mkdir()
    (d / "bo" / "week2").mkdir(parents=True)
    for i, (sub, user, exercise) in enumerate(
        [("ann", "ann", "back-kick"), ("bo", "bo", "hip-thrust"), ("bo/week2", "bo", "back-kick")]
    ):
        rec = simulate_session(
            SimulationConfig(exercise=exercise, reps=6, faulty=2, seed=i, motion="ramps"),
            created_utc=f"2026-12-0{i + 1}T09:00:00+00:00",
        )
        rec.meta["user"] = user
        save_recording(rec, d / sub / f"s{i}.imr")
    (d / "ann" / "notes.imr").write_bytes(b"just text, not a recording\n")
    rec = load_recording(d / "ann" / "s0.imr")
    rec.sensors = {"thigh": rec.sensors["sacrum"]}
    rec.series = {"thigh": rec.series["sacrum"]}
    save_recording(rec, d / "bo" / "thigh_only.imr")
    (d / "ann" / "readme.txt").write_text("not a recording by its name: not looked at")
    return d


def _key(rows):
    return sorted((r.sha256, r.user, r.exercise, r.reps, r.alarms, r.date) for r in rows)


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_archive_is_indexed_and_bad_files_are_named(archive, tmp_path, jobs):
    store = HistoryStore(tmp_path)
    seen = []
    report = index_archive(recordings_in(archive), store, jobs=jobs, on_result=seen.append)
    assert len(seen) == 5
    assert sorted(p.split("/")[-1] for p, _ in report.failed) == ["notes.imr", "thigh_only.imr"]
    reasons = dict((p.split("/")[-1], r) for p, r in report.failed)
    assert "not an imu-monitor recording" in reasons["notes.imr"]
    assert "no sacrum sensor" in reasons["thigh_only.imr"]
    rows = store.sessions()
    assert _key(rows) == _key(report.indexed) and len(rows) == 3
    assert store.users() == ["ann", "bo"]
    assert [r.exercise for r in store.sessions(user="bo")] == ["hip-thrust", "back-kick"]
    assert report.peak_rss_mb and all(m > 0 for m in report.peak_rss_mb.values())
    # the rows are what analyze gives for each file
    for r in rows:
        summary = analyze_recording(load_recording(r.path)).summary()
        assert (r.reps, r.alarms, r.sensors) == (
            summary["reps"],
            summary["alarms"],
            tuple(summary["sensors"]),
        )
        assert r.peak_flexion_deg == summary["max_flexion_deg"]
        # sets, good reps and tempo adherence from the analysis' sets block
        assert (r.sets, r.good_reps) == (summary["sets_count"], summary["good_reps"])
        off = sum(s["faulty_reps_by_direction"]["tempo"] for s in summary["sets"])
        assert r.tempo_adherence == pytest.approx(1 - off / summary["reps"])
        assert r.summary["sets"] == json.loads(json.dumps(summary["sets"]))
        assert r.sha256 == file_sha256(r.path)
    # indexing again updates, does not duplicate; --user files everything under one user
    index_archive(recordings_in(archive), store, jobs=jobs, user="coach")
    assert len(store.sessions()) == 3 and store.users() == ["coach"]


def test_one_and_several_workers_give_the_same_rows(archive, tmp_path):
    one = index_archive(recordings_in(archive), HistoryStore(tmp_path / "1"), jobs=1)
    two = index_archive(recordings_in(archive), HistoryStore(tmp_path / "2"), jobs=2)
    assert [r.to_dict() for r in sorted(one.indexed, key=lambda r: r.sha256)] == [
        r.to_dict() for r in sorted(two.indexed, key=lambda r: r.sha256)
    ]


def test_index_file_reports_a_missing_file_without_raising(tmp_path):
    res = index_file(tmp_path / "gone.imr")
    assert res.row is None and "cannot read it" in res.error


def test_recordings_in_a_missing_folder_is_an_error(tmp_path):
    with pytest.raises(HistoryError, match="not a directory"):
        recordings_in(tmp_path / "nope")


def test_a_session_just_recorded_is_indexed_from_its_live_summary(archive, tmp_path):
    path = archive / "ann" / "s0.imr"
    rec = load_recording(path)
    summary = analyze_recording(rec).summary()
    store = HistoryStore(tmp_path)
    row = index_session(store, path, rec.meta, summary, rec.duration_s)
    assert store.sessions(user="ann") == [store.get(row.sha256)]
    assert store.get(file_sha256(path)).reps == summary["reps"]
