"""The simulated wearable as a bleak backend: ``BleakScanner(..., backend=SimScanner)`` and
``BleakClient(..., backend=SimClient)``.

A ``SimWorld`` holds the simulated people and devices. Each device advertises like a real one
(a name that fits its firmware profile, the profile's service UUIDs, an RSSI), serves the GATT
characteristics of its profile, starts streaming only once notifications are enabled and the
profile's start writes have arrived (in order), stops on the stop writes, and sends the motion of
its simulated person encoded in the profile's byte layout (``decode.encode``) at the profile's
rate on the world's clock. Alert writes are recorded (``SimDevice.alerts``). The production
client (``sources.ble``) runs unchanged against it.

Time: ``SimClock`` runs ``speed`` times faster than the host clock (tests use 50-200x), so
seconds below are *simulated* seconds unless named otherwise.

Motion: all sensors of one person come from one ``simulate_session`` call with
``sensors = 1..3``, so a two-sensor person streams the sacrum and upper-lumbar series of the same
session. A live session longer than the simulated one loops the *reps part* of the session (from
just before the first rep to the final rest): both ends are the person at rest in the exercise's
start position with the same body and sensor mounting, so the signal stays continuous (within the
simulator's sub-degree sway) and the orientation filter and calibration stay valid. The reps
repeat identically on every pass; the standing / calibration phase is played once at the start.

Fault injection per device (``SimFaults``): dropped notifications (fraction), link loss at given
device times (the device disappears for ``link_down_s`` and then advertises again), garbage or
truncated notifications (fractions), delayed bursts (notifications held back and then sent
at once), and failing battery reads. The Linux/BlueZ quirk that the disconnected callback also
fires on the program's own ``disconnect()`` is reproduced
(``SimClient(..., callback_on_own_disconnect=True)``).

Battery: a device whose profile names a battery characteristic serves it (Battery Level, one u8
percent, read and notify) in a Battery service. The level starts at a seeded 60-100 % (or the
``battery_pct`` given) and drains 1 % every ``battery_drain_s`` simulated seconds (default 3
minutes) on the world clock; subscribers are notified of every change.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError

from imu_monitor.devices.decode import encode
from imu_monitor.devices.profiles import Profile, load_profile
from imu_monitor.errors import SimError
from imu_monitor.model import SENSOR_SETS

log = logging.getLogger(__name__)

CCCD_UUID = "00002902-0000-1000-8000-00805f9b34fb"
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
SIM_MTU = 247
BATTERY_DRAIN_S = 180.0
"""Simulated seconds per 1 % of battery drained."""
ADVERTISING_INTERVAL_S = 0.1
"""Simulated seconds between advertisements of a device that is not connected."""
LOOP_LEAD_S = 0.3
"""The loop of a long session starts this long before the first rep (at rest)."""


# ------------------------------------------------------------------------------------ clock


class SimClock:
    """Simulated time in seconds, running ``speed`` times faster than ``time_fn`` (host seconds,
    default ``time.monotonic``). Time 0 is the first ``now()`` call (so building the simulated
    sessions does not eat into them) or the last ``reset()``."""

    def __init__(self, speed: float = 1.0, time_fn: Callable[[], float] = time.monotonic):
        if not (speed > 0 and math.isfinite(speed)):
            raise SimError(f"SimClock speed must be a positive finite factor (got {speed})")
        self.speed = float(speed)
        self._time_fn = time_fn
        self._t0: float | None = None

    def reset(self) -> None:
        """Make now simulated time 0."""
        self._t0 = self._time_fn()

    def now(self) -> float:
        """Simulated seconds since time 0."""
        if self._t0 is None:
            self._t0 = self._time_fn()
        return (self._time_fn() - self._t0) * self.speed

    async def sleep(self, dt_s: float) -> None:
        """Sleep ``dt_s`` simulated seconds."""
        await asyncio.sleep(max(dt_s, 0.0) / self.speed)

    async def sleep_until(self, t_s: float) -> None:
        """Sleep until simulated time ``t_s`` (returns at once, yielding, if it has passed)."""
        await asyncio.sleep(max(t_s - self.now(), 0.0) / self.speed)


# ------------------------------------------------------------------------------------ people


class SimPerson:
    """One simulated person wearing 1-3 sensors: one simulated session, looped (see module
    docstring). ``samples(placement, k0, k1)`` gives the readings of samples ``k0..k1-1`` on the
    person's own sample counter (sample ``k`` is at ``k / rate_hz`` s of person time, which
    starts at world time ``t0_s``)."""

    def __init__(
        self,
        name: str,
        *,
        exercise: str = "back-kick",
        sensors: int = 1,
        seed: int = 0,
        rate_hz: float = 200.0,
        reps: int = 10,
        faulty: int = 3,
        **sim_options: Any,
    ) -> None:
        from imu_monitor.simulator import SimulationConfig, simulate_session

        self.name = name
        self.config = SimulationConfig(
            exercise=exercise,
            reps=reps,
            faulty=faulty,
            sensors=sensors,
            seed=seed,
            rate_hz=rate_hz,
            drop_fraction=0.0,  # loss is the BLE link's business here (SimFaults)
            **sim_options,
        )
        self.recording = simulate_session(self.config)
        self.placements = SENSOR_SETS[sensors]
        self.rate_hz = float(rate_hz)
        series = self.recording.series
        self.n = len(series[self.placements[0]])
        first_rep = self.recording.truth.reps[0].t_start_s if self.recording.truth else 0.0
        self.loop_k0 = int(np.clip(round((first_rep - LOOP_LEAD_S) * rate_hz), 0, self.n - 1))
        self.t0_s: float | None = None
        """World time of the person's time 0: when the first of its devices starts streaming
        (so scanning and connecting do not eat into the standing / calibration phase)."""
        self._acc = {p: series[p].acc_m_s2 for p in self.placements}
        self._gyr = {p: series[p].gyr_rad_s for p in self.placements}

    @property
    def session_s(self) -> float:
        """Length of the first pass (standing, calibration, reps, final rest), s."""
        return self.n / self.rate_hz

    def index(self, k: np.ndarray) -> np.ndarray:
        """Person sample counter -> row of the simulated session (looping the reps part)."""
        k = np.asarray(k, dtype=np.int64)
        period = self.n - self.loop_k0
        return np.where(k < self.n, k, self.loop_k0 + np.mod(k - self.n, period))

    def samples(self, placement: str, k0: int, k1: int) -> tuple[np.ndarray, np.ndarray]:
        """acc (m/s^2) and gyro (rad/s) readings, each (k1 - k0, 3), in the sensor frame."""
        if placement not in self._acc:
            raise SimError(
                f"simulated person {self.name!r} wears no {placement!r} sensor "
                f"(sensors: {', '.join(self.placements)}); add the person with more sensors"
            )
        rows = self.index(np.arange(k0, k1))
        return self._acc[placement][rows], self._gyr[placement][rows]


# ------------------------------------------------------------------------------------ devices


@dataclass
class SimFaults:
    """Faults a simulated device injects. Times are device seconds (the person's time: 0 when
    the first device of the person starts streaming).

    ``drop_fraction``: notifications lost in the air. ``link_loss_at_s``: device times at which
    the link drops; the device is then gone for ``link_down_s`` before it advertises again.
    ``garbage_fraction``: notifications replaced by random bytes of the same length;
    ``short_fraction``: notifications truncated. ``burst_every_s``: every this many seconds the
    next ``burst_hold_s`` of notifications are held back and sent together.
    ``battery_read_fails``: every read of the battery characteristic fails (a GATT error).
    ``seed``: for the random choices.
    """

    drop_fraction: float = 0.0
    link_loss_at_s: tuple[float, ...] = ()
    link_down_s: float = 1.0
    garbage_fraction: float = 0.0
    short_fraction: float = 0.0
    burst_every_s: float | None = None
    burst_hold_s: float = 0.1
    battery_read_fails: bool = False
    seed: int = 0


@dataclass
class SimDeviceStats:
    """What a simulated device did (for tests to compare with what the client saw)."""

    notifications: int = 0
    """Notifications sent into the air (including dropped and corrupted ones)."""
    samples_sent: int = 0
    """Samples in notifications that arrived intact."""
    dropped: int = 0
    garbage: int = 0
    short: int = 0
    link_losses: int = 0
    connections: int = 0
    streams: int = 0


@dataclass
class SimDevice:
    """One simulated wearable. Create through ``SimWorld.add_device``."""

    name: str
    address: str
    profile: Profile
    placement: str
    person: SimPerson
    world: SimWorld
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

    def __post_init__(self) -> None:
        self.connected_client: SimClient | None = None
        self.down_until_s = -math.inf
        self._rng = np.random.default_rng([self.faults.seed, _stable_hash(self.address)])
        self._losses = sorted(self.faults.link_loss_at_s)
        self._start_progress = 0
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

    # -- battery ------------------------------------------------------------------------------
    def battery_level(self, t_s: float | None = None) -> int:
        """Battery level (percent) at world time ``t_s`` (default now)."""
        t = self.world.clock.now() if t_s is None else t_s
        drained = int(max(t, 0.0) // self.battery_drain_s)
        return max(int(self.battery_pct or 0) - drained, 0)

    def _notify_battery(self) -> None:
        uuid = self.profile.battery_uuid
        if uuid is not None:
            self._notify(uuid, bytes([self.battery_level()]))

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
        last = self.battery_level()
        try:
            while last > 0:
                steps = (max(clock.now(), 0.0) // self.battery_drain_s) + 1
                await clock.sleep_until(steps * self.battery_drain_s)
                level = self.battery_level()
                if level != last:
                    last = level
                    self._notify_battery()
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
        prof = self.profile
        coll = BleakGATTServiceCollection()
        handle = 1
        main_uuid = prof.service_uuids[0] if prof.service_uuids else prof.notify_uuids[0]
        main = BleakGATTService(None, handle, main_uuid)
        coll.add_service(main)
        handle += 1
        for extra in prof.service_uuids[1:]:
            coll.add_service(BleakGATTService(None, handle, extra))
            handle += 1
        chars: dict[str, list[str]] = {u: ["notify"] for u in prof.notify_uuids}
        writes = list(prof.start_writes) + list(prof.stop_writes)
        for ws in prof.alerts.values():
            writes.extend(ws)
        for w in writes:
            props = chars.setdefault(w.char_uuid, [])
            for p in ("write", "write-without-response"):
                if p not in props:
                    props.append(p)
        for uuid, props in chars.items():
            ch = BleakGATTCharacteristic(None, handle, uuid, props, lambda: SIM_MTU - 3, main)
            coll.add_characteristic(ch)
            handle += 1
            if "notify" in props:
                coll.add_descriptor(BleakGATTDescriptor(None, handle, CCCD_UUID, ch))
                handle += 1
        if prof.battery_uuid:
            bat = BleakGATTService(None, handle, BATTERY_SERVICE_UUID)
            coll.add_service(bat)
            handle += 1
            props = ["read", "notify"] if self.battery_notify else ["read"]
            ch = BleakGATTCharacteristic(
                None, handle, prof.battery_uuid, props, lambda: SIM_MTU - 3, bat
            )
            coll.add_characteristic(ch)
            handle += 1
            if self.battery_notify:
                coll.add_descriptor(BleakGATTDescriptor(None, handle, CCCD_UUID, ch))
        return coll

    def _attach(self, client: SimClient) -> None:
        if self.connected_client is not None:
            raise BleakError(f"simulated device {self.name} ({self.address}) is already connected")
        if not self.advertising:
            raise BleakDeviceNotFoundError(
                self.address, f"simulated device {self.address} is out of range"
            )
        self.connected_client = client
        self._start_progress = 0
        self._streaming_requested = not self.profile.start_writes
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
        prof = self.profile
        direction = alert_direction(prof, uuid, data)
        if direction is not None:
            self.alerts.append((now, direction))
            return
        if prof.stop_writes and _is_write(prof.stop_writes[0], uuid, data):
            self._streaming_requested = False
            self._start_progress = 0
            self._cancel_stream()
            return
        starts = prof.start_writes
        if self._start_progress < len(starts) and _is_write(
            starts[self._start_progress], uuid, data
        ):
            self._start_progress += 1
            if self._start_progress == len(starts):
                self._streaming_requested = True
                self._maybe_start()

    def _maybe_start(self) -> None:
        ready = self._streaming_requested and all(
            u in self._callbacks for u in self.profile.notify_uuids
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
    async def _stream(self) -> None:
        """Send the person's motion from now on, encoded by the profile, at the profile rate."""
        clock = self.world.clock
        rate = self.profile.rate_hz
        spn = max(p.encode_samples for p in self.profile.packets)
        block = spn * max(1, int(round(0.25 * rate / spn)))  # about 0.25 s per encode call
        if self.person.t0_s is None:
            self.person.t0_s = clock.now()
        t0 = self.person.t0_s
        k = int(math.ceil((clock.now() - t0) * rate))
        self.stats.streams += 1
        held: list[tuple[str, bytes]] = []
        try:
            while True:
                acc, gyr = self.person.samples(self.placement, k, k + block)
                idx = np.arange(k, k + block)
                notes = encode(self.profile, idx / rate, acc, gyr, idx)
                for uuid, payload, t_send in notes:
                    await clock.sleep_until(t0 + t_send)
                    if self._losses and t_send >= self._losses[0]:
                        self._losses.pop(0)
                        self._lose_link()
                        return
                    out = self._apply_faults(payload, t_send)
                    if out is None:
                        continue
                    if self._in_burst(t_send):
                        held.append((uuid, out))
                        continue
                    for h_uuid, h_payload in held:
                        self._notify(h_uuid, h_payload)
                    held.clear()
                    self._notify(uuid, out)
                k += block
        except asyncio.CancelledError:
            pass
        finally:
            if self._stream_task is _current_task():
                self._stream_task = None

    def _notify(self, uuid: str, payload: bytes) -> None:
        cb = self._callbacks.get(uuid)
        if cb is not None:
            cb(bytearray(payload))

    def _apply_faults(self, payload: bytes, t_send: float) -> bytes | None:
        f = self.faults
        self.stats.notifications += 1
        r = self._rng.random(3)
        if r[0] < f.drop_fraction:
            self.stats.dropped += 1
            return None
        if r[1] < f.garbage_fraction:
            self.stats.garbage += 1
            return self._rng.integers(0, 256, len(payload), dtype=np.uint8).tobytes()
        if r[2] < f.short_fraction and len(payload) > 1:
            self.stats.short += 1
            return payload[: int(self._rng.integers(1, len(payload)))]
        self.stats.samples_sent += samples_in(self.profile, payload)
        return payload

    def _in_burst(self, t_s: float) -> bool:
        every = self.faults.burst_every_s
        if not every:
            return False
        return (t_s % every) < self.faults.burst_hold_s

    def _lose_link(self) -> None:
        """The radio link breaks: the device vanishes for ``link_down_s``."""
        self.stats.link_losses += 1
        self.down_until_s = self.world.clock.now() + self.faults.link_down_s
        client = self.connected_client
        self._detach()
        log.debug("simulated device %s lost its link", self.name)
        if client is not None:
            client._link_lost()


