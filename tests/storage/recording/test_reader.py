"""Damaged, joined and hostile recording files: what is recovered, what is reported."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from imu_monitor.errors import RecordingError
from imu_monitor.model import Recording, SensorInfo, SensorSeries
from imu_monitor.storage.recording import RecordingWriter, load_recording, save_recording
from imu_monitor.storage.recording.format import MAGIC, RECORD_HEAD, SYNC, RecordType
from imu_monitor.storage.recording.reader import scan

RATE_HZ = 100.0


def recording(seconds: float = 30.0, sensors=("sacrum", "thigh"), t0: float = 0.0) -> Recording:
    rng = np.random.default_rng(5)
    n = int(seconds * RATE_HZ)
    series = {}
    for p in sensors:
        t = t0 + np.arange(n) / RATE_HZ
        series[p] = SensorSeries(t, rng.normal(size=(n, 3)), rng.normal(size=(n, 3)), np.arange(n))
    return Recording(
        meta={"exercise": "hip-thrust"},
        sensors={p: SensorInfo(p, "thingy52", "AA:BB", RATE_HZ) for p in sensors},
        series=series,
        calibration={"exercise": "hip-thrust", "method": "stored"},
    )


def samples_span(data: bytes) -> tuple[int, int]:
    """Byte range covered by SAMPLES records."""
    offs = [o for o, t, _, _ in scan(data, "x", allow_partial=False).records if t == 2]
    last = scan(data, "x", allow_partial=False).records[len(offs)]  # the record after them
    return offs[0], last[0]


def test_one_flipped_byte_costs_at_most_a_second_of_one_sensor(tmp_path: Path) -> None:
    path = tmp_path / "r.imr"
    rec = recording()
    save_recording(rec, path)
    data = path.read_bytes()
    lo, hi = samples_span(data)
    worst = 0.0
    for pos in np.linspace(lo, hi - 1, 40).astype(int):
        buf = bytearray(data)
        buf[pos] ^= 0xFF
        path.write_bytes(bytes(buf))
        back = load_recording(path, allow_partial=True)
        lost = [len(rec.series[p]) - len(back.series[p]) for p in rec.series]
        assert sum(1 for n in lost if n) <= 1  # one sensor
        worst = max(worst, max(lost) / RATE_HZ)
    assert 0 < worst <= 1.0


def test_header_damage_loses_no_samples(tmp_path: Path) -> None:
    path = tmp_path / "r.imr"
    rec = recording()
    save_recording(rec, path)
    data = path.read_bytes()
    for pos in (0, 3, len(MAGIC) + 2, len(MAGIC) + RECORD_HEAD.size + 5):  # magic, header
        buf = bytearray(data)
        buf[pos] ^= 0x55
        path.write_bytes(bytes(buf))
        with pytest.raises(RecordingError):
            load_recording(path)
        back = load_recording(path, allow_partial=True)
        for p, s in rec.series.items():
            assert np.array_equal(back.series[p].t_s, s.t_s), (pos, p)
            assert np.array_equal(back.series[p].acc_m_s2, s.acc_m_s2)
        assert back.calibration == rec.calibration
        if pos >= len(MAGIC):  # header lost: rate from the times, exercise from the calibration
            assert back.sensors["thigh"].rate_hz == pytest.approx(RATE_HZ)
            assert back.exercise == "hip-thrust"
            assert "header record" in back.meta["load_warning"]


def test_two_recordings_joined_are_reported(tmp_path: Path) -> None:
    a, b = tmp_path / "a.imr", tmp_path / "b.imr"
    save_recording(recording(10.0), a)
    save_recording(recording(5.0, t0=0.0), b)
    joined = tmp_path / "ab.imr"
    joined.write_bytes(a.read_bytes() + b.read_bytes())
    with pytest.raises(RecordingError, match="second recording starts here") as e:
        load_recording(joined)
    assert e.value.offset == a.stat().st_size
    first = load_recording(joined, allow_partial=True)
    assert len(first.series["sacrum"]) == 1000  # the first one, whole, not a mix
    assert "second recording" in first.meta["load_warning"]
    # the first file cut short by a kill, then the second appended
    cut = a.read_bytes()[:-30]
    joined.write_bytes(cut + b.read_bytes())
    first = load_recording(joined, allow_partial=True)
    assert "second recording" in first.meta["load_warning"]
    assert np.all(np.diff(first.series["sacrum"].t_s) > 0)


def test_samples_going_back_in_time_are_reported(tmp_path: Path) -> None:
    rec = recording(5.0, sensors=("sacrum",))
    s = rec.series["sacrum"]
    rec.series["sacrum"] = SensorSeries(
        np.concatenate([s.t_s, s.t_s]), np.vstack([s.acc_m_s2] * 2), np.vstack([s.gyr_rad_s] * 2)
    )
    path = tmp_path / "r.imr"
    save_recording(rec, path)
    assert "go back from 4.99 s to 0 s" in load_recording(path).meta["load_warning"]


def test_reads_are_bounded(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="not a regular file"):
        load_recording(os.devnull)
    with pytest.raises(RecordingError, match="folder"):
        load_recording(tmp_path)


def test_saved_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "r.imr"
    save_recording(recording(1.0), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = path.read_bytes()
    sizes = [
        n for _, t, p, n in scan(data, path, allow_partial=False).records if t == RecordType.SAMPLES
    ]
    assert max(sizes) < 2 * int(RATE_HZ) * 64  # blocks of about one second
    assert data.count(SYNC) >= 4
    live = tmp_path / "live.imr"
    RecordingWriter(live, {}, {"sacrum": SensorInfo("sacrum")}, background_flush=False).close()
    assert stat.S_IMODE(live.stat().st_mode) == 0o600
