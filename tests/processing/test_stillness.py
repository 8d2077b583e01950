"""Still periods of a recording: the same periods as checking every window in full, in time
linear in the samples whatever the timestamps (a day-long time jump, an hour held still)."""

from __future__ import annotations

import time

import numpy as np

from imu_monitor.model import Recording, SensorInfo, SensorSeries
from imu_monitor.processing.stillness import (
    MIN_STILL_S,
    check_still,
    check_still_over,
    find_still_periods,
)

RATE = 100.0
HANG_S = 30.0
"""Only a hang fails this: the searches below take well under a second each."""


def _still_then_move(t: np.ndarray, moves: list[tuple[float, float]], rng, gyro_noise=0.003):
    """acc/gyr of a sensor lying still, turning 60 deg about x in each (t0, t1) of ``moves``
    and back down to rest after it."""
    angle = np.zeros_like(t)
    for t0, t1 in moves:
        mid = 0.5 * (t0 + t1)
        angle += np.interp(t, [t0, mid, t1], [0.0, np.radians(60.0), 0.0])
    rate = np.gradient(angle, t) if len(t) > 1 else np.zeros_like(t)
    acc = np.column_stack([np.zeros_like(t), 9.81 * np.sin(angle), 9.81 * np.cos(angle)])
    gyr = np.column_stack([rate, np.zeros_like(t), np.zeros_like(t)])
    acc += rng.normal(0, 0.03, acc.shape)
    gyr += rng.normal(0, gyro_noise, gyr.shape)
    return acc, gyr


def _recording(series: dict[str, SensorSeries]) -> Recording:
    return Recording(
        meta={"exercise": "back-kick"},
        sensors={p: SensorInfo(p, rate_hz=RATE) for p in series},
        series=series,
    )


def _reference(rec: Recording, min_s: float = 2.0, step: float = 0.25):
    """Every window checked in full (the definition the search must keep)."""

    def still(t0, t1):
        out = []
        for s in rec.series.values():
            sel = (s.t_s >= t0) & (s.t_s <= t1)
            w = SensorSeries(s.t_s[sel], s.acc_m_s2[sel], s.gyr_rad_s[sel])
            out.append(check_still(w, min_duration_s=min_s * 0.95).ok)
        return all(out)

    t_first = max(float(s.t_s[0]) for s in rec.series.values())
    t_last = min(float(s.t_s[-1]) for s in rec.series.values())
    periods, t0 = [], t_first
    while t0 + min_s <= t_last:
        if still(t0, t0 + min_s):
            t1 = t0 + min_s
            while t1 + step <= t_last and still(t0, t1 + step):
                t1 += step
            periods.append((t0, t1))
            t0 = t1 + step
        else:
            t0 += step
    return periods


def test_same_periods_as_checking_every_window_near_the_limits():
    """Noise near the gyro limit, slow tilts near the acc limit, short fidgets, two sensors
    with different rates and dropped samples: the bounds decide most steps, the exact check
    the rest, and the periods are those of the full check."""
    for seed in range(6):
        rng = np.random.default_rng(seed)
        series = {}
        for p, rate in (("sacrum", RATE), ("thigh", 0.9 * RATE)):
            t = np.arange(0.0, 40.0, 1.0 / rate)
            t = t[rng.random(len(t)) > 0.02]  # dropped samples
            moves = [(x, x + rng.uniform(0.3, 1.5)) for x in rng.uniform(3, 37, 3)]
            acc, gyr = _still_then_move(t, moves, rng, gyro_noise=rng.uniform(0.015, 0.035))
            acc[:, 1] += 0.012 * rng.uniform(0.5, 1.5) * t  # tilts slowly
            series[p] = SensorSeries(t, acc, gyr)
        rec = _recording(series)
        assert find_still_periods(rec) == _reference(rec), seed


def test_a_day_long_time_jump_does_not_hang():
    """1,500 samples, the last with a time a day later (a glitched row)."""
    rng = np.random.default_rng(1)
    t = np.arange(1500) / RATE
    acc, gyr = _still_then_move(t, [(6.0, 8.0)], rng)
    t[-1] = 86_400.0
    rec = _recording({"sacrum": SensorSeries(t, acc, gyr)})
    t0 = time.perf_counter()
    periods = find_still_periods(rec)
    assert time.perf_counter() - t0 < HANG_S
    assert periods[0][0] == 0.0 and 5.0 <= periods[0][1] <= 6.25
    # the last still stretch takes in the lone sample a day later (it is as still as the rest)
    assert 8.0 <= periods[1][0] <= 9.5 and periods[1][1] == 86_400.0
    assert len(periods) == 2


def test_a_glitched_row_out_of_order_and_huge_times_do_not_hang():
    rng = np.random.default_rng(2)
    t = np.arange(1500) / RATE
    acc, gyr = _still_then_move(t, [(6.0, 8.0)], rng)
    t[700] = 86_400.0  # out of order: taken in time order
    rec = _recording({"sacrum": SensorSeries(t, acc, gyr)})
    t0 = time.perf_counter()
    periods = find_still_periods(rec)
    assert time.perf_counter() - t0 < HANG_S
    assert periods[0][0] == 0.0 and 5.0 <= periods[0][1] <= 6.25
    assert len(periods) == 2 and periods[1][1] == 14.75  # (the row a day later is after the end)
    t2 = np.arange(1500) / RATE
    t2[-1] = 1e30  # beyond the resolution of a 0.25 s step
    rec2 = _recording({"sacrum": SensorSeries(t2, acc, gyr)})
    t0 = time.perf_counter()
    periods = find_still_periods(rec2)
    assert time.perf_counter() - t0 < HANG_S
    assert periods[0][0] == 0.0


def test_an_hour_held_still_is_one_period_found_in_seconds():
    rng = np.random.default_rng(3)
    series = {}
    for p in ("sacrum", "upper_lumbar"):
        t = np.arange(0.0, 3700.0, 1.0 / RATE)
        acc, gyr = _still_then_move(t, [(3605.0, 3608.0)], rng)
        series[p] = SensorSeries(t, acc, gyr)
    rec = _recording(series)
    t0 = time.perf_counter()
    periods = find_still_periods(rec)
    assert time.perf_counter() - t0 < HANG_S
    assert periods[0][0] == 0.0 and 3604.0 <= periods[0][1] <= 3605.25
    assert len(periods) == 2 and periods[1][1] > 3690.0


def test_a_window_of_the_shortest_length_passes_wherever_its_samples_fall():
    rng = np.random.default_rng(4)
    t = np.arange(0.0, 10.0, 1.0 / RATE)
    acc, gyr = _still_then_move(t, [], rng)
    s = SensorSeries(t, acc, gyr)
    for t0 in (2.0, 2.003, 2.5 + 0.5 / RATE):
        assert check_still_over(s, t0, t0 + MIN_STILL_S).ok
    # check_still alone asks the samples themselves to span the length
    inside = (t >= 2.003) & (t <= 2.003 + MIN_STILL_S)
    assert not check_still(SensorSeries(t[inside], acc[inside], gyr[inside])).ok
    # the tolerance is for where samples fall, not for a short window
    assert not check_still_over(s, 2.0, 2.0 + 0.9 * MIN_STILL_S).ok
