"""Fuzzing the decoders: random and mutated packets never raise, are counted, and valid packets
interleaved with garbage still decode to the same samples.

Per profile: hypothesis draws batches of random packets (25 examples x up to 200 packets) and a
seeded loop mutates valid packets (bit flips, truncation, extension, splices): well over 10,000
packets per profile in a few seconds.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imu_monitor.devices.decode import Decoder, encode
from imu_monitor.devices.profiles import Profile, list_profiles, load_profile
from imu_monitor.model import SensorSeries

NAMES = sorted(p.name for p in list_profiles())


def _valid_packets(prof: Profile, seconds: float = 4.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    m = int(prof.rate_hz * seconds)
    t = np.arange(m) / prof.rate_hz
    return encode(prof, t, rng.normal(0, 5, (m, 3)), rng.normal(0, 1, (m, 3)), None)


def _check_chunk(ch) -> None:
    if ch is None:
        return
    n = len(ch)
    assert ch.acc_m_s2.shape == (n, 3) and ch.gyr_rad_s.shape == (n, 3)
    assert np.isfinite(ch.acc_m_s2).all() and np.isfinite(ch.gyr_rad_s).all()
    assert np.isfinite(ch.t_s).all()
    if ch.seq is not None:
        assert ch.seq.shape == (n,)


def _cannot_match(prof: Profile, char: str, data: bytes) -> bool:
    """True if ``data`` has a length no packet kind on ``char`` accepts and a first byte no
    header or ignore rule starts with: it must be counted as malformed."""
    starts = {h[0] for pk in prof.packets if pk.char_uuid == char for o, h in pk.match if o == 0}
    starts |= {h[0] for ig in prof.ignore if ig.char_uuid == char for o, h in ig.match if o == 0}
    headless = any(
        pk.char_uuid == char and not any(o == 0 for o, _ in pk.match) for pk in prof.packets
    )
    if data and data[0] in starts:
        return False
    for ig in prof.ignore:  # rules that look past byte 0 (MetaMotion module info: byte 1 = 80)
        if ig.char_uuid == char and all(data[o : o + len(h)] == h for o, h in ig.match):
            return False
    if headless:
        for pk in prof.packets:
            if pk.char_uuid != char or pk.compression:
                continue
            body = len(data) - pk.data_offset
            if body > 0 and body % pk.sample_nbytes == 0:
                return False
    return True


@pytest.mark.parametrize("name", NAMES)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: CI must not fail by chance
)
@given(data=st.data())
def test_random_packets_never_raise(name, data):
    prof = load_profile(name)
    chars = [*prof.notify_uuids, "00002a19-0000-1000-8000-00805f9b34fb"]
    batch = data.draw(
        st.lists(
            st.tuples(st.sampled_from(chars), st.binary(min_size=0, max_size=260)),
            min_size=200,
            max_size=200,
        )
    )
    d = Decoder(prof, "sacrum")
    for i, (char, payload) in enumerate(batch):
        _check_chunk(d.feed(char, payload, i * 0.01))
    s = d.stats
    assert s.packets == len(batch)
    # every packet is accounted for: decoded, malformed, ignored, or held for pairing
    unknown = sum(1 for c, _ in batch if c not in prof.notify_uuids)
    assert s.malformed.get("unknown_char", 0) == unknown
    if prof.framing:  # a byte stream: every byte is a frame's, skipped, or still pending
        fr = prof.framing[0]
        framed = sum(len(p) for c, p in batch if c == fr.char_uuid)
        frames = d._assembler.framers[fr.char_uuid]
        # (a frame whose values no sensor can read, as garbage with a valid header, is
        # counted as implausible)
        implausible = s.malformed.get("implausible", 0)
        assert (
            s.samples * fr.frame_length
            + s.ignored * fr.frame_length
            + implausible * fr.frame_length
            + s.skipped_bytes
            + (frames.pending)
            == framed
        )
        return
    must_fail = sum(1 for c, p in batch if c in prof.notify_uuids and _cannot_match(prof, c, p))
    assert s.malformed_total - unknown >= must_fail


@pytest.mark.parametrize("name", NAMES)
def test_garbage_interleaved_with_valid_packets(name):
    """Garbage that cannot be a packet is counted and does not disturb the valid stream."""
    prof = load_profile(name)
    valid = _valid_packets(prof, seed=1)
    rng = np.random.default_rng(2)
    clean = Decoder(prof, "sacrum")
    ref = SensorSeries.concat([c for c in (clean.feed(*p) for p in valid) if c is not None])
    mixed = []
    n_garbage = 0
    cont = prof.continuation
    framed = {fr.char_uuid: fr.sync for fr in prof.framing}
    for char, payload, t in valid:
        mixed.append((char, payload, t))
        if any(c.char_uuid == char and len(payload) == c.split_length for c in cont):
            continue  # the firmware sends a split packet's two parts back to back
        for _ in range(rng.integers(0, 4)):
            while True:
                g = rng.integers(0, 256, rng.integers(0, 120), dtype=np.uint8).tobytes()
                gchar = prof.notify_uuids[rng.integers(len(prof.notify_uuids))]
                if _cannot_match(prof, gchar, g) and not (gchar in framed and framed[gchar] in g):
                    break  # (framed: no sync byte in garbage, else it could start a frame)
            mixed.append((gchar, g, t))
            n_garbage += 1
    d = Decoder(prof, "sacrum")
    got = SensorSeries.concat([c for c in (d.feed(*p) for p in mixed) if c is not None])
    if framed:  # a byte stream: garbage bytes are skipped and counted as bytes
        n_bytes = sum(len(g) for c, g, _ in mixed if c in framed) - sum(
            len(p) for c, p, _ in valid if c in framed
        )
        assert d.stats.skipped_bytes == n_bytes
    else:
        assert d.stats.malformed_total == n_garbage
    assert len(got) == len(ref)
    assert np.array_equal(got.acc_m_s2, ref.acc_m_s2)
    assert np.array_equal(got.gyr_rad_s, ref.gyr_rad_s)
    assert np.allclose(got.t_s, ref.t_s)


@pytest.mark.parametrize("name", NAMES)
def test_mutated_valid_packets_seeded(name):
    """12,000 mutations of valid packets per profile: never raise, output stays sane, and a
    clean stream afterwards (after resync) decodes completely."""
    prof = load_profile(name)
    valid = _valid_packets(prof, seconds=2.0, seed=3)
    rng = np.random.default_rng(4)
    d = Decoder(prof, "sacrum")
    t = 0.0
    n_mut = 12_000
    for _i in range(n_mut):
        char, payload, _ = valid[rng.integers(len(valid))]
        b = bytearray(payload)
        kind = rng.integers(6)
        if kind == 0 and b:  # flip bits
            for _ in range(rng.integers(1, 4)):
                j = rng.integers(len(b))
                b[j] ^= 1 << rng.integers(8)
        elif kind == 1:  # truncate
            b = b[: rng.integers(0, len(b) + 1)]
        elif kind == 2:  # extend
            b += rng.integers(0, 256, rng.integers(1, 30), dtype=np.uint8).tobytes()
        elif kind == 3 and len(b) > 4:  # overwrite a run with 0xff (NaN floats, big ints)
            j = rng.integers(len(b) - 4)
            b[j : j + 4] = b"\xff\xff\xff\xff"
        elif kind == 4:  # splice two packets
            other = valid[rng.integers(len(valid))][1]
            cut = rng.integers(0, min(len(b), len(other)) + 1)
            b = b[:cut] + other[cut:]
        # kind 5: unchanged (valid, possibly out of order)
        t += 0.005
        _check_chunk(d.feed(char, bytes(b), t))
    assert d.stats.packets == n_mut
    assert d.stats.malformed_total > 0
    # the decoder still works: a clean stream after a resync decodes completely
    d.resync()
    got = [d.feed(c, p, t + 1.0 + ts) for c, p, ts in valid]
    s = SensorSeries.concat([c for c in got if c is not None])
    ref = SensorSeries.concat(
        [c for c in (Decoder(prof, "x").feed(*p) for p in valid) if c is not None]
    )
    assert len(s) >= len(ref) - 2 * (prof.samples_per_notification or 12)
    assert np.all(np.diff(s.t_s) > 0)
