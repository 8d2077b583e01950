"""Decoding notifications: bytes built by hand from each vendor's documented layout (struct.pack,
not the encoder), encode->decode round trips, counters, time bases, pairing, malformed packets."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest

from imu_monitor.devices.decode import Decoder, encode
from imu_monitor.devices.packet_layout import polar_delta_decode, polar_delta_encode
from imu_monitor.devices.profiles import list_profiles, load_profile
from imu_monitor.model import GRAVITY_M_S2, SensorSeries

G = GRAVITY_M_S2
D2R = math.pi / 180.0
DIY_DATA = "6c756d62-0002-4a1f-9c3e-0b5a8d2f7e10"


def diy_packet(seq: int, t_us: int, samples: list[tuple[int, ...]]) -> bytes:
    body = b"".join(struct.pack("<6h", *s) for s in samples)
    return struct.pack("<BBHI", 0xA5, len(samples), seq & 0xFFFF, t_us & 0xFFFFFFFF) + body


def concat(chunks) -> SensorSeries:
    return SensorSeries.concat([c for c in chunks if c is not None])


# ------------------------------------------------------------------ hand-built vendor packets


def test_thingy52_raw_packet():
    prof = load_profile("thingy52")
    # acc (1024, -512, 0) Q6.10 g; gyro (32, 0, -64) Q11.5 deg/s; compass ignored
    pkt = struct.pack("<9h", 1024, -512, 0, 32, 0, -64, 160, 16, -16)
    ch = Decoder(prof, "sacrum").feed(prof.notify_uuids[0], pkt, 100.0)
    assert ch.acc_m_s2[0] == pytest.approx([G, -G / 2, 0.0])
    assert ch.gyr_rad_s[0] == pytest.approx([D2R, 0.0, -2 * D2R])
    assert ch.seq is None and ch.t_s[0] == 0.0 and ch.t_received_s == 100.0


def test_witmotion_packet_and_concatenated_packets():
    prof = load_profile("witmotion_wt901ble")
    pkt = b"\x55\x61" + struct.pack("<9h", 2048, 0, -2048, 16384, -16384, 0, 100, 200, 300)
    d = Decoder(prof, "sacrum")
    ch = d.feed("0000ffe4-0000-1000-8000-00805f9a34fb", pkt, 5.0)
    assert ch.acc_m_s2[0] == pytest.approx([G, 0.0, -G])
    # gyro raw 16384 = 1000 deg/s
    assert ch.gyr_rad_s[0] == pytest.approx([1000 * D2R, -1000 * D2R, 0.0])
    # two packets in one notification
    ch2 = d.feed(prof.notify_uuids[0], pkt + pkt, 5.01)
    assert len(ch2) == 2
    # a register reply is expected, not malformed
    d.feed(prof.notify_uuids[0], b"\x55\x71" + bytes(18), 5.02)
    assert d.stats.ignored == 1 and d.stats.malformed_total == 0


def test_movesense_planar_packet():
    prof = load_profile("movesense_imu6")
    acc = [(0.0, 0.0, 9.81), (1.0, 2.0, 3.0)]
    gyr = [(90.0, 0.0, 0.0), (0.0, -180.0, 45.0)]
    pkt = struct.pack("<BBI", 0x02, 0x63, 123456)
    pkt += b"".join(struct.pack("<3f", *a) for a in acc)
    pkt += b"".join(struct.pack("<3f", *g) for g in gyr)
    d = Decoder(prof, "sacrum")
    ch = d.feed(prof.notify_uuids[0], pkt, 1.0)
    assert ch.acc_m_s2 == pytest.approx(np.array(acc), abs=1e-6)
    assert ch.gyr_rad_s == pytest.approx(np.array(gyr) * D2R, abs=1e-6)
    assert ch.t_s == pytest.approx([0.0, 1 / 104])
    # next packet 2 samples later by its ms timestamp: 2 / 104 s = 19.2 ms
    ch = d.feed(prof.notify_uuids[0], pkt[:2] + struct.pack("<I", 123475) + pkt[6:], 1.02)
    assert ch.t_s[0] == pytest.approx(0.019)
    assert d.stats.lost_samples == 0
    # subscribe reply 01 63 00c8 (200 OK) is ignored; a wrong reference byte is malformed
    d.feed(prof.notify_uuids[0], bytes.fromhex("0163c800"), 1.03)
    d.feed(prof.notify_uuids[0], b"\x02\x64" + pkt[2:], 1.04)
    assert d.stats.ignored == 1 and d.stats.malformed == {"no_match": 1}


def test_metamotion_separate_messages_are_paired():
    prof = load_profile("metamotion")
    char = prof.notify_uuids[0]
    d = Decoder(prof, "sacrum")
    out = []
    for k in range(3):
        t = k * 0.01
        acc = b"\x03\x04" + struct.pack("<3h", 8192, 0, -4096 * k)  # +-4 g: 8192 LSB/g
        gyr = b"\x13\x05" + struct.pack("<3h", 164, -164 * k, 0)  # 16.4 LSB per deg/s
        out.append(d.feed(char, acc, t + 0.001))
        out.append(d.feed(char, gyr, t + 0.002))
    s = concat(out)
    assert len(s) == 3
    assert s.acc_m_s2[:, 0] == pytest.approx([G] * 3)
    assert s.acc_m_s2[:, 2] == pytest.approx([0.0, -G / 2, -G])
    assert s.gyr_rad_s[:, 0] == pytest.approx([10 * D2R] * 3)
    assert s.gyr_rad_s[:, 1] == pytest.approx([0.0, -10 * D2R, -20 * D2R])
    assert s.t_s == pytest.approx([0.0, 0.01, 0.02])
    assert d.stats.orphan_acc == 0 and d.stats.orphan_gyr == 0


def test_arduino_science_journal_two_characteristics():
    prof = load_profile("arduino_nano33_sj")
    acc_c, gyr_c = prof.notify_uuids
    d = Decoder(prof, "sacrum")
    out = [
        d.feed(acc_c, struct.pack("<3f", 0.0, 0.0, 1.0), 10.000),
        d.feed(gyr_c, struct.pack("<3f", 0.0, 90.0, 0.0), 10.010),
        d.feed(acc_c, struct.pack("<3f", 0.5, 0.0, 1.0), 10.100),
        # the gyro of this cycle is lost; the next acc makes the lone acc an orphan
        d.feed(acc_c, struct.pack("<3f", 1.0, 0.0, 0.0), 10.200),
        d.feed(gyr_c, struct.pack("<3f", 1.0, 2.0, 3.0), 10.205),
    ]
    s = concat(out)
    assert len(s) == 2
    assert s.acc_m_s2[0] == pytest.approx([0, 0, G])
    assert s.gyr_rad_s[0] == pytest.approx([0, 90 * D2R, 0])
    assert s.acc_m_s2[1] == pytest.approx([G, 0, 0])
    assert s.t_s == pytest.approx([0.0, 0.2])
    assert d.stats.orphan_acc == 1 and d.stats.orphan_gyr == 0
    # NaN floats are malformed, never raise
    d.feed(acc_c, struct.pack("<3f", float("nan"), 0.0, 0.0), 10.3)
    assert d.stats.malformed == {"non_finite": 1}


def _pack_bits_lsb_first(values: list[int], width: int) -> bytes:
    """Hand bit-packing, independent of the codec under test."""
    acc = 0
    for i, v in enumerate(values):
        acc |= (v & ((1 << width) - 1)) << (i * width)
    return acc.to_bytes((len(values) * width + 7) // 8, "little")


def test_polar_delta_frame_by_hand():
    prof = load_profile("polar_verity_sense")
    ts_ns = 599_000_000_000
    ref = (100, -200, 4096)
    deltas = [(1, -1, 2), (-3, 0, 1)]  # fit in 3-bit two's complement
    body = (
        struct.pack("<3h", *ref)
        + bytes((3, 2))
        + _pack_bits_lsb_first([v for d in deltas for v in d], 3)
    )
    acc_frame = bytes((0x02,)) + struct.pack("<Q", ts_ns) + bytes((0x81,)) + body
    raw = polar_delta_decode(body, 3, 2)
    assert raw.tolist() == [[100, -200, 4096], [101, -201, 4098], [98, -201, 4099]]
    gyr_body = (
        struct.pack("<3h", 16384, 0, -16384)
        + bytes((2, 2))
        + _pack_bits_lsb_first([1, 0, -1, 1, 0, -1], 2)
    )
    gyr_frame = bytes((0x05,)) + struct.pack("<Q", ts_ns + 1000) + bytes((0x80,)) + gyr_body
    d = Decoder(prof, "sacrum")
    # conversion factors as start replies would carry them (chosen for this test)
    d.set_captured({"acc_factor": 1 / 4.096, "gyr_factor": 1000 / 16384})
    data = prof.notify_uuids[1]
    out = [d.feed(data, acc_frame, 1.0), d.feed(data, gyr_frame, 1.001)]
    s = concat(out)
    assert len(s) == 3
    # acc 0x81: mG x factor (0.244 mG/LSB here); gyro 0x80: deg/s x factor
    assert s.acc_m_s2[0] == pytest.approx(np.array(ref) / 4.096 * 1e-3 * G)
    assert s.gyr_rad_s[0] == pytest.approx([1000 * D2R, 0, -1000 * D2R])
    # the timestamp stamps the LAST sample: samples are 1/52 s apart before it
    assert s.t_s == pytest.approx([0.0, 1 / 52, 2 / 52])
    # the control-point reply is ignored, a truncated delta frame is malformed
    d.feed(prof.notify_uuids[0], bytes.fromhex("f002020000"), 1.1)
    d.feed(data, acc_frame[:-1], 1.2)
    assert d.stats.ignored == 1 and d.stats.malformed == {"bad_delta_frame": 1}


def test_polar_delta_codec_round_trip():
    rng = np.random.default_rng(3)
    raw = np.cumsum(rng.integers(-300, 300, size=(600, 3)), axis=0)
    raw = np.clip(raw, -32768, 32767)
    assert (polar_delta_decode(polar_delta_encode(raw, 2), 3, 2) == raw).all()
    assert polar_delta_decode(b"\x01\x02", 3, 2) is None  # shorter than the reference


def test_diy_packet_by_hand():
    prof = load_profile("diy_imu")
    pkt = diy_packet(7, 1_000_000, [(2048, 0, -2048, 164, 0, -1640), (0, 4096, 0, 0, 82, 0)])
    ch = Decoder(prof, "sacrum").feed(DIY_DATA, pkt, 50.0)
    assert ch.acc_m_s2 == pytest.approx(np.array([[G, 0, -G], [0, 2 * G, 0]]))
    assert ch.gyr_rad_s == pytest.approx(np.array([[10, 0, -100], [0, 5, 0]]) * D2R)
    assert ch.seq.tolist() == [7, 8]
    assert ch.t_s == pytest.approx([0.0, 0.005])


# ------------------------------------------------------------------ round trips


@pytest.mark.parametrize("name", sorted(p.name for p in list_profiles()))
def test_encode_decode_round_trip(name):
    prof = load_profile(name)
    rng = np.random.default_rng(1)
    m = int(prof.rate_hz * 6)
    t = np.arange(m) / prof.rate_hz
    acc = rng.normal(0, 6, (m, 3))
    gyr = rng.normal(0, 2, (m, 3))
    packets = encode(prof, t, acc, gyr, None)
    assert all(c in prof.notify_uuids for c, _, _ in packets)
    assert [x[2] for x in packets] == sorted(x[2] for x in packets)
    d = Decoder(prof, "sacrum")
    s = concat(d.feed(c, b, ts) for c, b, ts in packets)
    n = len(s)
    assert n >= m - 24  # only a trailing partial packet may be missing
    # quantisation: half an LSB (+ float rounding)
    acc_lsb = max(f.scale for pk in prof.packets for f in pk.fields if f.name == "acc")
    gyr_lsb = max(f.scale for pk in prof.packets for f in pk.fields if f.name == "gyr")
    assert np.abs(s.acc_m_s2 - acc[:n]).max() <= 0.5 * acc_lsb + 1e-5
    assert np.abs(s.gyr_rad_s - gyr[:n]).max() <= 0.5 * gyr_lsb + 1e-6
    # ms timestamps (Movesense) quantise time to 0.5 ms
    assert np.abs(s.t_s - t[:n]).max() < 6e-4
    assert d.stats.malformed_total == 0 and d.stats.lost_samples == 0
    assert d.stats.orphan_acc == 0 and d.stats.orphan_gyr == 0
    # the batch path gives the same numbers
    d2 = Decoder(prof, "sacrum")
    chunks = []
    for char in prof.notify_uuids:
        idx = [i for i, p in enumerate(packets) if p[0] == char]
        if idx:
            chunks.append(
                d2.feed_many(char, [packets[i][1] for i in idx], [packets[i][2] for i in idx])
            )
    if len(prof.notify_uuids) == 1 or not prof.combined:
        s2 = concat(chunks)
        assert np.array_equal(s2.acc_m_s2, s.acc_m_s2)
        assert np.array_equal(s2.t_s, s.t_s)


def test_saturation_is_clipped_not_wrapped():
    # Thingy:52 gyro is Q11.5 in an i16: +-1024 deg/s full scale, within the plausible range
    prof = load_profile("thingy52")
    t = np.arange(3) / 100
    dps = np.pi / 180
    gyr = np.array([[0, 0, 5000 * dps], [0, 0, -5000 * dps], [0, 0, 0]])
    s = concat(
        Decoder(prof, "s").feed(c, b, ts)
        for c, b, ts in encode(prof, t, np.tile([0, 0, G], (3, 1)), gyr, None)
    )
    assert s.gyr_rad_s[0, 2] == pytest.approx(32767 / 32 * dps)
    assert s.gyr_rad_s[1, 2] == pytest.approx(-32768 / 32 * dps)


# ------------------------------------------------------------------ counters and time


def test_counter_wrap_and_loss_counting():
    prof = load_profile("diy_imu")
    d = Decoder(prof, "sacrum")
    zero = [(0, 0, 2048, 0, 0, 0)] * 8
    seqs = [65520, 65528, 0, 8, 24, 32]  # wraps at 65536; 16..23 lost
    out = [
        d.feed(DIY_DATA, diy_packet(s, ((s - 65520) % 65536) * 5000, zero), 1.0 + i * 0.04)
        for i, s in enumerate([65520, 65528, 0, 8, 24, 32])
    ]
    s = concat(out)
    assert s.seq[:8].tolist() == list(range(65520, 65528))
    assert s.seq[16:24].tolist() == list(range(65536, 65544))
    assert s.seq[-1] == 65536 + 39
    assert d.stats.lost_samples == 8
    assert np.all(np.diff(s.t_s) > 0)
    assert len(s) == 8 * len(seqs)


def test_duplicates_and_implausible_jumps_are_dropped():
    prof = load_profile("diy_imu")
    d = Decoder(prof, "sacrum")
    z = [(0,) * 6] * 8
    d.feed(DIY_DATA, diy_packet(0, 0, z), 0.0)
    d.feed(DIY_DATA, diy_packet(8, 40_000, z), 0.04)
    assert d.feed(DIY_DATA, diy_packet(8, 40_000, z), 0.05) is None  # duplicate
    # a corrupted counter far ahead is refused once...
    assert d.feed(DIY_DATA, diy_packet(30000, 80_000, z), 0.08) is None
    # ...and the stream continues where it was
    ch = d.feed(DIY_DATA, diy_packet(16, 80_000, z), 0.08)
    assert ch.seq[0] == 16
    assert d.stats.malformed == {"out_of_order": 1, "implausible_jump": 1}
    assert d.stats.lost_samples == 0


def test_a_confirmed_long_gap_is_followed():
    prof = load_profile("movesense_imu6")
    d = Decoder(prof, "sacrum")
    char = prof.notify_uuids[0]

    def pkt(ts_ms):
        return struct.pack("<BBI", 2, 0x63, ts_ms) + bytes(24 * 4)

    d.feed(char, pkt(1000), 0.0)
    assert d.feed(char, pkt(61000), 60.0) is None  # 60 s ahead: not yet believed
    ch = d.feed(char, pkt(61038), 60.04)  # confirmed by the next packet
    assert ch.t_s[0] == pytest.approx(60.038)
    assert d.stats.resyncs == 1


def test_timestamp_wrap_u32_microseconds():
    prof = load_profile("diy_imu")
    d = Decoder(prof, "sacrum")
    z = [(0,) * 6] * 8
    start = 2**32 - 60_000
    out = [d.feed(DIY_DATA, diy_packet(8 * k, start + 40_000 * k, z), 0.04 * k) for k in range(4)]
    s = concat(out)
    assert s.t_s == pytest.approx(np.arange(32) * 0.005)


def test_timestamp_gap_counts_loss_without_counter():
    prof = load_profile("movesense_imu6")
    char = prof.notify_uuids[0]
    d = Decoder(prof, "sacrum")

    def pkt(ts_ms):
        return struct.pack("<BBI", 2, 0x63, ts_ms) + bytes(24 * 4)

    for ts in (0, 38, 115, 154):  # 4 samples per packet at 104 Hz = 38.5 ms; one packet lost
        d.feed(char, pkt(ts), ts / 1000)
    assert d.stats.lost_samples == 4


def test_receive_nominal_grid_jitter_and_loss():
    prof = load_profile("thingy52")  # 100 Hz, one sample per packet
    char = prof.notify_uuids[0]
    rng = np.random.default_rng(5)
    d = Decoder(prof, "sacrum")
    pkt = struct.pack("<9h", *([0] * 9))
    t_send = np.arange(400) * 0.01
    # BLE delivers in connection events: every packet late by 0-15 ms
    t_recv = t_send + 0.005 + np.round(rng.uniform(0, 0.015, 400) / 0.0075) * 0.0075
    keep = np.ones(400, dtype=bool)
    keep[200:220] = False  # 20 packets lost
    s = concat(d.feed(char, pkt, tr) for tr in t_recv[keep])
    assert len(s) == 380
    assert np.all(np.diff(s.t_s) > 0)
    true_t = t_send[keep] - t_send[0]
    err = s.t_s - true_t
    # good to a few samples (the limitation documented in decode.py)
    assert np.abs(err - np.median(err)).max() < 0.04
    assert d.stats.reanchors >= 1
    assert 15 <= d.stats.lost_samples_estimated <= 25


def test_t0_anchors_the_session_clock():
    prof = load_profile("diy_imu")
    z = [(0,) * 6] * 8
    d = Decoder(prof, "sacrum", t0_s=100.0)
    ch = d.feed(DIY_DATA, diy_packet(0, 5_000_000, z), 102.035)
    # the last sample was taken at about the receive time: 2.035 s into the session
    assert ch.t_s[-1] == pytest.approx(2.035)
    prof2 = load_profile("thingy52")
    d2 = Decoder(prof2, "sacrum", t0_s=100.0)
    ch2 = d2.feed(prof2.notify_uuids[0], bytes(18), 101.5)
    assert ch2.t_s[0] == pytest.approx(1.5)


def test_resync_after_reconnect_keeps_time_monotonic():
    prof = load_profile("diy_imu")
    z = [(0,) * 6] * 8
    d = Decoder(prof, "sacrum")
    a = d.feed(DIY_DATA, diy_packet(5000, 9_000_000, z), 1.0)
    d.resync()  # the firmware restarted: counter and clock from 0
    b = d.feed(DIY_DATA, diy_packet(0, 0, z), 3.0)
    assert b.t_s[0] > a.t_s[-1]
    assert d.stats.malformed_total == 0 and d.stats.lost_samples == 0


# ------------------------------------------------------------------ malformed input


def test_malformed_packets_are_counted_by_reason():
    prof = load_profile("diy_imu")
    d = Decoder(prof, "sacrum")
    good = diy_packet(0, 0, [(1,) * 6] * 8)
    assert d.feed(DIY_DATA, good[:5], 0.0) is None  # shorter than the header
    assert d.feed(DIY_DATA, b"\x00" + good[1:], 0.0) is None  # wrong sync byte
    assert d.feed(DIY_DATA, good + b"\x00", 0.0) is None  # not header + k records
    assert d.feed(DIY_DATA, good[:1] + b"\x07" + good[2:], 0.0) is None  # count says 7
    assert d.feed("00002a19-0000-1000-8000-00805f9b34fb", good, 0.0) is None
    assert d.feed(DIY_DATA, b"", 0.0) is None
    assert d.stats.malformed == {
        "short": 2,
        "no_match": 1,
        "length": 1,
        "count_mismatch": 1,
        "unknown_char": 1,
    }
    assert d.stats.packets == 6 and d.stats.samples == 0
    assert len(d.feed(DIY_DATA.upper(), good, 0.1)) == 8  # UUID case does not matter
    assert d.stats.to_dict()["malformed_total"] == 6


# ------------------------------------------------------------------ batch (vectorised) paths


def _random_delta_frame(rng: np.random.Generator, ref_bytes: int) -> tuple[bytes, list | None]:
    """A delta payload packed by hand (any width 1-32, one to three blocks) and the samples it
    holds; sometimes broken (then None): truncated, zero width, width 33, zero count, or a
    stray trailing byte."""
    lim = 1 << (8 * ref_bytes - 1)
    ref = [int(v) for v in rng.integers(-lim, lim, 3)]
    body = struct.pack(f"<3{ {1: 'b', 2: 'h', 4: 'i'}[ref_bytes] }", *ref)
    samples = [ref]
    for _ in range(rng.integers(0, 4)):
        width = int(rng.integers(1, 33))
        count = int(rng.integers(1, 40))
        lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
        deltas = [[int(v) for v in rng.integers(lo, hi, 3, endpoint=True)] for _ in range(count)]
        body += bytes((width, count)) + _pack_bits_lsb_first(sum(deltas, []), width)
        for dl in deltas:
            samples.append([a + b for a, b in zip(samples[-1], dl, strict=True)])
    fault = rng.integers(8)
    if fault == 0:
        return body[: rng.integers(0, len(body))], None
    if fault == 1:
        return body + bytes((0, 3, 0xFF)), None  # width 0
    if fault == 2:
        return body + bytes((33, 1)) + bytes(13), None  # width 33
    if fault == 3:
        return body + bytes((4, 0)), None  # count 0
    if fault == 4:
        return body + b"\x05", None  # a lone byte where a block header should be
    return body, samples


@pytest.mark.parametrize("ref_bytes", [1, 2, 4])
def test_polar_delta_decode_many_equals_frame_by_frame(ref_bytes):
    from imu_monitor.devices.packet_layout import polar_delta_decode_many

    rng = np.random.default_rng(10 + ref_bytes)
    frames = [_random_delta_frame(rng, ref_bytes) for _ in range(300)]
    # frames with a few unrelated bytes between them, as headers in a joined batch buffer
    blob, starts = b"", []
    for body, _ in frames:
        blob += bytes(rng.integers(0, 256, rng.integers(0, 11), dtype=np.uint8))
        starts.append(len(blob))
        blob += body
    starts = np.array(starts)
    ends = starts + np.array([len(b) for b, _ in frames])
    raw, counts = polar_delta_decode_many(np.frombuffer(blob, np.uint8), starts, ends, 3, ref_bytes)
    per_frame = [polar_delta_decode(b, 3, ref_bytes) for b, _ in frames]
    assert counts.tolist() == [0 if r is None else len(r) for r in per_frame]
    assert sum(r is None for r in per_frame) > 50 and sum(r is not None for r in per_frame) > 100
    for (_, want), got in zip(frames, per_frame, strict=True):  # the reference decoder is right
        if want is not None:
            assert got.tolist() == want
    assert np.array_equal(raw, np.concatenate([r for r in per_frame if r is not None]))
    # nothing valid, and a bad reference size
    raw0, c0 = polar_delta_decode_many(np.zeros(4, np.uint8), np.array([0]), np.array([4]), 3, 2)
    assert raw0.shape == (0, 3) and c0.tolist() == [0]
    _, c3 = polar_delta_decode_many(np.zeros(40, np.uint8), np.array([0]), np.array([40]), 3, 3)
    assert c3.tolist() == [0]


def _polar_frame(kind: int, ts_ns: int, raw: np.ndarray) -> bytes:
    head = bytes((0x02 if kind == 0 else 0x05,)) + struct.pack("<Q", ts_ns)
    return head + bytes((0x81 if kind == 0 else 0x80,)) + polar_delta_encode(raw, 2)


def _feed_vs_feed_many(prof, packets):
    """Decode the same notifications one ``feed`` at a time and with one ``feed_many`` per
    characteristic (in order of first appearance: the first packet anchors the time base);
    returns both (series, stats)."""
    d1 = Decoder(prof, "sacrum")
    s1 = concat(d1.feed(c, b, t) for c, b, t in packets)
    d2 = Decoder(prof, "sacrum")
    chunks = []
    for char in dict.fromkeys(p[0] for p in packets):
        sel = [p for p in packets if p[0] == char]
        chunks.append(d2.feed_many(char, [p[1] for p in sel], [p[2] for p in sel]))
    return (s1, d1.stats), (concat(chunks), d2.stats)


def test_polar_feed_many_equals_feed_with_varied_and_broken_frames():
    """The batch path (all frames of a kind decoded together, equal-size runs emitted together)
    gives the per-frame path's samples, times and counts: frames of varying sample counts,
    gyro first, broken frames, a duplicate, the control-point reply."""
    prof = load_profile("polar_verity_sense")
    ctrl, data = prof.notify_uuids
    rng = np.random.default_rng(5)
    packets = [(ctrl, bytes.fromhex("f002020000"), 0.0)]
    t_ns = {0: 1_000_000_000, 1: 1_000_000_000 + 3_000_000}
    for k in range(120):
        for kind in (1, 0) if k % 2 else (0, 1):
            n = int(rng.choice([12, 12, 12, 7, 36]))
            # a random walk kept within a gyro's +-2000 deg/s (plausible: not dropped)
            raw = np.clip(np.cumsum(rng.integers(-400, 400, (n, 3)), axis=0), -2000, 2000)
            t_ns[kind] += round(n / prof.rate_hz * 1e9)
            frame = _polar_frame(kind, t_ns[kind], raw)
            t_recv = t_ns[kind] * 1e-9 + 0.02
            if k == 40 and kind == 0:
                packets.append((data, frame[:-2], t_recv))  # truncated: malformed
                continue
            packets.append((data, frame, t_recv))
            if k == 60 and kind == 1:
                packets.append((data, frame, t_recv))  # a duplicate: out of order
    (s1, st1), (s2, st2) = _feed_vs_feed_many(prof, packets)
    assert len(s1) > 1500
    assert np.array_equal(s2.acc_m_s2, s1.acc_m_s2)
    assert np.array_equal(s2.gyr_rad_s, s1.gyr_rad_s)
    assert np.array_equal(s2.t_s, s1.t_s)
    assert st2.to_dict() == st1.to_dict()
    assert st1.malformed == {"bad_delta_frame": 1, "out_of_order": 1} and st1.ignored == 1


@pytest.mark.parametrize("name", ["metamotion", "arduino_nano33_sj"])
def test_paired_profiles_feed_many_equals_feed(name):
    """Separate acc and gyro messages: pairing the two streams' arrays in one batch gives the
    per-message path's samples and times, also when the gyro message of a cycle comes first."""
    prof = load_profile(name)
    rng = np.random.default_rng(7)
    m = int(prof.rate_hz * 20)
    t = np.arange(m) / prof.rate_hz
    packets = encode(prof, t, rng.normal(0, 5, (m, 3)), rng.normal(0, 1, (m, 3)), None)
    jitter = rng.uniform(0.0, 0.3 / prof.rate_hz, len(packets))
    packets = [(c, b, ts + 0.5 + j) for (c, b, ts), j in zip(packets, jitter, strict=True)]
    # gyro before acc in the first cycle and then every 7th, as a device may send them
    for i in range(0, len(packets) - 1, 14):
        packets[i], packets[i + 1] = packets[i + 1], packets[i]
    (s1, st1), (s2, st2) = _feed_vs_feed_many(prof, packets)
    assert len(s1) >= m - 2
    assert np.array_equal(s2.acc_m_s2, s1.acc_m_s2)
    assert np.array_equal(s2.gyr_rad_s, s1.gyr_rad_s)
    assert np.allclose(s2.t_s, s1.t_s, rtol=0, atol=1e-9)
    assert st2.to_dict() == st1.to_dict()
