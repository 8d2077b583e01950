"""The hips' height from one sensor (``processing.height``)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from imu_monitor.processing.height import (
    HELD_SPEED_M_S,
    STANDARD_GRAVITY_M_S2,
    HeightTracker,
    _rise_tops,
    _zero_velocity_height,
    height_usable,
    vertical_acc_m_s2,
)

RATE_HZ = 200.0


def minimum_jerk(t: np.ndarray, t0: float, duration: float) -> tuple[np.ndarray, ...]:
    """Position 0 -> 1 over [t0, t0 + duration] (minimum jerk), with its 2nd derivative."""
    s = np.clip((t - t0) / duration, 0.0, 1.0)
    pos = 10 * s**3 - 15 * s**4 + 6 * s**5
    acc = (60 * s - 180 * s**2 + 120 * s**3) / duration**2
    acc[(t < t0) | (t > t0 + duration)] = 0.0
    return pos, acc


def lift_session(offset_m_s2=(0.15, -0.05, 0.1), z_scale=0.015, noise=0.02, seed=0):
    """A sacrum sensor lying still, its hips rising 15 cm in 1 s while it pitches 25 deg, held
    1.5 s, lowered 12 cm in 2 s (pitching back), held: readings with an accelerometer offset,
    a scale error and noise; the true orientations; the true heights."""
    t = np.arange(0.0, 8.0, 1.0 / RATE_HZ)
    up_pos, up_acc = minimum_jerk(t, 1.0, 1.0)
    down_pos, down_acc = minimum_jerk(t, 3.5, 2.0)
    z = 0.15 * up_pos - 0.12 * down_pos
    az = 0.15 * up_acc - 0.12 * down_acc
    pitch = 25.0 * up_pos - 25.0 * down_pos
    rot = Rotation.from_euler("y", pitch[:, None], degrees=True)  # sensor -> world
    specific_force = np.stack([np.zeros_like(t), np.zeros_like(t), az + STANDARD_GRAVITY_M_S2], 1)
    acc = rot.inv().apply(specific_force)
    acc[:, 2] *= 1.0 + z_scale
    acc += np.asarray(offset_m_s2) + np.random.default_rng(seed).normal(0.0, noise, acc.shape)
    quat = rot.as_quat(scalar_first=True)  # (w, x, y, z)
    return t, acc, quat, z


def moves_session(moves, offset_m_s2=(0.15, -0.05, 0.1), z_scale=0.015, noise=0.02, seed=0):
    """A sacrum sensor still for 1 s, then ``moves``: (duration s, height change m, pitch change
    deg, still afterwards s) each, minimum jerk; readings with an accelerometer offset, a scale
    error and noise; the true orientations and heights."""
    total = 1.0 + sum(d + rest for d, _, _, rest in moves)
    t = np.arange(0.0, total, 1.0 / RATE_HZ)
    z, az, pitch = np.zeros_like(t), np.zeros_like(t), np.zeros_like(t)
    t0 = 1.0
    for duration, dz, dpitch, rest in moves:
        pos, acc = minimum_jerk(t, t0, duration)
        z, az, pitch = z + dz * pos, az + dz * acc, pitch + dpitch * pos
        t0 += duration + rest
    rot = Rotation.from_euler("y", pitch[:, None], degrees=True)  # sensor -> world
    specific_force = np.stack([np.zeros_like(t), np.zeros_like(t), az + STANDARD_GRAVITY_M_S2], 1)
    acc = rot.inv().apply(specific_force)
    acc[:, 2] *= 1.0 + z_scale
    acc += np.asarray(offset_m_s2) + np.random.default_rng(seed).normal(0.0, noise, acc.shape)
    return t, acc, rot.as_quat(scalar_first=True), z


def heights_after_moves(t, h, moves):
    """The tracker's height (from the first still moment) 0.6 s into each still stretch."""
    first = h[np.isfinite(h)][0]
    t0, out = 1.0, []
    for duration, _, _, rest in moves:
        t0 += duration
        out.append(float(h[int((t0 + 0.6) * RATE_HZ)] - first))  # NaN: no stillness there
        t0 += rest
    return np.array(out)


