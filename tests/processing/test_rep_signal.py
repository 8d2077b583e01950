"""The one-sensor back-kick rep signal: the pelvis' turn about its long axis since its last rest."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from imu_monitor.exercises import get_exercise
from imu_monitor.processing.angles import compute_angles
from imu_monitor.processing.calibration import Calibration, SensorCalibration
from imu_monitor.processing.frames import _axial_deg, segment_frame
from imu_monitor.processing.rep_signal import (
    DIRECTION_DEG,
    REST_TOLERANCE_DEG,
    RETURN_FRACTION,
    AxialTracker,
    axial_turn_deg,
)

MOUNT = Rotation.from_euler("xyz", [12.0, -20.0, 8.0], degrees=True)  # segment <- sensor


def _wxyz(rot: Rotation) -> np.ndarray:
    return np.atleast_2d(rot.as_quat(scalar_first=True))


def _body(heading, tilt, obliquity, turn) -> Rotation:
    """Sensor-to-world: Rz(heading) [world] then Ry(tilt) Rx(obliquity) Rz(turn) [intrinsic]."""
    world = Rotation.from_euler("z", np.asarray(heading)[:, None], degrees=True)
    body = Rotation.from_euler("YXZ", np.column_stack((tilt, obliquity, turn)), degrees=True)
    return world * body * MOUNT


def _smooth(t, t0, t1):
    x = np.clip((t - t0) / (t1 - t0), 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _rep(t, t0, up, hold, down):
    return _smooth(t, t0, t0 + up) - _smooth(t, t0 + up + hold, t0 + up + hold + down)


@pytest.fixture(scope="module")
def session():
    """Two kicks on all fours at 100 Hz. Each turns the pelvis 5 deg about its long axis and 2 deg
    about the vertical, with a 15 deg lumbar fault (pitch) at the top; between them, at rest, the
    6D heading jumps by 30 deg (a drifting filter)."""
    t = np.arange(0.0, 10.0, 0.01)
    pos = _rep(t, 2.0, 1.0, 0.5, 1.0) + _rep(t, 6.5, 1.0, 0.5, 1.0)
    fault = 15.0 * _rep(t, 2.8, 0.3, 0.7, 0.3) - 15.0 * _rep(t, 7.3, 0.3, 0.7, 0.3)
    heading = 10.0 + 30.0 * _smooth(t, 5.0, 5.5)
    turn, obliquity = 5.0 * pos, 2.0 * pos
    q = _wxyz(_body(heading, 90.0 + fault, obliquity, turn))
    return t, q, turn, fault


def _calibration() -> Calibration:
    return Calibration(
        "back-kick",
        "tester",
        "2026-01-01T00:00:00+00:00",
        {"sacrum": SensorCalibration(list(_wxyz(MOUNT)[0]), 90.0, 0.0, "test")},
        "test",
    )


def test_axial_turn_is_the_last_cardan_angle_whatever_the_heading_and_mounting():
    rng = np.random.default_rng(3)
    n = 50
    tilt, obl, turn = rng.uniform(-30, 30, (3, n))
    mount = _wxyz(MOUNT)[0]
    ref = _wxyz(_body([70.0], [90.0], [0.0], [0.0]))
    x_axis, y_axis, _ = segment_frame(_wxyz(_body(np.full(n, 70.0), 90.0 + tilt, obl, turn)), mount)
    y_ref = segment_frame(ref, mount)[1][:, 0]
    np.testing.assert_allclose(axial_turn_deg(x_axis, y_axis, y_ref), turn, atol=1e-9)


def test_rep_signal_ignores_the_fault_and_the_turn_about_the_vertical(session):
    t, q, turn, fault = session
    angles = compute_angles(t, {"sacrum": q}, _calibration(), get_exercise("back-kick"))
    judged = t >= 0.5  # a reference needs half a second of rest
    np.testing.assert_allclose(angles.movement_deg[judged], turn[judged], atol=1e-9)
    # the lumbar angle is the fault, and gravity alone would have mixed it into the turn
    np.testing.assert_allclose(angles.lumbar_flexion_deg, -fault, atol=0.2)
    up = segment_frame(q, _wxyz(MOUNT)[0])[2]
    gravity_only = np.abs(_axial_deg(up) - _axial_deg(np.array([-1.0, 0.0, 0.0])))  # vs 90 deg
    assert np.abs(gravity_only - turn).max() > 0.3


def test_before_the_first_rest_the_gravity_estimate_is_used(session):
    t, q, turn, _ = session
    moving = turn > 1.0
    x_axis, y_axis, _ = segment_frame(q[moving][:30], _wxyz(MOUNT)[0])
    # a stream that starts in the middle of a kick: nothing to take a reference from yet
    out = AxialTracker().update(t[moving][:30], x_axis, y_axis, np.full(30, 2.0), np.zeros(30))
    np.testing.assert_array_equal(out, 2.0)


def test_a_kick_right_after_the_calibration_is_measured_from_its_end(session):
    """A guessed calibration window can end a moment before the first kick: the end of the
    capture (the pelvis in the start posture) is the first reference, so the first kick is
    measured like the others instead of from gravity (which the fault leaks into)."""
    t, q, turn, _ = session
    cal = _calibration()
    cal.valid_from_s = 1.9  # the first kick starts at 2.0 s: no 0.5 s of rest to refer to
    angles = compute_angles(t, {"sacrum": q}, cal, get_exercise("back-kick"))
    after = t > 1.9
    np.testing.assert_allclose(angles.movement_deg[after], turn[after], atol=1e-9)


def test_any_chunking_gives_the_same_signal(session):
    t, q, turn, fault = session
    cal = _calibration()
    ex = get_exercise("back-kick")
    whole = compute_angles(t, {"sacrum": q}, cal, ex).movement_deg
    rng = np.random.default_rng(5)
    tracker, parts, i = AxialTracker(), [], 0
    while i < len(t):
        j = i + int(rng.integers(1, 40))
        parts.append(compute_angles(t[i:j], {"sacrum": q[i:j]}, cal, ex, tracker).movement_deg)
        i = j
    # (equal up to the last bits of the matrix product, whose rounding depends on chunk length)
    np.testing.assert_allclose(np.concatenate(parts), whole, rtol=0, atol=1e-12)


def test_a_rest_away_from_the_start_posture_is_a_rest_and_a_held_top_is_not():
    # three kicks with a 0.6 s hold at the top; between them the pelvis rests turned about its
    # long axis by 1 deg and then -0.3 deg from the start posture (and 0.8 deg about the
    # vertical), a different posture each time, as people do. Each kick's signal is its turn
    # from the rest just before it, on a baseline that is the signal's level where that rest
    # began: the signal never steps, up (it could look like a kick) or down (it could look
    # like a lowering).
    t = np.arange(0.0, 16.0, 0.01)
    rest_turn = 1.0 * _smooth(t, 5.6, 5.9) - 1.3 * _smooth(t, 10.1, 10.4)
    rest_obliquity = 0.8 * _smooth(t, 5.6, 5.9)
    kicks = [_rep(t, t0, 1.0, 0.6, 1.0) for t0 in (2.0, 6.5, 11.0)]
    turn = rest_turn + 5.0 * sum(kicks)
    q = _wxyz(_body(np.full(len(t), 25.0), np.full(len(t), 90.0), rest_obliquity, turn))
    angles = compute_angles(t, {"sacrum": q}, _calibration(), get_exercise("back-kick"))
    m = angles.movement_deg
    for kick in kicks:
        during = kick > 0.0
        before = m[np.flatnonzero(during)[0] - 1]
        np.testing.assert_allclose(m[during] - before, 5.0 * kick[during], atol=0.05)
    assert np.abs(np.diff(m[t >= 0.5])).max() < 0.1  # no step


def test_the_held_top_of_a_small_kick_is_not_a_rest():
    # a person who keeps the pelvis nearly square: each kick turns it by 1.2 deg, less than
    # the 1.5 deg a rest may lie from the last one after a 3-7 deg kick. The top, held 0.6 s,
    # had been taken for a rest: the lowering was measured from there and read as a second
    # kick. The tolerance follows the kicks (half the last one, at least 0.6 deg).
    t = np.arange(0.0, 16.0, 0.01)
    rest_turn = 0.3 * _smooth(t, 5.6, 5.9) - 0.5 * _smooth(t, 10.1, 10.4)
    kicks = [_rep(t, t0, 1.0, 0.6, 1.0) for t0 in (2.0, 6.5, 11.0)]
    turn = rest_turn + 1.2 * sum(kicks)
    q = _wxyz(_body(np.full(len(t), 25.0), np.full(len(t), 90.0), np.zeros(len(t)), turn))
    m = compute_angles(t, {"sacrum": q}, _calibration(), get_exercise("back-kick")).movement_deg
    for kick in kicks:
        during = kick > 0.0
        before = m[np.flatnonzero(during)[0] - 1]
        np.testing.assert_allclose(m[during] - before, 1.2 * kick[during], atol=0.05)


def test_the_held_top_of_a_kick_half_the_size_of_the_last_is_not_a_rest():
    # kicks that vary 1.5-3 deg: a 2.7 deg kick, then one of 1.3 deg from a rest 0.4 deg
    # further on, lowered to 0.3 deg short of that rest. The rest tolerance after the first
    # kick is half of it, 1.35 deg, so the second kick's held top lay within it of the rest it
    # rose from and was taken for a rest: its 1.6 deg lowering was measured from the top, went
    # past 1.5 deg the other way and flipped the kick's direction (a 3 deg step up in the
    # signal; in a simulated session the next kick was timed 3.8 s off). The top is where the
    # pelvis turned farthest since the last rest, and a rest is where it came back from there.
    t = np.arange(0.0, 12.0, 0.01)
    big, small = _rep(t, 2.0, 1.0, 0.6, 1.0), _rep(t, 6.5, 1.0, 0.8, 1.0)
    rest_turn = 0.4 * _smooth(t, 5.6, 5.9) - 0.3 * _smooth(t, 8.3, 9.3)
    turn = rest_turn + 2.7 * big + 1.3 * small
    q = _wxyz(_body(np.full(len(t), 25.0), np.full(len(t), 90.0), np.zeros(len(t)), turn))
    m = compute_angles(t, {"sacrum": q}, _calibration(), get_exercise("back-kick")).movement_deg
    second = (t >= 6.5) & (t <= 10.5)
    i0 = np.flatnonzero(second)[0] - 1
    np.testing.assert_allclose(m[second] - m[i0], turn[second] - turn[i0], atol=0.05)
    assert np.abs(np.diff(m[t >= 0.5])).max() < 0.1  # no step


def test_a_kick_that_comes_back_past_its_rest_is_timed_to_its_end():
    # a kick turns the pelvis 4 deg; the rest after it lies 0.6 deg the other side of the rest
    # before it. The lowering goes on until the pelvis stops there: its size must not fold
    # back up from 0, which ended the lowering 0.2-0.5 s early (the tempo's eccentric phase).
    t = np.arange(0.0, 9.0, 0.01)
    down_end = 2.0 + 1.0 + 0.5 + 1.2
    turn = 4.0 * _smooth(t, 2.0, 3.0) - 4.6 * _smooth(t, 3.5, down_end)
    q = _wxyz(_body(np.full(len(t), 25.0), np.full(len(t), 90.0), np.zeros(len(t)), turn))
    m = compute_angles(t, {"sacrum": q}, _calibration(), get_exercise("back-kick")).movement_deg
    lowering = (t >= 3.5) & (t <= down_end)
    np.testing.assert_allclose(m[lowering], turn[lowering], atol=0.05)
    assert np.diff(m[(t >= 3.5) & (t <= down_end + 1.0)]).max() < 0.01


def _directed_per_sample(turns, slidings):
    """The rep signal's direction and baseline rule, one sample at a time (the specification
    ``AxialTracker._directed`` walks a run of samples at a time)."""
    sign = base = most = last = kick = 0.0
    was_sliding = False
    out = []
    for c, sl in zip(turns, slidings, strict=True):
        if sl and not was_sliding:
            base = last
            if most > REST_TOLERANCE_DEG:
                kick = most
            most = 0.0
        was_sliding = sl
        if not sl:
            if sign == 0.0:
                if abs(c) > DIRECTION_DEG:
                    sign = 1.0 if c > 0 else -1.0
            elif -sign * c > max(REST_TOLERANCE_DEG, RETURN_FRACTION * kick, most):
                sign = -sign
            most = max(most, sign * c)
        last = base + (sign * c if sign else abs(c))
        out.append(last)
    return np.array(out)


def test_directed_walk_equals_the_per_sample_rule_in_any_chunking():
    rng = np.random.default_rng(11)
    for _ in range(60):
        n = int(rng.integers(1, 400))
        # kicks either way (with both legs), rests that slide, lost samples
        turns = np.cumsum(rng.normal(0.0, 0.4, n)) * rng.choice([-1.0, 1.0])
        turns[rng.random(n) < 0.03] = np.nan
        sliding = np.repeat(rng.random(n // 10 + 1) < 0.4, 10)[:n]
        expected = _directed_per_sample(turns.tolist(), sliding.tolist())
        tracker = AxialTracker()
        cuts = sorted({0, n, *rng.integers(0, n, 3).tolist()})
        chunks = zip(cuts[:-1], cuts[1:], strict=True)
        got = np.concatenate([tracker._directed(turns[a:b], sliding[a:b]) for a, b in chunks])
        np.testing.assert_array_equal(got, expected)
