import numpy as np

from imu_monitor.processing.buffers import RingBuffer


def test_ring_buffer_keeps_latest_rows_in_order_and_bounded():
    rb = RingBuffer(["a", "b"], capacity=100)
    t = np.arange(250) * 0.01
    for start in range(0, 250, 17):
        sl = slice(start, start + 17)
        rb.append({"t_s": t[sl], "a": t[sl] * 2})
    assert len(rb) == 100
    w = rb.window()
    np.testing.assert_array_equal(w["t_s"], t[-100:])
    np.testing.assert_array_equal(w["a"], t[-100:] * 2)
    assert np.isnan(w["b"]).all()  # missing channel is NaN, not stale data
    w2 = rb.window(0.5)
    assert w2["t_s"][0] >= t[-1] - 0.5 and w2["t_s"][-1] == t[-1]
    # a chunk larger than the capacity keeps its newest rows
    rb.append({"t_s": np.arange(1000) + 10.0, "a": np.zeros(1000)})
    assert rb.window()["t_s"][-1] == 1009.0 and len(rb.window()["t_s"]) == 100
