"""The human-motion model: each feature does what its switch says, and nothing else."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from imu_monitor.exercises import get_exercise
from imu_monitor.model import LUMBAR_FAULTS, Recording
from imu_monitor.processing.analysis import analyze_recording
from imu_monitor.simulator import SimulationConfig, build_session_model, simulate_session
from imu_monitor.simulator.human import DEPTH_SPREAD, TIMING_SPREAD

CREATED = "2024-01-01T00:00:00+00:00"


def _cfg(exercise: str = "back-kick", **kw: object) -> SimulationConfig:
    base: dict[str, object] = {"exercise": exercise, "reps": 8, "faulty": 0, "sensors": 3}
    base["seed"] = 11
    base.update(kw)
    return SimulationConfig(**base)  # type: ignore[arg-type]


def _sim(**kw: object) -> Recording:
    return simulate_session(_cfg(**kw), created_utc=CREATED)


def _speed_ratio(rec: Recording) -> list[float]:
    """Per rep: peak / mean speed of the thigh over the truth's concentric phase."""
    t, thigh = rec.truth.t_s, rec.truth.segment_pitch_deg["thigh"]
    v = np.gradient(thigh, t)
    out = []
    for r in rec.truth.reps:
        sel = (t >= r.t_start_s) & (t <= r.t_top_s)
        mean = abs(np.interp(r.t_top_s, t, thigh) - np.interp(r.t_start_s, t, thigh))
        out.append(np.abs(v[sel]).max() / (mean / (r.t_top_s - r.t_start_s)))
    return out


def test_default_is_the_human_model_and_ramps_ignore_its_switches() -> None:
    assert SimulationConfig().motion == "human"
    ramps = simulate_session(_cfg(motion="ramps", reps=2), created_utc=CREATED)
    off = {name: False for name in ("minimum_jerk", "breathing", "skin_motion", "acc_errors")}
    ramps_off = simulate_session(_cfg(motion="ramps", reps=2, **off), created_utc=CREATED)
    for p in ramps.series:
        np.testing.assert_array_equal(ramps.series[p].acc_m_s2, ramps_off.series[p].acc_m_s2)
    assert "simulation_truth" not in ramps.meta
    assert _sim(reps=2).meta["simulation_truth"]["motion"] == "human"


def test_minimum_jerk_velocity_is_bell_shaped() -> None:
    # minimum jerk, between 5 %-of-peak onset and offset: peak / mean speed = 1.66
    assert np.median(_speed_ratio(_sim())) == pytest.approx(1.66, abs=0.08)
    # the same knots with trapezoidal profiles: nearly constant speed
    assert np.median(_speed_ratio(_sim(minimum_jerk=False))) < 1.25


def test_reps_vary_in_depth_and_timing_only_when_switched_on() -> None:
    ex = get_exercise("back-kick")
    for vary in (True, False):
        rec = _sim(rep_variation=vary, reps=10)
        t, thigh = rec.truth.t_s, rec.truth.segment_pitch_deg["thigh"]
        depth = np.array(
            [
                np.interp(r.t_top_s, t, thigh) - np.interp(r.t_start_s, t, thigh)
                for r in rec.truth.reps
            ]
        )
        up = np.array([r.t_top_s - r.t_start_s for r in rec.truth.reps])
        spread_depth = np.ptp(depth) / np.mean(np.abs(depth))
        spread_up = np.ptp(up) / np.mean(up)
        if vary:
            assert 0.08 < spread_depth <= 2 * DEPTH_SPREAD + 0.02
            assert 0.1 < spread_up <= 2 * TIMING_SPREAD * 1.25
        else:
            assert spread_depth < 0.02 and spread_up < 0.02
            # onset/offset truth of a minimum-jerk move: 88 % of the programmed duration
            assert np.median(up) == pytest.approx(ex.tempo.up_s * 0.881, rel=0.03)


