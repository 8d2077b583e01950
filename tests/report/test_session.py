"""What a session report measures about the measurement: the neutral capture's stillness, the
angle left over after each set, packet loss, clock offsets; against what was put in."""

from __future__ import annotations

import copy
import html
import math
from types import SimpleNamespace

import numpy as np
import pytest

from imu_monitor.events import MonitorMode
from imu_monitor.exercises import get_exercise
from imu_monitor.model import SensorSeries
from imu_monitor.processing.analysis import analyze_recording
from imu_monitor.processing.calibration import Calibration
from imu_monitor.report.html import session_html
from imu_monitor.report.session import (
    REST_SETTLE_S,
    THIGH_LAG_NOTE,
    build_session_report,
    neutral_capture,
    rest_residuals,
)
from imu_monitor.simulator import SimulationConfig, simulate_session


def test_a_still_neutral_capture_is_still(back_kick):
    rec, an = back_kick
    nc = neutral_capture(rec, an)
    assert nc["how"] == "calibration marker"
    assert set(nc["sensors"]) == {"sacrum", "upper_lumbar"}
    assert all(s["still"] for s in nc["sensors"].values())
    assert all(s["gyro_dev_deg_s"] < 2.0 for s in nc["sensors"].values())


def test_movement_during_the_neutral_capture_is_reported(back_kick):
    rec, an = back_kick
    moved = copy.deepcopy(rec)
    m = moved.markers_of("calibration_start")[-1]
    s = moved.series["sacrum"]
    inside = (s.t_s > m.t_s + 0.5) & (s.t_s < m.t_s + 1.0)
    s.gyr_rad_s[inside, 1] += math.radians(20.0)  # a 10 deg nod in half a second
    nc = neutral_capture(moved, an)
    assert not nc["sensors"]["sacrum"]["still"]
    assert "rotated" in nc["sensors"]["sacrum"]["reason"]
    assert nc["sensors"]["upper_lumbar"]["still"]


def test_a_guessed_neutral_capture_of_a_still_session_is_still():
    # the guessed window is the last MIN_STILL_S before the calibration took effect: its samples
    # span a sample period less, which had read "moved" for every sensor
    rec = simulate_session(SimulationConfig(reps=3, sensors=2, seed=5, markers="none"))
    an = analyze_recording(rec, offline=False)
    nc = neutral_capture(rec, an)
    assert nc["how"] == "guessed window (its end)"
    assert all(s["still"] for s in nc["sensors"].values()), nc["sensors"]


def _rep(index, t0, t1, top=None, hold_end=None, alarmed=False):
    top = (t0 + t1) / 2 if top is None else top
    hold_end = top if hold_end is None else hold_end
    return SimpleNamespace(
        index=index, t_start_s=t0, t_s=t1, t_top_s=top, t_hold_end_s=hold_end, alarmed=alarmed
    )


def _set(index, t_start_s, t_end_s):
    """What ``rest_residuals`` reads of a ``SetSummary``: its index, its first rep's start and
    its last rep's end."""
    return SimpleNamespace(index=index, t_start_s=t_start_s, t_end_s=t_end_s)


def _analysis(t, y, reps, mode=MonitorMode.CONTINUOUS, exercise="back-kick"):
    return SimpleNamespace(
        angles=SimpleNamespace(t_s=t, lumbar_flexion_deg=y),
        result=SimpleNamespace(reps=reps),
        mode=mode,
        exercise=get_exercise(exercise),
    )


def test_the_angle_left_over_after_each_set_is_its_median_at_rest():
    t = np.arange(0, 100, 0.005)
    y = np.zeros_like(t)
    y[(t > 30) & (t < 40)] = 1.5  # back in the start posture 1.5 deg off after set 1
    y[(t > 80)] = -0.7
    reps = [_rep(0, 10, 14), _rep(1, 15, 29), _rep(2, 60, 65), _rep(3, 66, 79)]
    sets = [_set(0, 10, 29), _set(1, 60, 79)]
    out = rest_residuals(_analysis(t, y, reps), sets, 100.0)
    assert [round(x["residual_deg"], 6) for x in out] == [1.5, -0.7]
    assert out[0]["window_s"][0] == 29 + REST_SETTLE_S
    assert {x["where"] for x in out} == {"rest"}