def test_a_lowering_from_an_arched_hold_takes_the_bias_at_the_top_from_the_other_reps():
    """A faulty rep's lowering starts from an arch held at the top and passes back through the
    neutral top on its way down: the accelerometer's bias there is not on the straight line
    between the arch's and the bottom's, but the good reps' holds at the top measured it."""
    good = [(1.2, 0.15, 25.0, 2.0), (2.5, -0.15, -25.0, 1.5)]
    arched = [(1.2, 0.15, 25.0, 1.0), (0.5, -0.02, -12.0, 2.0), (0.5, 0.02, 12.0, 0.0)]
    arched += [(3.0, -0.15, -25.0, 1.5)]
    moves = good + good + arched
    t, acc, quat, z = moves_session(moves, offset_m_s2=(0.25, -0.05, 0.2), z_scale=0.02)
    h = HeightTracker().update(t, acc, quat)
    heights = heights_after_moves(t, h, moves)
    top, bottom = heights[4], heights[-1]  # the faulty rep's top before the arch; its bottom
    assert bottom - top == pytest.approx(-0.15, abs=0.015)  # a straight interpolation: -0.23


def test_vertical_acc_of_a_turned_sensor():
    rot = Rotation.from_euler("xy", [[20.0, 35.0], [-10.0, 80.0]], degrees=True)
    force = np.array([[0.0, 0.0, STANDARD_GRAVITY_M_S2 + 1.5], [0.4, 0.0, STANDARD_GRAVITY_M_S2]])
    acc = rot.inv().apply(force)
    quat = rot.as_quat(scalar_first=True)
    assert vertical_acc_m_s2(quat, acc) == pytest.approx([1.5, 0.0], abs=1e-9)


def test_height_between_still_moments_despite_offset_and_scale_error():
    t, acc, quat, z = lift_session()
    h = HeightTracker().update(t, acc, quat)
    still_top = (t > 2.6) & (t < 3.4)
    still_bottom = t > 6.2
    assert np.isfinite(h[still_top]).all() and np.isfinite(h[still_bottom]).all()
    assert np.isnan(h[(t > 1.1) & (t < 1.9)]).all()  # moving: not known
    assert np.isnan(h[t < 0.2]).all()  # before the first still moment
    first = h[np.isfinite(h)][0]
    assert h[still_top].mean() - first == pytest.approx(0.15, abs=0.01)
    assert h[still_bottom].mean() - first == pytest.approx(0.03, abs=0.01)


def test_a_constant_bias_would_not_do():
    """What the interpolation along the turn is for: the same session measured with the bias of
    the still moment before each movement only is off by several centimetres."""
    t, acc, quat, _ = lift_session(noise=0.0)
    tracker = HeightTracker()
    h = tracker.update(t, acc, quat)
    # the bias the sensor reads differs between the postures by the turned offset and scale
    lying, pitched = (
        vertical_acc_m_s2(quat[:1], acc[:1]),
        vertical_acc_m_s2(quat[[int(3.0 * RATE_HZ)]], acc[[int(3.0 * RATE_HZ)]]),
    )
    assert abs(float(pitched[0] - lying[0])) > 0.05  # so a constant bias would drift
    first = h[np.isfinite(h)][0]
    assert h[-1] - first == pytest.approx(0.03, abs=0.005)


TOUCH_AND_GO = [(1.0, 0.15, 25.0, 1.5), (1.5, -0.15, -25.0, 0.0), (1.0, 0.15, 25.0, 1.5)]
"""Hips up and held, lowered and at once up again (no rest at the bottom), held."""


def test_a_touch_and_go_bottom_gets_its_height_at_the_turning_point():
    """Never still at the bottom, the hips get no still moment there; where the pelvis turns
    back, their vertical speed is zero too, and the height is integrated up to there."""
    t, acc, quat, z = moves_session(TOUCH_AND_GO)
    bottom = (t > 4.6) & (t < 5.5)  # the end of the lowering (5 s) to halfway up again
    h = HeightTracker().update(t, acc, quat)
    points = np.flatnonzero(np.isfinite(h) & bottom)
    # given twice: an early height where the hips barely move as they reverse (still over
    # EARLY_WINDOW_S), and where the turn back confirms the reversal
    assert len(points) == 2
    first = h[np.isfinite(h)][0]
    for i in points:
        assert h[i] - first == pytest.approx(0.0, abs=0.02)  # true: back at the start
        assert z[i] < 0.02  # (and given while the hips are still near the bottom)
    still_only = HeightTracker(turning_points=False).update(t, acc, quat)
    assert np.flatnonzero(np.isfinite(still_only) & bottom).tolist() == [points[0]]
    np.testing.assert_array_equal(still_only[~bottom], h[~bottom])  # the still moments as before