def test_depth_spread_sets_how_much_the_reps_vary() -> None:
    def depths(**kw: object) -> np.ndarray:
        rec = _sim(reps=12, **kw)
        t, thigh = rec.truth.t_s, rec.truth.segment_pitch_deg["thigh"]
        top = [
            np.interp(r.t_top_s, t, thigh) - np.interp(r.t_start_s, t, thigh)
            for r in rec.truth.reps
        ]
        return np.abs(np.array(top))

    default, wide = depths(), depths(depth_spread=0.3)
    assert np.ptp(wide) / np.mean(wide) > 1.5 * np.ptp(default) / np.mean(default)
    assert np.ptp(wide) / np.mean(wide) <= 2 * 0.3 + 0.02


def test_a_slower_person_takes_tempo_scale_times_as_long_and_a_too_fast_rep_stays_fast() -> None:
    kw = {"rep_variation": False, "reps": 6, "faulty": 2, "fault_types": ("too_fast", "extension")}
    base, slow = _sim(**kw), _sim(tempo_scale=1.6, **kw)
    for a, b in zip(base.truth.reps, slow.truth.reps, strict=True):
        up_a, up_b = a.t_top_s - a.t_start_s, b.t_top_s - b.t_start_s
        down_a, down_b = a.t_end_s - a.t_hold_end_s, b.t_end_s - b.t_hold_end_s
        if a.fault == "too_fast":  # its duration is its own, whatever the person's tempo
            assert up_b == pytest.approx(up_a, rel=0.02)
        else:
            assert up_b == pytest.approx(1.6 * up_a, rel=0.03)
            assert down_b == pytest.approx(1.6 * down_a, rel=0.03)


def test_pelvis_moves_in_good_form_and_leads_the_leg() -> None:
    rec = _sim(reps=8)
    truth, program = rec.truth, build_session_model(_cfg(reps=8)).program
    for r in truth.reps:
        sel = (truth.t_s >= r.t_start_s) & (truth.t_s <= r.t_end_s)
        flex = truth.lumbar_flexion_deg[sel]
        assert 0.6 <= np.ptp(flex) <= 4.0  # tilts 1-3 deg (plus breathing and rest offsets)
    # the pelvis turn and the sideways shift start before the thigh moves
    t = np.arange(0.0, program.duration_s, 0.005)
    yaw = np.gradient(program.signals["sacrum.yaw"].evaluate(t, False)[0], t)
    shift = program.signals["root.y"].evaluate(t, False)[0]
    assert 0.009 <= np.abs(shift).max() <= 0.031
    for r in truth.reps:
        before = (t > r.t_start_s - 0.25) & (t < r.t_start_s)
        assert np.abs(yaw[before]).max() > 0.5  # deg/s, already turning
    still = _sim(reps=8, pelvis_motion=False)
    for r in still.truth.reps:
        sel = (still.truth.t_s >= r.t_start_s) & (still.truth.t_s <= r.t_end_s)
        assert np.ptp(still.truth.lumbar_flexion_deg[sel]) < 1.6


def test_a_back_kick_turns_the_pelvis_by_the_range_given() -> None:
    def turns(**kw: object) -> np.ndarray:
        program = build_session_model(_cfg(reps=8, rest_postures=False, **kw)).program
        t = np.arange(0.0, program.duration_s, 0.01)
        yaw = np.abs(program.signals["sacrum.yaw"].evaluate(t, False)[0])
        return np.array([yaw[(t >= r.t_start_s) & (t <= r.t_end_s)].max() for r in program.reps])

    default, square = turns(), turns(kick_turn_deg=(1.5, 3.0))
    assert 3.0 <= default.min() and default.max() <= 7.0
    assert 1.5 <= square.min() and square.max() <= 3.0


def test_rest_postures_differ_by_tenths() -> None:
    def rests(rec: Recording) -> np.ndarray:
        t = rec.truth.t_s
        return np.array(
            [
                np.median(rec.truth.lumbar_flexion_deg[(t > a.t_end_s + 0.2) & (t < b.t_start_s)])
                for a, b in zip(rec.truth.reps[:-1], rec.truth.reps[1:], strict=True)
            ]
        )

    varied = rests(_sim(reps=10, breathing=False))
    same = rests(_sim(reps=10, breathing=False, rest_postures=False))
    assert 0.15 < np.ptp(varied) < 1.0 and np.abs(varied).max() < 0.6
    assert np.ptp(same) < np.ptp(varied) / 2


