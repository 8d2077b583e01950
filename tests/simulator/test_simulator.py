"""The simulator's ramp model (``motion="ramps"``) and sensor model against their own ground
truth; the human-motion model has tests/simulator/test_human.py."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from imu_monitor.cli.main import main
from imu_monitor.errors import ImuMonitorError
from imu_monitor.exercises import EXERCISES, get_exercise
from imu_monitor.model import FAULTS, GRAVITY_M_S2, LUMBAR_FAULTS, Recording
from imu_monitor.simulator import (
    SimulationConfig,
    SimulationError,
    build_session_model,
    simulate_session,
)
from imu_monitor.simulator.sensors import sensor_errors_for
from imu_monitor.simulator.tracks import SmoothTrack

EXERCISE_NAMES = list(EXERCISES)


def _config(exercise: str, **kw: object) -> SimulationConfig:
    base: dict[str, object] = {
        "exercise": exercise,
        "reps": 8,
        "faulty": 4,
        "sensors": 3,
        "seed": 7,
        "motion": "ramps",
    }
    base.update(kw)
    return SimulationConfig(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="module", params=EXERCISE_NAMES)
def sim(request: pytest.FixtureRequest) -> tuple[SimulationConfig, Recording]:
    cfg = _config(request.param)
    return cfg, simulate_session(cfg, created_utc="2024-01-01T00:00:00+00:00")


def _mounting(rec: Recording, placement: str) -> Rotation:
    quat = rec.truth.mounting_quat[placement]  # type: ignore[union-attr]
    return Rotation.from_quat(quat, scalar_first=True)


def test_deterministic_per_seed() -> None:
    cfg = _config("back-kick", reps=3, faulty=1)
    a = simulate_session(cfg, created_utc="x")
    b = simulate_session(cfg, created_utc="x")
    c = simulate_session(_config("back-kick", reps=3, faulty=1, seed=8), created_utc="x")
    assert a.meta == b.meta
    for p in a.series:
        np.testing.assert_array_equal(a.series[p].acc_m_s2, b.series[p].acc_m_s2)
        np.testing.assert_array_equal(a.series[p].gyr_rad_s, b.series[p].gyr_rad_s)
        np.testing.assert_array_equal(a.series[p].t_s, b.series[p].t_s)
        np.testing.assert_array_equal(a.series[p].seq, b.series[p].seq)
    assert [r.to_dict() for r in a.truth.reps] == [r.to_dict() for r in b.truth.reps]
    assert a.truth.reps[0].t_start_s != c.truth.reps[0].t_start_s
    # the sacrum sensor does not depend on which other sensors are simulated
    one = simulate_session(_config("back-kick", reps=3, faulty=1, sensors=1), created_utc="x")
    np.testing.assert_array_equal(one.series["sacrum"].acc_m_s2, a.series["sacrum"].acc_m_s2)


def test_recording_fields(sim: tuple[SimulationConfig, Recording]) -> None:
    cfg, rec = sim
    assert rec.meta["format_version"] == 1
    assert rec.meta["source"] == "sim"
    assert rec.meta["exercise"] == cfg.exercise
    assert rec.meta["simulation"]["seed"] == cfg.seed
    assert set(rec.series) == set(rec.sensors) == {"sacrum", "upper_lumbar", "thigh"}
    truth = rec.truth
    assert truth is not None
    n = truth.t_s.shape[0]
    np.testing.assert_allclose(np.diff(truth.t_s), 1.0 / cfg.rate_hz, rtol=1e-9)
    assert truth.lumbar_flexion_deg.shape == truth.lumbar_lateral_deg.shape == (n,)
    assert truth.hip_flexion_deg is not None and truth.hip_flexion_deg.shape == (n,)
    for p in rec.series:
        assert truth.segment_pitch_deg[p].shape == (n,)
        angle = np.degrees(_mounting(rec, p).magnitude())
        assert 0.0 <= angle <= cfg.mounting_max_deg
        bias = math.degrees(float(np.linalg.norm(truth.gyro_bias_rad_s[p])))
        assert 0.5 - 1e-9 <= bias <= cfg.gyro_bias_max_deg_s + 1e-9
    kinds = [m.kind for m in rec.markers]
    for kind in ("calibration_standing", "calibration_start", "set_start", "set_end"):
        assert kind in kinds
    assert rec.markers_of("set_start")[0].data == {"exercise": cfg.exercise}
    assert rec.markers_of("set_start")[0].t_s < truth.reps[0].t_start_s
    assert rec.markers_of("set_end")[0].t_s > truth.reps[-1].t_end_s


def test_one_sensor_has_no_hip_truth() -> None:
    rec = simulate_session(_config("hip-thrust", reps=2, faulty=0, sensors=1))
    assert list(rec.series) == ["sacrum"]
    assert rec.truth is not None and rec.truth.hip_flexion_deg is None
    assert set(rec.truth.segment_pitch_deg) == {"sacrum"}


def test_rep_and_fault_counts(sim: tuple[SimulationConfig, Recording]) -> None:
    cfg, rec = sim
    reps = rec.truth.reps
    assert len(reps) == cfg.reps
    faulty = [r for r in reps if r.fault is not None]
    assert len(faulty) == cfg.faulty
    cycle = cfg.resolved_fault_types()
    assert [r.fault for r in faulty] == [cycle[i % len(cycle)] for i in range(cfg.faulty)]
    assert all(r.fault in FAULTS for r in faulty)


def test_fault_types_override() -> None:
    rec = simulate_session(
        _config("back-kick", reps=4, faulty=4, sensors=1, fault_types=("rocking",))
    )
    assert [r.fault for r in rec.truth.reps] == ["rocking"] * 4


def test_truth_reps_ordered_with_tempo(sim: tuple[SimulationConfig, Recording]) -> None:
    cfg, rec = sim
    tempo = get_exercise(cfg.exercise).tempo
    prev_end = 0.0
    for r in rec.truth.reps:
        assert prev_end < r.t_start_s <= r.t_top_s <= r.t_hold_end_s <= r.t_end_s
        assert r.t_start_s - prev_end >= 0.8 - 1e-9  # a rest before every rep
        up, hold, down = (
            r.t_top_s - r.t_start_s,
            r.t_hold_end_s - r.t_top_s,
            r.t_end_s - (r.t_hold_end_s),
        )
        assert min(up, hold, down) > 0.0
        if r.fault == "too_fast":
            assert r.t_end_s - r.t_start_s < tempo.min_rep_s
        else:
            for got, want in ((up, tempo.up_s), (hold, tempo.hold_s), (down, tempo.down_s)):
                assert want * 0.8 - 1e-9 <= got <= want * 1.2 + 1e-9
        prev_end = r.t_end_s
    assert rec.duration_s > rec.truth.reps[-1].t_end_s + 1.0


def test_phase_boundaries_follow_tangent_method() -> None:
    """The steady-speed part of each move, extended, meets the rest/top levels at the truth
    boundaries (measured on the true thigh pitch of a back kick)."""
    rec = simulate_session(_config("back-kick", reps=3, faulty=0))
    truth = rec.truth
    t, thigh = truth.t_s, truth.segment_pitch_deg["thigh"]
    for r in truth.reps:
        rest = np.interp(r.t_start_s - 0.3, t, thigh)
        top = np.interp(0.5 * (r.t_top_s + r.t_hold_end_s), t, thigh)
        for a, b, level_a, level_b in (
            (r.t_start_s, r.t_top_s, rest, top),
            (r.t_hold_end_s, r.t_end_s, top, rest),
        ):
            mid = (t > a + 0.25 * (b - a)) & (t < b - 0.25 * (b - a))
            slope, icpt = np.polyfit(t[mid], thigh[mid], 1)
            assert abs((level_a - icpt) / slope - a) < 0.01
            assert abs((level_b - icpt) / slope - b) < 0.01


def test_still_windows_read_gravity_in_posture(sim: tuple[SimulationConfig, Recording]) -> None:
    cfg, rec = sim
    ex = get_exercise(cfg.exercise)
    windows = {
        "calibration_standing": (0.0, 0.0),
        "calibration_start": (ex.start_pitch_deg, ex.thigh_start_pitch_deg),
    }
    for kind, (pelvis_pitch, thigh_pitch) in windows.items():
        m = rec.markers_of(kind)[0]
        assert m.t_end_s is not None and m.t_end_s - m.t_s > 2.0
        for p, s in rec.series.items():
            sel = (s.t_s >= m.t_s) & (s.t_s <= m.t_end_s)
            acc_seg = _mounting(rec, p).apply(s.acc_m_s2[sel])
            assert np.abs(np.linalg.norm(acc_seg, axis=1) - GRAVITY_M_S2).max() < 0.15
            mean = acc_seg.mean(axis=0)
            up = ex.up_in_segment(thigh_pitch if p == "thigh" else pelvis_pitch)
            angle = math.degrees(math.acos(min(1.0, mean @ up / np.linalg.norm(mean))))
            assert angle < 1.0, (kind, p, angle)
        # still: only tiny sway, and the lumbar angle is at its neutral
        tsel = (rec.truth.t_s >= m.t_s) & (rec.truth.t_s <= m.t_end_s)
        assert np.abs(rec.truth.lumbar_flexion_deg[tsel]).max() < 0.3
        for p in rec.series:
            pitch = rec.truth.segment_pitch_deg[p][tsel]
            assert pitch.max() - pitch.min() < 0.6


def _integrate_gyro(t: np.ndarray, gyr: np.ndarray, q0: Rotation) -> Rotation:
    """Integrate body rates (rad/s) with the trapezoid rule on the rotation vector."""
    q = q0
    steps = Rotation.from_rotvec(0.5 * (gyr[1:] + gyr[:-1]) * np.diff(t)[:, None])
    for step in steps:
        q = q * step
    return q


def test_gyro_is_the_derivative_of_the_orientation() -> None:
    cfg = _config("hip-thrust", reps=3, faulty=1, sensors=3, fault_types=("extension",))
    rec = simulate_session(cfg)
    model = build_session_model(cfg)
    for p, s in rec.series.items():
        _, errors = sensor_errors_for(cfg, p)
        np.testing.assert_allclose(errors.gyro_bias_rad_s, rec.truth.gyro_bias_rad_s[p])
        M = _mounting(rec, p)
        gyr = s.gyr_rad_s - np.asarray(rec.truth.gyro_bias_rad_s[p])
        for r in rec.truth.reps:
            # from before the rep to the middle of the hold (moved), then to after the rep
            for t_stop in (0.5 * (r.t_top_s + r.t_hold_end_s), r.t_end_s + 0.5):
                sel = np.flatnonzero((s.t_s >= r.t_start_s - 0.5) & (s.t_s <= t_stop))
                t = s.t_s[sel]
                _, _, R = model.sensor_readings(p, t[[0, -1]], M)
                q0, q1 = Rotation.from_matrix(R[0]), Rotation.from_matrix(R[1])
                q_int = _integrate_gyro(t, gyr[sel], q0)
                err = math.degrees((q_int.inv() * q1).magnitude())
                assert err < 0.5, (p, r.index, err)
                # the integrated orientation gives the true segment pitch
                R_seg = (q_int * M.inv()).as_matrix()
                pitch = math.degrees(math.atan2(-R_seg[2, 0], R_seg[2, 2]))
                want = np.interp(t[-1], rec.truth.t_s, rec.truth.segment_pitch_deg[p])
                assert abs(pitch - want) < 0.5
                if t_stop < r.t_end_s:  # the rep did move this segment
                    assert math.degrees((q0.inv() * q1).magnitude()) > 10.0


def test_lumbar_truth_good_and_faulty(sim: tuple[SimulationConfig, Recording]) -> None:
    cfg, rec = sim
    limits = get_exercise(cfg.exercise).limits
    truth = rec.truth
    for r in truth.reps:
        sel = (truth.t_s >= r.t_start_s) & (truth.t_s <= r.t_end_s)
        lumbar = truth.lumbar_flexion_deg[sel]
        assert r.peak_flexion_deg == pytest.approx(max(lumbar.max(), 0.0))
        assert r.peak_extension_deg == pytest.approx(max(-lumbar.min(), 0.0))
        if r.fault in (None, "too_fast"):
            assert np.abs(lumbar).max() <= 2.5
        if r.fault in ("extension", "rocking"):
            assert r.peak_extension_deg >= limits.extension_deg + 4.0
        if r.fault in ("flexion", "rocking"):
            assert r.peak_flexion_deg >= limits.flexion_deg + 4.0
        if r.fault == "extension":
            assert r.peak_flexion_deg < 2.5
        if r.fault == "flexion":
            assert r.peak_extension_deg < 2.5
    # rests between reps are neutral too
    for a, b in zip(truth.reps[:-1], truth.reps[1:], strict=True):
        sel = (truth.t_s > a.t_end_s + 0.1) & (truth.t_s < b.t_start_s - 0.1)
        assert np.abs(truth.lumbar_flexion_deg[sel]).max() < 0.5


def test_all_lumbar_faults_on_every_exercise() -> None:
    for name in EXERCISE_NAMES:
        limits = get_exercise(name).limits
        rec = simulate_session(
            _config(name, reps=3, faulty=3, sensors=1, fault_types=LUMBAR_FAULTS, seed=2)
        )
        for r in rec.truth.reps:
            peak = max(
                r.peak_flexion_deg - limits.flexion_deg, r.peak_extension_deg - limits.extension_deg
            )
            assert peak >= 4.0, (name, r.fault, r.to_dict())


def test_back_kick_pelvic_roll_is_not_flexion() -> None:
    rec = simulate_session(_config("back-kick", reps=6, faulty=0, sensors=2, seed=3))
    truth = rec.truth
    for r in truth.reps:
        sel = (truth.t_s >= r.t_start_s) & (truth.t_s <= r.t_end_s)
        lateral = np.abs(truth.lumbar_lateral_deg[sel]).max()
        # the kicking-side hip rises (axial pelvic rotation): visible to gravity as lateral tilt
        assert 1.5 <= lateral <= 7.5
        assert np.abs(truth.lumbar_flexion_deg[sel]).max() <= 2.5
    # the sacrum sensor's gyro sees the roll: its rate is far above the sway during reps
    s = rec.series["sacrum"]
    r = truth.reps[0]
    gyr = s.gyr_rad_s - np.asarray(truth.gyro_bias_rad_s["sacrum"])
    moving = (s.t_s > r.t_start_s) & (s.t_s < r.t_top_s)
    assert np.degrees(np.linalg.norm(gyr[moving], axis=1)).max() > 2.0


def test_sample_times_jitter_and_drops() -> None:
    cfg = _config("back-kick", reps=6, faulty=0, sensors=1, drop_fraction=0.02, jitter_s=0.0005)
    rec = simulate_session(cfg)
    s = rec.series["sacrum"]
    n_total = rec.truth.t_s.shape[0]
    assert s.seq is not None and s.seq.dtype == np.int64
    assert np.all(np.diff(s.seq) >= 1) and np.all(np.diff(s.t_s) > 0)
    gaps = np.diff(s.seq)
    assert (gaps > 1).any() and (gaps > 2).any()  # single drops and runs
    assert gaps.max() <= 6 * 2  # short runs only (two runs may touch)
    lost = n_total - len(s)
    assert 0.5 * cfg.drop_fraction * n_total < lost < 1.5 * cfg.drop_fraction * n_total
    jitter = s.t_s - s.seq / cfg.rate_hz
    assert jitter.std() == pytest.approx(cfg.jitter_s, rel=0.1)
    no_drop = simulate_session(_config("back-kick", reps=2, faulty=0, sensors=1, drop_fraction=0))
    assert np.all(np.diff(no_drop.series["sacrum"].seq) == 1)


def test_noise_levels() -> None:
    cfg = _config("back-kick", reps=1, faulty=0, sensors=1, jitter_s=0.0)
    rec = simulate_session(cfg)
    s = rec.series["sacrum"]
    m = rec.markers_of("calibration_start")[0]
    sel = (s.t_s >= m.t_s) & (s.t_s <= m.t_end_s)
    # white noise: the rms of first differences is sqrt(2) * the per-sample rms
    acc_rms = np.diff(s.acc_m_s2[sel], axis=0).std() / math.sqrt(2)
    gyr_rms = np.degrees(np.diff(s.gyr_rad_s[sel], axis=0).std()) / math.sqrt(2)
    assert acc_rms == pytest.approx(cfg.acc_noise_m_s2, rel=0.15)
    assert gyr_rms == pytest.approx(cfg.gyro_noise_deg_s, rel=0.15)


def test_smooth_track_derivatives_are_consistent() -> None:
    track = SmoothTrack(np.array([0.0, 1.0, 1.5, 3.0]), np.array([0.0, 2.0, 2.0, -1.0]), 0.2)
    t = np.linspace(-0.5, 3.5, 40001)
    y, dy, ddy = track.evaluate(t)
    np.testing.assert_allclose(np.gradient(y, t), dy, atol=1e-5)
    np.testing.assert_allclose(np.gradient(dy, t), ddy, atol=2e-3)
    # steady speed between blends, exact levels outside them
    assert dy[np.searchsorted(t, 0.5)] == pytest.approx(2.0)
    assert y[np.searchsorted(t, 1.25)] == pytest.approx(2.0)
    assert y[-1] == pytest.approx(-1.0) and y[0] == pytest.approx(0.0)


def test_unknown_exercise_lists_known_ones() -> None:
    with pytest.raises(ImuMonitorError) as err:
        simulate_session(SimulationConfig(exercise="deadlift"))
    for name in EXERCISE_NAMES:
        assert name in str(err.value)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reps": 0}, "reps"),
        ({"reps": 3, "faulty": 4}, "faulty"),
        ({"faulty": -1}, "faulty"),
        ({"sensors": 4}, "sensors"),
        ({"seed": -1}, "seed"),
        ({"rate_hz": 0.0}, "rate_hz"),
        ({"drop_fraction": 0.9}, "drop_fraction"),
        ({"fault_types": ("wobble",)}, "fault_types"),
        ({"rest_variation_deg": -1.0}, "rest_variation_deg"),
    ],
)
def test_invalid_config_names_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(SimulationError, match=field):
        SimulationConfig(**changes).validate()  # type: ignore[arg-type]


def test_cli_json_and_file(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sim.imr"
    args = [
        "simulate",
        "--exercise",
        "hip-thrust",
        "--reps",
        "3",
        "--faulty",
        "2",
        "--sensors",
        "2",
        "--seed",
        "4",
        "-o",
        str(out),
        "--json",
    ]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["exercise"] == "hip-thrust" and data["seed"] == 4
    assert data["sensors"] == ["sacrum", "upper_lumbar"]
    assert len(data["reps"]) == 3 and len(data["faulty_reps"]) == 2
    assert [r["index"] for r in data["reps"] if r["faulty"]] == data["faulty_reps"]
    from imu_monitor.storage.recording import load_recording

    rec = load_recording(out)
    assert rec.truth is not None and len(rec.truth.reps) == 3
    assert rec.meta["source"] == "sim"
    assert data["duration_s"] == pytest.approx(rec.duration_s)


def test_cli_rest_variation_is_simulated_and_recorded(tmp_path) -> None:
    out = tmp_path / "varied.imr"
    args = ["simulate", "--reps", "4", "--seed", "2", "--rest-variation", "0.7", "-o", str(out)]
    assert main(args) == 0
    from imu_monitor.storage.recording import load_recording

    rec = load_recording(out)
    assert rec.meta["simulation"]["rest_variation_deg"] == 0.7
    plain = simulate_session(SimulationConfig(reps=4, seed=2))
    assert not np.array_equal(rec.series["sacrum"].acc_m_s2, plain.series["sacrum"].acc_m_s2)


def test_cli_rejects_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--reps", "2", "--faulty", "3", "--json"]) == 2
    assert "faulty" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:  # checked by argparse: a usage error
        main(["simulate", "--reps", "0", "--json"])
    assert e.value.code == 2
    assert "--reps" in capsys.readouterr().err
    assert main(["simulate", "--reps", "2"]) == 2  # neither -o nor --json


def test_rest_variation_moves_each_rest_posture_and_nothing_else():
    config = SimulationConfig(exercise="back-kick", reps=6, faulty=0, seed=4, motion="ramps")
    plain = build_session_model(config).program
    varied = build_session_model(dataclasses.replace(config, rest_variation_deg=1.0)).program
    # the same reps at the same times, the same lumbar truth
    assert [r.t_start_s for r in varied.reps] == [r.t_start_s for r in plain.reps]
    t = np.arange(0.0, plain.duration_s, 0.01)
    for name in ("sacrum.pitch", "upper_lumbar.pitch", "thigh.pitch"):
        np.testing.assert_array_equal(
            varied.signals[name].evaluate(t, False)[0], plain.signals[name].evaluate(t, False)[0]
        )
    # the pelvis rests turned by up to 1 deg about its long axis and the vertical, differently
    # before every rep after the first (which starts from the calibration posture)
    starts = np.array([r.t_start_s for r in varied.reps])
    for name in ("sacrum.yaw", "sacrum.roll"):
        rest = varied.signals[name].evaluate(starts, False)[0]
        plain_rest = plain.signals[name].evaluate(starts, False)[0]
        offset = rest - plain_rest
        assert offset[0] == pytest.approx(0.0, abs=1e-9)
        assert np.all(np.abs(offset) <= 1.0) and len(np.unique(np.round(offset[1:], 6))) == 5
