"""Sets and good reps from monitor events: set boundaries (pause, markers), the judgement of each
rep and its reasons, the per-set figures and form drift, and the settings behind them."""

import json

import numpy as np
import pytest

from imu_monitor.errors import MonitorError, SettingsError
from imu_monitor.events import AlarmEnded, AlarmStarted, RepEnded
from imu_monitor.exercises import SetRules, get_exercise
from imu_monitor.processing.analysis import analyze_recording
from imu_monitor.processing.sets import SetTracker, drift_slope, judge_session
from imu_monitor.settings import Settings
from imu_monitor.simulator import SimulationConfig, simulate_session
from imu_monitor.simulator.set_truth import score_analysis_sets

KICK = get_exercise("back-kick")  # tempo 1.5-0.5-1.5 s, limits 9 / 9 deg
THRUST = get_exercise("hip-thrust")  # tempo 1-2-2 s, limits 10 / 6 deg


def rep(i, t0, up=1.5, hold=0.6, down=1.5, flex=1.0, ext=0.5, alarmed=False, approx=False):
    t_end = t0 + up + hold + down
    return RepEnded(
        t_s=t_end,
        index=i,
        t_start_s=t0,
        t_top_s=t0 + up,
        t_hold_end_s=t0 + up + hold,
        concentric_s=up,
        hold_s=hold,
        eccentric_s=down,
        peak_flexion_deg=flex,
        peak_extension_deg=ext,
        alarmed=alarmed,
        too_fast=False,
        tempo_approximate=approx,
    )


def reps_every(period_s, n, t0=10.0, **kw):
    return [rep(i, t0 + i * period_s, **kw) for i in range(n)]


def test_a_rest_longer_than_the_pause_ends_a_set():
    t3 = 10 + 2 * 5 + 3.6 + 20.5
    events = reps_every(5.0, 3) + [rep(3, t3), rep(4, t3 + 5.0)]
    s = judge_session(events, KICK)
    assert [(x.first_rep, x.last_rep, x.ended_by) for x in s.sets] == [
        (0, 2, "pause"),
        (3, 4, "end"),
    ]
    assert s.sets[1].rest_before_s == pytest.approx(20.5)
    # a rest just shorter than the pause does not
    events[3:] = [rep(3, t3 - 1.0), rep(4, t3 + 4.0)]
    assert len(judge_session(events, KICK).sets) == 1
    # the pause is the coach's setting
    assert len(judge_session(events, KICK.with_set_rules(pause_s=10.0)).sets) == 2


def test_set_markers_end_a_set_without_a_pause():
    events = reps_every(5.0, 6)
    # set_start pressed late, during rep 3: rep 3 begins the new set
    s = judge_session(events, KICK, markers=[(25.5, "set_start")])
    assert [(x.first_rep, x.last_rep, x.ended_by) for x in s.sets] == [
        (0, 2, "marker"),
        (3, 5, "end"),
    ]
    # set_end during rep 1: the next rep begins the new set
    s = judge_session(events, KICK, markers=[(16.0, "set_end")])
    assert [(x.first_rep, x.last_rep) for x in s.sets] == [(0, 1), (2, 5)]
    # a set_start before the first rep and a note change nothing
    s = judge_session(events, KICK, markers=[(5.0, "set_start"), (20.0, "note")])
    assert len(s.sets) == 1


