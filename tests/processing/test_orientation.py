"""Orientation: vqf behind the quality stage; streaming == batch; start-up; gaps; offline."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from imu_monitor.errors import ImuMonitorError
from imu_monitor.model import SensorSeries
from imu_monitor.processing.orientation import (
    OrientationStream,
    estimate_orientation,
    estimate_rate_hz,
)

RATE = 100.0


def _pitch_motion(duration_s: float = 20.0, seed: int = 0, start_deg: float = 90.0):
    """A sensor pitching about its y axis (sinusoid + noise); returns series and true pitch."""
    rng = np.random.default_rng(seed)
    n = int(duration_s * RATE)
    t = np.arange(n) / RATE
    pitch = np.radians(start_deg + 25.0 * np.sin(2 * np.pi * 0.25 * t) ** 2)
    rot = Rotation.from_euler("y", pitch[:, None])  # sensor-to-world
    gyr = np.zeros((n, 3))
    gyr[:, 1] = np.gradient(pitch, t)
    acc = rot.inv().apply([0.0, 0.0, 9.81])
    acc += rng.normal(0, 0.03, acc.shape)
    gyr += rng.normal(0, 0.002, gyr.shape)
    return SensorSeries(t, acc, gyr, np.arange(n, dtype=np.int64)), np.degrees(pitch)


def _pitch_of(quat_ws: np.ndarray) -> np.ndarray:
    up = Rotation.from_quat(quat_ws, scalar_first=True).inv().apply([0.0, 0.0, 1.0])
    return np.degrees(np.arctan2(-up[:, 0], up[:, 2]))


@pytest.mark.parametrize("offline", [False, True])
def test_pitch_tracks_truth_from_the_first_second(offline):
    s, truth = _pitch_motion()
    out = estimate_orientation(s, RATE, offline=offline)
    assert out.quat_ws.shape == (len(s), 4)
    err = _pitch_of(out.quat_ws) - truth
    assert np.abs(err[: int(RATE)]).max() < 1.0  # right within a second of the start
    assert np.sqrt(np.mean(err**2)) < 0.5


def test_stream_in_random_chunks_equals_batch():
    s, _ = _pitch_motion(30.0, seed=4)
    s.acc_m_s2[[50, 51, 900]] = np.nan  # dropped samples and a bridged gap inside chunks
    keep = np.r_[0:1500, 1530 : len(s)]  # and a long gap
    s = SensorSeries(s.t_s[keep], s.acc_m_s2[keep], s.gyr_rad_s[keep], s.seq[keep])
    batch = estimate_orientation(s, RATE)
    rng = np.random.default_rng(7)
    stream = OrientationStream(RATE)
    parts, idx = [], []
    i = 0
    while i < len(s):
        j = min(len(s), i + int(rng.integers(0, 40)))
        out = stream.update(s.chunk("sacrum", i, j))
        parts.append(out.quat_ws)
        idx.append(out.index + i)
        i = j
    np.testing.assert_allclose(np.concatenate(parts), batch.quat_ws, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(np.concatenate(idx), batch.index)
    assert stream.counts.to_dict() == batch.counts.to_dict()
    assert batch.counts.nan_samples == 3 and batch.counts.gaps == 3


def test_bad_samples_never_reach_the_filter():
    s, truth = _pitch_motion(10.0, seed=2)
    s.acc_m_s2[100:105] = np.nan
    s.gyr_rad_s[300] = np.inf
    out = estimate_orientation(s, RATE)
    assert np.isfinite(out.quat_ws).all()
    assert len(out) == len(s) - 6
    err = _pitch_of(out.quat_ws) - truth[out.index]
    assert np.abs(err).max() < 1.0


def test_inclination_is_taken_afresh_after_a_long_gap():
    """The sensor turns by 60 deg while the link is down: right again soon after the gap."""
    n = int(10 * RATE)
    t = np.arange(n) / RATE
    pitch = np.where(t < 5.0, 0.0, np.radians(60.0))
    acc = Rotation.from_euler("y", pitch[:, None]).inv().apply([0.0, 0.0, 9.81])
    gyr = np.zeros((n, 3))
    keep = (t < 4.0) | (t >= 6.0)
    s = SensorSeries(t[keep], acc[keep], gyr[keep])
    out = estimate_orientation(s, RATE)
    after = out.t_s >= 6.0
    err = _pitch_of(out.quat_ws[after]) - 60.0
    assert np.abs(err).max() < 0.5
    assert out.counts.gaps == 1 and out.gaps[0].bridged is False


def test_a_lost_notification_mid_movement_is_bridged_not_taken_afresh():
    """A 52 Hz sensor turning at 40 deg/s while accelerating forward at 2 m/s^2 loses 8 samples
    (0.15 s, a notification): the filter carries on through the gap (``MAX_BRIDGE_S``) and comes
    out as it would have without it. Taking the inclination afresh there (the 0.1 s limit
    before), from an accelerometer that sees the forward acceleration, put it degrees off."""
    rate = 52.0
    t = np.arange(int(6 * rate)) / rate
    moving = (t >= 2.0) & (t < 4.0)
    rate_y = np.where(moving, np.radians(40.0), 0.0)
    pitch = np.concatenate([[0.0], np.cumsum(rate_y[:-1]) / rate])
    forward = np.where(moving, 2.0, 0.0)  # m/s^2 along earth x
    R = Rotation.from_euler("y", pitch[:, None])
    acc = R.inv().apply(np.column_stack([forward, np.zeros_like(t), np.full_like(t, 9.81)]))
    gyr = np.column_stack([np.zeros_like(t), rate_y, np.zeros_like(t)])
    keep = np.ones(len(t), bool)
    lost = int(3.0 * rate)
    keep[lost : lost + 8] = False

    def pitch_after_gap(max_bridge_s: float | None = None) -> np.ndarray:
        kw = {} if max_bridge_s is None else {"max_bridge_s": max_bridge_s}
        out = estimate_orientation(SensorSeries(t[keep], acc[keep], gyr[keep]), rate, **kw)
        assert out.counts.gaps == 1
        after = (out.t_s > 3.0) & (out.t_s < 4.0)
        return _pitch_of(out.quat_ws[after])

    whole = estimate_orientation(SensorSeries(t, acc, gyr), rate)
    after = (whole.t_s > 3.0) & (whole.t_s < 4.0) & keep
    without_gap = _pitch_of(whole.quat_ws[after])
    assert np.abs(pitch_after_gap() - without_gap).max() < 0.2
    assert np.abs(pitch_after_gap(max_bridge_s=0.1) - without_gap).max() > 2.0


def test_rate_helpers_and_errors():
    assert estimate_rate_hz(np.arange(100) / 208.0) == pytest.approx(208.0)
    with pytest.raises(ImuMonitorError):
        estimate_rate_hz(np.zeros(3))
    with pytest.raises(ImuMonitorError, match="sample rate"):
        OrientationStream(0.0)
