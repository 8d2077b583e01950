"""The production bleak client over a real BLE protocol stack: Bumble (Google's Python Bluetooth
stack) in one process, on a virtual radio.

Two halves share one ``BumbleAir`` (the "air": a Bumble ``LocalLink`` joining one virtual
controller per device):

* ``BumblePeripheral``: a wearable made of a Bumble ``Device`` with a GATT server built from a
  firmware profile (``firmware_profiles/*.toml``). It advertises the profile's service UUID and a
  name that fits the profile, serves the notify, control and alert characteristics (and Battery
  Level when the profile names one), and once notifications are enabled and the profile's start
  writes have arrived it streams a simulated person's motion (``sources.sim.SimPerson``, i.e.
  ``simulator.simulate_session``) encoded by ``decode.encode``, as ATT notifications at the
  profile rate on a ``sources.sim.SimClock``. Writes and alert writes are recorded.
* ``BumbleScanner`` / ``BumbleClient``: bleak backends (``BleakScanner(..., backend=...)``,
  ``BleakClient(..., backend=...)``) that drive a Bumble *central* ``Device`` on the same link:
  HCI LE scanning, LE connection, ATT MTU exchange, GATT discovery, CCCD writes,
  write requests / commands and ATT notifications, disconnection. The production
  ``BleSource`` runs unchanged on top (``bumble_backend(air)``).

Event loops: Bumble's controllers and hosts bind to the running asyncio loop when created, and
``BleSource`` runs bleak on a loop of its own thread. So nothing of Bumble is created up front:
the backends call ``BumbleAir.ensure_up()`` on the loop they run on, which builds the link, the
central and every peripheral there (and builds them anew if a later user runs another loop).

Limits of Bumble's virtual controller (bumble 0.0.236): every advertisement is reported with an
RSSI of -50 dBm; there is no radio timing (packets are handed over through the loop at once), so
loss and connection-interval throughput limits are not modelled; a scan response carries the
advertising data again, so the peripheral advertises with an extended (non-legacy) advertising
set, which fits flags, the 128-bit service UUID and the full name in one PDU.
"""

from __future__ import annotations

import asyncio
import logging
import math
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
from bumble import hci
from bumble.controller import Controller
from bumble.core import UUID, AdvertisingData
from bumble.device import (
    Advertisement,
    AdvertisingEventProperties,
    AdvertisingParameters,
    Connection,
    Device,
    Peer,
)
from bumble.gatt import Characteristic, CharacteristicValue, Service
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from imu_monitor.devices.decode import encode
from imu_monitor.devices.profiles import Profile, load_profile
from imu_monitor.errors import ImuMonitorError
from imu_monitor.sources.scanning import BleBackend
from imu_monitor.sources.sim import (
    SimClock,
    SimPerson,
    alert_direction,
    samples_in,
    sim_device_name,
)

log = logging.getLogger(__name__)

BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
CENTRAL_ADDRESS = "C0:1D:00:00:00:01"
"""Random static address of the central (the host's "adapter")."""
REQUESTED_MTU = 247
"""ATT MTU the central asks for (a 104-byte DIY notification needs at least 107)."""
ADVERTISING_INTERVAL_MS = 20.0
"""Host milliseconds between advertisements (Bumble's virtual controller)."""
STREAM_BLOCK_S = 0.25
"""Simulated seconds of motion encoded per ``encode`` call."""

_PROPERTY_NAMES = {
    Characteristic.Properties.BROADCAST: "broadcast",
    Characteristic.Properties.READ: "read",
    Characteristic.Properties.WRITE_WITHOUT_RESPONSE: "write-without-response",
    Characteristic.Properties.WRITE: "write",
    Characteristic.Properties.NOTIFY: "notify",
    Characteristic.Properties.INDICATE: "indicate",
    Characteristic.Properties.AUTHENTICATED_SIGNED_WRITES: "authenticated-signed-writes",
    Characteristic.Properties.EXTENDED_PROPERTIES: "extended-properties",
}


class BumbleError(ImuMonitorError):
    """The Bumble test rig is set up wrongly (duplicate address, unknown person, ...)."""


