"""Running session totals: the same figures as the summary of the whole lists."""

import math
import statistics

import numpy as np

from imu_monitor.events import AlarmEnded, AlarmStarted, RepEnded
from imu_monitor.processing.monitor.tally import ExactSum, SessionTally


def test_exact_sum_equals_fsum_of_everything():
    rng = np.random.default_rng(0)
    values = (rng.standard_normal(5000) * 10.0 ** rng.integers(-8, 9, 5000)).tolist()
    s = ExactSum()
    for v in values:
        s.add(v)
    assert s.value == math.fsum(values)
    assert s.value != sum(values)  # (plain summation would round differently here)
    assert len(s._partials) < 10  # constant memory


def _rep(i, rng):
    t0 = 10.0 * i + rng.uniform(0, 1)
    c, h, e = rng.uniform(0.3, 1.5, 3)
    return RepEnded(
        t_s=t0 + c + h + e,
        index=i,
        t_start_s=t0,
        t_top_s=t0 + c,
        t_hold_end_s=t0 + c + h,
        concentric_s=c,
        hold_s=h,
        eccentric_s=e,
        peak_flexion_deg=float(rng.uniform(0, 20)),
        peak_extension_deg=float(rng.uniform(0, 20)),
        alarmed=bool(rng.integers(2)),
        too_fast=bool(rng.integers(2)),
    )


def test_tally_of_events_equals_means_of_lists():
    rng = np.random.default_rng(1)
    tally = SessionTally()
    reps, durations = [], []
    for i in range(3000):
        r = _rep(i, rng)
        tally.add(r)
        reps.append(r)
        if i % 7 == 0:
            d = float(rng.uniform(0.1, 3.0))
            tally.add(AlarmStarted(r.t_s, "flexion", 20.0, 15.0, "hold", i))
            tally.add(AlarmEnded(r.t_s + d, "flexion", 22.0, d, i))
            durations.append(d)
    out = tally.to_dict()
    assert out["reps"] == 3000 and out["events"] == 3000 + 2 * len(durations)
    assert out["alarms"] == out["alarms_flexion"] == len(durations)
    assert out["alarm_time_s"] == float(sum(durations))
    assert out["max_flexion_deg"] == max(r.peak_flexion_deg for r in reps)
    assert out["reps_alarmed"] == sum(r.alarmed for r in reps)
    assert out["mean_tempo_s"]["concentric"] == statistics.fmean(r.concentric_s for r in reps)
    assert out["mean_tempo_s"]["rep"] == statistics.fmean(r.t_s - r.t_start_s for r in reps)
