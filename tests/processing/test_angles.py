"""Angles: sign conventions, neutral, one/two/three sensors, movement signal, hip share."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from imu_monitor.errors import ImuMonitorError
from imu_monitor.exercises import get_exercise
from imu_monitor.processing.angles import compute_angles, hip_share, timed_from_pelvis
from imu_monitor.processing.calibration import Calibration, SensorCalibration
from imu_monitor.processing.frames import segment_pitch_roll, up_in_segment

IDENTITY = [1.0, 0.0, 0.0, 0.0]


def _wxyz(rot: Rotation) -> np.ndarray:
    return np.atleast_2d(rot.as_quat(scalar_first=True))


def _segment(pitch_deg, roll_deg=0.0, heading_deg=0.0) -> Rotation:
    """Segment-to-world rotation Rz(heading) Rx(-roll) Ry(pitch) (angles module convention)."""
    pitch = np.atleast_1d(np.asarray(pitch_deg, float))
    n = len(pitch)
    roll = np.broadcast_to(np.asarray(roll_deg, float), (n,))
    heading = np.broadcast_to(np.asarray(heading_deg, float), (n,))
    return Rotation.from_euler("ZXY", np.column_stack((heading, -roll, pitch)), degrees=True)


def test_pitch_sign_conventions():
    # upright 0, on all fours +90 (superior end tilted anteriorly), hip-thrust lockout -90
    q = _wxyz(_segment([0.0, 90.0, -90.0, 30.0], heading_deg=[0.0, 45.0, 170.0, -60.0]))
    pitch, roll = segment_pitch_roll(q, IDENTITY)
    np.testing.assert_allclose(pitch, [0.0, 90.0, -90.0, 30.0], atol=1e-9)
    np.testing.assert_allclose(roll, 0.0, atol=1e-9)
    # on all fours the anterior axis points down: up = -x
    np.testing.assert_allclose(up_in_segment(q, IDENTITY)[1], [-1.0, 0.0, 0.0], atol=1e-12)


def test_roll_is_left_positive_and_pitch_is_exact_under_roll():
    # left lateral bend in standing: the superior end moves towards +y (left)
    left_bend = Rotation.from_euler("x", -10.0, degrees=True)
    tip = left_bend.apply([0.0, 0.0, 1.0])
    assert tip[1] > 0
    pitch, roll = segment_pitch_roll(_wxyz(left_bend), IDENTITY)
    assert roll[0] == pytest.approx(10.0) and pitch[0] == pytest.approx(0.0, abs=1e-9)
    p, r = segment_pitch_roll(_wxyz(_segment(37.0, roll_deg=-12.0, heading_deg=99.0)), IDENTITY)
    assert p[0] == pytest.approx(37.0) and r[0] == pytest.approx(-12.0)


def test_mounting_rotation_is_undone():
    mount = Rotation.from_euler("xyz", [20.0, -15.0, 25.0], degrees=True)  # segment <- sensor
    seg = _segment(np.linspace(-90, 90, 7), roll_deg=5.0, heading_deg=33.0)
    quat_ws = _wxyz(seg * mount)  # sensor-to-world
    pitch, roll = segment_pitch_roll(quat_ws, _wxyz(mount)[0])
    np.testing.assert_allclose(pitch, np.linspace(-90, 90, 7), atol=1e-9)
    np.testing.assert_allclose(roll, 5.0, atol=1e-9)


def _cal(exercise: str, neutral: dict[str, float]) -> Calibration:
    return Calibration(
        exercise,
        "tester",
        "2026-01-01T00:00:00+00:00",
        {p: SensorCalibration(IDENTITY, v, 0.0, "test") for p, v in neutral.items()},
        "test",
    )


def test_one_sensor_back_kick_flexion_and_movement():
    ex = get_exercise("back-kick")
    t = np.linspace(0, 4, 9)
    sac_pitch = 88.0 + np.array([0, -3, -6, -3, 0, 4, 8, 4, 0])  # lumbar flexion = -delta pitch
    sac_roll = np.array([0, 2, 4, 6, 8, 6, 4, 2, 0.0])
    quats = {"sacrum": _wxyz(_segment(sac_pitch, roll_deg=sac_roll, heading_deg=t * 10))}
    a = compute_angles(t, quats, _cal("back-kick", {"sacrum": 88.0}), ex)
    np.testing.assert_allclose(a.lumbar_flexion_deg, -(sac_pitch - 88.0), atol=1e-9)
    np.testing.assert_allclose(a.lumbar_lateral_deg, -sac_roll, atol=1e-9)
    # movement: the pelvis' turn about its long axis, the angle of up in the segment x-y plane
    p, r = np.radians(sac_pitch), np.radians(sac_roll)
    axial = np.degrees(np.arctan2(-np.sin(r), np.cos(r) * np.sin(p)))
    np.testing.assert_allclose(a.movement_deg, np.abs(axial), atol=1e-9)
    np.testing.assert_allclose(a.movement_deg, np.abs(sac_roll), atol=0.15)  # ~ roll on all fours
    # ... and a lumbar fault (the pelvis pitching about its own left axis while turned about its
    # long axis, as a body does it) does not enter it: R = Ry(pitch) Rz(turn), intrinsic
    turn = np.array([0, 2, 4, 6, 8, 6, 4, 2, 0.0])
    cal = _cal("back-kick", {"sacrum": 90.0})
    for fault in (0.0, -15.0, 15.0):
        angles = np.column_stack((np.full(len(t), 90.0 + fault), turn))
        body = Rotation.from_euler("YZ", angles, degrees=True)
        got = compute_angles(t, {"sacrum": _wxyz(body)}, cal, ex)
        np.testing.assert_allclose(got.movement_deg, turn, atol=1e-9)
        # (the pitch of a turned segment differs from the body pitch only at second order)
        np.testing.assert_allclose(got.lumbar_flexion_deg, -fault, atol=0.2)
    assert a.hip_flexion_deg is None
    np.testing.assert_allclose(a.pitch_deg["sacrum"], sac_pitch, atol=1e-9)


def test_two_sensor_hip_thrust_separates_lumbar_from_trunk_rotation():
    ex = get_exercise("hip-thrust")
    trunk = np.array([-90.0, -70.0, -45.0, -70.0, -90.0])  # whole trunk rotates with the hip
    lumbar = np.array([0.0, 2.0, 5.0, -3.0, -6.0])  # flexion positive
    quats = {
        "sacrum": _wxyz(_segment(trunk)),
        "upper_lumbar": _wxyz(_segment(trunk + 15.0 + lumbar, heading_deg=50.0)),
    }
    a = compute_angles(
        np.arange(5.0), quats, _cal("hip-thrust", {"sacrum": -90.0, "upper_lumbar": -75.0}), ex
    )
    np.testing.assert_allclose(a.lumbar_flexion_deg, lumbar, atol=1e-9)
    # movement follows the upper (trunk) segment: the rotation with the hip, not the pelvis
    upper_change = trunk + 15.0 + lumbar - (-75.0)
    np.testing.assert_allclose(a.movement_deg, -upper_change, atol=1e-9)
    assert a.movement_deg[0] == pytest.approx(0.0) and a.movement_deg[2] < -40


def test_three_sensors_hip_flexion_and_movement_is_hip_extension():
    ex = get_exercise("back-kick")
    thigh = np.array([0.0, 30.0, 60.0, 30.0, 0.0])  # kick: thigh pitch increases
    quats = {
        "sacrum": _wxyz(_segment(np.full(5, 90.0))),
        "upper_lumbar": _wxyz(_segment(np.full(5, 80.0))),
        "thigh": _wxyz(_segment(thigh, heading_deg=-20.0)),
    }
    cal = _cal("back-kick", {"sacrum": 90.0, "upper_lumbar": 80.0, "thigh": 0.0})
    a = compute_angles(np.arange(5.0), quats, cal, ex)
    np.testing.assert_allclose(a.hip_flexion_deg, -thigh, atol=1e-9)
    np.testing.assert_allclose(a.movement_deg, thigh, atol=1e-9)
    np.testing.assert_allclose(a.lumbar_flexion_deg, 0.0, atol=1e-9)


def test_missing_calibration_or_sacrum_is_a_typed_error():
    ex = get_exercise("back-kick")
    q = _wxyz(_segment(np.zeros(3)))
    with pytest.raises(ImuMonitorError, match="sacrum"):
        compute_angles(np.arange(3.0), {"thigh": q}, _cal("back-kick", {"thigh": 0.0}), ex)
    with pytest.raises(ImuMonitorError, match="thigh"):
        compute_angles(
            np.arange(3.0), {"sacrum": q, "thigh": q}, _cal("back-kick", {"sacrum": 0.0}), ex
        )


def test_hip_share():
    assert hip_share(40.0, 10.0) == pytest.approx(0.8)
    assert hip_share(-30.0, 0.0) == pytest.approx(1.0)
    assert math.isnan(hip_share(0.0, 0.0))


@pytest.mark.parametrize(
    ("exercise", "sensors", "offline"),
    [("back-kick", 1, False), ("hip-thrust", 2, False), ("hip-thrust", 2, True)],
)
@pytest.mark.parametrize("seed", [11, 12])
def test_lumbar_angle_matches_simulated_truth(exercise, sensors, offline, seed):
    """The whole chain of these stages (orientation -> calibration from the recording's markers
    -> angles) against the simulator's truth; benchmarks/bench_accuracy_angles.py does 20 seeds
    (goal RMSE <= 1 deg; measured ~0.1-0.2 online)."""
    from imu_monitor.processing.calibration import calibrate_recording
    from imu_monitor.processing.join import join_batch
    from imu_monitor.processing.orientation import estimate_orientation
    from imu_monitor.simulator import SimulationConfig, simulate_session

    rec = simulate_session(
        SimulationConfig(
            exercise=exercise, sensors=sensors, seed=seed, reps=4, faulty=2, motion="ramps"
        )
    )
    ex = get_exercise(exercise)
    cal = calibrate_recording(rec, ex)
    ori = {
        p: estimate_orientation(s, rec.sensors[p].rate_hz, offline=offline)
        for p, s in rec.series.items()
    }
    t = ori["sacrum"].t_s
    quats = {"sacrum": ori["sacrum"].quat_ws}
    quats |= join_batch(t, {p: (o.t_s, o.quat_ws) for p, o in ori.items() if p != "sacrum"})
    a = compute_angles(t, quats, cal, ex)
    sel = t >= rec.markers_of("calibration_start")[0].t_s
    err = a.lumbar_flexion_deg[sel] - rec.truth.lumbar_at(t[sel])
    assert np.sqrt(np.mean(err**2)) < 0.6
    assert np.abs(err).max() < 2.5
    # the faults are really in there (the check is not trivially passed by a flat signal)
    assert np.ptp(rec.truth.lumbar_at(t[sel])) > 5.0


def test_which_sensor_sets_time_the_reps_from_the_pelvis():
    """The rep signal comes from the pelvis (a lumbar fault moves it) without a sensor on the
    moving segment: the thigh in a back kick, the upper lumbar spine in a hip thrust."""
    kick, thrust = get_exercise("back-kick"), get_exercise("hip-thrust")
    assert timed_from_pelvis(kick, ["sacrum"]) and timed_from_pelvis(
        kick, ["sacrum", "upper_lumbar"]
    )
    assert not timed_from_pelvis(kick, ["sacrum", "upper_lumbar", "thigh"])
    assert timed_from_pelvis(thrust, ["sacrum"])
    assert not timed_from_pelvis(thrust, ["sacrum", "upper_lumbar"])