def uuid_str(uuid: UUID) -> str:
    """A Bumble UUID as bleak spells it: 128-bit, lower case, dashed."""
    h = bytes(reversed(uuid.uuid_128_bytes)).hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _address(text: str) -> hci.Address:
    return hci.Address(text, hci.Address.RANDOM_DEVICE_ADDRESS)


def _new_device(link: LocalLink, name: str, address: str) -> Device:
    """A Bumble device (host + virtual controller) on ``link``; needs a running loop."""
    controller = Controller(name, link=link, public_address=address)
    host = Host(controller, AsyncPipeSink(controller))
    return Device(name=name, address=_address(address), host=host)


# ------------------------------------------------------------------------------------ peripheral


@dataclass
class PeripheralStats:
    """What a Bumble peripheral did (for tests to compare with what the client saw)."""

    connections: int = 0
    disconnections: list[int] = field(default_factory=list)
    """HCI reason code of every disconnection as this peripheral saw it (Bumble's virtual
    controller reports the reason the closing side gave, 0x13 in both directions here)."""
    link_drops: int = 0
    """Links this peripheral dropped itself (``link_loss_at_s``)."""
    streams: int = 0
    notifications: int = 0
    samples_sent: int = 0
    first_sample: int | None = None
    """Person sample counter of the first sample streamed (None before streaming)."""


