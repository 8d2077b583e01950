"""One simulated wearable: advertising, its GATT server's state, streaming and faults.

A device advertises like a real one (a name that fits its firmware profile, the profile's service
UUIDs, an RSSI), serves the GATT characteristics of its profile (``sim.gatt``), starts streaming
only once notifications are enabled and the profile's start writes have arrived (in order), stops
on the stop writes, and sends the motion of its simulated person encoded in the profile's byte
layout (``decode.encode``) at the profile's rate on the world's clock. Alert writes are recorded
(``SimDevice.alerts``).

Fault injection (``SimFaults``): dropped notifications (fraction), link loss at given device times
or after given seconds of each stream (the device disappears for ``link_down_s`` and then
advertises again), garbage or truncated
notifications (fractions), delayed bursts (notifications held back and then sent at once), and
failing battery reads.

Battery: a device whose profile names a battery characteristic serves it (Battery Level, one u8
percent, read and notify) in a Battery service. The level starts at a seeded 60-100 % (or the
``battery_pct`` given) and drains 1 % every ``battery_drain_s`` simulated seconds (default 3
minutes) on the world clock; subscribers are notified of every change.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from bleak.backends.client import NotifyCallback
from bleak.backends.scanner import AdvertisementData
from bleak.backends.service import BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError

from imu_monitor.devices.decode import encode
from imu_monitor.devices.profiles import Profile
from imu_monitor.errors import SimError
from imu_monitor.sources.sim.clock import SimClock
from imu_monitor.sources.sim.faults import FaultInjector, SimDeviceStats, SimFaults
from imu_monitor.sources.sim.gatt import (
    SIM_MTU,
    alert_direction,
    build_gatt,
    is_write,
)
from imu_monitor.sources.sim.person import SimPerson
from imu_monitor.sources.sim.pose import POSES, resting_samples
from imu_monitor.sources.sim.protocols import DeviceProtocol, protocol_for


class World(Protocol):
    """What a device needs of its world (``world.SimWorld``): the shared clock."""

    clock: SimClock


class Client(Protocol):
    """What a device needs of the client connected to it (``backend.SimClient``)."""

    def _link_lost(self) -> None: ...


log = logging.getLogger(__name__)

BATTERY_DRAIN_S = 180.0
"""Simulated seconds per 1 % of battery drained."""


@dataclass
class SimDevice:
    """One simulated wearable. Create through ``SimWorld.add_device``."""

    name: str
    address: str
    profile: Profile
    placement: str
    person: SimPerson
    world: World
    rssi: int = -60
    faults: SimFaults = field(default_factory=SimFaults)
    writes: list[tuple[float, str, bytes]] = field(default_factory=list)
    """Every GATT write received: (world time s, characteristic UUID, data)."""
    alerts: list[tuple[float, str]] = field(default_factory=list)
    """Alert writes received: (world time s, ``flexion`` | ``extension`` | ``off``)."""
    stats: SimDeviceStats = field(default_factory=SimDeviceStats)
    battery_pct: int | None = None
    """Battery level at world time 0 (percent); None: seeded, 60-100."""
    battery_drain_s: float = BATTERY_DRAIN_S
    """Simulated seconds per 1 % drained."""
    battery_notify: bool = True
    """Whether the battery characteristic offers notifications (else read only)."""
    mtu: int | None = None
    """ATT MTU of the device's links (None: the vendor's, else ``SIM_MTU``)."""
    protocol_options: dict[str, Any] = field(default_factory=dict)
    """Options of the vendor protocol (``sim.protocols``): ``factor`` (Polar), ``poll_every_s``
    and ``chunk_bytes`` (WitMotion), ``chip`` (MetaWear: ``bmi160`` or ``bmi270``)."""
    pose: str | None = None
    """None: worn by its person (streams the person's motion); else put down still in this
    pose (``sim.pose.POSES``: ``flat`` label up, ``long_edge``), as check-device asks."""
    record_notifications: bool = False
    """Keep every notification delivered in ``notified`` (for tests: what was sent when)."""
    notified: list[tuple[float, str, bytes]] = field(default_factory=list)
    """With ``record_notifications``: (world time s, characteristic UUID, payload) of every
    notification handed to the client, in order."""

    def __post_init__(self) -> None:
        self.set_protocol_options(**self.protocol_options)
        self.connected_client: Client | None = None
        self.down_until_s = -math.inf
        rng = np.random.default_rng([self.faults.seed, _stable_hash(self.address)])
        self._injector = FaultInjector(self.faults, self.stats, rng)
        self.streamed_s = -math.inf
        """Person time (s) of the newest data notification the stream has put into the air
        (sent, dropped or held back): all before it has been handed to the client. For tests
        to wait on: the host may run the stream late, and then it catches up at once."""
        self._start_progress = 0
        self._boot_k = 0
        self._streaming_requested = False
        self._stream_task: asyncio.Task[None] | None = None
        self._callbacks: dict[str, NotifyCallback] = {}
        if self.battery_pct is None:
            rng = np.random.default_rng(
                [self.faults.seed, self.person.config.seed, _stable_hash(self.address), 0xBA77]
            )
            self.battery_pct = int(rng.integers(60, 101))
        if not 0 <= self.battery_pct <= 100:
            raise SimError(
                f"battery level of simulated device {self.name} must be 0-100 % "
                f"(got {self.battery_pct})"
            )
        if not (self.battery_drain_s > 0 and math.isfinite(self.battery_drain_s)):
            raise SimError(
                f"battery_drain_s of simulated device {self.name} must be a positive number of "
                f"seconds (got {self.battery_drain_s})"
            )
        self._battery_task: asyncio.Task[None] | None = None

    def set_protocol_options(self, **options: Any) -> None:
        """(Re)build the vendor protocol with ``options`` (see ``protocol_options``) before the
        device is connected."""
        try:
            self.protocol: DeviceProtocol = protocol_for(self.profile, **options)
        except (TypeError, ValueError) as e:
            raise SimError(f"simulated device {self.name}: {e}") from None
        self.protocol_options = dict(options)
        self.firmware = self.protocol.encode_profile(self.profile)
        """The profile the device's firmware speaks (its chip's variant, its vendor's packet
        sizes); the client may use another."""

    # -- battery ------------------------------------------------------------------------------
    def battery_level(self, t_s: float | None = None) -> int:
        """Battery level (percent) at world time ``t_s`` (default now)."""
        t = self.world.clock.now() if t_s is None else t_s
        drained = int(max(t, 0.0) // self.battery_drain_s)
        return max(int(self.battery_pct or 0) - drained, 0)

    def _start_battery_task(self) -> None:
        self._battery_task = asyncio.get_running_loop().create_task(
            self._drain(), name=f"sim-battery-{self.name}"
        )

    def _stop_battery_task(self) -> None:
        task, self._battery_task = self._battery_task, None
        if task is not None and task is not _current_task():
            task.cancel()

    async def _drain(self) -> None:
        """Notify the subscriber at every 1 % step until the battery is empty."""
        clock = self.world.clock
        uuid = self.profile.battery_uuid
        assert uuid is not None
        last = self.battery_level()
        try:
            while last > 0:
                steps = (max(clock.now(), 0.0) // self.battery_drain_s) + 1
                await clock.sleep_until(steps * self.battery_drain_s)
                # every 1 % step its own notification, as the firmware sends it at the step, even
                # when the host ran this task late and several steps have passed since
                for level in range(last - 1, self.battery_level() - 1, -1):
                    last = level
                    self._notify(uuid, bytes([level]))
        except asyncio.CancelledError:
            pass
        finally:
            if self._battery_task is _current_task():
                self._battery_task = None

    # -- advertising --------------------------------------------------------------------------
    @property
    def advertising(self) -> bool:
        """Not connected and not gone (after a link loss)."""
        return self.connected_client is None and self.world.clock.now() >= self.down_until_s

    def advertisement(self) -> AdvertisementData:
        return AdvertisementData(
            local_name=self.name,
            manufacturer_data={},
            service_data={},
            service_uuids=list(self.profile.service_uuids),
            tx_power=None,
            rssi=int(self.rssi),
            platform_data=(),
        )

    # -- GATT ---------------------------------------------------------------------------------
    def gatt(self) -> BleakGATTServiceCollection:
        """The services and characteristics the profile describes (with CCCDs on notify)."""
        return build_gatt(self.firmware, battery_notify=self.battery_notify)

    @property
    def mtu_size(self) -> int:
        """The ATT MTU a link to this device negotiates."""
        return self.mtu or self.protocol.mtu or SIM_MTU

    def _attach(self, client: Client) -> None:
        if self.connected_client is not None:
            raise BleakError(f"simulated device {self.name} ({self.address}) is already connected")
        if not self.advertising:
            raise BleakDeviceNotFoundError(
                self.address, f"simulated device {self.address} is out of range"
            )
        self.connected_client = client
        self.protocol.reset()
        self._start_progress = 0
        self._streaming_requested = not self.firmware.start_writes
        self._callbacks = {}
        self.stats.connections += 1

    def _subscribe(self, uuid: str, callback: NotifyCallback) -> None:
        self._callbacks[uuid] = callback
        if uuid == self.profile.battery_uuid:
            self._stop_battery_task()
            self._start_battery_task()
        self._maybe_start()

    def _unsubscribe(self, uuid: str) -> None:
        self._callbacks.pop(uuid, None)
        if uuid == self.profile.battery_uuid:
            self._stop_battery_task()

    def _read(self, uuid: str) -> bytes:
        value = self.protocol.on_read(uuid)
        if value is not None:
            return value
        if uuid == self.profile.battery_uuid:
            if self.faults.battery_read_fails:
                raise BleakError(
                    f"simulated device {self.name}: reading {uuid} failed (injected ATT error)"
                )
            return bytes([self.battery_level()])
        raise BleakError(f"characteristic {uuid} of {self.name} is not readable")

    def _write(self, uuid: str, data: bytes) -> None:
        now = self.world.clock.now()
        self.writes.append((now, uuid, data))
        direction = alert_direction(self.profile, uuid, data)
        if direction is not None:
            self.alerts.append((now, direction))
            return
        replies, accepted = self.protocol.on_write(uuid, data, self._stream_task is not None)
        loop = asyncio.get_running_loop()
        for r_uuid, r_data in replies:  # answered after the write returns, as over the air
            loop.call_soon(self._notify, r_uuid, r_data)
        if not accepted:
            return
        prof = self.firmware
        if prof.stop_writes and is_write(prof.stop_writes[0], uuid, data):
            self._streaming_requested = False
            self._start_progress = 0
            self._cancel_stream()
            return
        starts = prof.start_writes
        if self._start_progress < len(starts) and is_write(
            starts[self._start_progress], uuid, data
        ):
            self._start_progress += 1
            if self._start_progress == len(starts):
                self._streaming_requested = True
                self._maybe_start()

    def _maybe_start(self) -> None:
        ready = self._streaming_requested and all(
            u in self._callbacks for u in self.firmware.notify_uuids
        )
        if ready and self._stream_task is None:
            self._stream_task = asyncio.get_running_loop().create_task(
                self._stream(), name=f"sim-stream-{self.name}"
            )

    def _cancel_stream(self) -> None:
        task, self._stream_task = self._stream_task, None
        if task is not None and task is not _current_task():
            task.cancel()

    def _detach(self) -> None:
        self._cancel_stream()
        self._stop_battery_task()
        self.connected_client = None
        self._callbacks = {}
        self._streaming_requested = False

    # -- streaming ----------------------------------------------------------------------------
    def readings(self, k0: int, k1: int) -> tuple[np.ndarray, np.ndarray]:
        """acc (m/s^2) and gyro (rad/s) of samples ``k0..k1-1`` in the sensor frame: the
        person's motion, or the device lying still in ``pose``."""
        if self.pose is None:
            return self.person.samples(self.placement, k0, k1)
        if self.pose not in POSES:
            raise SimError(
                f"simulated device {self.name}: unknown pose {self.pose!r} "
                f"(poses: {', '.join(POSES)})"
            )
        return resting_samples(self.pose, k0, k1, _stable_hash(self.address))

    async def _stream(self) -> None:
        """Send the person's motion from now on, encoded by the profile, at the profile rate."""
        clock = self.world.clock
        rate = self.profile.rate_hz
        spn = max(p.encode_samples for p in self.firmware.packets)
        block = spn * max(1, int(round(0.25 * rate / spn)))  # about 0.25 s per encode call
        if self.person.t0_s is None:
            self.person.t0_s = clock.now()
        t0 = self.person.t0_s
        k = int(math.ceil((clock.now() - t0) * rate))
        if self.faults.reboot_on_link_loss and self.stats.link_losses:
            self._boot_k = k  # the firmware restarted: its counter and clock begin at 0
        boot_s = self._boot_k / rate  # the person's time when the firmware's clock began
        self.stats.streams += 1
        self._injector.stream_started(k / rate, self.stats.streams)
        first = self.stats.streams == 1
        hold = self.faults.hold_first_s if first else self.faults.hold_after_reconnect_s
        hold_until = clock.now() - t0 + hold if hold > 0 else -math.inf
        held: list[tuple[str, bytes]] = []
        captured = self.protocol.captured(self.firmware)
        try:
            while True:
                acc, gyr = self.readings(k, k + block)
                idx = np.arange(k, k + block) - self._boot_k
                notes = encode(self.firmware, idx / rate, acc, gyr, idx, captured)
                for uuid, payload, t_fw in notes:
                    t_send = boot_s + t_fw  # paced, faults timed, on the person's time
                    await clock.sleep_until(t0 + t_send)
                    if self._injector.link_lost(t_send):
                        self._lose_link()
                        return
                    self._send(uuid, payload, t_send, t_send < hold_until, held)
                    self.streamed_s = t_send
                k += block
        except asyncio.CancelledError:
            pass
        finally:
            if self._stream_task is _current_task():
                self._stream_task = None

    def _send(
        self, uuid: str, payload: bytes, t_s: float, hold: bool, held: list[tuple[str, bytes]]
    ) -> None:
        """One data notification of device time ``t_s`` into the air: faults applied, held back
        (``hold``, or in a burst) or sent after the ones ``held`` so far."""
        out = self._injector.apply(payload, self.firmware)
        if out is None:
            return
        shaped = self.protocol.shape([(uuid, out)], t_s)
        if hold or self._injector.in_burst(t_s):
            held.extend(shaped)
            return
        for h_uuid, h_payload in held:
            self._notify(h_uuid, h_payload)
        held.clear()
        for s_uuid, s_payload in shaped:
            self._notify(s_uuid, s_payload)

    def _notify(self, uuid: str, payload: bytes) -> None:
        cb = self._callbacks.get(uuid)
        if cb is not None:
            if self.record_notifications:
                self.notified.append((self.world.clock.now(), uuid, payload))
            cb(bytearray(payload))

    def _lose_link(self) -> None:
        """The radio link breaks: the device vanishes for ``link_down_s``."""
        self.stats.link_losses += 1
        self.down_until_s = self.world.clock.now() + self.faults.link_down_s
        client = self.connected_client
        self._detach()
        log.debug("simulated device %s lost its link", self.name)
        if client is not None:
            client._link_lost()


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


def _stable_hash(s: str) -> int:
    return int.from_bytes(s.encode()[-8:].rjust(8, b"\0"), "little") & 0x7FFFFFFF
