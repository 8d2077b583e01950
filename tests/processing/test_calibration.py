"""Calibration: stillness check, refusal, alignment (two postures / functional axis), recordings,
the store. Synthetic sensors: exact kinematics + noise, random strap-on rotations of 25 deg."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from imu_monitor.errors import CalibrationRefused, ImuMonitorError
from imu_monitor.exercises import get_exercise
from imu_monitor.model import Marker, Recording, SensorInfo, SensorSeries
from imu_monitor.processing.angles import compute_angles
from imu_monitor.processing.calibration import Calibration, calibrate, calibrate_recording
from imu_monitor.processing.orientation import estimate_orientation
from imu_monitor.processing.stillness import check_still
from imu_monitor.storage.stores import CalibrationStore

RATE = 100.0


def _mount(rng: np.random.Generator, deg: float = 25.0) -> Rotation:
    axis = rng.normal(size=3)
    return Rotation.from_rotvec(axis / np.linalg.norm(axis) * np.radians(deg))


def _sensor(seg: Rotation, mount: Rotation, rng: np.random.Generator, bias=(0.0, 0.0, 0.0)):
    """acc/gyr (n, 3) of a sensor mounted with ``mount`` (segment <- sensor) on ``seg``."""
    ws = seg * mount
    acc = ws.inv().apply([0.0, 0.0, 9.81]) + rng.normal(0, 0.03, (len(ws), 3))
    gyr = np.vstack(((ws[:-1].inv() * ws[1:]).as_rotvec() * RATE, np.zeros((1, 3))))
    return acc, gyr + rng.normal(0, 0.003, gyr.shape) + np.asarray(bias)


def _smooth(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _session(
    exercise: str,
    seed: int,
    *,
    with_thigh: bool = False,
    faults: bool = True,
    mount_deg: float = 25.0,
    still_until: float = 8.0,
):
    """Standing 0-3 s, transition 3-5 s, calibration posture 5 s to ``still_until`` (8), reps of
    4 s from there, each sensor mounted ``mount_deg`` off nominal about a random axis.

    Sacrum: rolls about its long axis 8 deg each rep (weight shift); in the second half of the
    reps it also pitches (lumbar fault, known truth). Hip thrust: the trunk rotates 45 deg.
    Returns (Recording, t, true sacrum pitch on t (deg), true mounting per placement).
    """
    rng = np.random.default_rng(seed)
    ex = get_exercise(exercise)
    t = np.arange(int(40 * RATE)) / RATE
    to_posture = _smooth((t - 3.0) / 2.0)
    ph = np.clip(t - still_until, 0.0, None)
    rep = np.where(t > still_until, np.sin(np.pi * ph / 4.0) ** 2, 0.0)
    fault = np.where(t > 24.0, 6.0 * rep, 0.0) if faults else np.zeros_like(t)
    heading = 40.0 + 5.0 * np.sin(t / 7.0)
    sac_pitch = ex.start_pitch_deg * to_posture - fault  # lumbar flexion = -delta pitch(sacrum)
    sac_roll = 0.0 * t
    if exercise == "back-kick":
        sac_roll = 8.0 * rep
    else:
        sac_pitch = sac_pitch + 45.0 * rep
    seg = {
        "sacrum": Rotation.from_euler(
            "ZXY", np.column_stack((heading, -sac_roll, sac_pitch)), degrees=True
        )
    }
    if with_thigh:
        th_pitch = ex.thigh_start_pitch_deg * to_posture + 60.0 * rep
        seg["thigh"] = Rotation.from_euler(
            "ZXY", np.column_stack((heading, 0 * t, th_pitch)), degrees=True
        )
    mounts = {p: _mount(rng, mount_deg) for p in seg}
    series = {}
    for p, r in seg.items():
        acc, gyr = _sensor(r, mounts[p], rng, bias=rng.normal(0, 0.01, 3))
        series[p] = SensorSeries(t, acc, gyr, np.arange(len(t), dtype=np.int64))
    rec = Recording(
        meta={"exercise": exercise, "user": "ann"},
        sensors={p: SensorInfo(p, rate_hz=RATE) for p in seg},
        series=series,
        markers=[
            Marker(0.2, "calibration_standing", 2.8),
            Marker(5.2, "calibration_start", 7.8),
        ],
    )
    return rec, t, sac_pitch, mounts


def _window(s: SensorSeries, t0: float, t1: float) -> SensorSeries:
    m = (s.t_s >= t0) & (s.t_s <= t1)
    return SensorSeries(s.t_s[m], s.acc_m_s2[m], s.gyr_rad_s[m])


def _angle_between(q_wxyz, rot: Rotation) -> float:
    est = Rotation.from_quat(q_wxyz, scalar_first=True)
    return float(np.degrees((est * rot.inv()).magnitude()))


def _pitch_rmse(rec: Recording, t: np.ndarray, true_pitch: np.ndarray, cal: Calibration) -> float:
    """RMS error (deg) of the sacrum pitch during the reps (the synthetic standing pitch is 0)."""
    ex = get_exercise(rec.exercise)
    quats = {p: estimate_orientation(s, RATE).quat_ws for p, s in rec.series.items()}
    a = compute_angles(t, quats, cal, ex)
    sel = t > 8.0
    return float(np.sqrt(np.mean((a.pitch_deg["sacrum"][sel] - true_pitch[sel]) ** 2)))


def test_check_still_accepts_stillness_with_gyro_bias_and_rejects_motion():
    rec, *_ = _session("back-kick", 0)
    s = rec.series["sacrum"]
    still = check_still(_window(s, 5.2, 7.8))
    assert still.ok and still.reason == "" and still.duration_s == pytest.approx(2.6)
    short = check_still(_window(s, 5.2, 6.0))
    assert not short.ok and "need 2.0 s" in short.reason
    moving = check_still(_window(s, 3.0, 5.5))
    assert not moving.ok and "deg/s" in moving.reason and "m/s^2" in moving.reason
    # a slow drift (3 deg/s for 3 s, under the gyro limit) is caught by the acc test
    t = np.arange(300) / RATE
    seg = Rotation.from_euler("y", 3.0 * t[:, None], degrees=True)
    acc, gyr = _sensor(seg, Rotation.identity(), np.random.default_rng(1))
    drift = check_still(SensorSeries(t, acc, gyr))
    assert not drift.ok and "m/s^2" in drift.reason and "deg/s" not in drift.reason


def test_moving_during_capture_is_refused_with_sensor_and_advice():
    rec, *_ = _session("back-kick", 1, with_thigh=True)
    ex = get_exercise("back-kick")
    start = {p: _window(s, 5.2, 7.8) for p, s in rec.series.items()}
    start["thigh"] = _window(rec.series["thigh"], 8.5, 11.0)  # the leg is kicking
    with pytest.raises(CalibrationRefused, match=r"'thigh' moved.*Hold still \(on hands and knees"):
        calibrate(ex, start)


@pytest.mark.parametrize("exercise", ["back-kick", "hip-thrust"])
@pytest.mark.parametrize("seed", [2, 3])
def test_two_posture_alignment_recovers_mounting(exercise, seed):
    rec, t, truth, mounts = _session(exercise, seed)
    cal = calibrate_recording(rec)
    sc = cal.sensors["sacrum"]
    assert sc.method == "gravity-two-postures" and cal.method == "gravity-two-postures"
    assert _angle_between(sc.q_segment_sensor, mounts["sacrum"]) < 1.0
    assert sc.neutral_pitch_deg == pytest.approx(get_exercise(exercise).start_pitch_deg, abs=1.0)
    assert abs(sc.neutral_roll_deg) < 1.0
    assert any("markers" in n for n in cal.notes)
    assert cal.user == "ann"
    # the 8 deg pelvic roll of good back kicks does not leak into flexion; faults are measured
    assert _pitch_rmse(rec, t, truth, cal) < 0.5


def test_without_standing_the_roll_would_leak_but_the_functional_axis_stops_it():
    rec, t, truth, mounts = _session("back-kick", 4, faults=False)
    ex = get_exercise("back-kick")
    s = rec.series["sacrum"]
    start = {"sacrum": _window(s, 5.2, 7.8)}
    only_gravity = calibrate(ex, start)
    assert only_gravity.method == "gravity-start-only"
    assert any("Calibrate with the standing step" in n for n in only_gravity.notes)
    functional = calibrate(ex, start, motion={"sacrum": _window(s, 8.0, 40.0)})
    assert functional.sensors["sacrum"].method.startswith("functional-axis")
    leak = _pitch_rmse(rec, t, truth, only_gravity)
    fixed = _pitch_rmse(rec, t, truth, functional)
    assert fixed < 0.5 and leak > 2 * fixed


def test_thigh_in_back_kick_uses_functional_axis_with_exercise_sign():
    rec, t, sac_pitch, mounts = _session("back-kick", 5, with_thigh=True)
    cal = calibrate_recording(rec)
    th = cal.sensors["thigh"]
    assert th.method == "functional-axis"
    assert cal.sensors["sacrum"].method == "gravity-two-postures"
    assert cal.method.startswith("mixed")
    assert _angle_between(th.q_segment_sensor, mounts["thigh"]) < 3.0
    quats = {p: estimate_orientation(s, RATE).quat_ws for p, s in rec.series.items()}
    a = compute_angles(t, quats, cal, get_exercise("back-kick"))
    rep = np.where(t > 8.0, np.sin(np.pi * np.clip(t - 8.0, 0, None) / 4.0) ** 2, 0.0)
    sel = t > 8.0
    # kick = hip extension: the movement signal is the thigh's own 60 deg excursion (not the
    # hip angle, which also carries the sacrum's pitch change, the lumbar fault)
    assert np.sqrt(np.mean((a.movement_deg[sel] - 60.0 * rep[sel]) ** 2)) < 1.0
    hip_ext = 60.0 * rep - (sac_pitch - 90.0)
    assert np.sqrt(np.mean((-a.hip_flexion_deg[sel] - hip_ext[sel]) ** 2)) < 1.0


def test_recording_without_markers_calibrates_from_still_periods():
    rec, t, truth, mounts = _session("hip-thrust", 6)
    rec.markers = []
    cal = calibrate_recording(rec)
    assert any("no calibration markers" in n for n in cal.notes)
    assert any("standing posture taken from" in n for n in cal.notes)
    assert cal.sensors["sacrum"].method == "gravity-two-postures"
    assert _pitch_rmse(rec, t, truth, cal) < 0.5


@pytest.mark.parametrize("exercise", ["back-kick", "hip-thrust"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_sensor_mounted_any_way_round_is_calibrated_from_standing_and_its_start_posture(
    exercise, seed
):
    """Without markers, a sensor turned 150 deg from this program's mounting (another vendor's
    axes, or strapped on upside down): gravity in standing can look like the start posture, and
    standing was taken for the start posture (or the first still period used, whatever it was).
    The two postures are now told apart by the turn between them and by the posture the reps
    return to, and the angles are as with the sensor mounted as ours."""
    rec, t, truth, _ = _session(exercise, seed, mount_deg=150.0)
    rec.markers = []
    cal = calibrate_recording(rec)
    assert any("told apart by the turn between them" in n for n in cal.notes)
    assert cal.sensors["sacrum"].method == "gravity-two-postures"
    assert 6.0 < cal.valid_from_s <= 8.0
    assert _pitch_rmse(rec, t, truth, cal) < 0.5


def test_standing_up_between_sets_does_not_move_the_start_posture_to_the_second_set():
    """A back kick recorded from the start posture on (no standing step), with the person
    standing up between two sets: all-fours and that standing are the stand-to-start turn
    apart, but the start posture stays the first one (the first set is judged)."""
    rng = np.random.default_rng(11)
    ex = get_exercise("back-kick")
    t = np.arange(int(80 * RATE)) / RATE
    up = _smooth((t - 30.0) / 2.0) - _smooth((t - 36.0) / 2.0)  # stands 32-36 s
    kicks = ((t > 3.0) & (t < 29.0)) | (t > 41.0)
    roll = np.where(kicks, 8.0 * np.sin(np.pi * (t - 3.0) / 4.0) ** 2, 0.0)
    pitch = ex.start_pitch_deg * (1.0 - up)
    seg = Rotation.from_euler("ZXY", np.column_stack((40.0 + 0 * t, -roll, pitch)), degrees=True)
    acc, gyr = _sensor(seg, _mount(rng), rng)
    rec = Recording(
        meta={"exercise": "back-kick", "user": "ann"},
        sensors={"sacrum": SensorInfo("sacrum", rate_hz=RATE)},
        series={"sacrum": SensorSeries(t, acc, gyr, np.arange(len(t), dtype=np.int64))},
    )
    cal = calibrate_recording(rec)
    assert cal.valid_from_s < 3.0
    assert not any("told apart by the turn" in n for n in cal.notes)


def test_a_start_posture_held_just_long_enough_is_not_cut_short_of_its_own_test():
    """A guessed start posture ends a margin before its stillness test failed, but never short
    of the 2 s a capture lasts: a still period of 2-2.4 s was cut to 1.9 s, and a notification
    lost just before that cut left the window a few samples short of its own test: the
    calibration was refused (seen in simulated hip thrusts and bridges)."""
    from imu_monitor.processing.calibration import START_MAX_ACC_DEV_M_S2, START_MAX_GYRO_DEG_S
    from imu_monitor.processing.stillness import find_still_periods

    rec, t, truth, _ = _session("hip-thrust", 4, still_until=7.3)
    rec.markers = []
    periods = find_still_periods(
        rec, max_gyro_deg_s=START_MAX_GYRO_DEG_S, max_acc_dev_m_s2=START_MAX_ACC_DEV_M_S2
    )
    t0, t1 = periods[1]
    assert 2.0 <= t1 - t0 < 2.4
    s = rec.series["sacrum"]
    kept = ~((s.t_s > t0 + 1.84) & (s.t_s < t0 + 1.95))  # a lost notification
    rec.series["sacrum"] = SensorSeries(s.t_s[kept], s.acc_m_s2[kept], s.gyr_rad_s[kept])
    cal = calibrate_recording(rec)
    assert cal.sensors["sacrum"].method == "gravity-two-postures"
    assert cal.valid_from_s == pytest.approx(t0 + 2.0, abs=0.02)


def test_recording_that_never_holds_still_is_refused():
    rec, *_ = _session("back-kick", 7)
    rec.markers = []
    for s in rec.series.values():
        keep = s.t_s > 8.0
        s.t_s, s.acc_m_s2, s.gyr_rad_s = s.t_s[keep], s.acc_m_s2[keep], s.gyr_rad_s[keep]
        s.seq = None
    with pytest.raises(CalibrationRefused, match="no still period"):
        calibrate_recording(rec)


def test_store_roundtrip_per_user_and_exercise(tmp_path):
    rec, *_ = _session("back-kick", 8)
    cal = calibrate_recording(rec)
    store = CalibrationStore(tmp_path)
    assert store.load("ann", "back-kick") is None
    path = store.save(cal)
    assert path.parent.parent == tmp_path and path.exists()
    back = store.load("ann", "back-kick")
    assert back is not None and back.to_dict() == cal.to_dict()
    assert store.load("bob", "back-kick") is None and store.load("ann", "hip-thrust") is None
    assert json.loads(path.read_text())["sensors"]["sacrum"]["method"] == "gravity-two-postures"
    path.write_text("{not json")
    with pytest.raises(ImuMonitorError, match="calibrate again"):
        store.load("ann", "back-kick")
    path.write_text(json.dumps({"exercise": "back-kick"}))
    with pytest.raises(ImuMonitorError, match=str(path.name)):
        store.load("ann", "back-kick")


def test_a_guessed_start_posture_ends_before_the_first_rep():
    """Simulated people without calibration markers: the start posture taken from the first
    still period ends before the first back kick begins (a good kick turns the sacrum only a
    few degrees, slowly enough for the ordinary stillness test)."""
    from imu_monitor.simulator import SimulationConfig, simulate_session

    for seed in range(4):
        cfg = SimulationConfig(exercise="back-kick", sensors=1, seed=seed, reps=3, markers="none")
        rec = simulate_session(cfg)
        cal = calibrate_recording(rec)
        assert any("no calibration markers" in n for n in cal.notes)
        assert cal.valid_from_s < rec.truth.reps[0].t_start_s, seed


def test_a_thigh_moved_during_the_start_posture_keeps_the_spines_window():
    """Per-sensor still periods: a person who shifts a leg while the back is still in the start
    posture (no markers) keeps the start posture the spine's sensors give; the thigh's neutral
    comes from its own still period, and the notes say so."""
    from dataclasses import replace

    from imu_monitor.simulator import SimulationConfig, simulate_session

    cfg = SimulationConfig(exercise="back-kick", sensors=3, seed=1, reps=3, markers="none")
    rec = simulate_session(cfg)
    before = calibrate_recording(rec)
    window = [n for n in before.notes if "guessed" in n]
    assert window and not any("not still" in n for n in before.notes)

    # the thigh wobbles at 2 Hz, 17 deg/s, for 1 s in the middle of the spine's start posture
    thigh = rec.series["thigh"]
    t_mid = before.valid_from_s - 1.2
    gyr = thigh.gyr_rad_s.copy()
    moving = np.abs(thigh.t_s - t_mid) < 0.5
    gyr[moving, 0] += 0.3 * np.sin(2 * np.pi * 2.0 * thigh.t_s[moving])
    rec.series["thigh"] = replace(thigh, gyr_rad_s=gyr)
    assert not check_still(SensorSeries(thigh.t_s[moving], thigh.acc_m_s2[moving], gyr[moving])).ok

    after = calibrate_recording(rec)
    assert after.valid_from_s == before.valid_from_s
    for p in ("sacrum", "upper_lumbar"):
        assert after.sensors[p].to_dict() == before.sensors[p].to_dict()
    assert any("thigh sensor was not still" in n for n in after.notes), after.notes
