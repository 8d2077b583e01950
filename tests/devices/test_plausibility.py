"""Packets that decode to what no IMU measures are dropped and counted (reason "implausible")."""

from __future__ import annotations

import numpy as np
import pytest

from imu_monitor.devices.decode import Decoder, encode
from imu_monitor.devices.plausibility import ACC_LIMIT_M_S2, GYR_LIMIT_RAD_S
from imu_monitor.devices.profiles import load_profile
from imu_monitor.model import GRAVITY_M_S2 as G


def _random_packets(prof, count: int, seed: int) -> list[bytes]:
    """Notifications of the right length for the profile's first packet, random bytes."""
    rng = np.random.default_rng(seed)
    return [rng.bytes(prof.packets[0].min_length) for _ in range(count)]


@pytest.mark.parametrize("batch", [False, True])
def test_headerless_garbage_is_mostly_refused_and_never_passed_on(batch):
    prof = load_profile("thingy52")  # no counter, no timestamp: bytes alone decide
    char = prof.notify_uuids[0]
    payloads = _random_packets(prof, 428, seed=3)
    times = [i / prof.rate_hz for i in range(len(payloads))]
    d = Decoder(prof, "sacrum")
    if batch:
        chunks = [d.feed_many(char, payloads, times)]
    else:
        chunks = [d.feed(char, p, t) for p, t in zip(payloads, times, strict=True)]
    chunks = [c for c in chunks if c is not None]
    acc = np.concatenate([c.acc_m_s2 for c in chunks])
    gyr = np.concatenate([c.gyr_rad_s for c in chunks])
    refused = d.stats.malformed.get("implausible", 0)
    # uniform i16 in Q6.10 g: |acc| <= 20 g for about 9 % of packets (a ball in the cube)
    assert refused >= 0.85 * len(payloads)
    assert refused + len(acc) == len(payloads)
    assert (np.linalg.norm(acc, axis=1) <= ACC_LIMIT_M_S2).all()
    assert (np.abs(gyr) <= GYR_LIMIT_RAD_S).all()


def test_one_implausible_sample_drops_its_packet_only():
    prof = load_profile("diy_imu")  # 8 samples per notification, counter and timestamp
    m = 32
    t = np.arange(m) / prof.rate_hz
    acc = np.tile([0.0, 0.0, G], (m, 1))
    acc[11] = [15 * G, 15 * G, 0.0]  # 21.2 g: representable per axis, implausible as a whole
    gyr = np.zeros((m, 3))
    d = Decoder(prof, "sacrum")
    chunks = [d.feed(c, b, ts) for c, b, ts in encode(prof, t, acc, gyr, None)]
    got = np.concatenate([c.acc_m_s2 for c in chunks if c is not None])
    assert d.stats.malformed == {"implausible": 1}
    assert len(got) == m - 8  # the packet holding sample 11 (samples 8-15) is dropped
    assert np.allclose(np.linalg.norm(got, axis=1), G, rtol=1e-3)


def test_gyro_at_full_scale_on_every_axis_is_kept():
    prof = load_profile("diy_imu")  # +-2000 deg/s at 16.4 LSB per deg/s
    m = 8
    t = np.arange(m) / prof.rate_hz
    gyr = np.full((m, 3), np.radians(1990.0))
    d = Decoder(prof, "sacrum")
    packets = encode(prof, t, np.tile([0, 0, G], (m, 1)), gyr, None)
    chunks = [d.feed(c, b, ts) for c, b, ts in packets]
    assert d.stats.malformed == {}
    assert sum(len(c.t_s) for c in chunks if c is not None) == m