def test_any_chunking_gives_the_same_heights():
    for t, acc, quat, _ in (
        lift_session(),
        moves_session(TOUCH_AND_GO),
        moves_session(GOOD + ARCHED),
        moves_session(GOOD + SLOW_LOWERING),
    ):
        _same_heights_in_any_chunks(t, acc, quat)


GOOD = [(1.2, 0.15, 25.0, 2.0), (2.5, -0.15, -25.0, 1.5)]
ARCHED = [(1.2, 0.15, 25.0, 0.0), (0.3, -0.02, -12.0, 1.5), (2.5, -0.13, -13.0, 1.5)]
"""A rep arched as soon as the hips are up: the pelvis tilts 12 deg back, the hips go 2 cm
down (0.3 s), held; then lowered."""
SLOW_LOWERING = [(1.2, 0.15, 25.0, 2.0), (2.0, -0.06, -10.0, 0.8), (3.0, -0.09, -15.0, 1.5)]
"""A rep lowered in two parts, with a still moment (0.8 s) on the way down."""


def _move_ends(moves: list) -> list[float]:
    """When each of ``moves_session``'s moves ends, and its rest after."""
    t0, out = 1.0, []
    for duration, _, _, rest in moves:
        out.append((t0 + duration, t0 + duration + rest))
        t0 += duration + rest
    return out


def test_the_hips_are_held_up_at_an_arch_and_not_on_the_way_down():
    """At an arch the pelvis tilts as it does on the way down, but the hips stay up: held up
    (``HeightTracker.held``) from just after the arch's 2 cm until the still moment takes over;
    not while they are lowered (the first fifth of the lowering moves under the speed limit,
    then they are more than ``HELD_DROP_M`` down) or at the bottom."""
    tracker = HeightTracker()
    t, acc, quat, _ = moves_session(GOOD + ARCHED)
    tracker.update(t, acc, quat)
    held = tracker.held
    ends = _move_ends(GOOD + ARCHED)
    arch_end, rest_end = ends[3]
    assert held[(t > arch_end + 0.02) & (t < arch_end + 0.3)].all()
    lowering_end = ends[4][0]
    assert not held[(t > rest_end + 0.5) & (t < lowering_end + 0.3)].any()
    assert not held[(t > ends[1][0] - 1.5) & (t < ends[1][0] + 0.3)].any()  # (the good rep's)


def test_an_arch_at_a_lower_top_after_a_touch_and_go_bottom_is_held_up():
    """A held top, then a touch-and-go bottom and a rise 6 cm lower than the first before an
    arch: measured from the highest since the still moment, the arch's hips were 6-8 cm down
    and not held up; from the top of their own rise they are."""
    moves = [(1.0, 0.20, 30.0, 1.5), (1.2, -0.20, -30.0, 0.0), (1.0, 0.14, 21.0, 0.0)]
    moves += [(0.3, -0.02, -10.0, 1.0), (1.5, -0.12, -20.0, 1.5)]
    tracker = HeightTracker()
    t, acc, quat, _ = moves_session(moves)
    tracker.update(t, acc, quat)
    arch_end, rest_end = _move_ends(moves)[3]
    at_arch = (t > arch_end + 0.02) & (t < arch_end + 0.3)
    assert tracker.held[at_arch].all()


def test_rise_tops_equal_their_definition():
    """``_rise_tops`` (vectorised) against its definition, sample by sample: a rise begins at
    the last sample with v <= 0 before v passes ``HELD_SPEED_M_S``; its top is the highest
    since."""
    rng = np.random.default_rng(0)
    for _ in range(100):
        n = int(rng.integers(2, 200))
        v = np.convolve(rng.normal(0.0, 0.15, n), np.ones(5) / 5, "same")
        h = np.cumsum(v) * 0.05
        top, base = _rise_tops(h, v)
        begin = last_low = 0
        for j in range(n):
            if v[j] <= 0.0:
                last_low = j
            if v[j] > HELD_SPEED_M_S:
                begin = last_low
            assert top[j] == pytest.approx(h[begin : j + 1].max(), abs=1e-12)
            assert base[j] == h[begin]


