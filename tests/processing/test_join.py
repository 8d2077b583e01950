import numpy as np
from scipy.spatial.transform import Rotation

from imu_monitor.processing.join import SensorJoiner, interp_quat, join_batch


def _quats(t):
    return Rotation.from_euler("xyz", np.column_stack([np.sin(t), 0.5 * t, np.cos(2 * t)])).as_quat(
        scalar_first=True
    )


def test_streaming_join_equals_batch_join_for_any_chunking():
    rng = np.random.default_rng(3)
    t_master = np.cumsum(np.full(400, 0.005)) + rng.normal(0, 3e-4, 400)
    t_master.sort()
    t_other = np.cumsum(np.full(390, 0.005)) + 0.0021
    q_master, q_other = _quats(t_master), _quats(t_other)
    expected = join_batch(t_master, {"upper_lumbar": (t_other, q_other)})["upper_lumbar"]

    joiner = SensorJoiner(["sacrum", "upper_lumbar"], max_wait_s=10.0)
    got_t, got_q = [], []
    i = j = 0
    while i < len(t_master) or j < len(t_other):
        if i < len(t_master) and (rng.random() < 0.5 or j >= len(t_other)):
            n = int(rng.integers(1, 12))
            out = joiner.push("sacrum", t_master[i : i + n], q_master[i : i + n])
            i += n
        else:
            n = int(rng.integers(1, 12))
            out = joiner.push("upper_lumbar", t_other[j : j + n], q_other[j : j + n])
            j += n
        if len(out[0]):
            got_t.append(out[0])
            got_q.append(out[1]["upper_lumbar"])
    # samples after the other sensor's last one wait for max_wait_s: compare what was emitted
    got_t = np.concatenate(got_t)
    got_q = np.concatenate(got_q)
    assert len(got_t) >= 380
    np.testing.assert_array_equal(got_t, t_master[: len(got_t)])
    np.testing.assert_allclose(got_q, expected[: len(got_t)], atol=1e-12)


def test_stalled_sensor_is_held_after_max_wait():
    joiner = SensorJoiner(["sacrum", "thigh"], max_wait_s=0.5)
    t = np.arange(0, 2, 0.01)
    q = _quats(t)
    joiner.push("thigh", t[:10], q[:10])  # thigh stops at t=0.09
    out_t, out_q = joiner.push("sacrum", t, q)
    assert out_t[-1] <= t[-1] - 0.5 + 1e-9 and out_t[-1] > 1.4
    np.testing.assert_allclose(out_q["thigh"][-1], q[9], atol=1e-12)  # held at its last value
    assert joiner.held_samples == len(out_t)


def test_interp_quat_is_unit_and_exact_at_knots():
    t = np.linspace(0, 1, 11)
    q = _quats(t)
    out = interp_quat(t, t, q)
    np.testing.assert_allclose(out, q, atol=1e-12)
    mid = interp_quat(np.array([0.05]), t, q)
    assert abs(np.linalg.norm(mid) - 1) < 1e-12


def test_other_sensor_samples_are_bounded_while_the_master_is_silent():
    from imu_monitor.processing.join import KEEP_AHEAD_S

    joiner = SensorJoiner(["sacrum", "thigh"], max_wait_s=0.5)
    t = np.arange(0, 600, 0.01)
    q = _quats(t)
    joiner.push("sacrum", t[:100], q[:100])
    for i in range(100, len(t), 8):  # the sacrum link dropped: only the thigh sends
        joiner.push("thigh", t[i : i + 8], q[i : i + 8])
    assert len(joiner._t["thigh"]) <= (KEEP_AHEAD_S + 1.0) / 0.01
    # the sacrum comes back: joined with the thigh at its own times
    out_t, out_q = joiner.push("sacrum", t[-50:], q[-50:])
    assert len(out_t) == 50
    np.testing.assert_allclose(out_q["thigh"], q[-50:], atol=1e-9)
