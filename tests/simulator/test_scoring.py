"""Issue 11's goal figures (``scoring.session_goals``) on hand-made truths and estimates."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from imu_monitor.events import AlarmStarted
from imu_monitor.exercises import get_exercise
from imu_monitor.model import Truth, TruthRep
from imu_monitor.simulator.scoring import goal_misses, session_goals

EX = get_exercise("back-kick")  # limits 9 / 9 deg, dwell 0.15 s
RATE = 200.0


def _truth(peaks: list[tuple[float, float]], one_sensor: bool = False) -> Truth:
    """Reps 4 s apart (1 s up, 0.5 s hold, 1 s down); rep i's lumbar angle is -peak (extension)
    held for ``width`` s around the middle of its hold."""
    t = np.arange(0.0, 4.0 * len(peaks) + 4.0, 1.0 / RATE)
    lumbar = np.zeros_like(t)
    reps = []
    for i, (peak, width) in enumerate(peaks):
        t0 = 2.0 + 4.0 * i
        mid = t0 + 1.25
        lumbar[np.abs(t - mid) <= width / 2] = -peak
        reps.append(TruthRep(i, t0, t0 + 1.0, t0 + 1.5, t0 + 2.5, "extension" if peak else None))
    pitch = (
        {"sacrum": 90.0 - lumbar}
        if one_sensor
        else {"sacrum": 90.0 - lumbar, "upper_lumbar": 90 + 0 * t}
    )
    return Truth(t, lumbar, 0 * t, None, reps, segment_pitch_deg=pitch)


def _analysis(truth: Truth, angle: np.ndarray, alarms: list[float], reps: list[tuple]) -> object:
    events = [AlarmStarted(a, "extension", -10.0, -9.0, "hold", None) for a in alarms]
    detected = [
        SimpleNamespace(
            t_start_s=a, t_s=b, concentric_s=c, hold_s=h, eccentric_s=e, tempo_approximate=False
        )
        for a, b, c, h, e in reps
    ]
    return SimpleNamespace(
        angles=SimpleNamespace(t_s=truth.t_s, lumbar_flexion_deg=angle),
        result=SimpleNamespace(limits=None, events=events, reps=detected),
        exercise=EX,
        mode="continuous",
    )


def test_only_reps_past_the_limit_by_a_degree_for_longer_than_the_dwell_must_alarm() -> None:
    truth = _truth([(9.5, 0.5), (11.0, 0.1), (11.0, 0.5), (0.0, 0.0)])
    # the third rep (2 deg past, 0.5 s) must be alarmed; the first is within the margin, the
    # second too short; the fourth is good
    crossing = 2.0 + 8.0 + 1.25 - 0.25
    none = session_goals(_analysis(truth, truth.lumbar_flexion_deg, [], []), truth)
    assert none["goal_faulty_reps"] == 1 and none["goal_faulty_alarmed"] == 0
    late = crossing + EX.limits.dwell_s + 0.04
    got = session_goals(_analysis(truth, truth.lumbar_flexion_deg, [late, 15.0], []), truth)
    assert got["goal_faulty_alarmed"] == 1
    assert got["alarm_delays_s"] == [pytest.approx(0.04, abs=1.0 / RATE)]
    assert got["false_alarms"] == 1  # the alarm at 15 s, in the good rep
    assert got["reps_exact"] is False and got["rmse_deg"] == 0.0


def test_rmse_against_the_joint_or_with_one_sensor_the_sacrums_own_tilt() -> None:
    truth = _truth([(11.0, 0.5)])
    estimate = truth.lumbar_flexion_deg + 0.5
    two = session_goals(_analysis(truth, estimate, [], []), truth)
    assert two["rmse_deg"] == pytest.approx(0.5) and two["rmse_scope"] == "lumbar joint"
    one = _truth([(11.0, 0.5)], one_sensor=True)
    one.lumbar_flexion_deg = one.lumbar_flexion_deg + 3.0  # the joint: not what one sensor sees
    meta = {"simulation_truth": {"sacrum_neutral_pitch_deg": 90.0}}
    got = session_goals(_analysis(one, estimate, [], []), one, meta)
    assert got["rmse_scope"] == "sacrum's own tilt" and got["rmse_deg"] == pytest.approx(0.5)


def test_phase_errors_are_signed_against_the_matched_true_rep() -> None:
    truth = _truth([(0.0, 0.0), (0.0, 0.0)])
    reps = [(2.1, 4.5, 0.8, 0.7, 0.9), (6.0, 8.5, 1.0, 0.5, 1.0)]
    got = session_goals(_analysis(truth, truth.lumbar_flexion_deg, [], reps), truth)
    assert got["reps_exact"] is True
    np.testing.assert_allclose(got["phase_errors_s"], [[-0.2, 0.2, -0.1], [0.0, 0.0, 0.0]])


def test_the_alarm_delay_is_timed_from_the_excursion_the_goal_requires_alarmed() -> None:
    # one rep: 0.4 deg past the extension limit for 0.3 s (within the margin), back to neutral,
    # then 3 deg past the flexion limit for 0.5 s (the excursion the goal requires alarmed)
    truth = _truth([(9.4, 0.3)])
    t = truth.t_s
    flexed = (t >= 3.6) & (t < 4.1)
    truth.lumbar_flexion_deg[flexed] = 12.0
    truth.segment_pitch_deg["sacrum"][flexed] = 90.0 - 12.0
    marginal_alarm = 3.25  # the first excursion's own alarm, late
    own = 3.6 + EX.limits.dwell_s + 0.03
    got = session_goals(
        _analysis(truth, truth.lumbar_flexion_deg, [marginal_alarm, own], []), truth
    )
    assert got["goal_faulty_reps"] == 1 and got["goal_faulty_alarmed"] == 1
    assert got["alarm_delays_s"] == [pytest.approx(0.03, abs=1.0 / RATE)]
    # only the marginal excursion's alarm: the rep the goal requires alarmed was not
    missed = session_goals(_analysis(truth, truth.lumbar_flexion_deg, [marginal_alarm], []), truth)
    assert missed["goal_faulty_alarmed"] == 0 and missed["alarm_delays_s"] == []


def test_a_rep_only_touching_the_limit_is_timed_apart_from_the_goal() -> None:
    truth = _truth([(9.5, 0.5)])  # 0.5 deg past: within the margin
    crossing = 2.0 + 1.25 - 0.25
    late = crossing + EX.limits.dwell_s + 0.8
    got = session_goals(_analysis(truth, truth.lumbar_flexion_deg, [late], []), truth)
    assert got["goal_faulty_reps"] == 0 and got["alarm_delays_s"] == []
    assert got["alarm_delays_within_margin_s"] == [pytest.approx(0.8, abs=1.0 / RATE)]


def _goals(**changes) -> dict:
    """A session's goal figures that meet every goal, with ``changes``."""
    return {
        "reps_true": 10,
        "reps_detected": 10,
        "reps_exact": True,
        "goal_faulty_reps": 3,
        "goal_faulty_alarmed": 3,
        "false_alarms": 0,
        "false_alarm_angles_deg": [],
        "rmse_deg": 0.8,
        "alarm_delays_s": [0.01, 0.05],
        "phase_errors_s": [[0.02, -0.03, 0.01], [0.05, 0.0, -0.04]],
        "tempo_approximate": [False, False],
    } | changes


