"""The production BLE client over a real BLE protocol stack (Bumble, on a virtual link in this
process): scan, connect, GATT discovery, notifications into the pipeline, alert writes,
link loss with reconnection, and a clean disconnect."""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pytest

pytest.importorskip(
    "bumble", reason="bumble is not installed (pip install bumble); the BLE stack test needs it"
)

from bleak import BleakClient, BleakScanner  # noqa: E402

from imu_monitor.devices.profiles import load_profile
from imu_monitor.processing.pipeline import Pipeline
from imu_monitor.sources.ble import (  # noqa: E402
    BleSource,
    ReconnectPolicy,
    SensorTarget,
    scan_devices,
)
from imu_monitor.sources.sim import SimClock
from tests.sources.bumble_harness import (
    REQUESTED_MTU,
    BumbleAir,
    BumbleClient,
    BumbleScanner,
    bumble_backend,
)

G = 9.80665
SPEED = 4.0
"""Simulated seconds per host second."""
STREAM_S = 6.0
"""Simulated seconds of 200 Hz data the main test streams."""
WAIT_S = 10.0
"""Host seconds any single wait may take before the test fails."""


def _air(**peripheral: object) -> BumbleAir:
    air = BumbleAir(SimClock(speed=SPEED))
    air.add_person("p1", exercise="back-kick", sensors=1, seed=3, rate_hz=200.0, motion="ramps")
    air.add_peripheral(profile="diy_imu", placement="sacrum", **peripheral)  # type: ignore[arg-type]
    return air


def test_scan_sees_the_advertisement_and_matches_the_diy_profile():
    air = _air()
    prof = load_profile("diy_imu")
    found = scan_devices(0.5, bumble_backend(air))
    assert len(found) == 1
    f = found[0]
    assert f.profile == "diy_imu"
    assert f.address == air.peripheral(f.name or "").address
    assert f.service_uuids == tuple(prof.service_uuids)
    assert f.name is not None and f.name.startswith("LumbarIMU")
    assert f.rssi == -50  # what Bumble's virtual controller reports


def test_bleak_api_over_bumble_discovery_mtu_battery_and_service_filter():
    air = _air(battery_pct=64)
    prof = load_profile("diy_imu")
    kw = {"bumble_air": air}

    async def run() -> None:
        other = await BleakScanner.discover(
            0.3, backend=BumbleScanner, service_uuids=["0000feed-0000-1000-8000-00805f9b34fb"], **kw
        )
        assert other == []
        dev = await BleakScanner.find_device_by_name(
            air.peripheral("F0:1D:00:00:00:01").name, 2.0, backend=BumbleScanner, **kw
        )
        assert dev is not None
        async with BleakClient(dev, backend=BumbleClient, **kw) as client:
            assert client.mtu_size == REQUESTED_MTU
            data = client.services.get_characteristic(prof.notify_uuids[0])
            assert data is not None and "notify" in data.properties
            assert any(d.uuid.startswith("00002902") for d in data.descriptors)  # CCCD
            ctrl = client.services.get_characteristic(prof.start_writes[0].char_uuid)
            assert ctrl is not None and "write" in ctrl.properties
            assert (await client.read_gatt_char(prof.battery_uuid))[0] == 64
        assert not client.is_connected

    asyncio.run(run())
    assert air.peripheral("F0:1D:00:00:00:01").stats.disconnections == [0x13]  # host closed it


