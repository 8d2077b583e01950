"""Scanning for wearables and choosing one per placement (asynchronous, on bleak).

``scan`` lists what advertises, each device with the firmware profile its advertisement matches
(service UUID first, then name); ``pick_device`` chooses the device for one ``SensorTarget``;
``resolve_targets`` scans until every target has a device and decides each one's profile.
``BleBackend`` names the bleak backend classes (None: the platform's own; the simulated wearable
passes ``sim.SimScanner`` / ``sim.SimClient``).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.exc import BleakBluetoothNotAvailableError, BleakDBusError, BleakError

from imu_monitor.devices.profiles import Profile, list_profiles, load_profile, normalize_uuid
from imu_monitor.errors import (
    BleError,
    BluetoothUnavailableError,
    DeviceNotFoundError,
    ProfileMismatchError,
)

_ADDRESS_RE = re.compile(r"^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f-]{36}$")

SIM_HINT = "use --device sim for the simulated wearable"


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


@dataclass
class BleBackend:
    """Which bleak backend classes to use (None: the platform's own) and extra keyword
    arguments passed to both ``BleakScanner`` and ``BleakClient`` (e.g. ``sim_world``)."""

    scanner: type | None = None
    client: type | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)


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


def looks_like_address(text: str) -> bool:
    """A Bluetooth MAC address (or a macOS device UUID)."""
    return bool(_ADDRESS_RE.match(text))
