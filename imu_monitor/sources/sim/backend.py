"""The simulated wearable as bleak backends: ``BleakScanner(..., backend=SimScanner)`` and
``BleakClient(..., backend=SimClient)``, both given the world as keyword ``sim_world``.

The Linux/BlueZ quirk that the disconnected callback also fires on the program's own
``disconnect()`` is reproduced (``SimClient(..., callback_on_own_disconnect=True)``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementDataCallback, BaseBleakScanner
from bleak.exc import BleakDeviceNotFoundError, BleakError

from imu_monitor.sources.sim.device import SimDevice
from imu_monitor.sources.sim.world import SimWorld

ADVERTISING_INTERVAL_S = 0.1
"""Simulated seconds between advertisements of a device that is not connected."""


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
        return self._resolve().mtu_size

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