def test_breathing_rhythm_in_the_lumbar_angle() -> None:
    on, off = _sim(reps=4), _sim(reps=4, breathing=False)
    t = on.truth.t_s
    breath = on.truth.lumbar_flexion_deg - off.truth.lumbar_flexion_deg
    assert 0.4 < np.ptp(breath) < 1.6  # amplitude 0.25-0.65 deg plus its harmonic
    spectrum = np.abs(np.fft.rfft(breath - breath.mean()))
    freqs = np.fft.rfftfreq(len(t), t[1] - t[0])
    assert 12.0 <= 60.0 * freqs[np.argmax(spectrum)] <= 20.0  # breaths per minute
    # the thigh does not breathe
    thigh = on.truth.segment_pitch_deg["thigh"] - off.truth.segment_pitch_deg["thigh"]
    assert np.abs(thigh).max() < 1e-9


def _diff(a: Recording, b: Recording, placement: str, kind: str) -> np.ndarray:
    sa, sb = a.series[placement], b.series[placement]
    assert np.array_equal(sa.t_s, sb.t_s)
    return getattr(sa, kind) - getattr(sb, kind)


def test_accelerometer_offset_and_scale_only_when_on() -> None:
    on, off = _sim(reps=2), _sim(reps=2, acc_errors=False)
    d = _diff(on, off, "sacrum", "acc_m_s2")
    assert np.array_equal(on.series["sacrum"].gyr_rad_s, off.series["sacrum"].gyr_rad_s)
    # offset ~15 mg (sd) per axis plus 1-2 % of the reading
    assert 0.01 < np.abs(d).mean() < 0.6
    acc = off.series["sacrum"].acc_m_s2
    for axis in range(3):
        slope, icpt = np.polyfit(acc[:, axis], d[:, axis], 1)
        assert 0.0099 < abs(slope) < 0.0201
        assert abs(icpt) < 5 * 0.147


def test_accelerometer_offsets_scale_with_their_setting() -> None:
    """The same draws, scaled: 40 mg instead of 15 changes only the offset part."""
    base, off = _sim(reps=2), _sim(reps=2, acc_errors=False)
    big = _sim(reps=2, acc_offset_sd_m_s2=0.04 * 9.80665)
    d15, d40 = _diff(base, off, "sacrum", "acc_m_s2"), _diff(big, off, "sacrum", "acc_m_s2")
    acc = off.series["sacrum"].acc_m_s2
    for axis in range(3):
        s15, i15 = np.polyfit(acc[:, axis], d15[:, axis], 1)
        s40, i40 = np.polyfit(acc[:, axis], d40[:, axis], 1)
        assert s40 == pytest.approx(s15, abs=1e-4)  # the scale errors stay
        assert i40 == pytest.approx(i15 * 40 / 15, rel=0.02, abs=0.002)


def test_gyro_bias_drifts_only_when_on() -> None:
    on, off = _sim(reps=2), _sim(reps=2, gyro_drift=False)
    d = np.degrees(_diff(on, off, "thigh", "gyr_rad_s"))
    assert np.abs(d[:10]).max() < 0.05  # at power-on the bias is the recorded one
    late = np.linalg.norm(d[-10:], axis=1).max()
    assert 0.02 < late < 0.4


def test_skin_turns_with_the_hip() -> None:
    cfg = _cfg(reps=3, faulty=0, sensors=3)
    on, off = simulate_session(cfg), simulate_session(dataclasses.replace(cfg, skin_motion=False))
    cal = on.meta["simulation_truth"]["calibration_window_s"]
    for p in ("sacrum", "upper_lumbar", "thigh"):
        d = _diff(on, off, p, "acc_m_s2")
        t = on.series[p].t_s
        still = (t > cal[0]) & (t < cal[1])
        # in the calibration posture the skin is where it was calibrated ...
        assert np.abs(d[still]).max() < 0.01
        # ... away from it, gravity reads turned by 0.3-1.2 deg (thigh 1-3 deg): 0.05-0.5 m/s^2
        assert 0.03 < np.linalg.norm(d, axis=1).max() < 0.6, p
    # the truth is the bone's: unchanged
    np.testing.assert_array_equal(on.truth.lumbar_flexion_deg, off.truth.lumbar_flexion_deg)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x**2)))


