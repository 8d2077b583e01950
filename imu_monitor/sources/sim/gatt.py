"""What a simulated device serves over GATT: its services and characteristics as the firmware
profile describes them, and how it reads the writes it receives (start, stop, alerts)."""

from __future__ import annotations

from typing import Any

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection

from imu_monitor.devices.profiles import Profile

CCCD_UUID = "00002902-0000-1000-8000-00805f9b34fb"
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
SIM_MTU = 247


def build_gatt(profile: Profile, *, battery_notify: bool = True) -> BleakGATTServiceCollection:
    """The services and characteristics ``profile`` describes (with CCCDs on notify), and a
    Battery service when it names a battery characteristic (notifying if ``battery_notify``)."""
    coll = BleakGATTServiceCollection()
    handle = 1
    main_uuid = profile.service_uuids[0] if profile.service_uuids else profile.notify_uuids[0]
    main = BleakGATTService(None, handle, main_uuid)
    coll.add_service(main)
    handle += 1
    for extra in profile.service_uuids[1:]:
        coll.add_service(BleakGATTService(None, handle, extra))
        handle += 1
    chars: dict[str, list[str]] = {u: ["notify"] for u in profile.notify_uuids}
    writes = list(profile.start_writes) + list(profile.stop_writes)
    for ws in profile.alerts.values():
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
    if profile.battery_uuid:
        bat = BleakGATTService(None, handle, BATTERY_SERVICE_UUID)
        coll.add_service(bat)
        handle += 1
        props = ["read", "notify"] if battery_notify else ["read"]
        ch = BleakGATTCharacteristic(
            None, handle, profile.battery_uuid, props, lambda: SIM_MTU - 3, bat
        )
        coll.add_characteristic(ch)
        handle += 1
        if battery_notify:
            coll.add_descriptor(BleakGATTDescriptor(None, handle, CCCD_UUID, ch))
    return coll


def alert_direction(profile: Profile, uuid: str, data: bytes) -> str | None:
    """The alert (``flexion``, ``extension``, ``off``) a write to a simulated device stands for,
    or None when it is not one of the profile's alert writes."""
    for direction, ws in profile.alerts.items():
        if any(is_write(w, uuid, data) for w in ws):
            return direction
    return None


def samples_in(profile: Profile, payload: bytes, first_part_bytes: int = 0) -> int:
    """How many samples a data notification of ``profile`` carries (for a device's stats). A
    packet split over two notifications (``[[continuation]]``) counts on its second part, joined
    to a first part of ``first_part_bytes`` (0: the first part did not arrive intact)."""
    spec = profile.packets[0]
    length = len(payload)
    for c in profile.continuation:
        if payload.startswith(c.first) and length == c.split_length:
            return 0
        if payload.startswith(c.next):
            if not first_part_bytes:
                return 0
            length = first_part_bytes + length - len(c.next)
    if spec.samples is not None:
        return spec.samples
    return max(0, (length - spec.data_offset) // spec.sample_nbytes)


def is_write(w: Any, uuid: str, data: bytes) -> bool:
    return w.char_uuid == uuid and w.data == data
