"""A burst lost in a fast turn, bridged with the other lumbar sensor's gyro (``gap_fill``) rather
than the straight line between the gap's ends: the orientation after the gap, and the live
two-sensor hip thrust at 52 Hz that alarmed falsely without it (truth: the simulator's)."""

from __future__ import annotations

import itertools

import numpy as np
from scipy.spatial.transform import Rotation

from imu_monitor.model import SampleChunk
from imu_monitor.processing import gap_fill
from imu_monitor.processing.gap_fill import PairedGapFill
from imu_monitor.processing.orientation import OrientationStream
from imu_monitor.simulator import SimulationConfig, simulate_session
from imu_monitor.simulator.live import arrival_order, feed_live
from imu_monitor.simulator.scoring import live_judgement, session_goals

RATE = 52.0
G = np.array([0.0, 0.0, 9.81])


def _turning(mount: Rotation, n: int = 420) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A sensor (``mount``: sensor in body) on a body that rests 2 s, then twice pitches 60 deg
    about the world's y axis in 0.5 s (bell-shaped speed, 190 deg/s at its peak) and back after
    a 1 s hold (2.0, 5.0 s): times, accelerations (gravity only: the turn is about the sensor's
    own point) and gyro."""
    t = np.arange(n) / RATE

    def ramp(t0):
        u = np.clip((t - t0) / 0.5, 0, 1)
        return u - np.sin(2 * np.pi * u) / (2 * np.pi)

    pitch = np.radians(60.0) * (ramp(2.0) - ramp(3.5) + ramp(5.0) - ramp(6.5))
    body = Rotation.from_rotvec(np.outer(pitch, [0.0, 1.0, 0.0]))
    world = body * mount
    acc = world.inv().apply(G)
    gyr = np.vstack(((world[:-1].inv() * world[1:]).as_rotvec() * RATE, np.zeros((1, 3))))
    return t, acc, gyr


def _chunks(sensor: str, t, acc, gyr, lost: slice | None = None, size: int = 4):
    keep = np.ones(len(t), bool)
    if lost is not None:
        keep[lost] = False
    idx = np.flatnonzero(keep)
    return [
        SampleChunk(sensor, t[i], acc[i], gyr[i], None)
        for i in (idx[k : k + size] for k in range(0, len(idx), size))
    ]


def _inclination_error_deg(stream_out, t, acc) -> float:
    """Largest angle (deg) between the filter's 'up' and the true one in the hold after the
    second turn (5.6-6.5 s)."""
    q = Rotation.from_quat(stream_out[1], scalar_first=True)
    up_est = q.inv().apply([0.0, 0.0, 1.0])
    up_true = acc[np.searchsorted(t, stream_out[0])] / 9.81
    after = (stream_out[0] > 5.6) & (stream_out[0] < 6.5)
    cos = np.clip((up_est * up_true).sum(axis=1), -1.0, 1.0)
    return float(np.degrees(np.arccos(cos[after])).max())


def _run(stream, chunks):
    ts, qs = [], []
    for c in chunks:
        r = stream.update(c)
        ts.append(r.t_s)
        qs.append(r.quat_ws)
    return np.concatenate(ts), np.concatenate(qs)


LOST = slice(int(5.15 * RATE), int(5.15 * RATE) + 8)  # 8 samples (0.15 s), the second turn


def test_a_gap_in_a_fast_turn_takes_the_gyro_it_is_given():
    """Across 0.15 s at 190 deg/s the straight line between the gap's ends misses degrees of
    the turn, and the filter reads the inclination off for seconds; given the gyro over the gap
    it reads as without the gap (within 0.1 deg). Rows the fill does not know (NaN) keep the
    line."""
    t, acc, gyr = _turning(Rotation.identity())
    line = _inclination_error_deg(
        _run(OrientationStream(RATE), _chunks("s", t, acc, gyr, LOST)), t, acc
    )
    given = OrientationStream(RATE)
    given.gyro_fill = lambda times: np.column_stack(
        [np.interp(times, t, gyr[:, k]) for k in range(3)]
    )
    filled = _inclination_error_deg(_run(given, _chunks("s", t, acc, gyr, LOST)), t, acc)
    unknown = OrientationStream(RATE)
    unknown.gyro_fill = lambda times: np.full((len(times), 3), np.nan)
    same = _inclination_error_deg(_run(unknown, _chunks("s", t, acc, gyr, LOST)), t, acc)
    whole = _inclination_error_deg(_run(OrientationStream(RATE), _chunks("s", t, acc, gyr)), t, acc)
    assert line > 2.0 and filled < whole + 0.1, (line, filled, whole)
    assert same == line


def test_the_other_lumbar_sensor_bridges_the_gap_in_its_own_frame():
    """Two sensors on one body, mounted 40 and -30 deg apart, the upper one biased by 1 deg/s;
    the sacrum loses the burst. Its gap takes the upper sensor's gyro turned into its frame (the
    bias swapped) as far as the upper sensor's chunks have arrived (5 of its 8 samples, here),
    and the line from there: the sacrum's inclination stays within 1 deg where the line across
    the whole gap leaves it 6 deg off."""
    mounts = {
        "sacrum": Rotation.from_euler("x", 40, degrees=True),
        "upper_lumbar": Rotation.from_euler("xz", [-30, 20], degrees=True),
    }
    data = {p: _turning(m) for p, m in mounts.items()}
    t, acc, gyr = data["upper_lumbar"]
    biased = (t, acc, gyr + np.radians(1.0))

    def errors(paired: bool) -> float:
        streams = {p: OrientationStream(RATE) for p in mounts}
        fill = PairedGapFill(list(mounts))
        if paired:
            fill.attach(streams)
        chunks = _chunks("sacrum", *data["sacrum"], LOST) + _chunks("upper_lumbar", *biased)
        chunks.sort(key=lambda c: float(c.t_s[-1]))
        ts, qs = [], []
        for c in chunks:
            r = streams[c.sensor].update(c)
            fill.log(c.sensor, r.t_s, c.gyr_rad_s[r.index], r.quat_ws)
            if c.sensor == "sacrum":
                ts.append(r.t_s)
                qs.append(r.quat_ws)
        assert (fill.filled > 0) == paired
        return _inclination_error_deg((np.concatenate(ts), np.concatenate(qs)), *data["sacrum"][:2])

    line, paired = errors(False), errors(True)
    assert line > 5.0 and paired < 1.0, (line, paired)


def test_a_chunk_after_a_gap_waits_for_the_other_sensors_samples():
    """Live, the chunk after a lost burst waits until the other lumbar sensor's samples reach
    it, and is then processed after theirs; without them it goes after ``HOLD_S``; at the
    stream's end whatever waits goes."""
    step = 1.0 / RATE
    zeros = np.zeros((10, 3))

    def chunk(sensor, t0, n=10):
        return SampleChunk(sensor, t0 + step * np.arange(n), zeros[:n], zeros[:n], None)

    fill = PairedGapFill(["sacrum", "upper_lumbar"])
    upper = chunk("upper_lumbar", 0.8)
    assert fill.arrived(upper, 0.8 - step, step) == [upper]
    after_gap = chunk("sacrum", 1.15)  # 0.15 s after the sacrum's last sample (1.0 s)
    assert fill.arrived(after_gap, 1.0, step) == []
    more = chunk("sacrum", 1.15 + 10 * step)
    assert fill.arrived(more, 1.0, step) == []  # (behind the one waiting)
    upper2 = chunk("upper_lumbar", 0.8 + 10 * step, 20)  # reaches 1.35 s: past the first's end
    assert fill.arrived(upper2, 0.8 + 9 * step, step) == [upper2, after_gap, more]
    late = chunk("sacrum", 2.0)
    assert fill.arrived(late, 1.8, step) == []
    then = [chunk("sacrum", 2.0 + k * 10 * step) for k in (1, 2)]  # to 0.37 s, 0.56 s on
    assert fill.arrived(then[0], 1.8, step) == []
    assert fill.arrived(then[1], 1.8, step) == [late, *then]
    waiting = chunk("sacrum", 3.2)
    assert fill.arrived(waiting, 3.0, step) == [] and fill.release_all() == [waiting]
    no_pair = PairedGapFill(["sacrum", "thigh"])
    assert no_pair.arrived(waiting, 3.0, step) == [waiting]


def test_the_live_two_sensor_hip_thrust_at_52_hz_no_longer_alarms_falsely(monkeypatch):
    """Held-out seeds 7011 and 7119, live at 52 Hz: the sacrum lost a burst inside a too-fast
    rep, and the line across it read +11.4 deg where the lumbar angle was -1.2 (7119: -6.3 for
    +3.0, where the upper sensor's samples had reached only the gap's start when the sacrum's
    arrived). With the upper sensor's turn across the gap (waited for): no false alarm, every
    fault still alarmed."""

    def live(seed: int):
        rec = simulate_session(
            SimulationConfig(
                exercise="hip-thrust", sensors=2, seed=seed, reps=10, faulty=4, rate_hz=RATE
            )
        )
        chunks = arrival_order(rec, itertools.repeat(10))  # (as bench_accuracy.py --live)
        return session_goals(live_judgement(*feed_live(rec, chunks)), rec.truth, rec.meta)

    for seed in (7011, 7119):
        goals = live(seed)
        assert goals["false_alarms"] == 0
        assert goals["goal_faulty_alarmed"] == goals["goal_faulty_reps"]
    monkeypatch.setattr(gap_fill.PairedGapFill, "attach", lambda self, streams: None)
    assert live(7011)["false_alarms"] == 1