def test_skin_error_is_what_the_skin_alone_puts_into_the_angle() -> None:
    # every sensor error off but the skin's: the analysed angle follows the truth plus the skin
    # error, not the truth (seed 12017: the skin patches turn 2.2 deg apart over the hip range)
    clean = {"acc_errors": False, "gyro_scale": False, "gyro_drift": False, "burst_loss": False}
    cfg = _cfg("hip-thrust", reps=4, sensors=2, seed=12017, **clean)
    rec = simulate_session(cfg)
    truth = rec.truth
    cal = rec.meta["simulation_truth"]["calibration_window_s"]
    in_cal = (truth.t_s >= cal[0]) & (truth.t_s <= cal[1])
    assert abs(truth.skin_error_deg[in_cal].mean()) < 1e-9  # relative to the calibration posture
    assert 1.0 < np.ptp(truth.skin_error_deg) < 2.6
    an = analyze_recording(rec, offline=True)
    t = an.angles.t_s
    sel = t > truth.reps[0].t_start_s - 1.0
    est = an.angles.lumbar_flexion_deg[sel]
    bone = np.interp(t[sel], truth.t_s, truth.lumbar_flexion_deg)
    skin = np.interp(t[sel], truth.t_s, truth.skin_error_deg)
    assert _rms(est - bone - skin) < 0.35 * _rms(est - bone)
    # without skin motion there is none; one sensor's is its own tilt's
    rigid = simulate_session(dataclasses.replace(cfg, skin_motion=False))
    assert rigid.truth.skin_error_deg is None
    one = simulate_session(dataclasses.replace(cfg, sensors=1)).truth.skin_error_deg
    assert one is not None and not np.allclose(one, truth.skin_error_deg)


def test_burst_loss() -> None:
    rec = _sim(reps=6, sensors=1, drop_fraction=0.02)
    seq = rec.series["sacrum"].seq
    gaps = np.diff(seq)[np.diff(seq) > 1] - 1
    assert gaps.min() >= 4 and np.median(gaps) <= 8
    singles = _sim(reps=6, sensors=1, drop_fraction=0.02, burst_loss=False).series["sacrum"].seq
    assert (np.diff(singles) == 2).any()


def test_markers_choice() -> None:
    assert {m.kind for m in _sim(reps=1, markers="set").markers} == {"set_start", "set_end"}
    assert _sim(reps=1, markers="none").markers == []
    kinds = {m.kind for m in _sim(reps=1).markers}
    assert {"calibration_standing", "calibration_start"} <= kinds


def test_faults_past_the_limit_and_good_reps_within() -> None:
    for name in ("back-kick", "hip-thrust", "glute-bridge"):
        limits = get_exercise(name).limits
        rec = _sim(exercise=name, reps=6, faulty=6, fault_types=(*LUMBAR_FAULTS, "too_fast"))
        for r in rec.truth.reps:
            over = max(
                r.peak_flexion_deg - limits.flexion_deg,
                r.peak_extension_deg - limits.extension_deg,
            )
            if r.fault in LUMBAR_FAULTS:
                assert 0.0 < over < 9.0, (name, r.fault)
            else:
                assert over < -3.0, (name, r.fault)


def test_switching_a_feature_leaves_the_others_draws_alone() -> None:
    a = build_session_model(_cfg(reps=4)).program
    b = build_session_model(_cfg(reps=4, breathing=False)).program
    t = np.arange(0.0, a.duration_s, 0.01)
    for name in ("thigh.pitch", "sacrum.yaw", "root.y"):
        np.testing.assert_array_equal(
            a.signals[name].evaluate(t, False)[0], b.signals[name].evaluate(t, False)[0]
        )