@dataclass
class BumblePeripheral:
    """A wearable on the Bumble link speaking ``profile``, worn by ``person`` at ``placement``.

    Create through ``BumbleAir.add_peripheral``. ``writes``: every GATT write received, as
    (clock time s, characteristic UUID, data); ``alerts``: the alert writes, as (clock time s,
    ``flexion`` | ``extension`` | ``off``). ``battery_pct``: the Battery Level served (percent).
    """

    name: str
    address: str
    profile: Profile
    placement: str
    person: SimPerson
    clock: SimClock
    battery_pct: int = 87
    link_loss_at_s: tuple[float, ...] = ()
    """Person times (simulated s) at which the peripheral drops the link itself (HCI
    Disconnect, reason 0x13); it advertises again at once."""
    on_write: Callable[[float, str, bytes], None] | None = None
    """Called (on the Bumble loop) with every write after it is recorded."""
    writes: list[tuple[float, str, bytes]] = field(default_factory=list)
    alerts: list[tuple[float, str]] = field(default_factory=list)
    stats: PeripheralStats = field(default_factory=PeripheralStats)

    def __post_init__(self) -> None:
        self.device: Device | None = None
        self._chars: dict[str, Characteristic[Any]] = {}
        self._subscribed: set[str] = set()
        self._start_progress = 0
        self._stream_task: asyncio.Task[None] | None = None
        self._connection: Connection | None = None

    # -- building the device on the running loop ---------------------------------------------
    def _gatt(self) -> list[Service]:
        """Services and characteristics as the profile describes them (CCCDs come with
        NOTIFY characteristics)."""
        prof = self.profile
        props: dict[str, Characteristic.Properties] = {
            u: Characteristic.Properties.NOTIFY for u in prof.notify_uuids
        }
        writes = list(prof.start_writes) + list(prof.stop_writes)
        for ws in prof.alerts.values():
            writes.extend(ws)
        for w in writes:
            props[w.char_uuid] = (
                props.get(w.char_uuid, Characteristic.Properties(0))
                | Characteristic.Properties.WRITE
                | Characteristic.Properties.WRITE_WITHOUT_RESPONSE
            )
        chars = []
        for uuid, p in props.items():
            value: Any = b""
            perms = Characteristic.READABLE
            if p & Characteristic.Properties.WRITE:
                value = CharacteristicValue(write=self._write_handler(uuid))
                perms = Characteristic.WRITEABLE
            ch = Characteristic(uuid, p, perms, value)
            self._chars[uuid] = ch
            chars.append(ch)
        main_uuid = prof.service_uuids[0] if prof.service_uuids else prof.notify_uuids[0]
        services = [Service(main_uuid, chars)]
        services += [Service(u, []) for u in prof.service_uuids[1:]]
        if prof.battery_uuid:
            bat = Characteristic(
                prof.battery_uuid,
                Characteristic.Properties.READ | Characteristic.Properties.NOTIFY,
                Characteristic.READABLE,
                CharacteristicValue(read=lambda _conn: bytes([self.battery_pct])),
            )
            self._chars[prof.battery_uuid] = bat
            services.append(Service(BATTERY_SERVICE_UUID, [bat]))
        return services

    def _advertising_data(self) -> bytes:
        uuids = b"".join(UUID(u).to_bytes(force_128=True) for u in self.profile.service_uuids)
        flags = AdvertisingData.LE_GENERAL_DISCOVERABLE_MODE_FLAG | (
            AdvertisingData.BR_EDR_NOT_SUPPORTED_FLAG
        )
        structs: list[tuple[int, bytes]] = [(AdvertisingData.FLAGS, bytes([flags]))]
        if uuids:
            structs.append((AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS, uuids))
        structs.append((AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()))
        return bytes(AdvertisingData(structs))

    async def power_on(self, link: LocalLink) -> None:
        """Build the Bumble device on the running loop, serve GATT and start advertising."""
        self.device = dev = _new_device(link, self.name, self.address)
        self._chars = {}
        for svc in self._gatt():
            dev.add_service(svc)
        dev.on(dev.EVENT_CONNECTION, self._on_connection)
        dev.gatt_server.on(dev.gatt_server.EVENT_CHARACTERISTIC_SUBSCRIPTION, self._on_subscription)
        await dev.power_on()
        params = AdvertisingParameters(
            advertising_event_properties=AdvertisingEventProperties(
                is_connectable=True, is_legacy=False
            ),
            primary_advertising_interval_min=ADVERTISING_INTERVAL_MS,
            primary_advertising_interval_max=ADVERTISING_INTERVAL_MS,
        )
        await dev.create_advertising_set(
            advertising_parameters=params,
            random_address=_address(self.address),
            advertising_data=self._advertising_data(),
            auto_restart=True,
        )

    # -- connection, subscription and writes ---------------------------------------------------
    def _on_connection(self, connection: Connection) -> None:
        self.stats.connections += 1
        self._connection = connection
        self._subscribed = set()
        self._start_progress = 0
        connection.on(connection.EVENT_DISCONNECTION, self._on_disconnection)

    def _on_disconnection(self, reason: int) -> None:
        self.stats.disconnections.append(int(reason))
        self._connection = None
        self._subscribed = set()
        self._start_progress = 0
        self._cancel_stream()

    def _on_subscription(
        self, connection: Connection, characteristic: Characteristic[Any], notify: bool, *_: Any
    ) -> None:
        uuid = uuid_str(characteristic.uuid)
        if notify:
            self._subscribed.add(uuid)
        else:
            self._subscribed.discard(uuid)
        self._maybe_start()

    def _write_handler(self, uuid: str) -> Callable[[Connection, bytes], None]:
        def on_write(connection: Connection, value: bytes) -> None:
            self._on_write(uuid, bytes(value))

        return on_write

    def _on_write(self, uuid: str, data: bytes) -> None:
        now = self.clock.now()
        self.writes.append((now, uuid, data))
        try:
            self._handle_write(now, uuid, data)
        finally:
            if self.on_write is not None:
                self.on_write(now, uuid, data)

    def _handle_write(self, now: float, uuid: str, data: bytes) -> None:
        prof = self.profile
        direction = alert_direction(prof, uuid, data)
        if direction is not None:
            self.alerts.append((now, direction))
            return
        stop = prof.stop_writes
        if stop and stop[0].char_uuid == uuid and stop[0].data == data:
            self._start_progress = 0
            self._cancel_stream()
            return
        starts = prof.start_writes
        if self._start_progress < len(starts):
            w = starts[self._start_progress]
            if w.char_uuid == uuid and w.data == data:
                self._start_progress += 1
                self._maybe_start()

    def _maybe_start(self) -> None:
        ready = self._start_progress == len(self.profile.start_writes) and all(
            u in self._subscribed for u in self.profile.notify_uuids
        )
        if ready and self._stream_task is None and self._connection is not None:
            self._stream_task = asyncio.get_running_loop().create_task(
                self._stream(), name=f"bumble-stream-{self.name}"
            )

    def _cancel_stream(self) -> None:
        task, self._stream_task = self._stream_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    # -- streaming ---------------------------------------------------------------------------
    async def _stream(self) -> None:
        """Send the person's motion from now on, encoded by the profile, at the profile rate
        (simulated seconds on ``clock``), as ATT notifications."""
        assert self.device is not None
        clock, rate = self.clock, self.profile.rate_hz
        spn = max(p.encode_samples for p in self.profile.packets)
        block = spn * max(1, int(round(STREAM_BLOCK_S * rate / spn)))
        if self.person.t0_s is None:
            self.person.t0_s = clock.now()
        t0 = self.person.t0_s
        k = int(math.ceil((clock.now() - t0) * rate))
        self.stats.streams += 1
        if self.stats.first_sample is None:
            self.stats.first_sample = k
        losses = sorted(t for t in self.link_loss_at_s if t * rate >= k)
        try:
            while True:
                acc, gyr = self.person.samples(self.placement, k, k + block)
                idx = np.arange(k, k + block)
                for uuid, payload, t_send in encode(self.profile, idx / rate, acc, gyr, idx):
                    await clock.sleep_until(t0 + t_send)
                    if losses and t_send >= losses[0] and self._connection is not None:
                        self._stream_task = None
                        self.stats.link_drops += 1
                        await self._connection.disconnect(
                            hci.HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR
                        )
                        return
                    # counted when handed to the stack: the client may receive it before this
                    # task resumes, or this task be cancelled (the stop write) in between
                    self.stats.notifications += 1
                    self.stats.samples_sent += samples_in(self.profile, payload)
                    await self.device.notify_subscribers(self._chars[uuid], payload)
                k += block
        except asyncio.CancelledError:
            pass
        finally:
            if self._stream_task is asyncio.current_task():
                self._stream_task = None


