"""One rep judged good or not: the reasons as a trainee reads them, lockout mode."""

from imu_monitor.events import AlarmStarted
from imu_monitor.processing.good_reps import FAULT_CODES, judge_rep
from imu_monitor.processing.sets import judge_session
from tests.processing.test_sets import KICK, THRUST, rep


def test_judge_rep_takes_the_alarm_directions_and_the_target():
    j = judge_rep(
        rep(3, 10.0, flex=12.0, ext=10.5, alarmed=True),
        1,
        KICK.tempo,
        KICK.limits,
        KICK.sets,
        alarm_directions=["flexion", "extension"],
    )  # rocking
    assert j.faults == ("flexion", "extension") and set(j.faults) <= set(FAULT_CODES)
    assert j.reason == "flexion 12.0° > 9° limit; extension 10.5° > 9° limit"
    assert (j.index, j.set_index, j.excursion_direction) == (3, 1, "flexion")
    # alarmed without a known direction: put down to the larger excursion
    j = judge_rep(
        rep(0, 10.0, flex=2.0, ext=9.5, alarmed=True), 0, KICK.tempo, KICK.limits, KICK.sets
    )
    assert j.faults == ("extension",)


def test_a_value_that_rounds_to_the_bound_shows_two_decimals():
    s = judge_session([rep(0, 10.0, down=0.97)], KICK)
    assert s.judgements[0].reasons == ("down 0.97 s < 1 s",)


def test_a_phase_is_judged_as_it_is_shown_to_the_hundredth():
    # hip thrust, 1-2-2 s +-0.5: a 1.996 s hold is printed "2.00" and had been judged
    # "hold 2.00 s < 2 s"; 1.994 is "1.99"
    s = judge_session(
        [rep(0, 10.0, up=1.0, hold=1.996, down=2.0), rep(1, 20.0, up=1.0, hold=1.994, down=2.0)],
        THRUST,
    )
    assert s.judgements[0].good
    assert s.judgements[1].reasons == ("hold 1.99 s < 2 s",)
    s = judge_session(
        [rep(0, 10.0, up=1.504, hold=2.0, down=2.0), rep(1, 20.0, up=1.506, hold=2.0, down=2.0)],
        THRUST,
    )
    assert s.judgements[0].good and s.judgements[1].reasons == ("up 1.51 s > 1.5 s",)


def test_lockout_mode_judges_extension_only_and_not_an_approximate_split():
    # one sensor in a hip thrust: the flexion reading is hip movement; an arched lockout's
    # phase split is approximate, so its tempo is not judged (the rep is alarmed anyway)
    events = [
        rep(0, 10.0, up=1.0, hold=2.1, down=2.0, flex=25.0, ext=0.0),
        AlarmStarted(
            t_s=16.0, direction="extension", angle_deg=-7, limit_deg=-6, phase="hold", rep=1
        ),
        rep(1, 15.0, up=0.2, hold=0.3, down=3.0, ext=8.0, alarmed=True, approx=True),
    ]
    s = judge_session(events, THRUST, mode="lockout")
    assert s.judgements[0].good and s.judgements[0].excursion_direction == "extension"
    assert s.judgements[1].faults == ("extension",)
    assert s.sets[0].phase("up").mean_s == 1.0  # the approximate split left out