def alert_direction(profile: Profile, uuid: str, data: bytes) -> str | None:
    """The alert (``flexion``, ``extension``, ``off``) a write to a simulated device stands for,
    or None when it is not one of the profile's alert writes."""
    for direction, ws in profile.alerts.items():
        if any(_is_write(w, uuid, data) for w in ws):
            return direction
    return None


def samples_in(profile: Profile, payload: bytes) -> int:
    """How many samples a data notification of ``profile`` carries (for a device's stats)."""
    spec = profile.packets[0]
    if spec.samples is not None:
        return spec.samples
    return max(0, (len(payload) - spec.data_offset) // spec.sample_nbytes)


def _is_write(w: Any, uuid: str, data: bytes) -> bool:
    return w.char_uuid == uuid and w.data == data


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


def _stable_hash(s: str) -> int:
    return int.from_bytes(s.encode()[-8:].rjust(8, b"\0"), "little") & 0x7FFFFFFF


def sim_device_name(profile: Profile, placement: str, index: int) -> str:
    """A device name that fits the profile's ``name_pattern`` when one can be derived: the first
    literal alternative of the pattern, plus a suffix; else ``SimIMU-...`` (the device is then
    still recognised by its advertised service UUIDs)."""
    suffix = f"-{placement}-{index}"
    pat = profile.name_pattern
    if pat:
        m = re.match(r"\^?\(?([A-Za-z0-9_ -]+)", pat)
        if m and re.search(pat, m.group(1) + suffix):
            return m.group(1) + suffix
    return f"SimIMU{suffix}"


# ------------------------------------------------------------------------------------ world


class SimWorld:
    """A registry of simulated people and devices sharing one ``SimClock``.

    >>> world = SimWorld(SimClock(speed=100))
    >>> world.add_person("p1", exercise="back-kick", sensors=2, seed=3)    # doctest: +SKIP
    >>> world.add_device(profile="diy_imu", placement="sacrum", person="p1")  # doctest: +SKIP
    """

    def __init__(self, clock: SimClock | None = None) -> None:
        self.clock = clock or SimClock()
        self.people: dict[str, SimPerson] = {}
        self.devices: dict[str, SimDevice] = {}
        """By upper-case address."""

    def add_person(self, name: str = "p1", **options: Any) -> SimPerson:
        """A person (``SimPerson`` keyword options: exercise, sensors, seed, rate_hz, reps,
        faulty, and further ``SimulationConfig`` fields)."""
        if name in self.people:
            raise SimError(f"simulated person {name!r} exists already")
        person = SimPerson(name, **options)
        self.people[name] = person
        return person

    def add_device(
        self,
        *,
        profile: str | Profile = "diy_imu",
        placement: str = "sacrum",
        person: str = "p1",
        name: str | None = None,
        address: str | None = None,
        rssi: int | None = None,
        faults: SimFaults | None = None,
        battery_pct: int | None = None,
        battery_drain_s: float = BATTERY_DRAIN_S,
        battery_notify: bool = True,
    ) -> SimDevice:
        """A device worn by ``person`` at ``placement``, speaking ``profile``. Battery (when the
        profile has one): level at time 0 (percent; None: seeded 60-100), simulated seconds
        per 1 % drained, and whether it notifies."""
        prof = profile if isinstance(profile, Profile) else load_profile(profile)
        if person not in self.people:
            raise SimError(
                f"no simulated person {person!r}; add it first "
                f"(people: {', '.join(self.people) or 'none'})"
            )
        who = self.people[person]
        if abs(who.rate_hz - prof.rate_hz) > 1e-9:
            raise SimError(
                f"simulated person {person!r} is sampled at {who.rate_hz} Hz but profile "
                f"{prof.name} streams at {prof.rate_hz} Hz; add the person with rate_hz="
                f"{prof.rate_hz}"
            )
        index = len(self.devices) + 1
        address = (address or f"5A:1A:00:00:{index // 256:02X}:{index % 256:02X}").upper()
        if address in self.devices:
            raise SimError(f"a simulated device with address {address} exists already")
        dev = SimDevice(
            name=name or sim_device_name(prof, placement, index),
            address=address,
            profile=prof,
            placement=placement,
            person=who,
            world=self,
            rssi=-52 - 4 * index if rssi is None else rssi,
            faults=faults or SimFaults(),
            battery_pct=battery_pct,
            battery_drain_s=battery_drain_s,
            battery_notify=battery_notify,
        )
        who.samples(placement, 0, 1)  # fails early if the person has no such sensor
        self.devices[address] = dev
        return dev

    def device(self, name_or_address: str) -> SimDevice:
        """A device by address or name."""
        key = name_or_address.upper()
        if key in self.devices:
            return self.devices[key]
        for dev in self.devices.values():
            if dev.name == name_or_address:
                return dev
        raise SimError(
            f"no simulated device {name_or_address!r}; devices: "
            + ", ".join(f"{d.name} ({d.address})" for d in self.devices.values())
        )


def make_world(
    *,
    profile: str = "diy_imu",
    exercise: str = "back-kick",
    placements: tuple[str, ...] = ("sacrum",),
    seed: int = 0,
    speed: float = 1.0,
    reps: int = 10,
    faulty: int = 3,
    faults: SimFaults | None = None,
) -> SimWorld:
    """One person wearing one device per placement (the ``--device sim`` setup)."""
    prof = load_profile(profile)
    sensors = next((n for n, ps in sorted(SENSOR_SETS.items()) if set(placements) <= set(ps)), None)
    if sensors is None:
        raise SimError(f"no simulated sensor set holds the placements {placements}")
    world = SimWorld(SimClock(speed))
    world.add_person(
        "p1",
        exercise=exercise,
        sensors=sensors,
        seed=seed,
        rate_hz=prof.rate_hz,
        reps=reps,
        faulty=faulty,
    )
    for p in placements:
        world.add_device(profile=prof, placement=p, person="p1", faults=faults)
    return world


# ------------------------------------------------------------------------------------ backends


class SimScanner(BaseBleakScanner):
    """bleak scanner backend that sees the devices of a ``SimWorld`` (keyword ``sim_world``)."""

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        *,
        sim_world: SimWorld | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        if sim_world is None:
            raise BleakError("SimScanner needs a simulated world: pass sim_world=SimWorld(...)")
        self.world = sim_world
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.seen_devices = {}
        self._task = asyncio.get_running_loop().create_task(self._advertise(), name="sim-scan")
        await asyncio.sleep(0)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def _advertise(self) -> None:
        while True:
            for dev in list(self.world.devices.values()):
                if not dev.advertising:
                    continue
                adv = dev.advertisement()
                if not self.is_allowed_uuid(adv.service_uuids):
                    continue
                bd = self.create_or_update_device(dev.address, dev.address, dev.name, dev, adv)
                self.call_detection_callbacks(bd, adv)
            await self.world.clock.sleep(ADVERTISING_INTERVAL_S)


class SimClient(BaseBleakClient):
    """bleak client backend connected to a simulated device.

    The device comes from the ``BLEDevice`` a ``SimScanner`` found, or by address from the
    ``sim_world`` keyword. ``callback_on_own_disconnect`` (default True) reproduces BlueZ, where
    the disconnected callback also fires on the program's own ``disconnect()``.
    """

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        sim_world: SimWorld | None = None,
        callback_on_own_disconnect: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout
        )
        details = getattr(address_or_ble_device, "details", None)
        self._device: SimDevice | None = details if isinstance(details, SimDevice) else None
        self._world = sim_world or (self._device.world if self._device else None)
        self._connected = False
        self._own_disconnect_callback = callback_on_own_disconnect

    def _resolve(self) -> SimDevice:
        if self._device is not None:
            return self._device
        if self._world is None:
            raise BleakError("SimClient needs a simulated world: pass sim_world=SimWorld(...)")
        dev = self._world.devices.get(self.address.upper())
        if dev is None:
            raise BleakDeviceNotFoundError(
                self.address, f"no simulated device with address {self.address}"
            )
        self._device = dev
        return dev

    @property
    def name(self) -> str:
        return self._resolve().name

    @property
    def mtu_size(self) -> int:
        return SIM_MTU

    @property
    def is_connected(self) -> bool:
        return self._connected

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        dev = self._resolve()
        await asyncio.sleep(0)
        dev._attach(self)
        self.services = dev.gatt()
        self._connected = True

    async def disconnect(self) -> None:
        if not self._connected:
            return
        self._connected = False
        if self._device is not None and self._device.connected_client is self:
            self._device._detach()
        await asyncio.sleep(0)
        if self._own_disconnect_callback and self._disconnected_callback is not None:
            self._disconnected_callback()

    def _link_lost(self) -> None:
        self._connected = False
        if self._disconnected_callback is not None:
            asyncio.get_running_loop().call_soon(self._disconnected_callback)

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def unpair(self) -> None:
        return None

    def _check(self) -> SimDevice:
        if not self._connected or self._device is None:
            raise BleakError(f"simulated device {self.address} is not connected")
        return self._device

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        dev = self._check()
        await asyncio.sleep(0)
        return bytearray(dev._read(characteristic.uuid))

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        self._check()
        return bytearray(b"\x00\x00")

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: Any, response: bool
    ) -> None:
        dev = self._check()
        await asyncio.sleep(0)
        dev._write(characteristic.uuid, bytes(data))

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        self._check()

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        dev = self._check()
        if "notify" not in characteristic.properties:
            raise BleakError(f"characteristic {characteristic.uuid} of {dev.name} cannot notify")
        await asyncio.sleep(0)
        dev._subscribe(characteristic.uuid, callback)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        dev = self._check()
        dev._unsubscribe(characteristic.uuid)
