"""ReplaySource: pacing with an injected clock, speed, pause, seek, loop, gaps."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

from imu_monitor.errors import ImuMonitorError
from imu_monitor.model import Gap, Recording, SensorInfo, SensorSeries
from imu_monitor.sources.replay import ReplaySource

RATE = 200.0


def series(n: int, t0: float = 0.0, seed: int = 0) -> SensorSeries:
    rng = np.random.default_rng(seed)
    return SensorSeries(
        t0 + np.arange(n) / RATE,
        rng.normal(size=(n, 3)),
        rng.normal(size=(n, 3)),
        np.arange(n, dtype=np.int64),
    )


def two_sensor(duration_s: float = 2.0, gaps: list[Gap] | None = None) -> Recording:
    n = int(duration_s * RATE)
    return Recording(
        meta={},
        sensors={"sacrum": SensorInfo("sacrum"), "upper_lumbar": SensorInfo("upper_lumbar")},
        series={"sacrum": series(n, 0.0, 1), "upper_lumbar": series(n, 0.0025, 2)},
        gaps=gaps or [],
    )


class FakeTime:
    """A clock whose sleep advances it instantly; ``on_sleep`` hooks run during sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept = 0.0
        self.on_sleep = None

    def clock(self) -> float:
        return self.now

    def sleep(self, dt: float) -> None:
        assert dt > 0
        self.now += dt
        self.slept += dt
        if self.on_sleep is not None:
            self.on_sleep()


def replay(rec: Recording, ft: FakeTime, **kw) -> ReplaySource:
    return ReplaySource(rec, clock=ft.clock, sleep=ft.sleep, **kw)


def test_chunks_rebuild_the_recording_in_time_order() -> None:
    rec = two_sensor()
    ft = FakeTime()
    src = replay(rec, ft, speed=None)
    got: dict[str, list] = {"sacrum": [], "upper_lumbar": []}
    last_t = -math.inf
    for c in src.chunks():
        assert 1 <= len(c) <= 8  # 40 ms at 200 Hz, like a BLE notification
        assert c.t_s[-1] >= last_t  # emitted in the order their last sample was taken
        last_t = c.t_s[-1]
        got[c.sensor].append(c)
    assert ft.slept == 0.0  # as fast as possible: never sleeps
    for name, chunks in got.items():
        back = SensorSeries.concat(chunks)
        ref = rec.series[name]
        assert np.array_equal(back.t_s, ref.t_s) and np.array_equal(back.seq, ref.seq)
        assert np.array_equal(back.acc_m_s2, ref.acc_m_s2)
        assert np.array_equal(back.gyr_rad_s, ref.gyr_rad_s)
    assert src.position_s == pytest.approx(src.duration_s)


@pytest.mark.parametrize("speed", [1.0, 4.0])
def test_real_time_pacing(speed: float) -> None:
    rec = two_sensor()
    ft = FakeTime()
    start = ft.now
    src = replay(rec, ft, speed=speed)
    for c in src.chunks():
        due = start + (c.t_s[-1] - src.t0_s) / speed
        # Never early, and not late by more than float noise (sleeps are exact here).
        assert ft.now >= due - 1e-9
        assert ft.now <= due + 1e-6
    assert ft.now - start == pytest.approx(src.duration_s / speed, abs=1e-6)


def test_speed_change_mid_stream() -> None:
    rec = two_sensor()
    ft = FakeTime()
    start = ft.now
    src = replay(rec, ft, speed=1.0)
    for c in src.chunks():
        if c.t_s[-1] >= 1.0 and src.speed == 1.0:
            src.speed = 2.0
    # About 1 s at 1x, then the remaining ~1 s at 2x.
    assert ft.now - start == pytest.approx(1.0 + (src.duration_s - 1.0) / 2, abs=0.05)
    with pytest.raises(ImuMonitorError, match="positive"):
        src.speed = 0


def test_pause_resume_re_anchors_pacing() -> None:
    rec = two_sensor()
    ft = FakeTime()
    start = ft.now
    src = replay(rec, ft, speed=1.0)
    gen = src.chunks()
    c = next(gen)
    while c.t_s[-1] < 1.0:
        c = next(gen)
    src.pause()
    assert src.paused

    def user_waits_then_resumes() -> None:
        ft.now += 10.0  # ten seconds pass on the (fake) wall clock while paused
        src.resume()

    timer = threading.Timer(0.05, user_waits_then_resumes)
    timer.start()
    rest = list(gen)  # blocks until resumed
    timer.join()
    assert rest and not src.paused
    # Replay continues at 1x from the resume, it does not race to catch up the 10 s.
    assert ft.now - start == pytest.approx(src.duration_s + 10.0, abs=1e-6)


