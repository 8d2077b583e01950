"""One wearable at one placement, asynchronous: connect, stream, reconnect, stop.

Everything here runs on one asyncio event loop (the facade in ``sources.ble`` gives it its own
thread). A ``SensorLink`` owns one wearable: it connects with a fresh ``BleakClient``, checks the
device offers what its firmware profile needs, subscribes to the notify characteristics *before*
sending the start writes (notifications sent earlier can be lost), decodes every notification in
the callback (cheap, never blocks) and hands the chunk on. When the link drops it rescans,
connects a new client, re-subscribes and re-sends the start writes with exponential backoff, and
marks the hole in the stream with a ``Gap``. Its own ``disconnect()`` is told apart from a
dropped link by a flag (on Linux/BlueZ the disconnected callback fires for both).

Times: ``clock`` (default ``time.perf_counter``) is the session clock the samples' ``t_s`` are
anchored to (the simulated backend passes its ``SimClock.now``); latency is always measured on
``time.perf_counter``.

Length: one class, one state machine (connect, stream, lose, reconnect, stop) over the same
client and decoder; its statistics, battery and start sequence already live apart
(``link_stats``, ``battery``, ``start_sequence``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from bleak import BleakClient
from bleak.backends.device import BLEDevice
from bleak.exc import BleakBluetoothNotAvailableError, BleakDBusError, BleakError

from imu_monitor.devices.decode import Decoder
from imu_monitor.devices.profiles import Profile
from imu_monitor.errors import BleError
from imu_monitor.model import Gap
from imu_monitor.sources.base import (
    ChunkCallback,
    GapCallback,
    SourceState,
    SourceStatus,
    StatusCallback,
)
from imu_monitor.sources.battery import BATTERY_INTERVAL_S, BatteryWatcher
from imu_monitor.sources.link_stats import (
    LatencyWindow,
    LinkCounters,
    StreamContinuity,
    link_stats,
)
from imu_monitor.sources.scanning import BleBackend, FoundDevice, scan, unavailable_error
from imu_monitor.sources.start_sequence import (
    ReplyWaiter,
    StepCallback,
    StepReport,
    check_services,
    negotiated_mtu,
    probe_variant,
    require_mtu,
    run_start_steps,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReconnectPolicy:
    """Backoff after a dropped link: attempt ``i`` (0-based) waits
    ``min(initial_delay_s * factor**i, max_delay_s)`` (host seconds), then scans for up to
    ``scan_timeout_s``. ``max_attempts``: None retries until stopped."""

    initial_delay_s: float = 0.5
    max_delay_s: float = 10.0
    factor: float = 2.0
    scan_timeout_s: float = 5.0
    connect_timeout_s: float = 10.0
    max_attempts: int | None = None

    def delay(self, attempt: int) -> float:
        return float(min(self.initial_delay_s * self.factor**attempt, self.max_delay_s))


class SensorLink:
    """One wearable at one placement: connect, stream, reconnect, stop (see module docstring).

    Callbacks run on the event loop's thread: ``on_chunk`` for every decoded chunk (``t_s`` on
    the session clock, ``seq`` continuous across reconnects), ``on_gap`` before the first chunk
    after a hole, ``on_status(state, info)`` with ``info["sensor"]`` (state ``battery`` with
    ``info["battery_pct"]`` whenever the battery level changes).

    Battery: when the profile names a battery characteristic, a task of its own reads it after
    each (re)connection and then every ``battery_interval_s`` host seconds and subscribes to its
    notifications where it offers them; the data notifications never wait for it.
    """

    def __init__(
        self,
        placement: str,
        device: FoundDevice,
        profile: Profile,
        backend: BleBackend,
        *,
        policy: ReconnectPolicy | None = None,
        clock: Callable[[], float] = time.perf_counter,
        battery_interval_s: float = BATTERY_INTERVAL_S,
    ) -> None:
        self.placement = placement
        self.device = device
        self.base_profile = profile
        """The profile as given (before a variant probe picks the device's variant)."""
        self.profile = profile
        """The profile in use: the variant the probe chose after ``start_stream``."""
        self.backend = backend
        self.policy = policy or ReconnectPolicy()
        self.clock = clock
        self.on_chunk: ChunkCallback = lambda c: None
        self.on_gap: GapCallback = lambda g: None
        self.on_status: StatusCallback = lambda status: None
        self.state = "idle"
        self.t0_s = 0.0
        self._client: BleakClient | None = None
        self._intentional = False
        self._lost = asyncio.Event()
        self._decoder: Decoder | None = None
        self._device_offset_s: float | None = None  # the last connection's device clock offset
        self._device_ahead_s = 0.0  # and how far it ran ahead of receive times
        self._old_stats: list[dict[str, Any]] = []
        self._counters = LinkCounters()
        self._latency = LatencyWindow()
        self._timeline = StreamContinuity(profile.rate_hz, self._counters, self._gap)
        self._battery = BatteryWatcher(
            placement, profile, device.describe, self._report_battery, battery_interval_s
        )
        self._replies = ReplyWaiter()
        self.mtu: int | None = None
        """The ATT MTU of the current connection (None: the backend cannot tell)."""
        self.steps: list[StepReport] = []
        """The probe and start steps of the latest ``start_stream``, as they went."""
        self.on_step: StepCallback = lambda r: None

    # -- connecting ---------------------------------------------------------------------------
    async def connect(self, ble_device: BLEDevice | None = None) -> None:
        """Connect a new client and check the device offers the profile's characteristics."""
        client = BleakClient(
            ble_device or self.device.ble_device,
            disconnected_callback=self._on_disconnected,
            timeout=self.policy.connect_timeout_s,
            backend=self.backend.client,
            **self.backend.kwargs,
        )
        self._client = client
        try:
            async with asyncio.timeout(self.policy.connect_timeout_s):
                await client.connect()
        except TimeoutError:
            raise BleError(
                f"connecting to {self.device.describe()} timed out after "
                f"{self.policy.connect_timeout_s:g} s; move it closer or switch it off and on"
            ) from None
        except BleError:
            raise
        except Exception as e:
            if isinstance(e, OSError | BleakBluetoothNotAvailableError | BleakDBusError):
                raise unavailable_error(e) from e
            raise BleError(f"cannot connect to {self.device.describe()}: {e}") from e
        check_services(client, self.base_profile, self.device.describe())
        self.mtu = await negotiated_mtu(client)
        require_mtu(self.base_profile, self.mtu, self.device.describe())
        self.state = "connected"
        self.on_status(self._status(SourceState.CONNECTED))

    async def start_stream(self, t0_s: float) -> None:
        """Subscribe to every notify characteristic, probe the variant (when the profile has
        variants), then run the start steps (writes, replies checked, delays). Raises
        ``ProfileReplyError`` / ``DeviceVariantError`` / ``MtuTooSmallError`` naming the device
        and the step."""
        self.t0_s = t0_s
        client = self._require_client()
        name = self.device.describe()
        self._decoder = None
        self.steps = []
        subscribed = list(self.base_profile.notify_uuids)
        for uuid in subscribed:
            await client.start_notify(uuid, self._on_notify)
        profile = await probe_variant(client, self.base_profile, self._replies, name, self._step)
        if profile is not self.base_profile:
            require_mtu(profile, self.mtu, name)
            for uuid in profile.notify_uuids:
                if uuid not in subscribed:
                    await client.start_notify(uuid, self._on_notify)
        self.profile = profile
        decoder = Decoder(profile, self.placement, t0_s=t0_s)
        # after a reconnect, keep the device clock's time base when it ran on (issue 13)
        decoder.continue_device_clock(
            self._device_offset_s, self._timeline.last_t, self._device_ahead_s
        )
        self._timeline.new_decoder()
        self._decoder = decoder
        await run_start_steps(client, profile, self._replies, decoder, name, self._step)
        self.state = "streaming"
        self.on_status(self._status(SourceState.STREAMING))
        self._battery.start(client)

    def _step(self, report: StepReport) -> None:
        self.steps.append(report)
        log.info("%s: %s", self.placement, report.describe())
        try:
            self.on_step(report)
        except Exception:
            self._counters.callback_errors += 1
            log.exception("reporting a start step of %s failed", self.placement)

    def _require_client(self) -> BleakClient:
        if self._client is None or not self._client.is_connected:
            raise BleError(f"{self.placement} sensor {self.device.describe()} is not connected")
        return self._client

    # -- battery level (off the notification path) -------------------------------------------
    @property
    def battery_pct(self) -> int | None:
        """Last battery level read or notified (percent), None while unknown."""
        return self._battery.level

    def _report_battery(self, pct: int) -> None:
        try:
            self.on_status(self._status(SourceState.BATTERY, battery_pct=pct))
        except Exception:
            self._counters.callback_errors += 1
            log.exception("reporting the battery level of %s failed", self.placement)

    # -- notifications (the hot path) ---------------------------------------------------------
    def _on_notify(self, char: Any, data: bytearray) -> None:
        t_rx = time.perf_counter()
        self._replies.offer(char.uuid, data)
        dec = self._decoder
        if dec is None:
            return
        try:
            chunk = dec.feed(char.uuid, bytes(data), self.clock())
        except Exception:  # the decoder counts bad bytes itself; this is a decoder bug
            self._counters.decoder_errors += 1
            log.exception("decoding a notification of %s failed", self.placement)
            return
        if chunk is None:
            return
        chunk.t_received_s = t_rx
        self._timeline.feed(chunk)
        try:
            self.on_chunk(chunk)
        except Exception:
            self._counters.callback_errors += 1
            log.exception("processing a chunk of %s failed", self.placement)
        self._latency.add(time.perf_counter() - t_rx)

    def _gap(self, t0: float, t1: float, reason: str, lost: int) -> None:
        self._counters.gaps += 1
        try:
            self.on_gap(Gap(self.placement, t0, t1, reason, lost))
        except Exception:
            self._counters.callback_errors += 1
            log.exception("marking a gap of %s failed", self.placement)

    # -- link loss and reconnection -----------------------------------------------------------
    def _on_disconnected(self, client: BleakClient) -> None:
        if self._intentional or client is not self._client:
            return  # our own disconnect (BlueZ reports it too) or a stale client
        if self.state in ("reconnecting", "stopped"):
            return
        self._counters.link_losses += 1
        self.state = "reconnecting"
        self._timeline.link_lost(self.clock() - self.t0_s)
        log.warning("%s sensor %s: link lost", self.placement, self.device.describe())
        self.on_status(self._status(SourceState.LINK_LOST))
        self._lost.set()

    async def supervise(self) -> None:
        """Wait for dropped links and reconnect; returns when stopped or out of attempts."""
        while not self._intentional:
            await self._lost.wait()
            self._lost.clear()
            if self._intentional:
                return
            if not await self._reconnect():
                return

    async def _reconnect(self) -> bool:
        attempt = 0
        addr = self.device.address
        while not self._intentional:
            if self.policy.max_attempts is not None and attempt >= self.policy.max_attempts:
                self.state = "failed"
                self.on_status(
                    self._status(
                        SourceState.FAILED,
                        attempts=attempt,
                        message=f"{self.placement} sensor {self.device.describe()}: gave up "
                        f"reconnecting after {attempt} attempts; check that it is on and in range",
                    )
                )
                return False
            delay = self.policy.delay(attempt)
            attempt += 1
            self.on_status(self._status(SourceState.RECONNECTING, attempt=attempt, delay_s=delay))
            await asyncio.sleep(delay)
            try:
                found = await scan(
                    self.policy.scan_timeout_s,
                    self.backend,
                    until=lambda fd: addr in fd,
                    profiles=[self.profile],
                )
                dev = next((f for f in found if f.address == addr), None)
                if dev is None:
                    continue
                await self._drop_client()
                await self.connect(dev.ble_device)
                await self.start_stream(self.t0_s)
            except (BleakError, BleError, OSError, TimeoutError) as e:
                log.info("%s: reconnect attempt %d failed: %s", self.placement, attempt, e)
                continue
            self._counters.reconnects += 1
            self.on_status(self._status(SourceState.RECONNECTED, attempts=attempt))
            return True
        return False

    async def _drop_client(self) -> None:
        """Forget the old client (after a loss), keeping its decoder's statistics."""
        self._battery.stop()
        if self._decoder is not None:
            self._old_stats.append(self._decoder.stats.to_dict())
            if self._decoder.device_offset_s is not None:
                self._device_offset_s = self._decoder.device_offset_s
                self._device_ahead_s = self._decoder.ahead_s
            self._decoder = None
        old, self._client = self._client, None
        if old is not None and old.is_connected:
            try:
                await old.disconnect()
            except Exception as e:  # it is gone anyway
                log.debug("disconnecting a stale client failed: %s", e)

    # -- stopping and alerts ------------------------------------------------------------------
    async def close(self) -> None:
        """Intentional stop: stop writes, unsubscribe, disconnect (failures are logged only)."""
        self._intentional = True
        self._lost.set()
        self._battery.stop()
        client = self._client
        if client is not None and client.is_connected:
            try:
                for w in self.profile.stop_writes:
                    await client.write_gatt_char(w.char_uuid, w.data, response=w.response)
                for uuid in self.profile.notify_uuids:
                    await client.stop_notify(uuid)
            except Exception as e:
                log.info("%s: stopping the stream failed: %s", self.placement, e)
            try:
                await client.disconnect()
            except Exception as e:
                log.info("%s: disconnect failed: %s", self.placement, e)
        self.state = "stopped"
        self.on_status(self._status(SourceState.STOPPED))

    async def alert(self, direction: str) -> bool:
        """Send the profile's alert writes for ``direction``; False when there are none or the
        device is not connected."""
        writes = self.profile.alerts.get(direction, ())
        client = self._client
        if not writes or client is None or not client.is_connected or self.state != "streaming":
            return False
        try:
            for w in writes:
                await client.write_gatt_char(w.char_uuid, w.data, response=w.response)
        except Exception as e:
            log.info("%s: alert write failed: %s", self.placement, e)
            return False
        return True

    # -- reporting ----------------------------------------------------------------------------
    @property
    def last_t_s(self) -> float | None:
        """Session time of the newest sample handed on (None before the first)."""
        return self._timeline.last_t

    def latencies_s(self) -> np.ndarray:
        """The last ``LATENCY_WINDOW`` notification-to-processed latencies (s, perf_counter)."""
        return self._latency.values_s()

    def _status(self, state: SourceState, **facts: Any) -> SourceStatus:
        return SourceStatus(
            state,
            sensor=self.placement,
            device=self.device.name or "",
            address=self.device.address,
            profile=self.profile.name,
            **facts,
        )

    def stats(self) -> dict[str, Any]:
        """Packets, samples, loss (from the counter, plus estimated in link gaps), malformed
        packets by reason, gaps, reconnects, effective rate (Hz: samples delivered per second of
        the stream's time base, so loss and link gaps lower it) and
        notification-to-processed latency (ms, perf_counter) p50/p99/max, and the battery
        level (``battery_pct``, percent; None when the profile names no battery characteristic,
        the device lacks it, or no read has succeeded yet)."""
        parts = list(self._old_stats)
        if self._decoder is not None:
            parts.append(self._decoder.stats.to_dict())
        identity = {
            "sensor": self.placement,
            "device": self.device.name,
            "address": self.device.address,
            "profile": self.profile.name,
            "state": self.state,
        }
        return link_stats(
            identity,
            parts,
            self._counters,
            self._latency.values_s(),
            self._timeline.last_t,
            self.profile.rate_hz,
            self.battery_pct,
        )