# ------------------------------------------------------------------------------------ the air


class BumbleAir:
    """One virtual radio: the peripherals and the central ("adapter") on one Bumble link.

    >>> air = BumbleAir(SimClock(speed=4))
    >>> air.add_person("p1", exercise="back-kick", sensors=1, seed=3)   # doctest: +SKIP
    >>> air.add_peripheral(profile="diy_imu", placement="sacrum")        # doctest: +SKIP
    >>> src = BleSource([...], backend=bumble_backend(air), clock=air.clock.now)  # doctest: +SKIP
    """

    def __init__(self, clock: SimClock | None = None) -> None:
        self.clock = clock or SimClock()
        self.people: dict[str, SimPerson] = {}
        self.peripherals: dict[str, BumblePeripheral] = {}
        """By upper-case address."""
        self.central: Device | None = None
        self.link: LocalLink | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._up: asyncio.Lock | None = None
        self.connect_lock: asyncio.Lock | None = None
        """Bumble connects one LE link at a time: clients take this lock while connecting."""
        self._scanners = 0

    def add_person(self, name: str = "p1", **options: Any) -> SimPerson:
        """A simulated person (``sources.sim.SimPerson`` keyword options)."""
        if name in self.people:
            raise BumbleError(f"person {name!r} exists already on this Bumble air")
        self.people[name] = person = SimPerson(name, **options)
        return person

    def add_peripheral(
        self,
        *,
        profile: str | Profile = "diy_imu",
        placement: str = "sacrum",
        person: str = "p1",
        name: str | None = None,
        address: str | None = None,
        battery_pct: int = 87,
        link_loss_at_s: tuple[float, ...] = (),
    ) -> BumblePeripheral:
        """A wearable worn by ``person`` at ``placement``; it is powered on (on the loop of
        whoever first scans or connects) with everything else. ``battery_pct``: the Battery
        Level it serves (percent); ``link_loss_at_s``: person times (simulated s) at which it
        drops the link itself."""
        prof = profile if isinstance(profile, Profile) else load_profile(profile)
        if person not in self.people:
            raise BumbleError(
                f"no person {person!r} on this Bumble air; add_person it first "
                f"(people: {', '.join(self.people) or 'none'})"
            )
        who = self.people[person]
        who.samples(placement, 0, 1)  # fails early if the person has no such sensor
        index = len(self.peripherals) + 1
        address = (address or f"F0:1D:00:00:{index // 256:02X}:{index % 256:02X}").upper()
        if address in self.peripherals or address == CENTRAL_ADDRESS:
            raise BumbleError(f"address {address} is taken on this Bumble air; pick another")
        per = BumblePeripheral(
            name=name or sim_device_name(prof, placement, index),
            address=address,
            profile=prof,
            placement=placement,
            person=who,
            clock=self.clock,
            battery_pct=battery_pct,
            link_loss_at_s=tuple(link_loss_at_s),
        )
        self.peripherals[address] = per
        return per

    def peripheral(self, name_or_address: str) -> BumblePeripheral:
        """A peripheral by address or name."""
        key = name_or_address.upper()
        if key in self.peripherals:
            return self.peripherals[key]
        for p in self.peripherals.values():
            if p.name == name_or_address:
                return p
        raise BumbleError(
            f"no Bumble peripheral {name_or_address!r}; peripherals: "
            + ", ".join(f"{p.name} ({p.address})" for p in self.peripherals.values())
        )

    async def ensure_up(self) -> Device:
        """Build the link, the central and every peripheral on the running loop (once per
        loop) and return the central."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop = loop
            self._up = asyncio.Lock()
            self.connect_lock = asyncio.Lock()
            self.central = None
            self._scanners = 0
        assert self._up is not None
        async with self._up:
            if self.central is None:
                self.link = LocalLink()
                for per in self.peripherals.values():
                    await per.power_on(self.link)
                central = _new_device(self.link, "imu-monitor-host", CENTRAL_ADDRESS)
                await central.power_on()
                self.central = central
        assert self.central is not None
        return self.central

    async def start_scanning(self) -> None:
        """Scanning is shared by every scanner on this air (counted)."""
        central = await self.ensure_up()
        self._scanners += 1
        if self._scanners == 1:
            await central.start_scanning(active=True, filter_duplicates=False)

    async def stop_scanning(self) -> None:
        self._scanners = max(self._scanners - 1, 0)
        if self._scanners == 0 and self.central is not None and self.central.scanning:
            await self.central.stop_scanning()


def bumble_backend(air: BumbleAir) -> BleBackend:
    """The bleak backends that reach ``air``'s peripherals through its Bumble central."""
    return BleBackend(BumbleScanner, BumbleClient, {"bumble_air": air})


