"""Sessions of sets: the program's intent (set rests, tempo faults, form drift) is what the truth
measures from the motion, and the truth's judgement is the coach's rule applied to it."""

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from imu_monitor.errors import SimulationError
from imu_monitor.exercises import get_exercise
from imu_monitor.model import LUMBAR_FAULTS
from imu_monitor.simulator import SimulationConfig, simulate_session
from imu_monitor.simulator.set_plan import onset_position
from imu_monitor.simulator.set_truth import judge_truth, score_sets

CONFIG = SimulationConfig(
    exercise="back-kick", sensors=2, reps=10, sets=4, faulty=4, tempo_faulty=4, drift_reps=5
)


@pytest.fixture(scope="module")
def session():
    return simulate_session(replace(CONFIG, seed=3))


def test_the_minimum_jerk_onset_position():
    s = onset_position(0.05)
    assert 16 * s**2 * (1 - s) ** 2 == pytest.approx(0.05)
    assert 0.05 < s < 0.07


def test_four_sets_with_rests_longer_than_the_pause_and_markers_around_each(session):
    reps = session.truth.reps
    assert [r.set_index for r in reps] == [i // 10 for i in range(40)]
    rests = np.array([b.t_start_s - a.t_end_s for a, b in zip(reps, reps[1:], strict=False)])
    between = np.array([b.set_index != a.set_index for a, b in zip(reps, reps[1:], strict=False)])
    assert rests[between].min() > 30.0 and rests[~between].max() < 5.0
    starts = [m.t_s for m in session.markers_of("set_start")]
    ends = [m.t_s for m in session.markers_of("set_end")]
    assert len(starts) == len(ends) == 4
    for k in range(4):
        first, last = reps[10 * k], reps[10 * k + 9]
        assert first.t_start_s - 1 < starts[k] < first.t_start_s < last.t_end_s < ends[k]


def test_the_truth_finds_what_the_program_intended(session):
    ex = get_exercise("back-kick")
    judged = judge_truth(session.truth, ex, session.truth.lumbar_flexion_deg)
    reps = session.truth.reps
    codes = {"hold_short": "hold_short", "down_short": "down_short", "up_long": "up_long"}
    for r, j in zip(reps, judged, strict=True):
        if r.fault in LUMBAR_FAULTS:
            assert set(j.faults) & {"flexion", "extension"}, (r, j)
        elif r.fault == "too_fast":
            assert not j.good
        elif r.tempo_fault is not None:
            assert j.faults == (codes[r.tempo_fault],), (r, j)
        else:
            assert j.good, (r, j)  # good tempo, within the limits (drifting reps too)
    assert sum(r.tempo_fault is not None for r in reps) == 4
    # the lumbar faults went to the sets before the drifting one
    assert all(r.fault is None for r in reps[30:])
    drifting = [j for r, j in zip(reps, judged, strict=True) if r.drift_fraction is not None]
    assert [r.index for r in reps if r.drift_fraction is not None] == list(range(35, 40))
    fr = [j.excursion_fraction for j in drifting]
    assert np.all(np.diff(fr) > 0) and fr[-1] > 0.8 > fr[0]


def test_score_sets_counts_what_an_analysis_gets_wrong(session):
    ex = get_exercise("back-kick")
    judged = judge_truth(session.truth, ex, session.truth.lumbar_flexion_deg)

    def as_detected(j, r, good=None):
        return SimpleNamespace(
            index=j.index,
            set_index=j.set_index,
            t_start_s=r.t_start_s,
            t_end_s=r.t_end_s,
            good=j.good if good is None else good,
            faults=j.faults if good is None else ("up_short",),
            excursion_deg=j.excursion_deg,
            excursion_fraction=j.excursion_fraction,
        )

    reps = session.truth.reps
    perfect = [as_detected(j, r) for j, r in zip(judged, reps, strict=True)]
    sets = [SimpleNamespace(index=k) for k in range(4)]
    an = SimpleNamespace(exercise=ex, sets=SimpleNamespace(judgements=perfect, sets=sets))
    sc = score_sets(an, session.truth, session.truth.lumbar_flexion_deg)
    assert sc["sets_exact"] and sc["good_agree"] == sc["faults_agree"] == 40
    assert sc["disagreements"] == []
    # one good rep called faulty, one rep missed, two sets merged
    wrong = list(perfect)
    k = next(i for i, j in enumerate(judged) if j.good)
    wrong[k] = as_detected(judged[k], reps[k], good=False)
    del wrong[20]
    for d in wrong[29:]:
        d.set_index = 2 if d.set_index == 3 else d.set_index
    an = SimpleNamespace(exercise=ex, sets=SimpleNamespace(judgements=wrong, sets=sets[:3]))
    sc = score_sets(an, session.truth, session.truth.lumbar_flexion_deg)
    assert sc["good_agree"] == 38 and sc["reps_matched"] == 39 and not sc["sets_exact"]
    assert [d[0] for d in sc["disagreements"]] == sorted([k, 20])


def test_sessions_of_sets_are_checked():
    with pytest.raises(SimulationError, match="human motion model"):
        replace(CONFIG, motion="ramps").validate()
    with pytest.raises(SimulationError, match="tempo_faulty"):
        replace(CONFIG, tempo_faulty=40).validate()
    with pytest.raises(SimulationError, match="drift_reps"):
        replace(CONFIG, drift_reps=11).validate()
    with pytest.raises(SimulationError, match="no room for drift_reps"):
        replace(CONFIG, faulty=31).validate()
    with pytest.raises(SimulationError, match="tempo_faults"):
        replace(CONFIG, tempo_faults=("wobble",)).validate()