def test_a_lift_calibrated_at_the_top_is_read_at_the_last_good_reps_lockout():
    """A hip thrust rests at the bottom, a few degrees from the neutral calibrated at the top:
    what is left over at the end of a set is read over the hold of its last rep without an
    alarm."""
    t = np.arange(0, 100, 0.005)
    y = np.full_like(t, 4.0)  # at the bottom: flexed against the lockout's neutral
    reps = [_rep(0, 10, 15, 11, 13), _rep(1, 16, 21, 17, 19), _rep(2, 22, 27, 23, 25, True)]
    reps += [_rep(3, 60, 65, 61, 63), _rep(4, 66, 71, 67, 67.2)]
    y[(t > 17) & (t < 19)] = 0.9  # the last good rep of set 1 holds 0.9 deg off
    y[(t > 23) & (t < 25)] = -9.0  # the alarmed one: not the neutral
    y[(t > 61) & (t < 63)] = -0.4  # set 2: the last rep's hold is too short, this one counts
    sets = [_set(0, 10, 27), _set(1, 60, 71)]
    out = rest_residuals(_analysis(t, y, reps, exercise="hip-thrust"), sets, 100.0)
    assert [round(x["residual_deg"], 6) for x in out] == [0.9, -0.4]
    assert [x["rep"] for x in out] == [2, 4] and {x["where"] for x in out} == {"lockout"}
    assert out[0]["window_s"] == [17, 19]
    alarmed = [_rep(0, 10, 15, 11, 13, True)]
    out = rest_residuals(_analysis(t, y, alarmed, exercise="glute-bridge"), [_set(0, 10, 15)], 99)
    assert math.isnan(out[0]["residual_deg"]) and "without an alarm" in out[0]["reason"]


def test_no_left_over_angle_when_the_next_rep_follows_at_once():
    t = np.arange(0, 40, 0.005)
    reps = [_rep(0, 10, 14), _rep(1, 15.5, 20)]
    out = rest_residuals(_analysis(t, np.zeros_like(t), reps), [_set(0, 10, 14)], 40)
    assert math.isnan(out[0]["residual_deg"]) and "too soon" in out[0]["reason"]
    # one sensor in a hip thrust: its last good rep's lockout, with a note on what it is
    held = [_rep(0, 10, 14, 11, 13), _rep(1, 15.5, 20, 16.5, 18.5)]
    lock = _analysis(t, np.zeros_like(t), held, MonitorMode.LOCKOUT, "hip-thrust")
    out = rest_residuals(lock, [_set(0, 10, 20)], 40)
    assert out[0]["residual_deg"] == 0.0 and out[0]["rep"] == 2
    assert out[0]["pelvis_tilt"] and out[0]["where"] == "lockout"


def test_packet_loss_is_the_share_of_samples_lost():
    rec = simulate_session(
        SimulationConfig(exercise="back-kick", reps=4, sensors=1, seed=2, drop_fraction=0.05)
    )
    r = build_session_report(rec, analyze_recording(rec), source="x.imr")
    q = r.quality["sensors"]["sacrum"]
    assert q["loss_percent"] == pytest.approx(5.0, abs=0.5)
    assert q["gaps"] > 0 and q["samples"] == len(rec.series["sacrum"])


def test_a_late_sensor_clock_is_reported_with_its_offset():
    rec = simulate_session(SimulationConfig(exercise="hip-thrust", reps=6, sensors=2, seed=4))
    s = rec.series["upper_lumbar"]
    rec.series["upper_lumbar"] = SensorSeries(s.t_s + 0.06, s.acc_m_s2, s.gyr_rad_s, s.seq)
    analysis = analyze_recording(rec)
    r = build_session_report(rec, analysis, source="x.imr")
    off = r.quality["clock_offsets"]["upper_lumbar"]
    assert off["measurable"] and off["offset_s"] == pytest.approx(0.06, abs=0.004)
    assert off["taken_off"]  # and the analysis took it off (the report says so)
    assert off == analysis.quality["upper_lumbar"]["clock_offset"]  # its own measure
    assert "taken off by the analysis" in session_html(r)


def test_a_thigh_sensors_clock_is_measured_by_the_report_and_left_as_stamped():
    """The analysis takes only an upper-lumbar offset off; the report measures the thigh's lag,
    which holds the leg's own behind the pelvis (and says so) and moves with its clock."""
    rec = simulate_session(SimulationConfig(exercise="back-kick", reps=4, sensors=3, seed=1))
    in_step = build_session_report(rec, analyze_recording(rec), source="x.imr")
    s = rec.series["thigh"]
    rec.series["thigh"] = SensorSeries(s.t_s + 0.05, s.acc_m_s2, s.gyr_rad_s, s.seq)
    r = build_session_report(rec, analyze_recording(rec), source="x.imr")
    thigh, own = r.quality["clock_offsets"]["thigh"], in_step.quality["clock_offsets"]["thigh"]
    assert 0.1 <= own["offset_s"] <= 0.2  # the leg's own lag, with the clocks in step
    assert thigh["offset_s"] - own["offset_s"] == pytest.approx(0.05, abs=0.005)
    assert not thigh["taken_off"] and thigh["note"] == THIGH_LAG_NOTE
    assert set(r.quality["clock_offsets"]) == {"upper_lumbar", "thigh"}
    assert html.escape(THIGH_LAG_NOTE) in session_html(r)
    # an analysis that measured no clock: the report measures the upper lumbar, without the
    # leg's note
    bare = build_session_report(rec, analyze_recording(rec, clock_offset=False), source="x.imr")
    upper = bare.quality["clock_offsets"]["upper_lumbar"]
    assert not upper["taken_off"] and "note" not in upper


