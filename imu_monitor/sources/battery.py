"""The battery level of one connected wearable, watched off the notification path.

When the firmware profile names a battery characteristic (Battery Level 0x2A19: one u8, percent),
a task of its own reads it after each (re)connection and then every ``interval_s`` host seconds,
and subscribes to its notifications where the device offers them. A failed read or subscription
is logged and the data stream goes on regardless.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from bleak import BleakClient

from imu_monitor.devices.profiles import Profile

log = logging.getLogger(__name__)

BATTERY_INTERVAL_S = 60.0
"""Host seconds between battery level reads (notifications, where offered, come in between)."""


class BatteryWatcher:
    """Watches the battery characteristic of ``profile`` on one client at a time.

    ``on_level(pct)`` is called on the event loop's thread whenever the level changes;
    ``level`` is the last level read or notified (percent), None while unknown.
    """

    def __init__(
        self,
        placement: str,
        profile: Profile,
        describe: Callable[[], str],
        on_level: Callable[[int], None],
        interval_s: float = BATTERY_INTERVAL_S,
    ) -> None:
        self.placement = placement
        self.profile = profile
        self.describe = describe
        self.on_level = on_level
        self.interval_s = float(interval_s)
        self.level: int | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self, client: BleakClient) -> None:
        """Watch ``client`` (the profile names no battery characteristic: nothing)."""
        self.stop()
        if self.profile.battery_uuid is None:
            return
        self._task = asyncio.get_running_loop().create_task(
            self._watch(client), name=f"ble-battery-{self.placement}"
        )

    def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _watch(self, client: BleakClient) -> None:
        """Read the level now and every ``interval_s``; subscribe where it notifies."""
        uuid = self.profile.battery_uuid
        assert uuid is not None
        char = client.services.get_characteristic(uuid)
        if char is None:
            log.info(
                "%s: device %s has no battery characteristic %s (firmware profile %s); "
                "battery level unknown",
                self.placement, self.describe(), uuid, self.profile.name,
            )  # fmt: skip
            return
        if "notify" in char.properties:
            try:
                await client.start_notify(char, self._on_notify)
            except Exception as e:  # polling still works
                log.info("%s: battery notifications unavailable: %s", self.placement, e)
        while client.is_connected:
            try:
                self.set(await client.read_gatt_char(char), "read")
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.info("%s: reading the battery level failed: %s", self.placement, e)
            await asyncio.sleep(self.interval_s)

    def _on_notify(self, char: Any, data: bytearray) -> None:
        self.set(data, "notification")

    def set(self, data: bytes | bytearray, how: str) -> None:
        """Battery Level (0x2A19): one u8, percent 0-100; other values mean unknown."""
        if len(data) < 1 or data[0] > 100:
            log.debug("%s: ignoring battery %s %s", self.placement, how, bytes(data).hex())
            return
        pct = int(data[0])
        if pct == self.level:
            return
        self.level = pct
        self.on_level(pct)
