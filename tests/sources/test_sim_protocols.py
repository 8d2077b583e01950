"""The simulated wearables speak their vendors' protocols both ways (``sources.sim.protocols``),
driven through bleak's public API: replies and error replies, register replies mixed into a
split byte stream, chip-specific registers, packets split at the real MTU. A profile that
ignores these loses data."""

from __future__ import annotations

import dataclasses

import pytest
from bleak import BleakClient

from imu_monitor.devices.decode import Decoder
from imu_monitor.devices.profiles import Profile, load_profile
from imu_monitor.sources.sim import SimClient, SimClock, SimDevice, SimWorld, protocols
from imu_monitor.sources.sim.protocols import WIT_NOTIFY, WIT_WRITE, PolarPmd
from tests.sources.virtual_time import VirtualTime, run_virtual

SPEED = 50.0


def world_with(profile: str | Profile, **device_options) -> tuple[SimWorld, SimDevice]:
    prof = profile if isinstance(profile, Profile) else load_profile(profile)
    world = SimWorld(SimClock(SPEED))
    world.add_person("p1", rate_hz=prof.rate_hz, reps=1, faulty=0)
    dev = world.add_device(profile=prof, **device_options)
    return world, dev


def record(world: SimWorld, dev: SimDevice, prof: Profile, sim_s: float, extra=()) -> list:
    """Notifications (uuid, bytes, receive time s) in the first ``sim_s`` simulated seconds
    after subscribing and sending ``prof``'s start writes (no reply handling: the raw
    conversation) and the ``extra`` writes. On virtual time (``tests.sources.virtual_time``):
    everything the device sends by then has arrived, however loaded the machine is."""
    got: list[tuple[str, bytes, float]] = []
    vt = VirtualTime()
    world.clock = SimClock(SPEED, time_fn=vt.time)

    async def go():
        async with BleakClient(dev.address, backend=SimClient, sim_world=world) as client:
            for u in prof.notify_uuids:
                await client.start_notify(
                    u, lambda c, d: got.append((c.uuid, bytes(d), world.clock.now()))
                )
            for w in (*prof.start_writes, *extra):
                await client.write_gatt_char(w.char_uuid, w.data, response=w.response)
            await world.clock.sleep(sim_s)

    run_virtual(vt, go())
    return got


def decode(prof: Profile, notes: list) -> Decoder:
    dec = Decoder(prof, "sacrum")
    for u, d, t in notes:
        dec.feed(u, d, t)
    return dec


@pytest.mark.parametrize(
    ("request_hex", "status"),
    [
        ("02 02 00 01 34 00 01 01 10 00 02 01 08 00 04 01 03", 0),
        ("02 02 00 01 c8 00", 8),  # 200 Hz: ERROR_INVALID_SAMPLE_RATE
        ("02 02 01 01 0c 00", 7),  # 12 bit: ERROR_INVALID_RESOLUTION
        ("02 02 02 01 03 00", 9),  # +-3 g: ERROR_INVALID_RANGE
        ("02 02 04 01 02", 11),  # 2 channels: ERROR_INVALID_NUMBER_OF_CHANNELS
        ("02 02 00 01 34", 4),  # truncated setting: ERROR_INVALID_LENGTH
        ("02 07", 3),  # skin temperature: ERROR_NOT_SUPPORTED here
        ("0a 02", 1),  # ERROR_INVALID_OP_CODE
        ("03 02", 6),  # stop what is not running: ERROR_ALREADY_IN_STATE
    ],
)
def test_polar_answers_each_request_with_the_vendor_status(request_hex, status):
    pmd = PolarPmd()
    data = bytes.fromhex(request_hex)
    (reply,), accepted = pmd.on_write("fb005c81-02e7-f387-1cad-8acd2d8df0c8", data, False)
    assert reply[1] == bytes([0xF0, data[0], data[1] & 0x3F, status, 0])
    assert accepted == (status == 0)


def test_polar_refuses_to_start_a_running_measurement():
    pmd = PolarPmd()
    cp = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
    assert pmd.on_write(cp, bytes.fromhex("02 02 00 01 34 00"), False)[1]
    (reply,), accepted = pmd.on_write(cp, bytes.fromhex("02 02 00 01 34 00"), True)
    assert reply[1][3] == 6 and not accepted  # ERROR_ALREADY_IN_STATE