def test_each_set_of_a_session_of_sets_gets_its_row_and_its_left_over_angle():
    """Three sets 45 s apart: three sets in the report, and after each the angle at rest is back
    within the simulated person's rest postures (a few tenths of a degree) of neutral."""
    rec = simulate_session(
        SimulationConfig(exercise="back-kick", reps=5, sets=3, faulty=1, sensors=2, seed=11)
    )
    r = build_session_report(rec, analyze_recording(rec), source="x.imr")
    assert [s.reps for s in r.sets] == [5, 5, 5]
    residuals = r.quality["rest_residuals"]
    assert [x["set"] for x in residuals] == [1, 2, 3]
    assert all(abs(x["residual_deg"]) < 1.0 for x in residuals), residuals
    for x, s in zip(residuals, r.sets, strict=True):
        assert x["window_s"][0] == pytest.approx(s.t_end_s + REST_SETTLE_S)


def test_a_hip_thrust_of_sets_is_left_over_little_at_each_sets_last_lockout():
    """Two-sensor hip thrusts in two sets: the rest at the bottom is degrees from the neutral
    calibrated at the top (and differs from set to set); the last good rep's lockout is back
    within the person's variation of it."""
    rec = simulate_session(
        SimulationConfig(exercise="hip-thrust", reps=5, sets=2, faulty=1, sensors=2, seed=0)
    )
    r = build_session_report(rec, analyze_recording(rec), source="x.imr")
    residuals = r.quality["rest_residuals"]
    assert [x["where"] for x in residuals] == ["lockout", "lockout"]
    assert all(abs(x["residual_deg"]) < 1.0 for x in residuals), residuals
    assert "at the top at the end of each set" in session_html(r)


def test_the_accelerometer_offset_taken_off_is_reported(back_kick):
    rec, an = back_kick
    q = build_session_report(rec, an, source="x.imr").quality["sensors"]
    assert q["sacrum"]["acc_offset_pairs"] > 0  # the sacrum turns 90 deg from standing
    assert 0.0 < q["sacrum"]["acc_offset_mg"] < 100.0  # simulated offsets: sd 15 mg per axis
    # a back kick's upper-lumbar sensor has no pair of postures it turned between
    assert q["upper_lumbar"]["acc_offset_pairs"] == 0 and q["upper_lumbar"]["acc_offset_mg"] is None
    # a calibration given: nothing is estimated, its own offset (if it has one) is taken off
    mg = q["sacrum"]["acc_offset_mg"]
    given = analyze_recording(rec, calibration=an.calibration)  # (the analysis's: with it)
    q = build_session_report(rec, given, source="x.imr").quality["sensors"]
    assert q["sacrum"]["acc_offset_from_calibration"] and q["sacrum"]["acc_offset_pairs"] == 0
    assert q["sacrum"]["acc_offset_mg"] == pytest.approx(mg, abs=0.1)
    assert "(the calibration's)" in session_html(build_session_report(rec, given, source="x.imr"))
    plain = Calibration.from_dict(an.calibration.to_dict())
    plain.sensors["sacrum"].acc_offset_m_s2 = None
    q = build_session_report(
        rec, analyze_recording(rec, calibration=plain), source="x.imr"
    ).quality["sensors"]
    assert q["sacrum"]["acc_offset_mg"] is None and q["sacrum"]["acc_offset_pairs"] == 0


def test_an_offset_left_off_is_reported_with_its_reason():
    """A gyro that reads every turn twice as large (a wrong full-scale setting): the postures
    disagree with it, so the analysis leaves the accelerations as recorded; the report says so
    instead of "0 mg taken off"."""
    rec = simulate_session(
        SimulationConfig(exercise="hip-thrust", sensors=1, seed=1, reps=4, faulty=0)
    )
    s = rec.series["sacrum"]
    rec.series["sacrum"] = SensorSeries(s.t_s, s.acc_m_s2, 2.0 * s.gyr_rad_s, s.seq)
    r = build_session_report(rec, analyze_recording(rec), source="x.imr")
    q = r.quality["sensors"]["sacrum"]
    assert q["acc_offset_mg"] is None and q["acc_offset_pairs"] > 0
    assert "disagree with the gyro" in q["acc_offset_not_applied"]
    assert "not applied: the still postures disagree" in session_html(r)


def test_a_slow_sensor_is_noted_in_the_report():
    rec = simulate_session(SimulationConfig(reps=2, seed=3, rate_hz=10.0, motion="ramps"))
    r = build_session_report(rec, analyze_recording(rec), source="x.imr")
    assert any(n.startswith("slow sensor (sacrum 10 Hz)") for n in r.notes)
    assert "slow sensor (sacrum 10 Hz)" in session_html(r)