def test_good_and_faulty_reps_with_their_reasons():
    lim_alarm = [
        AlarmStarted(
            t_s=21.8, direction="extension", angle_deg=-9.5, limit_deg=-9, phase="hold", rep=2
        ),
        AlarmEnded(t_s=22.6, direction="extension", peak_deg=-14.2, duration_s=0.8, rep=2),
    ]
    events = [
        rep(0, 10.0),  # good
        rep(1, 15.0, hold=0.3),  # hold short
        rep(2, 20.0, ext=14.2, alarmed=True),
        *lim_alarm,
        rep(3, 25.0, up=0.9, down=2.2),  # up short by 0.1 past the tolerance, down long
        rep(4, 30.0, up=1.0, down=2.0, hold=5.0),  # on the tolerance's edges, a long hold: good
    ]
    # the alarm events arrive before the rep that they overlap ends (as the monitor emits them)
    events = [events[0], events[1], events[3], events[4], events[2], events[5], events[6]]
    s = judge_session(events, KICK)
    j = {x.index: x for x in s.judgements}
    assert [x.good for x in s.judgements] == [True, False, False, False, True]
    assert j[1].reasons == ("hold 0.3 s < 0.5 s",) and j[1].faults == ("hold_short",)
    assert j[2].reasons == ("extension 14.2° > 9° limit",) and j[2].faults == ("extension",)
    assert j[3].faults == ("up_short", "down_long")
    assert j[3].reasons == ("up 0.9 s < 1 s", "down 2.2 s > 2 s")
    assert j[0].reason == "" and s.good_reps == 2
    st = s.sets[0]
    assert (st.reps, st.good_reps, st.faulty_extension, st.faulty_flexion, st.faulty_tempo) == (
        5,
        2,
        1,
        0,
        2,
    )
    assert st.peak_extension_deg == 14.2
    up = st.phase("up")
    assert up.target_s == 1.5
    assert up.mean_s == pytest.approx(np.mean([1.5, 1.5, 1.5, 0.9, 1.0]))
    assert up.sd_s == pytest.approx(np.std([1.5, 1.5, 1.5, 0.9, 1.0], ddof=1))


def test_form_drift_slope_and_first_warning_rep():
    # excursions 1, 1, 2, 4, 6, 7.5 deg of a 9 deg limit: past 80 % (7.2 deg) at rep 5
    exts = [1.0, 1.0, 2.0, 4.0, 6.0, 7.5]
    events = [rep(i, 10 + 5 * i, ext=e, flex=0.2) for i, e in enumerate(exts)]
    st = judge_session(events, KICK).sets[0]
    assert st.drift_slope_deg_per_rep == pytest.approx(np.polyfit(range(6), exts, 1)[0])
    assert st.drift_first_rep == 5
    # with a 0.6 warning fraction the warning comes a rep earlier (6 > 5.4 deg)
    st = judge_session(events, KICK.with_set_rules(drift_warning_fraction=0.6)).sets[0]
    assert st.drift_first_rep == 4
    # flexion counts against the flexion limit: 8 deg of a 10 deg limit is not past 0.8
    st = judge_session([rep(0, 10, flex=8.0, ext=0.0)], THRUST).sets[0]
    assert st.drift_first_rep is None and st.drift_slope_deg_per_rep is None
    assert drift_slope([3.0, 3.0]) == 0.0


def test_summaries_are_json_safe_with_units_in_the_keys():
    events = [rep(0, 10.0, approx=True, alarmed=True)]  # no rep timed: no tempo mean
    tracker = SetTracker(KICK)
    for ev in events:
        tracker.add(ev)
    block = tracker.to_dict()
    json.dumps(block, allow_nan=False)
    st = block["sets"][0]
    assert st["ended_by"] is None  # still open
    assert st["tempo"]["up"]["mean_s"] is None
    assert {"peak_flexion_deg", "peak_extension_deg", "drift_slope_deg_per_rep", "t_start_s"} <= (
        set(st)
    )
    json.dumps(tracker.last.to_dict(), allow_nan=False)


def test_set_rules_are_checked():
    with pytest.raises(MonitorError, match="pause_s"):
        SetTracker(KICK.with_set_rules(pause_s=0.0))
    with pytest.raises(MonitorError, match="drift_warning_fraction"):
        SetTracker(KICK.with_set_rules(drift_warning_fraction=1.5))
    assert SetRules().problems() == []