def test_witmotion_register_replies_mixed_into_a_split_stream_are_skipped_not_decoded():
    prof = load_profile("witmotion_wt901ble")
    options = {"poll_every_s": 0.1, "chunk_bytes": (7, 45)}
    world, dev = world_with(prof, protocol_options=options)
    read_mag = dataclasses.replace(
        prof.start_writes[0], char_uuid=WIT_WRITE, data=bytes.fromhex("ff aa 27 3a 00")
    )
    notes = record(world, dev, prof, 1.0, extra=[read_mag])
    stream = b"".join(d for u, d, _ in notes if u == WIT_NOTIFY)
    sizes = {len(d) for _, d, _ in notes}
    assert len(sizes) > 3 and any(not d.startswith(b"\x55") for _, d, _ in notes)  # split frames
    frames = [stream[i : i + 20] for i in range(0, len(stream) - len(stream) % 20, 20)]
    data = [f for f in frames if f[:2] == b"\x55\x61"]
    replies = [f for f in frames if f[:2] == b"\x55\x71"]
    assert len(data) + len(replies) == len(frames) and len(replies) >= 5
    # the manual's example reply for the magnetometer register (x 360, y 105, z 122)
    assert bytes.fromhex("55 71 3a 00 68 01 69 00 7a 00") + bytes(10) in replies
    dec = decode(prof, notes)
    assert dec.stats.samples == len(data)  # every sample the vendor parser keeps
    assert dec.stats.ignored == len(replies) and dec.stats.malformed_total == 0
    # a profile that reads each notification on its own loses samples and decodes garbage
    naive = decode(dataclasses.replace(prof, framing=()), notes)
    assert naive.stats.samples < len(data) and naive.stats.malformed_total > 0


def test_a_bmi270_board_sends_gyro_on_its_own_register():
    prof = load_profile("metamotion")
    bmi160 = next(v.profile for v in prof.variants if v.name == "bmi160")
    bmi270 = next(v.profile for v in prof.variants if v.name == "bmi270")
    # a MetaMotion S (BMI270) running the BMI160 start sequence of a profile without variants
    world, dev = world_with(
        dataclasses.replace(bmi160, variants=(), probe=None), protocol_options={"chip": "bmi270"}
    )
    notes = record(world, dev, bmi160, 1.0)
    heads = {d[:2] for _, d, _ in notes}
    assert b"\x13\x04" in heads and b"\x13\x05" not in heads
    assert decode(bmi160, notes).stats.samples == 0  # no gyro: no complete sample
    assert decode(bmi270, notes).stats.samples > 50


def test_movesense_sends_its_packets_split_at_the_mtu_it_negotiates():
    prof = load_profile("movesense_imu6")
    world, dev = world_with(prof)
    assert dev.mtu_size == 161
    notes = record(world, dev, prof, 1.0)
    assert max(len(d) for _, d, _ in notes) <= 161 - 3
    parts = [d for _, d, _ in notes if d[:2] == b"\x03\x63"]
    firsts = sum(1 for _, d, _ in notes if d[:2] == b"\x02\x63")
    assert parts and firsts - len(parts) in (0, 1)  # the recording may end between the two
    dec = decode(prof, notes)
    assert dec.stats.samples == dev.stats.samples_sent > 0 and dec.stats.malformed_total == 0
    naive = decode(dataclasses.replace(prof, continuation=()), notes)
    assert naive.stats.samples < dev.stats.samples_sent


def test_movesense_hello_and_metawear_module_info_replies():
    ms = protocols.Movesense()
    (reply,), _ = ms.on_write("34800001-7185-4d5d-b431-630e7050e8f0", bytes([0, 0x63]), False)
    assert reply == (protocols.MOVESENSE_DATA, bytes([1, 0x63]) + b"Hello")
    for chip, acc, gyro in (
        ("bmi160", "03 80 01 01", "13 80 00 01"),
        ("bmi270", "03 80 04 00", "13 80 01 00"),
    ):
        mw = protocols.MetaWear(chip)
        cmd = "326a9001-85cb-9195-d9dd-464cfbbae75a"
        assert mw.on_write(cmd, bytes.fromhex("03 80"), False)[0][0][1] == bytes.fromhex(acc)
        assert mw.on_write(cmd, bytes.fromhex("13 80"), False)[0][0][1] == bytes.fromhex(gyro)
        assert mw.on_write(cmd, bytes.fromhex("10 80"), False)[0][0][1] == bytes.fromhex("10 80")
