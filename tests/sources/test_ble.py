"""The bleak client and its synchronous facade, against the simulated wearable backend.

The production code (``BleSource`` -> ``BleakScanner``/``BleakClient`` -> backend) runs
unchanged; only bleak's ``backend=`` seam selects the simulator. The clock runs 50x real time.

The BLE loop runs on its own thread, on the host's clock: on a loaded machine it may run late
and then catch up at once, so the tests wait for what the device or the link has done (the
device's ``streamed_s``, the link's counters, status events), never for an amount of time.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from bleak.backends.scanner import BaseBleakScanner
from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason

from imu_monitor.model import SensorSeries
from imu_monitor.sources.base import SourceStatus
from imu_monitor.sources.ble import (
    BleBackend,
    BleSource,
    BluetoothUnavailableError,
    DeviceNotFoundError,
    ProfileMismatchError,
    ReconnectPolicy,
    SensorTarget,
    scan_devices,
    sim_backend,
    sim_source,
)
from imu_monitor.sources.sim import SimClock, SimDevice, SimFaults, make_world
from tests.sources.virtual_time import virtual_loops

SPEED = 50.0
FAST = ReconnectPolicy(initial_delay_s=0.002, max_delay_s=0.05, scan_timeout_s=2.0)


def world_of(placements=("sacrum",), faults=None, **kw):
    kw.setdefault("reps", 1)
    kw.setdefault("faulty", 0)
    return make_world(placements=placements, speed=SPEED, faults=faults, **kw)


class Collector:
    """Stand-in consumer: keeps chunks, gaps and status changes. ``on_status`` and ``on_chunk``
    are called after (on the BLE thread) for tests that act at that moment."""

    def __init__(self) -> None:
        self.chunks = []
        self.gaps = []
        self.status = []
        self.on_status = lambda s, i: None
        self.on_chunk = lambda c: None

    def start(self, src: BleSource) -> None:
        src.start(self._chunk, self.gaps.append, self._status)

    def _chunk(self, chunk) -> None:
        self.chunks.append(chunk)
        self.on_chunk(chunk)

    def _status(self, status: SourceStatus) -> None:
        info = status.to_dict()
        self.status.append((status.state, info))
        self.on_status(status.state, info)

    def series(self, sensor: str) -> SensorSeries:
        return SensorSeries.concat([c for c in self.chunks if c.sensor == sensor])


def wait_until(cond, what: str, timeout_s: float = 20.0) -> None:
    """Poll ``cond`` until it holds; fail naming ``what`` after ``timeout_s`` host seconds."""
    deadline = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.005)


def stream_until(dev: SimDevice, t_s: float) -> None:
    """Until ``dev`` has streamed up to device time ``t_s``: everything it sent by then has been
    handed to the client (the session clock may run ahead of a late BLE loop)."""
    wait_until(lambda: dev.streamed_s >= t_s, f"the device streamed {t_s} s")


def stream_samples(src: BleSource, n: int, timeout_s: float = 20.0) -> None:
    wait_until(
        lambda: sum(st["samples"] for st in src.stats().values()) >= n,
        f"{n} samples arrived",
        timeout_s,
    )


def battery_events(col: Collector) -> list[int]:
    return [i["battery_pct"] for s, i in col.status if s == "battery"]


def test_scan_lists_name_address_rssi_and_profile(monkeypatch):
    virtual_loops(monkeypatch)  # 0.05 s of scanning sees every advertisement of 0.05 s
    world = world_of(("sacrum", "upper_lumbar", "thigh"))
    found = scan_devices(0.05, sim_backend(world))
    assert {f.address for f in found} == set(world.devices)
    assert [f.rssi for f in found] == sorted((f.rssi for f in found), reverse=True)
    for f in found:
        assert f.name == world.devices[f.address].name
        assert f.profile == "diy_imu"


def test_ten_seconds_at_200_hz_with_zero_loss_and_a_clean_shutdown():
    world = world_of()
    src = sim_source(world, policy=FAST)
    src.open()
    assert src.sensors["sacrum"].profile == "diy_imu"
    assert src.sensors["sacrum"].rate_hz == 200.0
    col = Collector()
    col.start(src)
    stream_samples(src, 10 * 200)
    src.stop()
    s = col.series("sacrum")
    st = src.stats()["sacrum"]
    assert len(s) >= 10 * 200 and s.t_s[-1] - s.t_s[0] >= 10.0 - 1 / 200
    assert np.all(np.diff(s.seq) == 1)
    assert np.allclose(np.diff(s.t_s), 1 / 200)
    assert st["lost_samples"] == 0 and st["gaps"] == 0 and st["malformed_total"] == 0
    assert st["samples"] == len(s) and st["packets"] == len(s) // 8
    assert abs(st["effective_rate_hz"] - 200) < 10
    lat = st["latency_ms"]  # measured for every chunk (its size: bench_latency.py, not a test)
    assert lat["n"] == len(col.chunks) and 0.0 <= lat["p50"] <= lat["p99"] < float("inf")
    assert col.gaps == []
    states = [x for x, _ in col.status if x != "battery"]
    assert states == ["streaming", "stopped"]  # no false link loss
    assert src.pending_tasks_at_stop == 0 and not src.thread_alive
    dev = next(iter(world.devices.values()))
    assert dev.connected_client is None and not dev._streaming_requested  # stop write arrived
    assert st["battery_pct"] == dev.battery_level(0.0)  # 10 s do not drain the battery


def test_packet_loss_and_two_link_drops_keep_every_sample_and_mark_every_gap():
    # the second drop comes 3.5 s into the second stream, however long the first reconnection
    # took (at fixed device times, a reconnection the host ran late could end after the second
    # drop's time, and the second stream would drop before sending anything)
    faults = SimFaults(drop_fraction=0.05, link_loss_after_s=(3.0, 3.5), link_down_s=0.8, seed=4)
    world = world_of(faults=faults)
    dev = next(iter(world.devices.values()))
    src = sim_source(world, policy=FAST)
    col = Collector()
    col.start(src)
    wait_until(lambda: src.stats()["sacrum"]["reconnects"] == 2, "the second reconnection")
    stream_samples(src, src.stats()["sacrum"]["samples"] + 200)
    src.stop()
    s = col.series("sacrum")
    st = src.stats()["sacrum"]
    # every sample that arrived intact was kept, in order, none twice
    assert len(s) == dev.stats.samples_sent
    assert np.all(np.diff(s.seq) > 0) and np.all(np.diff(s.t_s) > 0)
    # every hole is marked by a gap between the samples around it
    jumps = np.flatnonzero(np.diff(s.seq) > 1)
    assert len(jumps) == len(col.gaps) > 0
    for j, gap in zip(jumps, col.gaps, strict=True):
        assert gap.t_start_s == s.t_s[j] and gap.t_end_s == s.t_s[j + 1]
        assert gap.samples_lost == s.seq[j + 1] - s.seq[j] - 1
    link = [g for g in col.gaps if g.reason == "link_lost"]
    assert len(link) == 2 and st["link_losses"] == 2 and st["reconnects"] == 2
    for g in link:  # the device was gone for 0.8 s: the gap is at least that long
        assert g.t_end_s - g.t_start_s >= 0.8
    loss = [g for g in col.gaps if g.reason == "packet_loss"]
    assert sum(g.samples_lost for g in loss) == st["lost_samples"] > 0
    states = [x for x, _ in col.status]
    assert states.count("link_lost") == 2 and states.count("reconnected") == 2
    assert dev.stats.connections == 3 and dev.stats.streams == 3  # start writes re-sent
    assert src.pending_tasks_at_stop == 0 and not src.thread_alive


def test_malformed_packets_are_counted_skipped_and_reported():
    faults = SimFaults(garbage_fraction=0.05, short_fraction=0.05, seed=7)
    world = world_of(faults=faults)
    dev = next(iter(world.devices.values()))
    src = sim_source(world, policy=FAST)
    col = Collector()
    col.start(src)
    stream_until(dev, 6.0)
    src.stop()
    st = src.stats()["sacrum"]
    injected = dev.stats.garbage + dev.stats.short
    assert injected > 10
    assert st["malformed_total"] == injected
    assert st["decoder_errors"] == 0 and st["callback_errors"] == 0
    assert st["samples"] == dev.stats.samples_sent == len(col.series("sacrum"))
    s = col.series("sacrum")
    assert np.all(np.isfinite(s.acc_m_s2)) and np.abs(s.acc_m_s2).max() < 2 * 9.81


def test_two_sensors_stream_the_same_session_on_one_time_base(monkeypatch):
    # on virtual time (tests.sources.virtual_time) every notification arrives at the simulated
    # time it is sent: the receive-time anchoring of each sensor sees no host scheduling jitter
    # (on the host's clock a loaded machine shifted one sensor by 21 ms at 5x), so the two time
    # bases must agree to rounding
    vt = virtual_loops(monkeypatch)
    world = make_world(placements=("sacrum", "upper_lumbar"), speed=SPEED, reps=1, faulty=0)
    world.clock = SimClock(SPEED, time_fn=vt.time)
    src = sim_source(world, policy=FAST)
    col = Collector()

    def slow_second_start(state: str, info: dict) -> None:  # 0.5 s pass between the starts
        if state == "streaming" and info["sensor"] == "sacrum":
            vt.now += 0.5 / SPEED

    col.on_status = slow_second_start
    col.start(src)
    for dev in world.devices.values():
        stream_until(dev, 3.0)
    src.stop()
    a, b = col.series("sacrum"), col.series("upper_lumbar")
    assert len(a) > 300 and len(b) > 300
    # the same person sample (seq) has about the same session time on both sensors
    off_a = np.median(a.t_s - a.seq / 200)
    off_b = np.median(b.t_s - b.seq / 200)
    assert abs(off_a - off_b) < 1e-6


def test_alert_reaches_the_wearable_without_blocking():
    world = world_of()
    dev = next(iter(world.devices.values()))
    src = sim_source(world, policy=FAST)
    col = Collector()
    held, release = threading.Event(), threading.Event()

    def hold_the_loop(chunk) -> None:  # the BLE thread busy in a listener (the pipeline)
        col.on_chunk = lambda c: None
        held.set()
        release.wait(10.0)

    col.on_chunk = hold_the_loop
    col.start(src)
    try:
        assert held.wait(10.0), "no chunk arrived"
        caller = threading.Thread(target=src.alert, args=("extension",))
        caller.start()
        caller.join(5.0)
        # it returned while the BLE thread could not have sent anything: it does not wait
        assert not caller.is_alive() and dev.alerts == []
    finally:
        release.set()
    wait_until(lambda: dev.alerts, "the alert reached the wearable", 5.0)
    src.stop()
    assert [d for _, d in dev.alerts] == ["extension"]


def test_unknown_device_lists_what_was_found(monkeypatch):
    virtual_loops(monkeypatch)  # 0.05 s of scanning sees every advertisement of 0.05 s
    world = world_of()
    src = BleSource(
        [SensorTarget("sacrum", "NoSuchDevice")],
        backend=sim_backend(world),
        clock=world.clock.now,
        scan_timeout_s=0.05,
    )
    with pytest.raises(DeviceNotFoundError) as e:
        src.open()
    msg = str(e.value)
    assert "sacrum=NoSuchDevice" in msg and "LumbarIMU-sacrum-1" in msg and "--device sim" in msg
    assert not src.thread_alive


def test_profile_that_does_not_fit_the_device_lists_its_services():
    world = make_world(profile="thingy52", speed=SPEED, reps=1, faulty=0)
    dev = next(iter(world.devices.values()))
    src = BleSource(
        [SensorTarget("sacrum", dev.name, "diy_imu")],
        backend=sim_backend(world),
        clock=world.clock.now,
        scan_timeout_s=1.0,
    )
    with pytest.raises(ProfileMismatchError) as e:
        src.open()
    msg = str(e.value)
    assert "diy_imu" in msg and dev.profile.notify_uuids[0] in msg and "--profile" in msg
    assert not src.thread_alive and dev.connected_client is None


def test_device_by_address_and_any_device_by_profile():
    world = world_of(("sacrum", "upper_lumbar"))
    devs = list(world.devices.values())
    src = BleSource(
        [SensorTarget("upper_lumbar", devs[0].address.lower()), SensorTarget("sacrum")],
        backend=sim_backend(world),
        clock=world.clock.now,
        scan_timeout_s=1.0,
    )
    src.open()
    try:
        assert src.links["upper_lumbar"].device.address == devs[0].address
        assert src.links["sacrum"].device.address == devs[1].address  # the one left over
    finally:
        src.stop()


class NoAdapterScanner(BaseBleakScanner):
    """A platform backend on a machine without an adapter (what BlueZ raises then)."""

    def __init__(self, detection_callback, service_uuids, scanning_mode="active", **kwargs):
        super().__init__(detection_callback, service_uuids)

    async def start(self) -> None:
        raise BleakBluetoothNotAvailableError(
            "No Bluetooth adapters found.", BleakBluetoothNotAvailableReason.NO_BLUETOOTH
        )

    async def stop(self) -> None:
        pass


def test_no_bluetooth_adapter_gives_one_clear_error():
    with pytest.raises(BluetoothUnavailableError, match="--device sim"):
        scan_devices(0.1, BleBackend(scanner=NoAdapterScanner))
    src = BleSource([SensorTarget("sacrum")], backend=BleBackend(scanner=NoAdapterScanner))
    with pytest.raises(BluetoothUnavailableError, match="No Bluetooth adapters found"):
        src.open()
    assert not src.thread_alive


def test_gives_up_after_max_attempts_when_the_device_never_returns():
    faults = SimFaults(link_loss_at_s=(1.0,), link_down_s=1e9)
    world = world_of(faults=faults)
    policy = ReconnectPolicy(initial_delay_s=0.001, max_delay_s=0.002, scan_timeout_s=0.01,
                             max_attempts=3)  # fmt: skip
    src = sim_source(world, policy=policy)
    col = Collector()
    col.start(src)
    deadline = time.monotonic() + 10
    while "failed" not in [x for x, _ in col.status] and time.monotonic() < deadline:
        time.sleep(0.005)
    src.stop()
    states = [x for x, _ in col.status]
    assert states.count("reconnecting") == 3 and "failed" in states
    assert src.pending_tasks_at_stop == 0


# ------------------------------------------------------------------------------------ battery


def test_battery_level_of_the_device_reaches_stats_and_status():
    world = world_of()
    dev = next(iter(world.devices.values()))
    src = sim_source(world, policy=FAST)
    col = Collector()
    col.start(src)
    stream_samples(src, 200)
    src.stop()
    level = dev.battery_level(0.0)
    assert 60 <= level <= 100
    assert src.stats()["sacrum"]["battery_pct"] == level
    assert battery_events(col) == [level]  # once: the level did not change
    info = next(i for s, i in col.status if s == "battery")
    assert info["sensor"] == "sacrum"


def test_battery_level_follows_the_drain_by_notification():
    world = world_of()
    dev = next(iter(world.devices.values()))
    dev.battery_pct, dev.battery_drain_s = 40, 1.0  # 1 % per simulated second
    src = sim_source(world, policy=FAST)  # the 60 s poll never comes: notifications only
    col = Collector()
    col.start(src)
    # the level read after connecting (40, or lower if the host ran the read late), then three
    # notified steps
    wait_until(lambda: len(battery_events(col)) >= 4, "three battery notifications arrived")
    src.stop()
    seen = battery_events(col)
    assert seen[0] <= 40 and len(seen) >= 4 and seen == sorted(seen, reverse=True)
    assert np.all(np.diff(seen) == -1)  # every 1 % step, none skipped
    assert seen[-1] <= 40 - 3 and src.stats()["sacrum"]["battery_pct"] == seen[-1]
    assert dev.stats.link_losses == 0 and src.stats()["sacrum"]["gaps"] == 0


def test_battery_without_notify_is_polled():
    world = world_of()
    dev = next(iter(world.devices.values()))
    # no drain of its own: the test changes the level, so the first read is 70 however late the
    # host runs it; read only, so only polling can see the changes
    dev.battery_pct, dev.battery_drain_s, dev.battery_notify = 70, 1e9, False
    src = sim_source(world, policy=FAST, battery_interval_s=0.005)
    col = Collector()
    col.start(src)
    for level in (70, 69, 68):
        dev.battery_pct = level
        wait_until(lambda lv=level: lv in battery_events(col), f"a poll read {level} %")
    src.stop()
    assert battery_events(col) == [70, 69, 68]


def test_profile_without_battery_gives_none():
    world = world_of(profile="witmotion_wt901ble")
    src = sim_source(world, policy=FAST)
    col = Collector()
    col.start(src)
    stream_samples(src, 100)
    src.stop()
    assert src.stats()["sacrum"]["battery_pct"] is None
    assert battery_events(col) == []


def test_failing_battery_read_does_not_break_streaming():
    world = world_of(faults=SimFaults(battery_read_fails=True))
    dev = next(iter(world.devices.values()))
    dev.battery_notify = False  # reads are the only way: all of them fail
    src = sim_source(world, policy=FAST, battery_interval_s=0.001)
    col = Collector()
    col.start(src)
    stream_samples(src, 4 * 200)
    src.stop()
    st = src.stats()["sacrum"]
    assert st["battery_pct"] is None and battery_events(col) == []
    assert st["samples"] >= 4 * 200 and st["lost_samples"] == 0 and st["gaps"] == 0
    assert st["callback_errors"] == 0 and st["decoder_errors"] == 0
    assert src.pending_tasks_at_stop == 0


def test_battery_is_read_again_after_a_reconnect():
    faults = SimFaults(link_loss_at_s=(1.0,), link_down_s=0.5)
    world = world_of(faults=faults)
    dev = next(iter(world.devices.values()))
    start = dev.battery_level(0.0)
    dev.battery_drain_s = 1e9  # no drain of its own: the level changes only while it is away
    dev.battery_notify = False  # only the read after each connection: no polling in between
    src = sim_source(world, policy=FAST)
    col = Collector()

    def drained_while_away(state: str, info: dict) -> None:  # on the BLE thread, at the loss
        if state == "link_lost":
            dev.battery_pct = start - 3

    col.on_status = drained_while_away
    col.start(src)
    wait_until(lambda: src.stats()["sacrum"]["reconnects"] >= 1, "a reconnect")
    wait_until(lambda: len(battery_events(col)) >= 2, "the battery was read after the reconnect")
    stream_samples(src, src.stats()["sacrum"]["samples"] + 50)
    src.stop()
    assert battery_events(col) == [start, start - 3]


def test_headless_live_prints_the_battery(capsys, monkeypatch):
    from imu_monitor.cli.main import main
    from imu_monitor.sources.sim import SimWorld

    levels: list[int] = []
    orig = SimWorld.add_device

    def spy(self, **kw):  # the level the simulated wearable starts with
        dev = orig(self, **kw)
        levels.append(dev.battery_level(0.0))
        return dev

    monkeypatch.setattr(SimWorld, "add_device", spy)
    rc = main(["live", "--headless", "--speed", "50", "--duration", "1", "--reps", "1",
               "--faulty", "0"])  # fmt: skip
    assert rc == 0 and len(levels) == 1
    out = capsys.readouterr().out
    assert f"sacrum: battery {levels[0]} %" in out  # the status line when it was read
    stats_line = next(line for line in out.splitlines() if "latency p99" in line)
    assert stats_line.endswith(f", battery {levels[0]} %")