def test_seek_clamps_with_notice() -> None:
    rec = two_sensor()
    src = replay(rec, FakeTime(), speed=None)
    assert src.seek(100.0) == pytest.approx(src.duration_s)
    assert src.notice == f"seek past the end: clamped to {src.duration_s:.3f} s"
    assert sum(len(c) for c in src.chunks()) <= 1  # only a last sample is left
    assert src.seek(-3.0) == 0.0 and "clamped to 0" in src.notice
    assert src.seek(1.0) == 1.0 and src.notice is None
    assert src.position_s == 1.0


def test_seek_mid_stream_jumps_and_reports() -> None:
    rec = two_sensor()
    jumps: list[float] = []
    src = replay(rec, FakeTime(), speed=None, on_jump=jumps.append)
    gen = src.chunks()
    for _ in range(5):
        next(gen)
    src.seek(1.5)
    after = list(gen)
    assert jumps == [1.5]
    assert min(c.t_s[0] for c in after) >= 1.5
    first = {c.sensor: c.t_s[0] for c in reversed(after)}
    assert first["sacrum"] == pytest.approx(1.5)
    # Everything from 1.5 s on is delivered exactly once.
    n = sum(len(c) for c in after if c.sensor == "sacrum")
    assert n == int(np.sum(rec.series["sacrum"].t_s >= 1.5))


def test_seek_during_a_paced_wait() -> None:
    rec = two_sensor()
    ft = FakeTime()
    src = replay(rec, ft, speed=1.0)
    seen: list[float] = []

    def seek_once() -> None:
        if ft.now - 100.0 > 0.5 and not seen:
            seen.append(src.seek(1.9))

    ft.on_sleep = seek_once
    chunks = list(src.chunks())
    assert seen == [1.9]
    assert chunks[-1].t_s[-1] == pytest.approx(rec.series["upper_lumbar"].t_s[-1])
    assert sum(len(c) for c in chunks) < 2 * len(rec.series["sacrum"]) * 0.5


def test_seek_rep() -> None:
    rec = two_sensor()
    src = replay(rec, FakeTime(), speed=None)
    assert src.seek_rep(1, [0.4, 1.25]) == pytest.approx(1.25)
    first = next(src.chunks())
    assert first.t_s[0] >= 1.25
    with pytest.raises(ImuMonitorError, match="no rep 2: this recording has 2 reps"):
        src.seek_rep(2, [0.4, 1.25])


def test_loop_restarts() -> None:
    rec = two_sensor(0.5)
    jumps: list[float] = []
    src = replay(rec, FakeTime(), speed=None, loop=True, on_jump=jumps.append)
    n_total = sum(len(s) for s in rec.series.values())
    got = 0
    for c in src.chunks():
        got += len(c)
        if got >= 3 * n_total:
            break
    assert src.loops == 2 and jumps == [0.0, 0.0]


def test_gaps_are_passed_on_in_time() -> None:
    gap = Gap("sacrum", 1.0, 1.2, "link_lost", 40)
    late = Gap("upper_lumbar", 5.0, 6.0)
    rec = two_sensor(gaps=[late, gap])
    log: list[object] = []
    src = replay(rec, FakeTime(), speed=None, on_gap=log.append)
    for c in src.chunks():
        log.append(c.t_s[-1])
    i = log.index(gap)
    assert log[i - 1] < 1.0 <= log[i + 1]
    assert log[-1] is late  # gaps after the last sample still arrive, at the end


def test_chunks_do_not_span_holes() -> None:
    s = series(400)
    keep = (s.t_s < 0.5) | (s.t_s >= 0.8)
    hole = SensorSeries(s.t_s[keep], s.acc_m_s2[keep], s.gyr_rad_s[keep], s.seq[keep])
    rec = Recording({}, {"sacrum": SensorInfo("sacrum")}, {"sacrum": hole})
    ft = FakeTime()
    src = replay(rec, ft, speed=1.0)
    for c in src.chunks():
        assert c.t_s[-1] - c.t_s[0] < 0.04
        assert ft.now - 100.0 == pytest.approx(c.t_s[-1], abs=1e-6)


def test_bad_arguments() -> None:
    with pytest.raises(ImuMonitorError, match="speed"):
        ReplaySource(two_sensor(), speed=-1)
    with pytest.raises(ImuMonitorError, match="chunk"):
        ReplaySource(two_sensor(), chunk_s=0)
    empty = Recording({}, {}, {})
    assert list(ReplaySource(empty, speed=None, loop=True).chunks()) == []
