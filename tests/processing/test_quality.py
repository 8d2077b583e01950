"""Sample quality: drops, gap counting, bridging, and batch == streaming."""

from __future__ import annotations

import numpy as np
import pytest

from imu_monitor.errors import ImuMonitorError
from imu_monitor.processing.quality import (
    SLOW_RATE_HZ,
    QualityStream,
    clean_samples,
    slow_rate_note,
)

RATE = 100.0


def _series(n: int = 500, seed: int = 0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / RATE
    acc = np.tile([0.0, 0.0, 9.81], (n, 1)) + rng.normal(0, 0.05, (n, 3))
    gyr = rng.normal(0, 0.01, (n, 3))
    return t, acc, gyr


def test_clean_input_passes_unchanged():
    t, acc, gyr = _series()
    c = clean_samples(t, acc, gyr, None, RATE)
    assert np.array_equal(c.index, np.arange(len(t)))
    assert c.filter_is_output.all()
    np.testing.assert_array_equal(c.filter_acc_m_s2, acc)
    assert c.counts.gaps == 0 and c.counts.nan_samples == 0 and c.counts.samples_ok == len(t)


def test_nan_and_backwards_samples_are_dropped_and_counted():
    t, acc, gyr = _series(100)
    acc[10, 1] = np.nan
    gyr[20, 0] = np.inf
    t[30] = t[29]  # repeated
    t[40] = t[35]  # backwards
    c = clean_samples(t, acc, gyr, None, RATE)
    assert c.counts.nan_samples == 2
    assert c.counts.backwards_or_repeated == 2
    assert set(c.index.tolist()) == set(range(100)) - {10, 20, 30, 40}
    assert np.all(np.diff(c.filter_t_s) > 0)
    assert np.isfinite(c.filter_acc_m_s2).all() and np.isfinite(c.filter_gyr_rad_s).all()
    # each dropped sample leaves a short gap, bridged for the filter but not output
    assert c.counts.gaps == 4 and c.counts.samples_missing == 4 and c.counts.gaps_bridged == 4
    assert (~c.filter_is_output).sum() == 4


def test_repeated_seq_is_dropped_and_seq_jump_counts_missing():
    t, acc, gyr = _series(100)
    seq = np.arange(100, dtype=np.int64)
    keep = np.r_[0:50, 80:100]  # 30 samples lost (0.3 s: a long gap)
    t, acc, gyr, seq = t[keep], acc[keep], gyr[keep], seq[keep].copy()
    seq[5] = seq[4]  # duplicated packet counter
    c = clean_samples(t, acc, gyr, seq, RATE)
    assert c.counts.backwards_or_repeated == 1
    assert c.counts.gaps >= 1
    long = [g for g in c.gaps if not g.bridged]
    assert len(long) == 1 and long[0].samples_missing == 30
    assert long[0].t_start_s == pytest.approx(0.49) and long[0].t_end_s == pytest.approx(0.80)
    assert c.counts.longest_gap_s == pytest.approx(0.31)


def test_short_gap_is_bridged_with_interpolated_samples():
    t, acc, gyr = _series(100)
    acc[:, 0] = np.arange(100.0)  # linear ramp: interpolation must reproduce it
    keep = np.r_[0:20, 25:100]  # 5 missing samples = 0.06 s step
    c = clean_samples(t[keep], acc[keep], gyr[keep], None, RATE)
    assert c.counts.gaps == 1 and c.counts.samples_missing == 5 and c.counts.gaps_bridged == 1
    assert len(c.filter_t_s) == 100 and c.filter_is_output.sum() == 95
    np.testing.assert_allclose(c.filter_t_s, t, atol=1e-12)
    np.testing.assert_allclose(c.filter_acc_m_s2[:, 0], np.arange(100.0), atol=1e-9)
    np.testing.assert_array_equal(c.t_s, t[keep])


def test_long_gap_is_not_bridged():
    t, acc, gyr = _series(300)
    keep = np.r_[0:100, 150:300]  # 0.51 s step
    c = clean_samples(t[keep], acc[keep], gyr[keep], None, RATE, max_bridge_s=0.1)
    assert c.counts.gaps == 1 and c.counts.gaps_bridged == 0 and c.counts.samples_missing == 50
    assert c.filter_is_output.all()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_streaming_in_random_chunks_equals_batch(seed):
    rng = np.random.default_rng(seed)
    t, acc, gyr = _series(2000, seed)
    seq = np.arange(2000, dtype=np.int64)
    keep = np.sort(rng.choice(2000, 1700, replace=False))
    t, acc, gyr, seq = t[keep], acc[keep].copy(), gyr[keep], seq[keep].copy()
    acc[rng.choice(len(t), 10, replace=False), 2] = np.nan
    swap = rng.choice(len(t) - 1, 10, replace=False)
    t = t.copy()
    t[swap] = t[swap + 1]
    batch = clean_samples(t, acc, gyr, seq, RATE)
    s = QualityStream(RATE)
    idx, ft, fa, fo = [], [], [], []
    i = 0
    while i < len(t):
        j = min(len(t), i + int(rng.integers(0, 60)))
        out = s.update(t[i:j], acc[i:j], gyr[i:j], seq[i:j])
        idx.append(out.index + i)
        ft.append(out.filter_t_s)
        fa.append(out.filter_acc_m_s2)
        fo.append(out.filter_is_output)
        i = j
    np.testing.assert_array_equal(np.concatenate(idx), batch.index)
    np.testing.assert_array_equal(np.concatenate(ft), batch.filter_t_s)
    np.testing.assert_array_equal(np.concatenate(fa), batch.filter_acc_m_s2)
    np.testing.assert_array_equal(np.concatenate(fo), batch.filter_is_output)
    assert s.counts.to_dict() == batch.counts.to_dict()
    assert batch.counts.nan_samples == 10 and batch.counts.backwards_or_repeated >= 5
    assert [g.to_dict() for g in s.gaps] == [g.to_dict() for g in batch.gaps]


def test_shape_mismatch_is_a_typed_error():
    t, acc, gyr = _series(10)
    with pytest.raises(ImuMonitorError, match="acc_m_s2"):
        clean_samples(t, acc[:5], gyr, None, RATE)


def test_fast_path_for_clean_chunks_equals_the_general_path(monkeypatch):
    import imu_monitor.processing.quality as quality

    rng = np.random.default_rng(11)
    n = 400
    t = np.arange(n) / 200.0 + rng.normal(0, 2e-4, n)
    acc = rng.normal(0, 1, (n, 3)) + [0, 0, 9.81]
    gyr = rng.normal(0, 0.1, (n, 3))
    seq = np.arange(n, dtype=np.int64) + 1000

    def run() -> list:
        out, state = [], quality.QualityState()
        for i in range(0, n, 8):
            chunk, state = quality.clean_chunk(
                t[i : i + 8], acc[i : i + 8], gyr[i : i + 8], seq[i : i + 8], 200.0, state
            )
            out.append(chunk)
        return out

    fast = run()
    monkeypatch.setattr(quality, "_all_good", lambda *a: False)
    general = run()
    for a, b in zip(fast, general, strict=True):
        for name in ("index", "t_s", "filter_t_s", "filter_acc_m_s2", "filter_gyr_rad_s",
                     "filter_is_output"):  # fmt: skip
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert a.counts == b.counts and a.gaps == b.gaps


def test_a_slow_sensor_is_named_in_a_note():
    assert slow_rate_note({"sacrum": 52.0, "thigh": 200.0}) is None
    note = slow_rate_note({"sacrum": 10.0, "upper_lumbar": 52.0})
    assert note is not None and "sacrum 10 Hz" in note and "upper_lumbar" not in note
    assert f"{SLOW_RATE_HZ:g} Hz or more" in note