def test_settings_carry_the_coachs_set_rules_and_tempo():
    s = Settings.from_dict(
        {
            "exercise": "hip-thrust",
            "per_exercise": {
                "hip-thrust": {
                    "hold_s": 3.0,
                    "set_pause_s": 45,
                    "tempo_tolerance_s": 0.25,
                    "drift_warning_fraction": 0.7,
                }
            },
        }
    )
    ex = s.resolved_exercise()
    assert ex.tempo.hold_s == 3.0
    assert ex.sets == SetRules(pause_s=45.0, tempo_tolerance_s=0.25, drift_warning_fraction=0.7)
    assert Settings.from_dict(s.to_dict()).resolved_exercise().sets == ex.sets
    with pytest.raises(SettingsError, match="drift_warning_fraction must be at most 1"):
        Settings.from_dict({"per_exercise": {"back-kick": {"drift_warning_fraction": 2}}})
    with pytest.raises(SettingsError, match="set_pause_s must be positive"):
        Settings.from_dict({"per_exercise": {"back-kick": {"set_pause_s": -1}}})


def test_the_live_tracker_keeps_a_bounded_window_and_counts_every_rep():
    tracker = SetTracker(KICK, memory=3)
    for i in range(10):  # ten one-rep sets
        tracker.add(rep(i, 10.0 + 30.0 * i, hold=0.1 if i % 2 else 0.6))
    assert tracker.reps == 10 and tracker.good_reps == 5 and tracker.sets_count == 10
    assert len(tracker.judgements) == 3 and len(tracker.sets()) == 4  # 3 closed + the open one
    assert tracker.current().first_rep == 9
    tracker.finish()
    assert tracker.current() is None and tracker.sets()[-1].ended_by == "end"


@pytest.fixture(scope="module", params=[("back-kick", 2, "all"), ("hip-thrust", 1, "none")])
def four_sets(request):
    """A session of 4 sets of 10 reps: 4 lumbar faults, 4 tempo faults, a drift over the last 5
    reps; with its markers, or without any (the sets split at the rests alone)."""
    exercise, sensors, markers = request.param
    config = SimulationConfig(
        exercise=exercise,
        sensors=sensors,
        reps=10,
        sets=4,
        faulty=4,
        tempo_faulty=4,
        drift_reps=5,
        seed=2,
        markers=markers,
    )
    rec = simulate_session(config)
    an = analyze_recording(rec)
    return rec, an, score_analysis_sets(an, rec.truth, rec.meta)


def test_sets_and_good_reps_agree_with_the_simulators_truth(four_sets):
    rec, an, score = four_sets
    assert score["sets_true"] == score["sets_detected"] == 4 and score["sets_exact"]
    assert score["reps_matched"] == 40
    assert [s.ended_by for s in an.sets.sets] == (
        ["marker"] * 3 + ["end"] if rec.markers else ["pause"] * 3 + ["end"]
    )
    # every true tempo fault found on its phase; at most one rep in 40 judged otherwise
    assert score["tempo_faulty_found"] == score["tempo_faulty_true"] >= 4
    assert score["good_agree"] >= 39, score["disagreements"]
    assert abs(score["good_detected"] - score["good_true"]) <= 1


def test_form_drift_in_the_last_set_agrees_with_the_truth(four_sets):
    rec, an, score = four_sets
    last = score["drift"][-1]
    assert last["drifting_reps"] == list(range(35, 40))
    # the true excursion rises over the drifting reps: the slope is positive, and detected
    # within 0.25 deg/rep of the truth's; the warning comes in the drifting reps, within a rep
    # of the truth's
    assert last["slope_true_deg_per_rep"] > 0.2
    assert abs(last["slope_detected_deg_per_rep"] - last["slope_true_deg_per_rep"]) < 0.25
    assert last["first_warning_true"] in last["drifting_reps"]
    assert abs(last["first_warning_detected"] - last["first_warning_true"]) <= 1
    assert an.sets.sets[-1].drift_first_rep == last["first_warning_detected"]