def test_goal_misses_names_what_keeps_a_session_off_each_goal() -> None:
    assert goal_misses(_goals(), "hip-thrust", 2) == []
    misses = goal_misses(
        _goals(
            reps_detected=9,
            reps_exact=False,
            goal_faulty_alarmed=2,
            false_alarm_angles_deg=[[-6.3, -1.9]],
            rmse_deg=1.74,
            alarm_delays_s=[0.01, 0.41],
            phase_errors_s=[[0.02, -0.03, 0.01], [0.614, -0.594, -0.02]],
            tempo_approximate=[False, True],
        ),
        "back-kick",
        1,
    )
    assert misses == [
        "9 reps counted of 10",
        "1 of 3 faulty reps not alarmed",
        "false alarm at -6.3 deg (true -1.9)",
        "RMSE 1.74 deg",
        "an alarm 410 ms late",
        "a phase 614 ms off (flagged approximate)",
    ]


def test_goal_misses_holds_each_setup_to_its_own_goals() -> None:
    # one sensor in a hip thrust or bridge is judged at lockout: no RMSE or phase goal there
    off = _goals(rmse_deg=2.0, phase_errors_s=[[0.3, 0.0, 0.0]], tempo_approximate=[True])
    assert goal_misses(off, "glute-bridge", 1) == []
    assert goal_misses(off, "glute-bridge", 2) == [
        "RMSE 2.00 deg",
        "a phase 300 ms off (flagged approximate)",
    ]
    # the one-sensor hip thrust may alarm up to 400 ms late, the bridge 200
    late = _goals(alarm_delays_s=[0.3])
    assert goal_misses(late, "hip-thrust", 1) == []
    assert goal_misses(late, "glute-bridge", 1) == ["an alarm 300 ms late"]