# ------------------------------------------------------------------------------------ bleak


class BumbleScanner(BaseBleakScanner):
    """bleak scanner backend: HCI LE scanning by the Bumble central of ``bumble_air``."""

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        *,
        bumble_air: BumbleAir | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        if bumble_air is None:
            raise BleakError("BumbleScanner needs the Bumble air: pass bumble_air=BumbleAir(...)")
        self.air = bumble_air
        self._central: Device | None = None

    async def start(self) -> None:
        self.seen_devices = {}
        self._central = await self.air.ensure_up()
        self._central.on(self._central.EVENT_ADVERTISEMENT, self._on_advertisement)
        await self.air.start_scanning()

    async def stop(self) -> None:
        central, self._central = self._central, None
        if central is None:
            return
        central.remove_listener(central.EVENT_ADVERTISEMENT, self._on_advertisement)
        await self.air.stop_scanning()

    def _on_advertisement(self, adv: Advertisement) -> None:
        data = adv.data
        name = data.get(AdvertisingData.COMPLETE_LOCAL_NAME) or data.get(
            AdvertisingData.SHORTENED_LOCAL_NAME
        )
        uuids = [
            uuid_str(u)
            for t in (
                AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
                AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
            )
            for u in (data.get(t) or [])
        ]
        if not self.is_allowed_uuid(uuids):
            return
        tx = adv.tx_power if adv.tx_power != Advertisement.TX_POWER_NOT_AVAILABLE else None
        ad = AdvertisementData(
            local_name=name,
            manufacturer_data={},
            service_data={},
            service_uuids=uuids,
            tx_power=tx,
            rssi=int(adv.rssi),
            platform_data=(adv,),
        )
        addr = adv.address.to_string(False)
        bd = self.create_or_update_device(addr, addr, name, adv.address, ad)
        self.call_detection_callbacks(bd, ad)


