"""The simulated wearable as a bleak backend, driven through bleak's public API only."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from bleak import BleakClient, BleakScanner
from bleak.exc import BleakError

from imu_monitor.devices.decode import Decoder
from imu_monitor.devices.profiles import list_profiles, load_profile, match_profile
from imu_monitor.errors import SimError
from imu_monitor.sources.sim import SimClient, SimClock, SimFaults, SimScanner, SimWorld, make_world
from tests.sources.virtual_time import VirtualTime, run_virtual

SPEED = 50.0


def run(world: SimWorld, coro):
    """Run ``coro`` with ``world`` on virtual time (``tests.sources.virtual_time``): what the
    simulated devices do by a simulated time has all happened when a test's wait for that time
    ends, however loaded the machine is."""
    vt = VirtualTime()
    world.clock = SimClock(SPEED, time_fn=vt.time)
    return run_virtual(vt, coro)


def world_of(placements=("sacrum",), faults=None, profile="diy_imu", **kw) -> SimWorld:
    kw.setdefault("reps", 1)
    kw.setdefault("faulty", 0)
    return make_world(profile=profile, placements=placements, speed=SPEED, faults=faults, **kw)


async def wait_sim(world: SimWorld, dt_s: float) -> None:
    await world.clock.sleep(dt_s)


def test_advertises_like_the_profile_says():
    world = world_of(("sacrum", "upper_lumbar"))
    prof = load_profile("diy_imu")

    async def go():
        return await BleakScanner.discover(
            timeout=0.05, return_adv=True, backend=SimScanner, sim_world=world
        )

    found = run(world, go())
    assert set(found) == set(world.devices)
    for addr, (bd, adv) in found.items():
        dev = world.devices[addr]
        assert bd.name == adv.local_name == dev.name
        assert adv.service_uuids == list(prof.service_uuids)
        assert adv.rssi == dev.rssi < 0
        assert match_profile(adv.local_name, []).name == "diy_imu"  # the name alone fits
        assert match_profile(None, adv.service_uuids).name == "diy_imu"


def test_scanner_service_filter_hides_other_devices():
    world = world_of()

    async def go():
        return await BleakScanner.discover(
            timeout=0.05,
            backend=SimScanner,
            sim_world=world,
            service_uuids=["0000feed-0000-1000-8000-00805f9b34fb"],
        )

    assert run(world, go()) == []


def test_streams_only_after_subscription_and_start_writes_and_stops_on_stop_write():
    world = world_of()
    dev = next(iter(world.devices.values()))
    prof = dev.profile
    got: list[bytes] = []

    async def go():
        async with BleakClient(dev.address, backend=SimClient, sim_world=world) as client:
            chars = {c.uuid for c in client.services.characteristics.values()}
            assert set(prof.notify_uuids) <= chars
            assert {w.char_uuid for w in prof.start_writes} <= chars
            await client.start_notify(prof.notify_uuids[0], lambda c, d: got.append(bytes(d)))
            await wait_sim(world, 0.5)
            assert got == []  # subscribed but not started: the firmware waits
            for w in prof.start_writes:
                await client.write_gatt_char(w.char_uuid, w.data, response=w.response)
            await wait_sim(world, 1.0)
            assert len(got) > 10
            for w in prof.stop_writes:
                await client.write_gatt_char(w.char_uuid, w.data, response=w.response)
            n = len(got)
            await wait_sim(world, 0.5)
            assert len(got) == n

    run(world, go())


def test_notifications_carry_the_simulated_motion_in_the_profile_layout():
    world = world_of()
    dev = next(iter(world.devices.values()))
    prof = dev.profile
    dec = Decoder(prof, "sacrum")
    chunks = []

    async def go():
        async with BleakClient(dev.address, backend=SimClient, sim_world=world) as client:

            def on(char, data):
                c = dec.feed(char.uuid, bytes(data), world.clock.now())
                if c is not None:
                    chunks.append(c)

            await client.start_notify(prof.notify_uuids[0], on)
            for w in prof.start_writes:
                await client.write_gatt_char(w.char_uuid, w.data, response=w.response)
            await wait_sim(world, 2.0)

    run(world, go())
    seq = np.concatenate([c.seq for c in chunks])
    acc = np.concatenate([c.acc_m_s2 for c in chunks])
    gyr = np.concatenate([c.gyr_rad_s for c in chunks])
    assert np.all(np.diff(seq) == 1) and dec.stats.lost_samples == 0
    series = dev.person.recording.series["sacrum"]
    rows = dev.person.index(seq)
    # i16 quantisation: 1/2048 g and 1/16.4 deg/s per LSB
    assert np.abs(acc - series.acc_m_s2[rows]).max() < 9.81 / 2048
    assert np.abs(gyr - series.gyr_rad_s[rows]).max() < np.radians(1 / 16.4)


def test_alert_writes_are_recorded():
    world = world_of()
    dev = next(iter(world.devices.values()))
    prof = dev.profile

    async def go():
        async with BleakClient(dev.address, backend=SimClient, sim_world=world) as client:
            for w in prof.alerts["extension"]:
                await client.write_gatt_char(w.char_uuid, w.data, response=w.response)
            for w in prof.alerts["off"]:
                await client.write_gatt_char(w.char_uuid, w.data, response=w.response)

    run(world, go())
    assert [d for _, d in dev.alerts] == ["extension", "off"]


def test_link_loss_fires_disconnect_and_device_vanishes_for_a_while():
    world = world_of(faults=SimFaults(link_loss_at_s=(0.5,), link_down_s=2.0))
    dev = next(iter(world.devices.values()))
    prof = dev.profile

    async def go():
        event = asyncio.Event()
        client = BleakClient(
            dev.address,
            disconnected_callback=lambda c: event.set(),
            backend=SimClient,
            sim_world=world,
        )
        await client.connect()
        await client.start_notify(prof.notify_uuids[0], lambda c, d: None)
        for w in prof.start_writes:
            await client.write_gatt_char(w.char_uuid, w.data, response=w.response)
        await asyncio.wait_for(event.wait(), 5.0)
        assert not client.is_connected and not dev.advertising
        seen = await BleakScanner.find_device_by_address(
            dev.address, timeout=0.01, backend=SimScanner, sim_world=world
        )
        assert seen is None  # gone while the link is down
        seen = await BleakScanner.find_device_by_address(
            dev.address, timeout=5.0, backend=SimScanner, sim_world=world
        )
        assert seen is not None and dev.advertising  # back after link_down_s

    run(world, go())
    assert dev.stats.link_losses == 1


def test_own_disconnect_also_fires_the_callback_like_bluez():
    world = world_of()
    dev = next(iter(world.devices.values()))
    calls = []

    async def go():
        client = BleakClient(
            dev.address, disconnected_callback=calls.append, backend=SimClient, sim_world=world
        )
        await client.connect()
        await client.disconnect()

    run(world, go())
    assert len(calls) == 1 and dev.advertising


def test_faults_are_counted_by_the_device():
    world = world_of(faults=SimFaults(drop_fraction=0.1, garbage_fraction=0.1, short_fraction=0.1))
    dev = next(iter(world.devices.values()))
    prof = dev.profile
    n = []

    async def go():
        async with BleakClient(dev.address, backend=SimClient, sim_world=world) as client:
            await client.start_notify(prof.notify_uuids[0], lambda c, d: n.append(len(d)))
            for w in prof.start_writes:
                await client.write_gatt_char(w.char_uuid, w.data, response=w.response)
            await wait_sim(world, 4.0)

    run(world, go())
    s = dev.stats
    assert s.dropped > 0 and s.garbage > 0 and s.short > 0
    assert len(n) == s.notifications - s.dropped


def test_looping_keeps_the_motion_continuous():
    world = world_of(reps=2, faulty=1)
    person = world.people["p1"]
    k1 = person.loop_k1
    assert 0 < person.loop_k0 < k1 <= person.n
    k = np.arange(k1 - 3, k1 + 3)
    rows = person.index(k)
    assert list(rows[:3]) == [k1 - 3, k1 - 2, k1 - 1]
    assert list(rows[3:]) == [person.loop_k0, person.loop_k0 + 1, person.loop_k0 + 2]
    acc, gyr = person.samples("sacrum", k1 - 1, k1 + 1)
    # both ends are the person at rest in the start position: only noise differs
    assert np.linalg.norm(acc[1] - acc[0]) < 0.3  # m/s^2 (noise 0.02 rms per axis)
    assert np.linalg.norm(gyr[1] - gyr[0]) < 0.05  # rad/s


@pytest.mark.parametrize("exercise", ["hip-thrust", "glute-bridge"])
def test_a_hip_thrust_or_bridge_loops_between_rests_that_match(exercise):
    """A hip thrust's rests between reps lie up to 17 deg apart (each rep's depth varies):
    looped from the final rest back to the first rep, seed 2's sacrum jumped 17 deg (the
    bridge's 11), which no gyro reading accounts for. The loop now runs between the two rests
    nearest each other, over at least three reps and a lumbar fault."""
    from imu_monitor.model import LUMBAR_FAULTS
    from imu_monitor.sources.sim.person import SimPerson

    person = SimPerson("p", exercise=exercise, seed=2, reps=10, faulty=4)
    truth, t = person.recording.truth, person.recording.series["sacrum"].t_s
    pitch = truth.segment_pitch_deg["sacrum"]
    k0, k1 = person.loop_k0, person.loop_k1
    jump = np.interp(t[k1 - 1], truth.t_s, pitch) - np.interp(t[k0], truth.t_s, pitch)
    assert abs(jump) < 1.5
    looped = [r for r in truth.reps if t[k0] <= r.t_start_s < t[k1 - 1]]
    assert len(looped) >= 3 and any(r.fault in LUMBAR_FAULTS for r in looped)


def test_two_sensors_share_one_simulated_session():
    world = world_of(("sacrum", "upper_lumbar"))
    person = world.people["p1"]
    assert set(person.recording.series) == {"sacrum", "upper_lumbar"}
    devs = list(world.devices.values())
    assert {d.placement for d in devs} == {"sacrum", "upper_lumbar"}
    assert all(d.person is person for d in devs)


def test_world_setup_errors_name_the_problem():
    world = SimWorld(SimClock(speed=10))
    with pytest.raises(SimError, match="no simulated person 'nobody'"):
        world.add_device(person="nobody")
    world.add_person("p1", reps=1, faulty=0, rate_hz=100.0, motion="ramps")
    with pytest.raises(SimError, match="100.0 Hz but profile diy_imu streams at 200.0 Hz"):
        world.add_device(person="p1", profile="diy_imu")
    with pytest.raises(SimError, match="wears no 'thigh' sensor"):
        world.add_device(person="p1", profile="thingy52", placement="thigh")


@pytest.mark.parametrize("profile", [p.name for p in list_profiles()])
def test_every_profile_can_be_simulated(profile):
    world = world_of(profile=profile)
    dev = next(iter(world.devices.values()))
    prof = dev.profile
    assert prof.matches(dev.name, dev.advertisement().service_uuids)
    chars = {c.uuid for c in dev.gatt().characteristics.values()}
    assert set(prof.notify_uuids) <= chars
    received: list[tuple[str, bytes, float]] = []

    async def go():
        async with BleakClient(dev.address, backend=SimClient, sim_world=world) as client:
            for u in prof.notify_uuids:
                await client.start_notify(
                    u, lambda c, d: received.append((c.uuid, bytes(d), world.clock.now()))
                )
            for w in prof.start_writes:
                await client.write_gatt_char(w.char_uuid, w.data, response=w.response)
            await wait_sim(world, max(1.0, 30 / prof.rate_hz))

    run(world, go())
    dec = Decoder(prof, "sacrum")
    for uuid, payload, t_rx in received:
        dec.feed(uuid, payload, t_rx)
    assert dec.stats.samples > 0 and dec.stats.malformed_total == 0


# ------------------------------------------------------------------------------------ battery

BATTERY = "00002a19-0000-1000-8000-00805f9b34fb"


def test_battery_is_served_readable_and_notifying_and_drains():
    world = world_of()
    dev = next(iter(world.devices.values()))
    dev.battery_drain_s = 2.0
    start = dev.battery_level(0.0)
    assert 60 <= start <= 100
    char = dev.gatt().get_characteristic(BATTERY)
    assert char is not None and set(char.properties) == {"read", "notify"}
    assert dev.gatt().get_service("0000180f-0000-1000-8000-00805f9b34fb") is not None
    notified: list[tuple[int, float]] = []

    async def go():
        async with BleakClient(dev.address, backend=SimClient, sim_world=world) as client:
            first = await client.read_gatt_char(BATTERY)
            await client.start_notify(
                BATTERY, lambda c, d: notified.append((d[0], world.clock.now()))
            )
            await wait_sim(world, 7.0)
            return first, await client.read_gatt_char(BATTERY)

    first, last = run(world, go())
    assert len(first) == 1 and first[0] == start
    assert [n for n, _ in notified] == [start - 1, start - 2, start - 3]
    assert all(abs(t - 2.0 * (i + 1)) < 0.5 for i, (_, t) in enumerate(notified))
    assert last[0] == start - 3


def test_battery_level_is_seeded_and_stops_at_zero():
    a = next(iter(world_of(seed=1).devices.values()))
    b = next(iter(world_of(seed=1).devices.values()))
    levels = {next(iter(world_of(seed=s).devices.values())).battery_level(0.0) for s in range(8)}
    assert a.battery_level(0.0) == b.battery_level(0.0) and len(levels) > 1
    assert all(60 <= x <= 100 for x in levels)
    assert a.battery_level(1e9) == 0


def test_battery_read_fault_and_profile_without_battery():
    world = world_of(faults=SimFaults(battery_read_fails=True))
    dev = next(iter(world.devices.values()))
    plain = next(iter(world_of(profile="witmotion_wt901ble").devices.values()))
    assert plain.profile.battery_uuid is None
    assert plain.gatt().get_characteristic(BATTERY) is None

    async def go():
        async with BleakClient(dev.address, backend=SimClient, sim_world=world) as client:
            with pytest.raises(BleakError, match="injected"):
                await client.read_gatt_char(BATTERY)

    run(world, go())
    with pytest.raises(SimError, match="0-100"):
        world.add_device(person="p1", profile="diy_imu", battery_pct=120)