def test_ble_source_streams_into_the_pipeline_losslessly_alerts_and_disconnects_cleanly():
    air = _air()
    per = air.peripheral("F0:1D:00:00:00:01")
    alert_seen = threading.Event()
    per.on_write = lambda t, uuid, data: alert_seen.set() if per.alerts else None
    src = BleSource(
        [SensorTarget("sacrum", profile="diy_imu")],
        backend=bumble_backend(air),
        clock=air.clock.now,
        scan_timeout_s=5.0,
    )
    src.open()
    assert src.sensors["sacrum"].profile == "diy_imu"
    pipe = Pipeline("back-kick", src.sensors)
    chunks, gaps, states = [], [], []
    enough = threading.Event()

    def on_chunk(chunk):
        chunks.append(chunk)
        pipe.feed(chunk)
        if sum(len(c) for c in chunks) >= STREAM_S * 200:
            enough.set()

    t_host = time.perf_counter()
    src.start(on_chunk, gaps.append, lambda status: states.append(status.state))
    try:
        assert enough.wait(WAIT_S), "the stream did not deliver the samples in time"
        src.alert("flexion")
        assert alert_seen.wait(WAIT_S), "the alert write did not reach the peripheral"
    finally:
        src.stop()
    host_s = time.perf_counter() - t_host

    stats = src.stats()["sacrum"]
    n = sum(len(c) for c in chunks)
    assert n >= STREAM_S * 200
    assert gaps == [] and stats["lost_samples"] == 0 and stats["malformed_total"] == 0
    assert stats["samples"] == n == pipe.samples_in["sacrum"]
    assert stats["battery_pct"] == per.battery_pct
    assert per.stats.samples_sent >= n
    # values: every sample is the simulator's, to the firmware's integer resolution
    seq = np.concatenate([c.seq for c in chunks])
    assert np.array_equal(seq, np.arange(seq[0], seq[0] + n))
    assert seq[0] == per.stats.first_sample
    acc, gyr = per.person.samples("sacrum", int(seq[0]), int(seq[0]) + n)
    got_acc = np.concatenate([c.acc_m_s2 for c in chunks])
    got_gyr = np.concatenate([c.gyr_rad_s for c in chunks])
    assert np.abs(got_acc - acc).max() <= 0.5 * G / 2048.0 + 1e-9
    assert np.abs(got_gyr - gyr).max() <= 0.5 * np.radians(1.0 / 16.4) + 1e-9
    t = np.concatenate([c.t_s for c in chunks])
    assert np.allclose(np.diff(t), 1.0 / 200.0)
    # the alert, then the stop write and an orderly disconnect initiated by the host
    assert [d for _, d in per.alerts] == ["flexion"]
    prof = per.profile
    assert per.writes[0][1:] == (prof.start_writes[0].char_uuid, prof.start_writes[0].data)
    assert per.writes[-1][1:] == (prof.stop_writes[0].char_uuid, prof.stop_writes[0].data)
    assert per.stats.disconnections == [0x13]  # remote user terminated: the central closed it
    assert states[0] == "streaming" and states[-1] == "stopped" and "link_lost" not in states
    assert stats["link_losses"] == 0 and src.pending_tasks_at_stop == 0
    assert not src.thread_alive
    assert host_s < WAIT_S


def test_link_dropped_by_the_peripheral_is_reconnected_over_the_stack():
    air = _air(link_loss_at_s=(1.0,))
    per = air.peripheral("F0:1D:00:00:00:01")
    src = BleSource(
        [SensorTarget("sacrum", device=per.name)],
        backend=bumble_backend(air),
        clock=air.clock.now,
        policy=ReconnectPolicy(initial_delay_s=0.05, scan_timeout_s=2.0, max_attempts=5),
        scan_timeout_s=5.0,
    )
    gaps, states = [], []
    back = threading.Event()
    before, after = [], []

    def on_chunk(chunk):
        (after if gaps else before).append(chunk)
        if sum(len(c) for c in after) >= 400:
            back.set()

    src.start(on_chunk, gaps.append, lambda status: states.append(status.state))
    try:
        assert back.wait(WAIT_S), f"no data after the link loss (states: {states})"
    finally:
        src.stop()
    stats = src.stats()["sacrum"]
    assert states.count("link_lost") == 1 and "reconnected" in states
    assert stats["link_losses"] == 1 and stats["reconnects"] == 1
    assert len(gaps) == 1 and gaps[0].reason == "link_lost"
    g = gaps[0]
    assert g.samples_lost is not None and g.samples_lost >= 1
    # the gap runs from the last sample before the drop to the first after the reconnection,
    # and these bracket the drop at 1.0 s of the person's time (sample 200 at 200 Hz; the
    # samples' session times are anchored to host receive times, so they are compared by seq)
    last, first = before[-1], after[0]
    assert g.t_start_s == last.t_s[-1] and g.t_end_s == first.t_s[0] > g.t_start_s
    assert last.seq[-1] < 200 <= first.seq[0]
    assert g.samples_lost == first.seq[0] - last.seq[-1] - 1
    assert per.stats.connections == 2
    assert per.stats.link_drops == 1 and per.stats.disconnections == [0x13, 0x13]