class BumbleClient(BaseBleakClient):
    """bleak client backend: an LE connection from the Bumble central of ``bumble_air``, with
    ATT MTU exchange, full GATT discovery, notifications and writes over the Bumble stack.

    The disconnected callback fires on unsolicited disconnections only (as bleak documents;
    BlueZ's habit of firing it on the program's own disconnect is ``SimClient``'s to imitate).
    """

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        bumble_air: BumbleAir | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout
        )
        if bumble_air is None:
            raise BleakError("BumbleClient needs the Bumble air: pass bumble_air=BumbleAir(...)")
        self.air = bumble_air
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._closing = False
        self._gone: asyncio.Event | None = None
        self._subscribers: dict[int, Callable[[bytes], None]] = {}

    @property
    def name(self) -> str:
        per = self.air.peripherals.get(self.address.upper())
        return per.name if per is not None else self.address

    @property
    def mtu_size(self) -> int:
        return self._connection.att_mtu if self._connection is not None else 23

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        central = await self.air.ensure_up()
        assert self.air.connect_lock is not None
        async with self.air.connect_lock:
            try:
                conn = await central.connect(_address(self.address), timeout=self._timeout)
            except Exception as e:
                raise BleakDeviceNotFoundError(
                    self.address, f"cannot connect to {self.address} over Bumble: {e}"
                ) from e
        self._connection, self._closing = conn, False
        self._gone = asyncio.Event()
        conn.on(conn.EVENT_DISCONNECTION, self._on_disconnection)
        self._peer = peer = Peer(conn)
        await peer.request_mtu(REQUESTED_MTU)
        self.services = await self._discover(peer)

    async def _discover(self, peer: Peer) -> BleakGATTServiceCollection:
        """Every service, characteristic and descriptor, as bleak objects wrapping the proxies."""
        coll = BleakGATTServiceCollection()
        for svc in await peer.discover_services():
            bs = BleakGATTService(svc, svc.handle, uuid_str(svc.uuid))
            coll.add_service(bs)
            for ch in await svc.discover_characteristics():
                props = [n for f, n in _PROPERTY_NAMES.items() if ch.properties & f]
                bc = BleakGATTCharacteristic(
                    ch, ch.handle, uuid_str(ch.uuid), props, lambda: self.mtu_size - 3, bs
                )  # type: ignore[arg-type]
                coll.add_characteristic(bc)
                for d in await ch.discover_descriptors():
                    coll.add_descriptor(BleakGATTDescriptor(d, d.handle, uuid_str(d.type), bc))
        return coll

    def _on_disconnection(self, reason: int) -> None:
        self._connection = None
        self._peer = None
        if self._gone is not None:
            self._gone.set()
        if not self._closing and self._disconnected_callback is not None:
            self._disconnected_callback()

    async def disconnect(self) -> None:
        conn = self._connection
        if conn is None:
            return
        self._closing = True
        gone = self._gone
        await conn.disconnect()
        if gone is not None:
            async with asyncio.timeout(self._timeout):
                await gone.wait()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise BleakError("pairing is not offered by the Bumble test backend")

    async def unpair(self) -> None:
        raise BleakError("pairing is not offered by the Bumble test backend")

    def _require(self) -> Peer:
        if self._peer is None:
            raise BleakError(f"{self.address} is not connected (Bumble backend)")
        return self._peer

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        return bytearray(await self._require().read_value(characteristic.obj))

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        return bytearray(await self._require().read_value(descriptor.obj))

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: Any, response: bool
    ) -> None:
        await self._require().write_value(characteristic.obj, bytes(data), with_response=response)

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        await self._require().write_value(descriptor.obj, bytes(data), with_response=True)

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        peer = self._require()

        def on_value(value: bytes) -> None:
            callback(bytearray(value))

        self._subscribers[characteristic.handle] = on_value
        await peer.subscribe(characteristic.obj, on_value)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        peer = self._require()
        sub = self._subscribers.pop(characteristic.handle, None)
        await peer.unsubscribe(characteristic.obj, sub)