def test_deterministic() -> None:
    a, b = _sim(reps=3), _sim(reps=3)
    for p in a.series:
        np.testing.assert_array_equal(a.series[p].acc_m_s2, b.series[p].acc_m_s2)
        np.testing.assert_array_equal(a.series[p].gyr_rad_s, b.series[p].gyr_rad_s)
    assert [r.to_dict() for r in a.truth.reps] == [r.to_dict() for r in b.truth.reps]
    assert a.meta == b.meta
    assert not math.isnan(a.meta["simulation_truth"]["sacrum_neutral_pitch_deg"])


def test_cli_model_switches_and_markers(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    from imu_monitor.cli.main import main
    from imu_monitor.storage.recording import load_recording

    out = tmp_path / "s.imr"
    base = ["simulate", "--reps", "2", "--seed", "3", "-o", str(out), "--force", "--json"]
    assert main(base) == 0
    assert json.loads(capsys.readouterr().out)["motion"] == "human"
    rec = load_recording(out)
    assert rec.meta["simulation"]["motion"] == "human" and rec.meta["simulation"]["breathing"]
    assert rec.meta["simulation_truth"]["phase_onset_fraction"] == 0.05
    assert main([*base, "--without", "breathing,skin-motion", "--markers", "none"]) == 0
    capsys.readouterr()
    rec = load_recording(out)
    sim = rec.meta["simulation"]
    assert not sim["breathing"] and not sim["skin_motion"] and sim["acc_errors"]
    assert rec.markers == []
    assert main([*base, "--motion", "ramps"]) == 0
    assert json.loads(capsys.readouterr().out)["motion"] == "ramps"
    assert "simulation_truth" not in load_recording(out).meta
    assert main([*base, "--without", "breathing,wings"]) == 2
    err = capsys.readouterr().err
    assert "wings" in err and "breathing" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"motion": "robot"}, "motion"),
        ({"markers": "some"}, "markers"),
        ({"breathing": "yes"}, "breathing"),
        ({"phase_onset_fraction": 0.5}, "phase_onset_fraction"),
        ({"tempo_scale": 5.0}, "tempo_scale"),
        ({"tempo_scale": 1.5, "motion": "ramps"}, "tempo_scale"),
        ({"tempo_scale": 1.5, "sets": 2}, "tempo_scale"),
        ({"rep_rest_s": (0.1, 0.5)}, "rep_rest_s"),
        ({"rep_rest_s": (0.5, 0.3)}, "rep_rest_s"),
        ({"rep_rest_s": (0.3, 0.5), "motion": "ramps"}, "rep_rest_s"),
        ({"acc_offset_sd_m_s2": -0.1}, "acc_offset_sd_m_s2"),
        ({"depth_spread": 0.5}, "depth_spread"),
        ({"depth_spread": 0.2, "motion": "ramps"}, "depth_spread"),
        ({"kick_turn_deg": (0.2, 3.0)}, "kick_turn_deg"),
        ({"kick_turn_deg": (3.0, 2.0)}, "kick_turn_deg"),
        ({"kick_turn_deg": (1.5, 3.0), "exercise": "hip-thrust"}, "kick_turn_deg"),
        ({"kick_turn_deg": (1.5, 3.0), "motion": "ramps"}, "kick_turn_deg"),
        ({"clock_offset_ms": 40.0}, "clock_offset_ms"),  # one sensor: no upper-lumbar clock
        ({"clock_offset_ms": 600.0, "sensors": 2}, "clock_offset_ms"),
        ({"clock_offset_ms": float("nan"), "sensors": 3}, "clock_offset_ms"),
    ],
)
def test_invalid_human_settings_name_the_field(changes: dict[str, object], field: str) -> None:
    from imu_monitor.simulator import SimulationError

    with pytest.raises(SimulationError, match=field):
        SimulationConfig(**changes).validate()  # type: ignore[arg-type]