def test_a_slow_lowering_with_a_still_moment_on_the_way_is_not_held_up_below_it():
    """A person 1.6 times slower than the tempo can be still for a moment on the way down.
    The hips' drop measured from that still moment is small at first and their speed too:
    without ``HELD_RISE_M`` the rest of the lowering started held up (a bridge's bottom
    alarmed as an arched lockout)."""
    tracker = HeightTracker()
    t, acc, quat, _ = moves_session(GOOD + SLOW_LOWERING)
    tracker.update(t, acc, quat)
    ends = _move_ends(GOOD + SLOW_LOWERING)
    midway_rest_end = ends[3][1]
    assert not tracker.held[t > midway_rest_end].any()


def _same_heights_in_any_chunks(t, acc, quat):
    tracker = HeightTracker()
    whole = tracker.update(t, acc, quat)
    whole_held = tracker.held
    rng = np.random.default_rng(3)
    for _ in range(3):
        tracker, parts, held, i = HeightTracker(), [], [], 0
        while i < len(t):
            k = int(rng.choice([0, 1, 2, 7, 10, 33, 150]))
            parts.append(tracker.update(t[i : i + k], acc[i : i + k], quat[i : i + k]))
            held.append(tracker.held)
            i += k
        np.testing.assert_array_equal(np.concatenate(parts), whole)
        np.testing.assert_array_equal(np.concatenate(held), whole_held)


def test_a_slow_sensor_gives_no_height():
    assert height_usable(52.0) and height_usable(25.0)
    assert not height_usable(10.0)


def _one_sensor_bridge(seed, exercise="glute-bridge", **changes):
    """A simulated person's one-sensor bridge (or ``exercise``; 10 reps, 4 faulty), ``changes``
    to the simulation; the recording, its analysis and the scores."""
    from imu_monitor.processing.analysis import analyze_recording
    from imu_monitor.simulator import SimulationConfig, simulate_session
    from imu_monitor.simulator.scoring import evaluate

    cfg = SimulationConfig(exercise=exercise, reps=10, faulty=4, sensors=1, seed=seed, **changes)
    rec = simulate_session(cfg, created_utc="2026-12-06T00:00:00+00:00")
    analysis = analyze_recording(rec)
    return rec, analysis, evaluate(analysis, rec.truth)


def _counted_and_alarmed(scores):
    """Every rep counted, every fault alarmed, no false alarm."""
    assert scores["reps_detected"] == scores["reps_true"] == 10
    assert scores["false_alarms"] == 0
    assert scores["lumbar_faulty_alarmed"] == scores["lumbar_faulty_reps"]


def test_a_lost_burst_in_a_fast_rise_costs_its_own_velocity_only():
    """A 15 cm rise in 0.35 s sampled at 50 Hz, 0.16 s of it lost (a burst of 8 notifications):
    the acceleration taken as straight across the gap gets the velocity there wrong, by up to
    0.6 m/s. Spread over the movement's time, as a bias' drift, that had put the top anywhere
    from -12 to +37 cm; taken off at the gap, within 4.5 cm wherever the burst falls."""
    t = np.arange(0.0, 2.0, 0.02)
    _, acc = minimum_jerk(t, 0.5, 0.35)
    for lost_from in np.arange(0.3, 0.9, 0.04):
        kept = (t <= lost_from) | (t >= lost_from + 0.16)
        rise, _ = _zero_velocity_height(t[kept], 0.15 * acc[kept])
        assert rise == pytest.approx(0.15, abs=0.045), lost_from


def test_a_lost_burst_before_a_fast_rep_at_52_hz_does_not_make_a_bottom_a_lockout():
    """Seed 103 at 52 Hz: 154 ms lost just as a fast last rep (0.66 s) began. Its bottom read
    16 cm above the one before, an arched lockout to the rep tracker: the rep was lost and the
    bottom alarmed as extension (-30 deg)."""
    _counted_and_alarmed(_one_sensor_bridge(103, rate_hz=52.0)[2])


def test_an_arch_far_off_a_bridges_top_is_alarmed_without_waiting_for_a_still_moment():
    """Seed 4: an arch tilts the pelvis back to within 4 deg of the bottom's tilt, so the hips'
    height decides, and it was known only 0.4 s into the hold's still moment: alarmed 535 ms
    after the true crossing plus the dwell. An early height (the hips still over 0.1 s) now
    tells within 0.25 s."""
    from imu_monitor.simulator.scoring import session_goals

    rec, analysis, scores = _one_sensor_bridge(4)
    _counted_and_alarmed(scores)
    delays = session_goals(analysis, rec.truth, rec.meta)["alarm_delays_s"]
    assert len(delays) == 2 and max(delays) < 0.25


