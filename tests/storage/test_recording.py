"""The .imr recording format: round trips, crash safety, damage detection and recovery."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from imu_monitor.errors import RecordingError
from imu_monitor.model import (
    Gap,
    Marker,
    Recording,
    SampleChunk,
    SensorInfo,
    SensorSeries,
    Truth,
    TruthRep,
)
from imu_monitor.storage.recording import (
    RecordingWriter,
    add_marker,
    load_recording,
    save_recording,
)
from imu_monitor.storage.recording.format import MAGIC, RECORD_OVERHEAD

RATE = 200.0


def series(n: int, seed: int, with_seq: bool = True, t0: float = 0.0) -> SensorSeries:
    rng = np.random.default_rng(seed)
    return SensorSeries(
        t0 + np.arange(n) / RATE,
        rng.normal(size=(n, 3)),
        rng.normal(size=(n, 3)),
        np.arange(1000, 1000 + n, dtype=np.int64) if with_seq else None,
    )


def make_truth(n: int = 50) -> Truth:
    t = np.arange(n) / 100.0
    return Truth(
        t_s=t,
        lumbar_flexion_deg=np.sin(t),
        lumbar_lateral_deg=np.cos(t),
        hip_flexion_deg=t * 2.0,
        reps=[TruthRep(0, 0.1, 0.2, 0.3, 0.4, "extension", 1.5, -2.0), TruthRep(1, 1, 2, 3, 4)],
        segment_pitch_deg={"sacrum": t + 1.0, "upper_lumbar": t - 1.0},
        mounting_quat={"sacrum": [1.0, 0.0, 0.0, 0.0]},
        gyro_bias_rad_s={"sacrum": [0.01, -0.02, 0.003]},
        skin_error_deg=0.1 * np.cos(3 * t),
    )


def full_recording() -> Recording:
    return Recording(
        meta={"exercise": "hip-thrust", "source": "sim", "simulation": {"seed": 3}},
        sensors={
            "sacrum": SensorInfo("sacrum", "sim", "", 200.0),
            "upper_lumbar": SensorInfo("upper_lumbar", "thingy52", "AA:BB", 100.0),
        },
        series={"sacrum": series(1000, 1), "upper_lumbar": series(500, 2, with_seq=False)},
        markers=[Marker(1.0, "set_start", None, {"exercise": "hip-thrust", "load_kg": 60})],
        events=[{"type": "alarm_started", "t_s": 2.5, "angle_deg": 12.0}],
        gaps=[Gap("sacrum", 3.0, 3.5, "link_lost", 100)],
        calibration={"neutral": {"sacrum": [1.0, 0.0, 0.0, 0.0]}, "t_s": 0.5},
        truth=make_truth(),
    )


def assert_series_equal(a: SensorSeries, b: SensorSeries) -> None:
    assert a.t_s.tobytes() == b.t_s.tobytes()
    assert a.acc_m_s2.tobytes() == b.acc_m_s2.tobytes()
    assert a.gyr_rad_s.tobytes() == b.gyr_rad_s.tobytes()
    if a.seq is None:
        assert b.seq is None
    else:
        assert np.array_equal(a.seq, b.seq) and b.seq.dtype == np.int64


def assert_recordings_equal(a: Recording, b: Recording) -> None:
    assert set(a.series) == set(b.series)
    for name in a.series:
        assert_series_equal(a.series[name], b.series[name])
        assert a.sensors[name] == b.sensors[name]
    assert a.markers == b.markers
    assert a.events == b.events
    assert a.gaps == b.gaps
    assert a.calibration == b.calibration
    for k, v in a.meta.items():
        assert b.meta[k] == v


def assert_truth_equal(a: Truth, b: Truth) -> None:
    for name in (
        "t_s",
        "lumbar_flexion_deg",
        "lumbar_lateral_deg",
        "hip_flexion_deg",
        "skin_error_deg",
    ):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert a.reps == b.reps
    assert a.segment_pitch_deg.keys() == b.segment_pitch_deg.keys()
    for k in a.segment_pitch_deg:
        assert np.array_equal(a.segment_pitch_deg[k], b.segment_pitch_deg[k])
    assert a.mounting_quat == b.mounting_quat
    assert a.gyro_bias_rad_s == b.gyro_bias_rad_s


def test_save_load_round_trip_is_exact(tmp_path: Path) -> None:
    rec = full_recording()
    path = tmp_path / "s.imr"
    save_recording(rec, path)
    back = load_recording(path)
    assert_recordings_equal(rec, back)
    assert_truth_equal(rec.truth, back.truth)
    assert back.meta["format_version"] == 1
    assert "load_warning" not in back.meta
    assert not list(tmp_path.glob(".*tmp"))  # the temporary file was renamed away


def test_truth_without_hip_and_empty_sensor(tmp_path: Path) -> None:
    truth = make_truth()
    truth.hip_flexion_deg = None
    rec = Recording({}, {"sacrum": SensorInfo("sacrum")}, {"sacrum": SensorSeries.empty()})
    rec.truth = truth
    save_recording(rec, tmp_path / "e.imr")
    back = load_recording(tmp_path / "e.imr")
    assert back.truth.hip_flexion_deg is None
    assert len(back.series["sacrum"]) == 0


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def stream(writer: RecordingWriter, rec: Recording, clock: FakeClock, step: int = 8) -> None:
    """Write ``rec`` the way a live session does: 40 ms chunks, sensors interleaved."""
    s, u = rec.series["sacrum"], rec.series["upper_lumbar"]
    for k, i in enumerate(range(0, len(s), step)):
        writer.write_chunk(s.chunk("sacrum", i, i + step))
        j = i // 2
        writer.write_chunk(u.chunk("upper_lumbar", j, j + step // 2))
        clock.now = (i + step) / RATE
        if k == 10:
            writer.write_marker(rec.markers[0])
            writer.set_calibration({"first": True})
            writer.write_event(rec.events[0])
            writer.write_gap(rec.gaps[0])
    writer.set_calibration(rec.calibration)
    writer.write_truth(rec.truth)


def test_writer_round_trip_interleaved(tmp_path: Path) -> None:
    rec = full_recording()
    clock = FakeClock()
    path = tmp_path / "w.imr"
    with RecordingWriter(path, rec.meta, rec.sensors, clock=clock, background_flush=False) as w:
        stream(w, rec, clock)
    back = load_recording(path)
    assert_recordings_equal(rec, back)  # calibration: the last one written wins
    assert_truth_equal(rec.truth, back.truth)


def test_writer_flushes_on_time(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "f.imr"
    s = series(400, 5)
    w = RecordingWriter(
        path, {}, {"sacrum": SensorInfo("sacrum")}, clock=clock, background_flush=False
    )
    size0 = path.stat().st_size
    w.write_chunk(s.chunk("sacrum", 0, 8))
    clock.now = 0.2
    w.write_chunk(s.chunk("sacrum", 8, 16))
    assert path.stat().st_size == size0  # less than 0.25 s: still queued
    clock.now = 0.25
    w.write_chunk(s.chunk("sacrum", 16, 24))
    assert path.stat().st_size > size0  # flushed, as one block
    assert w.samples_written == {"sacrum": 24}
    w.write_marker(Marker(0.1, "note", data={"text": "x"}))
    w.flush()
    # Not closed yet: a reader sees everything flushed, and that the writer did not close.
    part = load_recording(path)
    assert len(part.series["sacrum"]) == 24 and part.markers[0].data == {"text": "x"}
    assert "not closed" in part.meta["load_warning"]
    w.close()
    w.close()  # idempotent
    with pytest.raises(RecordingError, match="closed"):
        w.write_chunk(s.chunk("sacrum", 24, 32))
    assert "load_warning" not in load_recording(path).meta


def test_background_flush_when_writes_stop(tmp_path: Path) -> None:
    path = tmp_path / "bg.imr"
    w = RecordingWriter(path, {}, {"sacrum": SensorInfo("sacrum")}, flush_interval_s=0.02)
    size0 = path.stat().st_size
    w.write_chunk(series(8, 1).chunk("sacrum", 0, 8))
    deadline = time.monotonic() + 5.0
    while path.stat().st_size == size0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert path.stat().st_size > size0
    w.close()


def test_writer_is_thread_safe(tmp_path: Path) -> None:
    path = tmp_path / "t.imr"
    s = series(2000, 7)
    w = RecordingWriter(path, {}, {"sacrum": SensorInfo("sacrum")}, flush_interval_s=0.001)

    def samples() -> None:
        for i in range(0, len(s), 5):
            w.write_chunk(s.chunk("sacrum", i, i + 5))

    def markers() -> None:
        for k in range(200):
            w.write_marker(Marker(float(k), "note"))

    threads = [threading.Thread(target=samples), threading.Thread(target=markers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    w.close()
    back = load_recording(path)
    assert_series_equal(s, back.series["sacrum"])
    assert sorted(m.t_s for m in back.markers) == [float(k) for k in range(200)]


def test_writer_refuses_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "x.imr"
    with RecordingWriter(path, {}, {"sacrum": SensorInfo("sacrum")}) as w:
        chunk = SampleChunk("thigh", np.zeros(1), np.zeros((1, 3)), np.zeros((1, 3)))
        with pytest.raises(RecordingError, match="'thigh'.*sensors: sacrum"):
            w.write_chunk(chunk)
    with pytest.raises(RecordingError, match="exists already") as e:
        RecordingWriter(path, {}, {})
    assert e.value.path == str(path)
    RecordingWriter(path, {}, {}, overwrite=True).close()


def test_add_marker_appends(tmp_path: Path) -> None:
    path = tmp_path / "m.imr"
    save_recording(full_recording(), path)
    m = Marker(4.0, "set_end", 5.0, {"side": "left", "exercise": "back-kick"})
    add_marker(path, m)
    back = load_recording(path)
    assert back.markers[-1] == m and len(back.markers) == 2


# --- damage -----------------------------------------------------------------------------


def saved_bytes(tmp_path: Path) -> tuple[Path, bytes]:
    path = tmp_path / "d.imr"
    clock = FakeClock()
    rec = full_recording()
    with RecordingWriter(path, rec.meta, rec.sensors, clock=clock, background_flush=False) as w:
        stream(w, rec, clock)
    return path, path.read_bytes()


def record_offsets(data: bytes) -> list[int]:
    from imu_monitor.storage.recording.reader import scan

    return [r[0] for r in scan(data, "x", allow_partial=False).records]


def test_truncated_file_names_file_and_offset(tmp_path: Path) -> None:
    path, data = saved_bytes(tmp_path)
    offsets = record_offsets(data)
    cut_record = offsets[len(offsets) // 2]
    path.write_bytes(data[: cut_record + 30])
    with pytest.raises(RecordingError) as e:
        load_recording(path)
    assert e.value.path == str(path) and e.value.offset == cut_record
    assert str(path) in str(e.value) and f"byte {cut_record}" in str(e.value)
    assert "cut short" in str(e.value) and "allow_partial" in str(e.value)
    part = load_recording(path, allow_partial=True)
    assert f"byte {cut_record}" in part.meta["load_warning"]
    s = part.series["sacrum"]
    ref = full_recording().series["sacrum"]
    assert 0 < len(s) < len(ref)
    assert_series_equal(
        SensorSeries(ref.t_s[: len(s)], ref.acc_m_s2[: len(s)], ref.gyr_rad_s[: len(s)],
                     ref.seq[: len(s)]),
        s,
    )  # fmt: skip


def test_bit_flip_detected_and_skipped(tmp_path: Path) -> None:
    path, data = saved_bytes(tmp_path)
    offsets = record_offsets(data)
    # Find a samples record of the sacrum in the middle and flip one bit of its payload.
    target = offsets[len(offsets) // 3]
    buf = bytearray(data)
    buf[target + 40] ^= 0x10
    path.write_bytes(bytes(buf))
    with pytest.raises(RecordingError, match="CRC") as e:
        load_recording(path)
    assert e.value.offset == target
    part = load_recording(path, allow_partial=True)
    assert "CRC" in part.meta["load_warning"]
    ref = full_recording()
    lost = {n: len(ref.series[n]) - len(part.series[n]) for n in ref.series}
    assert sum(lost.values()) > 0  # one block is gone ...
    assert part.truth is not None and part.calibration == ref.calibration  # ... the rest is not
    damaged = [g for g in part.gaps if g.reason == "file_damaged"]
    assert len(damaged) == 1 and lost[damaged[0].sensor] > 0
    s = part.series[damaged[0].sensor]
    hole = np.flatnonzero(np.diff(s.t_s) > 1.5 / RATE)
    assert len(hole) == 1
    assert damaged[0].t_start_s == s.t_s[hole[0]] and damaged[0].t_end_s == s.t_s[hole[0] + 1]


def test_damaged_length_field_resyncs(tmp_path: Path) -> None:
    path, data = saved_bytes(tmp_path)
    offsets = record_offsets(data)
    target = offsets[5]
    buf = bytearray(data)
    buf[target + 6] ^= 0x40  # length field: now points far past the end
    path.write_bytes(bytes(buf))
    with pytest.raises(RecordingError) as e:
        load_recording(path)
    assert e.value.offset == target
    part = load_recording(path, allow_partial=True)
    assert part.truth is not None  # records after the damage were found again


def test_not_a_recording_and_damaged_header(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_text("t,ax\n0,1\n")
    with pytest.raises(RecordingError, match="not an imu-monitor recording") as e:
        load_recording(p, allow_partial=True)
    assert e.value.offset == 0
    with pytest.raises(RecordingError, match="no such file"):
        load_recording(tmp_path / "missing.imr")
    path, data = saved_bytes(tmp_path)
    buf = bytearray(data)
    buf[len(MAGIC) + RECORD_OVERHEAD] ^= 1  # inside the header record
    path.write_bytes(bytes(buf))
    with pytest.raises(RecordingError, match="CRC") as e:
        load_recording(path)
    assert e.value.offset == len(MAGIC)
    # allow_partial: the samples are recovered from their own records (tests/storage/recording)
    assert "header record" in load_recording(path, allow_partial=True).meta["load_warning"]
    (tmp_path / "empty.imr").write_bytes(b"")
    with pytest.raises(RecordingError, match="empty or cut short"):
        load_recording(tmp_path / "empty.imr")


def test_add_marker_refuses_damaged_file(tmp_path: Path) -> None:
    path, data = saved_bytes(tmp_path)
    path.write_bytes(data[:-3])
    with pytest.raises(RecordingError, match="cut short"):
        add_marker(path, Marker(1.0, "note"))
    assert path.read_bytes() == data[:-3]


# --- a killed writer --------------------------------------------------------------------

CHILD = """
import sys, time
import numpy as np
from imu_monitor.model import SampleChunk, SensorInfo
from imu_monitor.storage.recording import RecordingWriter
w = RecordingWriter(sys.argv[1], {"source": "test"},
                    {"sacrum": SensorInfo("sacrum"), "upper_lumbar": SensorInfo("upper_lumbar")})
start = time.monotonic()
i = 0
while True:
    t = (i + np.arange(8)) / 200.0
    for name in ("sacrum", "upper_lumbar"):
        w.write_chunk(SampleChunk(name, t, np.ones((8, 3)), np.zeros((8, 3))))
    i += 8
    print(t[-1], flush=True)
    delay = start + i / 200.0 - time.monotonic()
    if delay > 0:
        time.sleep(delay)
"""


def test_sigkilled_writer_loses_at_most_half_a_second(tmp_path: Path) -> None:
    path = tmp_path / "killed.imr"
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        last = 0.0
        for line in proc.stdout:
            last = float(line)
            if last >= 1.5:
                break
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        rest = proc.stdout.read().split()
        proc.wait()
    last = float(rest[-1]) if rest else last  # the child's true progress when killed
    assert last >= 1.5
    rec = load_recording(path, allow_partial=True)
    for name in ("sacrum", "upper_lumbar"):
        t = rec.series[name].t_s
        assert len(t) and t[-1] >= last - 0.5, (name, t[-1] if len(t) else None, last)
        assert np.all(np.diff(t) > 0)
