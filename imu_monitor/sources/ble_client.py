"""The bleak client, asynchronous part: scanning, picking devices, one link per sensor.

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
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.exc import BleakBluetoothNotAvailableError, BleakDBusError, BleakError

from imu_monitor.devices.decode import Decoder
from imu_monitor.devices.profiles import Profile, list_profiles, load_profile, normalize_uuid
from imu_monitor.errors import (
    BleError,
    BluetoothUnavailableError,
    DeviceNotFoundError,
    ProfileMismatchError,
)
from imu_monitor.model import Gap, SampleChunk
from imu_monitor.sources.base import ChunkCallback, GapCallback, StatusCallback

log = logging.getLogger(__name__)


LATENCY_WINDOW = 4096
"""Notification-to-processed latencies kept per sensor for the percentiles."""

_ADDRESS_RE = re.compile(r"^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f-]{36}$")

SIM_HINT = "use --device sim for the simulated wearable"

BATTERY_INTERVAL_S = 60.0
"""Host seconds between battery level reads (notifications, where offered, come in between)."""


def is_bluetooth_unavailable(e: BaseException) -> bool:
    """True for the errors bleak and the OS raise when there is no usable adapter."""
    if isinstance(e, BleakBluetoothNotAvailableError | BleakDBusError | OSError):
        return True
    if isinstance(e, BleakError):
        text = str(e).lower()
        return any(w in text for w in ("adapter", "bluetooth", "powered", "bluez", "dbus"))
    return False


def unavailable_error(e: BaseException) -> BluetoothUnavailableError:
    detail = str(e) or type(e).__name__
    return BluetoothUnavailableError(
        f"Bluetooth is not available on this machine ({type(e).__name__}: {detail}); "
        f"check the adapter is present and switched on, or {SIM_HINT}"
    )


# ------------------------------------------------------------------------------------ config


@dataclass
class BleBackend:
    """Which bleak backend classes to use (None: the platform's own) and extra keyword
    arguments passed to both ``BleakScanner`` and ``BleakClient`` (e.g. ``sim_world``)."""

    scanner: type | None = None
    client: type | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def simulated(self) -> bool:
        return self.scanner is not None and self.scanner.__name__.startswith("Sim")


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


@dataclass(frozen=True)
class SensorTarget:
    """What to connect for one placement: ``device`` is a name or an address (None: the
    strongest device that fits ``profile``); ``profile`` a firmware profile name (None: the
    profile that matches the advertisement)."""

    placement: str
    device: str | None = None
    profile: str | None = None


@dataclass(frozen=True)
class FoundDevice:
    """A device seen in a scan."""

    name: str | None
    address: str
    rssi: int
    service_uuids: tuple[str, ...]
    profile: str | None
    """The firmware profile its advertisement matches, or None."""
    ble_device: BLEDevice = field(compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "address": self.address,
            "rssi": self.rssi,
            "profile": self.profile,
            "service_uuids": list(self.service_uuids),
        }

    def describe(self) -> str:
        prof = self.profile or "no matching profile"
        return f"{self.name or '(no name)'} [{self.address}, {self.rssi} dBm, {prof}]"


# ------------------------------------------------------------------------------------ scanning


def _match(profiles: list[Profile], name: str | None, uuids: list[str]) -> Profile | None:
    """Service-UUID match first, then name (as ``profiles.match_profile``, without re-reading
    the profile files for every advertisement)."""
    for prof in profiles:
        if prof.matches(None, uuids):
            return prof
    for prof in profiles:
        if name and prof.matches(name, []):
            return prof
    return None


async def scan(
    timeout_s: float,
    backend: BleBackend | None = None,
    *,
    until: Callable[[dict[str, FoundDevice]], bool] | None = None,
    profiles: list[Profile] | None = None,
) -> list[FoundDevice]:
    """Scan for up to ``timeout_s`` host seconds (less when ``until(found)`` becomes true);
    devices strongest first. Raises ``BluetoothUnavailableError`` when there is no adapter."""
    backend = backend or BleBackend()
    profiles = list_profiles() if profiles is None else profiles
    found: dict[str, FoundDevice] = {}
    try:
        async with BleakScanner(backend=backend.scanner, **backend.kwargs) as scanner:
            try:
                async with asyncio.timeout(timeout_s):
                    async for bd, ad in scanner.advertisement_data():
                        uuids = [normalize_uuid(u) for u in ad.service_uuids]
                        name = ad.local_name or bd.name
                        prof = _match(profiles, name, uuids)
                        found[bd.address] = FoundDevice(
                            name, bd.address, int(ad.rssi), tuple(uuids),
                            prof.name if prof else None, bd,
                        )  # fmt: skip
                        if until is not None and until(found):
                            break
            except TimeoutError:
                pass
    except BleError:
        raise
    except Exception as e:
        if is_bluetooth_unavailable(e):
            raise unavailable_error(e) from e
        raise
    return sorted(found.values(), key=lambda f: -f.rssi)


def pick_device(
    found: list[FoundDevice] | dict[str, FoundDevice],
    target: SensorTarget,
    claimed: set[str] = frozenset(),  # type: ignore[assignment]
    profiles: list[Profile] | None = None,
) -> FoundDevice | None:
    """The found device for ``target`` (by address, then exact name; else the strongest
    unclaimed device fitting the target's profile or any profile)."""
    devs = sorted(found.values() if isinstance(found, dict) else found, key=lambda f: -f.rssi)
    if target.device:
        want = target.device
        for f in devs:
            if f.address.lower() == want.lower():
                return f
        for f in devs:
            if f.name == want and f.address not in claimed:
                return f
        return None
    prof = None
    if target.profile:
        prof = next((p for p in profiles or [] if p.name == target.profile), None)
        if prof is None:
            prof = load_profile(target.profile)
    for f in devs:
        if f.address in claimed:
            continue
        if prof is not None:
            if prof.matches(f.name, f.service_uuids):
                return f
        elif f.profile is not None:
            return f
    return None


async def resolve_targets(
    targets: list[SensorTarget], backend: BleBackend, timeout_s: float
) -> dict[str, tuple[FoundDevice, Profile]]:
    """Scan until every target has a device (or ``timeout_s``) and decide each one's profile.
    Raises ``DeviceNotFoundError`` / ``ProfileMismatchError`` listing what the scan found."""
    profiles = list_profiles()

    def assign(found: dict[str, FoundDevice]) -> dict[str, FoundDevice]:
        claimed: set[str] = set()
        out: dict[str, FoundDevice] = {}
        # named devices first, so "any matching device" targets do not steal them
        for t in sorted(targets, key=lambda t: t.device is None):
            f = pick_device(found, t, claimed, profiles)
            if f is not None:
                out[t.placement] = f
                claimed.add(f.address)
        return out

    found = await scan(
        timeout_s, backend, until=lambda fd: len(assign(fd)) == len(targets), profiles=profiles
    )
    chosen = assign({f.address: f for f in found})
    missing = [t for t in targets if t.placement not in chosen]
    if missing:
        what = "; ".join(f.describe() for f in found) or "nothing"
        wanted = ", ".join(
            f"{t.placement}={t.device or ('any ' + (t.profile or 'supported') + ' device')}"
            for t in missing
        )
        raise DeviceNotFoundError(
            f"device not found for {wanted} after scanning {timeout_s:g} s; found: {what}. "
            f"Check the wearable is on, advertising and not connected elsewhere, name it by "
            f"name or address (imu-monitor scan lists them), or {SIM_HINT}"
        )
    out: dict[str, tuple[FoundDevice, Profile]] = {}
    by_name = {p.name: p for p in profiles}
    for t in targets:
        f = chosen[t.placement]
        if t.profile:
            prof = by_name.get(t.profile) or load_profile(t.profile)
        elif f.profile:
            prof = by_name[f.profile]
        else:
            raise ProfileMismatchError(
                f"no firmware profile matches device {f.describe()} (advertised services: "
                f"{', '.join(f.service_uuids) or 'none'}); known profiles: "
                f"{', '.join(by_name) or 'none'}; pass --profile NAME or add a profile to "
                "firmware_profiles/"
            )
        out[t.placement] = (f, prof)
    return out


# ------------------------------------------------------------------------------------ stats


@dataclass
class _LinkCounters:
    gaps: int = 0
    link_losses: int = 0
    reconnects: int = 0
    lost_in_link_gaps: int = 0
    callback_errors: int = 0
    decoder_errors: int = 0
    first_t_s: float | None = None


def _merge_decode_stats(stats: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for s in stats:
        for k, v in s.items():
            if isinstance(v, dict):
                d = out.setdefault(k, {})
                for kk, vv in v.items():
                    d[kk] = d.get(kk, 0) + vv
            else:
                out[k] = out.get(k, 0) + v
    return out


# ------------------------------------------------------------------------------------ link


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
        self.profile = profile
        self.backend = backend
        self.policy = policy or ReconnectPolicy()
        self.clock = clock
        self.on_chunk: ChunkCallback = lambda c: None
        self.on_gap: GapCallback = lambda g: None
        self.on_status: StatusCallback = lambda s, i: None
        self.state = "idle"
        self.t0_s = 0.0
        self._client: BleakClient | None = None
        self._intentional = False
        self._lost = asyncio.Event()
        self._decoder: Decoder | None = None
        self._old_stats: list[dict[str, Any]] = []
        self._counters = _LinkCounters()
        self._latency_s: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self._lat_lock = threading.Lock()
        self._last_t: float | None = None
        self._last_seq: int | None = None
        self._seq_offset = 0
        self._after_link_loss: float | None = None  # session time of the loss, until next chunk
        self._new_decoder = False
        self.battery_interval_s = float(battery_interval_s)
        self.battery_pct: int | None = None
        """Last battery level read or notified (percent), None while unknown."""
        self._battery_task: asyncio.Task[None] | None = None

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
        self._check_profile(client)
        self.state = "connected"
        self.on_status("connected", self._info())

    def _check_profile(self, client: BleakClient) -> None:
        have = {c.uuid for c in client.services.characteristics.values()}
        need = set(self.profile.notify_uuids)
        for w in self.profile.start_writes + self.profile.stop_writes:
            need.add(w.char_uuid)
        missing = sorted(need - have)
        if missing:
            services = "; ".join(
                f"{s.uuid}: {', '.join(c.uuid for c in s.characteristics) or 'no characteristics'}"
                for s in client.services
            )
            raise ProfileMismatchError(
                f"device {self.device.describe()} does not offer what firmware profile "
                f"{self.profile.name} needs (missing characteristics: {', '.join(missing)}); "
                f"the device has {services or 'no services'}. Pick the right --profile "
                "(imu-monitor scan shows the matching one) or fix the profile file"
            )

    async def start_stream(self, t0_s: float) -> None:
        """Subscribe to every notify characteristic, then send the start writes."""
        self.t0_s = t0_s
        client = self._require_client()
        self._decoder = Decoder(self.profile, self.placement, t0_s=t0_s)
        self._new_decoder = True
        for uuid in self.profile.notify_uuids:
            await client.start_notify(uuid, self._on_notify)
        for w in self.profile.start_writes:
            await client.write_gatt_char(w.char_uuid, w.data, response=w.response)
        self.state = "streaming"
        self.on_status("streaming", self._info())
        self._start_battery(client)

    def _require_client(self) -> BleakClient:
        if self._client is None or not self._client.is_connected:
            raise BleError(f"{self.placement} sensor {self.device.describe()} is not connected")
        return self._client

    # -- battery level (off the notification path) -------------------------------------------
    def _start_battery(self, client: BleakClient) -> None:
        """Watch the profile's battery characteristic in a task of its own (none: nothing)."""
        self._stop_battery()
        if self.profile.battery_uuid is None:
            return
        self._battery_task = asyncio.get_running_loop().create_task(
            self._watch_battery(client), name=f"ble-battery-{self.placement}"
        )

    def _stop_battery(self) -> None:
        task, self._battery_task = self._battery_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _watch_battery(self, client: BleakClient) -> None:
        """Read the level now and every ``battery_interval_s``; subscribe where it notifies.
        A failed read or subscription is logged and the stream goes on regardless."""
        uuid = self.profile.battery_uuid
        assert uuid is not None
        char = client.services.get_characteristic(uuid)
        if char is None:
            log.info(
                "%s: device %s has no battery characteristic %s (firmware profile %s); "
                "battery level unknown",
                self.placement, self.device.describe(), uuid, self.profile.name,
            )  # fmt: skip
            return
        if "notify" in char.properties:
            try:
                await client.start_notify(char, self._on_battery_notify)
            except Exception as e:  # polling still works
                log.info("%s: battery notifications unavailable: %s", self.placement, e)
        while client.is_connected:
            try:
                self._set_battery(await client.read_gatt_char(char), "read")
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.info("%s: reading the battery level failed: %s", self.placement, e)
            await asyncio.sleep(self.battery_interval_s)

    def _on_battery_notify(self, char: Any, data: bytearray) -> None:
        self._set_battery(data, "notification")

    def _set_battery(self, data: bytes | bytearray, how: str) -> None:
        """Battery Level (0x2A19): one u8, percent 0-100; other values mean unknown."""
        if len(data) < 1 or data[0] > 100:
            log.debug("%s: ignoring battery %s %s", self.placement, how, bytes(data).hex())
            return
        pct = int(data[0])
        if pct == self.battery_pct:
            return
        self.battery_pct = pct
        try:
            self.on_status("battery", self._info() | {"battery_pct": pct})
        except Exception:
            self._counters.callback_errors += 1
            log.exception("reporting the battery level of %s failed", self.placement)

    # -- notifications (the hot path) ---------------------------------------------------------
    def _on_notify(self, char: Any, data: bytearray) -> None:
        t_rx = time.perf_counter()
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
        self._continue(chunk)
        try:
            self.on_chunk(chunk)
        except Exception:
            self._counters.callback_errors += 1
            log.exception("processing a chunk of %s failed", self.placement)
        with self._lat_lock:
            self._latency_s.append(time.perf_counter() - t_rx)

    def _continue(self, chunk: SampleChunk) -> None:
        """Keep ``seq`` continuous across decoders and emit gaps."""
        c = self._counters
        if c.first_t_s is None:
            c.first_t_s = float(chunk.t_s[0])
        rate = self.profile.rate_hz
        t_first = float(chunk.t_s[0])
        if self._new_decoder:
            self._new_decoder = False
            if self._last_t is not None:
                lost = max(int(round((t_first - self._last_t) * rate)) - 1, 0)
                if chunk.seq is not None and self._last_seq is not None:
                    self._seq_offset = self._last_seq + 1 + lost - int(chunk.seq[0])
                reason = "link_lost" if self._after_link_loss is not None else "reconnect"
                self._gap(self._last_t, t_first, reason, lost)
                c.lost_in_link_gaps += lost
        elif self._last_t is not None:
            if chunk.seq is not None and self._last_seq is not None:
                missing = int(chunk.seq[0]) + self._seq_offset - self._last_seq - 1
            else:
                missing = int(round((t_first - self._last_t) * rate)) - 1
            if missing > 0:
                self._gap(self._last_t, t_first, "packet_loss", missing)
        self._after_link_loss = None
        if chunk.seq is not None:
            if self._seq_offset:
                chunk.seq = chunk.seq + self._seq_offset
            self._last_seq = int(chunk.seq[-1])
        self._last_t = float(chunk.t_s[-1])

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
        self._after_link_loss = self.clock() - self.t0_s
        log.warning("%s sensor %s: link lost", self.placement, self.device.describe())
        self.on_status("link_lost", self._info())
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
                self.on_status("failed", self._info() | {"attempts": attempt})
                return False
            delay = self.policy.delay(attempt)
            attempt += 1
            self.on_status("reconnecting", self._info() | {"attempt": attempt, "delay_s": delay})
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
            self.on_status("reconnected", self._info() | {"attempts": attempt})
            return True
        return False

    async def _drop_client(self) -> None:
        """Forget the old client (after a loss), keeping its decoder's statistics."""
        self._stop_battery()
        if self._decoder is not None:
            self._old_stats.append(self._decoder.stats.to_dict())
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
        self._stop_battery()
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
        self.on_status("stopped", self._info())

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
        return self._last_t

    def latencies_s(self) -> np.ndarray:
        """The last ``LATENCY_WINDOW`` notification-to-processed latencies (s, perf_counter)."""
        with self._lat_lock:
            return np.array(self._latency_s)

    def _info(self) -> dict[str, Any]:
        return {
            "sensor": self.placement,
            "device": self.device.name or "",
            "address": self.device.address,
            "profile": self.profile.name,
        }

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
        d = _merge_decode_stats(parts)
        c = self._counters
        samples = int(d.get("samples", 0))
        lost = int(d.get("lost_samples", 0)) + int(d.get("lost_samples_estimated", 0))
        lost_total = lost + c.lost_in_link_gaps
        with self._lat_lock:
            lat = np.array(self._latency_s) * 1000.0
        span = 0.0
        if c.first_t_s is not None and self._last_t is not None:
            span = self._last_t - c.first_t_s + 1.0 / self.profile.rate_hz
        return {
            "sensor": self.placement,
            "device": self.device.name,
            "address": self.device.address,
            "profile": self.profile.name,
            "state": self.state,
            "packets": int(d.get("packets", 0)),
            "samples": samples,
            "lost_samples": lost,
            "lost_in_link_gaps": c.lost_in_link_gaps,
            "loss_fraction": lost_total / (samples + lost_total) if samples + lost_total else 0.0,
            "malformed": dict(d.get("malformed", {})),
            "malformed_total": int(d.get("malformed_total", 0)),
            "gaps": c.gaps,
            "link_losses": c.link_losses,
            "reconnects": c.reconnects,
            "decoder_errors": c.decoder_errors,
            "callback_errors": c.callback_errors,
            "effective_rate_hz": samples / span if span > 0 else 0.0,
            "battery_pct": self.battery_pct,
            "latency_ms": {
                "n": int(len(lat)),
                "p50": float(np.percentile(lat, 50)) if len(lat) else None,
                "p99": float(np.percentile(lat, 99)) if len(lat) else None,
                "max": float(lat.max()) if len(lat) else None,
            },
        }


def looks_like_address(text: str) -> bool:
    """A Bluetooth MAC address (or a macOS device UUID)."""
    return bool(_ADDRESS_RE.match(text))