def test_a_hip_thrusts_short_rest_is_a_zero_of_the_velocity_for_the_turns_after_it():
    """Seed 109, touch-and-go: a 0.5 s rest (too short to be a still moment), a fast rep, a
    0.43 s bottom. The turning points after the rest were integrated from the hold before it,
    2.5 s back, and read the fast rep's top 20 cm high; with the rest's early height beside
    them, the bottom after it looked like an arched lockout (a lost rep, a -46 deg alarm)."""
    _counted_and_alarmed(_one_sensor_bridge(109, "hip-thrust", rep_rest_s=(0.25, 0.5))[2])


def test_a_slow_bridge_with_one_sensor_counts_every_rep_and_alarms_only_faults():
    """A simulated person at 1.6 times the bridge's tempo (4 s lowerings): the slow ends of a
    lowering had passed for still, the height came out 6 cm short, a bottom was judged as an
    arched lockout (a false alarm) and its rep was lost (9 of 10)."""
    _counted_and_alarmed(_one_sensor_bridge(9, tempo_scale=1.6)[2])


def test_an_arch_that_tilts_the_pelvis_back_to_a_shallow_bottoms_is_a_held_lockout():
    """Seed 1303's second rep rises from a bottom a third shallower than the rest and arches
    13.8 deg at the top: the pelvis' tilt comes back to within 2 deg of that bottom while the
    hips are up. Its tilt alone had ended the rep there (11 reps of 10, the arch never
    alarmed); the hips' height now says the rep goes on, offline and live, in any chunks."""
    from imu_monitor.events import AlarmStarted, RepEnded
    from tests.helpers import feed_live

    rec, _, scores = _one_sensor_bridge(1303)
    arched = rec.truth.reps[1]
    assert arched.fault == "extension" and arched.peak_extension_deg > 13.0
    _counted_and_alarmed(scores)
    events = feed_live(rec)[2]
    reps = [e for e in events if isinstance(e, RepEnded)]
    assert len(reps) == 10
    one = [r for r in reps if r.t_start_s < arched.t_top_s < r.t_s]
    assert len(one) == 1 and one[0].t_s > arched.t_hold_end_s
    assert any(
        isinstance(e, AlarmStarted) and arched.t_top_s < e.t_s < arched.t_end_s for e in events
    )


def test_a_shallow_bottom_after_an_arched_lockout_ends_the_rep_where_the_hips_came_down():
    """Reps +-30 % in depth, seed 11: the first rep arches 10.9 deg at the top and comes down to
    a bottom 30 % shallower, whose tilt lies within 3 deg of the arch's (about a third of the
    rep's amplitude down from its top, where a bottom had to be half way down): the rep ran on
    into the next and was dropped. The hips' height, known down there, ends it."""
    rec, analysis, scores = _one_sensor_bridge(11, depth_spread=0.3)
    assert rec.truth.reps[0].fault == "extension"
    _counted_and_alarmed(scores)
    first = analysis.result.reps[0]
    assert abs(first.t_start_s - rec.truth.reps[0].t_start_s) < 0.3


def test_a_noisier_accelerometer_still_finds_the_still_moments():
    """An MPU-6050-class accelerometer (4 mg rms per sample, twice the simulator's default):
    its noise alone spanned 0.16-0.2 m/s^2 over a still window, more than ``STILL_ACC_RANGE``,
    so a still bridge had no still moment and no height (seed 3 lost its last two reps; 9 of
    20 sessions were counted exactly). The range is now of the acceleration's 40 ms means."""
    _counted_and_alarmed(_one_sensor_bridge(3, acc_noise_m_s2=0.04)[2])


def test_an_offset_taken_off_midway_corrects_what_the_tracker_kept():
    """The live monitor takes the accelerometer's offset off after the first reps: the still
    moments kept from before (the bias model's) are corrected alike, so the heights from then on
    change as those of a tracker that had corrected data from the start. (Where they start from
    differs by a tenth of a millimetre: the model's ridge is not blind to an offset.)"""

    def changes(h):
        return h - h[np.isfinite(h)][0]

    t, acc, quat, _ = moves_session(TOUCH_AND_GO * 2)
    offset = np.array([0.15, -0.05, 0.1])  # (moves_session's)
    cut = int(np.searchsorted(t, 6.6))  # in the hold after the first touch-and-go bottom
    midway = HeightTracker()
    midway.update(t[:cut], acc[:cut], quat[:cut])
    midway.offset_changed(offset)
    after = midway.update(t[cut:], acc[cut:] - offset, quat[cut:])
    corrected = HeightTracker().update(t, acc - offset, quat)
    np.testing.assert_allclose(changes(after), changes(corrected[cut:]), atol=1e-9)
    assert np.isfinite(after).sum() > 100
    # not correcting what it kept gives other heights (the model mixes both biases)
    mixed = HeightTracker()
    mixed.update(t[:cut], acc[:cut], quat[:cut])
    unmixed = mixed.update(t[cut:], acc[cut:] - offset, quat[cut:])
    assert np.nanmax(np.abs(changes(unmixed) - changes(corrected[cut:]))) > 0.005


def test_live_touch_and_go_bridge_heights_after_the_offset_correction():
    """Touch-and-go reps (0.25-0.5 s bottoms), seed 17, live: after the accelerometer offset was
    taken off at the third rep, the bias model still held the still moments measured with it;
    the fifth rep's bottom then integrated to a 9 cm correction (offline 1 cm), was taken for
    still moving, and its rep was lost (9 of 10)."""
    from imu_monitor.events import RepEnded
    from tests.helpers import feed_live

    rec, _, scores = _one_sensor_bridge(17, rep_rest_s=(0.25, 0.5))
    _counted_and_alarmed(scores)
    events = feed_live(rec)[2]
    assert sum(isinstance(e, RepEnded) for e in events) == 10


def _settling_filter(seconds: float = 4.0):
    """A sensor lying still, its filter's inclination settling from 3 deg off towards the
    accelerometer (1 deg/s at first, as after a burst lost inside a fast rep): readings, the
    filter's orientations and the gyro's turn rate (none)."""
    t = np.arange(0.0, seconds, 1.0 / RATE_HZ)
    acc = np.tile([0.0, 0.0, STANDARD_GRAVITY_M_S2], (len(t), 1))
    acc += np.random.default_rng(0).normal(0.0, 0.02, acc.shape)
    settling = Rotation.from_euler("y", 3.0 * np.exp(-t / 3.0)[:, None], degrees=True)
    return t, acc, settling.as_quat(scalar_first=True), np.zeros((len(t), 3))


def test_a_filter_settling_towards_the_accelerometer_is_no_turn_of_the_sensor():
    """Seed 7119, live, one-sensor bridge at 52 Hz: a burst lost at the end of a too-fast rep left
    the filter's inclination 3 deg off; settling back it moved 0.17-0.27 deg per still window at
    the bottom that followed, over the still test's 0.15, so that bottom had no still moment and
    the next rep's height came from a movement integrated across two reps: an arched rep and the
    good one after it were counted as one. The gyro says the sensor did not turn."""
    t, acc, quat, rate = _settling_filter()
    early = t < 1.4  # settling faster than the still test's 0.6 deg/s
    assert np.isnan(HeightTracker().update(t, acc, quat)[early]).all()
    h = HeightTracker().update(t, acc, quat, rate)
    assert np.isfinite(h[early & (t > 0.5)]).all()
    # the inclination alone still counts where it was steady
    np.testing.assert_array_equal(np.isfinite(h[~early]), True)


def test_any_chunking_gives_the_same_heights_with_the_turn_rate():
    t, acc, quat, _ = lift_session()
    rate = np.random.default_rng(1).normal(0.0, 0.002, (len(t), 3))
    whole = HeightTracker().update(t, acc, quat, rate)
    rng = np.random.default_rng(3)
    for _ in range(3):
        tracker, parts, i = HeightTracker(), [], 0
        while i < len(t):
            k = int(rng.choice([0, 1, 2, 7, 10, 33, 150]))
            parts.append(
                tracker.update(t[i : i + k], acc[i : i + k], quat[i : i + k], rate[i : i + k])
            )
            i += k
        np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_a_burst_lost_at_the_end_of_a_fast_rep_at_52_hz_loses_no_rep_live():
    from imu_monitor.events import RepEnded
    from tests.helpers import feed_live

    rec, _, _ = _one_sensor_bridge(7119, rate_hz=52.0)
    events = feed_live(rec)[2]
    assert sum(isinstance(e, RepEnded) for e in events) == 10
