"""What a simulated wearable says back: each vendor's protocol, both ways, from the vendor's
sources (facts in /work/shared/PROTOCOLS.md and /work/notes/vendor_facts.md), independent of the
firmware profile the client uses, so a profile that ignores them fails.

- Polar PMD (polarofficial/polar-ble-sdk @ 8fb5311c `PmdControlPointResponse.kt`,
  `PmdSetting.kt`): every control-point request is answered on the control point
  ``F0 <op> <type> <status> <more>`` [+ settings]; a start with an unsupported type, rate,
  resolution, range or channel count, a malformed settings list or a start of a running
  measurement gets the vendor's error status and starts nothing. Real Verity start replies carry
  no conversion factor (issues #331, #443); ``factor`` adds one (setting id 5, f32);
  ``answers=False`` makes a device that never answers.
- WitMotion BWT901BLE5.0 (WITMOTION/WitBluetooth_BWT901BLE5_0 @ 9efaab0f `device_model.py`):
  a register read ``FF AA 27 <reg> 00`` is answered by a 20-byte ``55 71 <reg> 00`` frame in the
  data stream; the simulated device is polled like the vendor apps poll it (``poll_every_s``:
  registers 0x3A magnetometer and 0x64 battery voltage alternately), and the byte stream is cut
  into notifications of ``chunk_bytes`` sizes, so frames arrive mixed and split.
- MbientLab MetaWear (mbientlab/MetaWear-SDK-Cpp @ f67699e5 `metawearboard.cpp`,
  `gyro_bosch_register.h`, test/common.py): ``<module> 80`` reads a module's info:
  ``03 80 01 01`` / ``13 80 00 01`` on a BMI160 board, ``03 80 04 00`` / ``13 80 01 00`` on a
  BMI270 board (MetaMotion S), ``<module> 80`` alone for an absent module; a BMI270 board sends
  gyro data on register ``13 04`` (BMI160: ``13 05``), packed gyro ``13 05`` (``13 07``) and
  packed acc ``03 05`` (``03 1C``).
- Movesense GATT SensorData (movesense-device-lib @ 22ad8151 `GATTSensorDataClient.cpp/.h`):
  ATT MTU 161; HELLO ``00 <ref>`` -> ``01 <ref> "Hello"``; live data ``02 <ref>`` + payload, a
  payload over 150 bytes goes as ``02 <ref>`` + 150 bytes then ``03 <ref>`` + the rest (firmware
  2.2.1+); IMU6 is sent 8 samples per notification (the vendor client's IMU9/104 Hz count; the
  IMU6 count is unverified).
"""

from __future__ import annotations

import dataclasses
import struct
from typing import Any

import numpy as np

from imu_monitor.devices.profiles import Profile

POLAR_SERVICE = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
POLAR_CP = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
WIT_SERVICE = "0000ffe5-0000-1000-8000-00805f9a34fb"
WIT_NOTIFY = "0000ffe4-0000-1000-8000-00805f9a34fb"
WIT_WRITE = "0000ffe9-0000-1000-8000-00805f9a34fb"
METAWEAR_SERVICE = "326a9000-85cb-9195-d9dd-464cfbbae75a"
METAWEAR_NOTIFY = "326a9006-85cb-9195-d9dd-464cfbbae75a"
MOVESENSE_SERVICE = "34802252-7185-4d5d-b431-630e7050e8f0"
MOVESENSE_DATA = "34800002-7185-4d5d-b431-630e7050e8f0"

Notification = tuple[str, bytes]


class DeviceProtocol:
    """A device that answers nothing and sends its packets as the profile encodes them."""

    mtu: int | None = None
    """The ATT MTU the device's link negotiates (None: the simulator's default)."""

    def on_write(self, uuid: str, data: bytes, streaming: bool) -> tuple[list[Notification], bool]:
        """Replies to a write (sent after it), and whether the write is accepted (a refused
        start write does not start the stream)."""
        return [], True

    def on_read(self, uuid: str) -> bytes | None:
        """The value of a read the protocol serves (None: not one of its own)."""
        return None

    def encode_profile(self, profile: Profile) -> Profile:
        """The profile the device's firmware encodes its data with."""
        return profile

    def shape(self, notes: list[Notification], t_s: float) -> list[Notification]:
        """The notifications as the device really sends them (split, mixed, renamed)."""
        return notes

    def captured(self, profile: Profile) -> dict[str, float] | None:
        """Values the device's replies tell the client to scale its data by (``encode``)."""
        return None

    def reset(self) -> None:
        """A new connection."""


# ------------------------------------------------------------------------------------ Polar

POLAR_SETTING_SIZES = {0: 2, 1: 2, 2: 2, 3: 4, 4: 1, 5: 4, 6: 16}
"""PMD setting id -> size of one value (``PmdSetting.kt``)."""
POLAR_SUPPORTED = {  # Verity Sense in SDK mode (PROTOCOLS.md; fsmeraldi/bleakheart PR #11)
    2: {0: {26, 52, 104, 208, 416}, 1: {16}, 2: {2, 4, 8, 16}, 4: {3}},
    5: {0: {26, 52, 104, 208, 416}, 1: {16}, 2: {250, 500, 1000, 2000}, 4: {3}},
}
POLAR_SETTING_ERROR = {0: 8, 1: 7, 2: 9, 4: 11}
"""A bad value of setting id -> status (8 INVALID_SAMPLE_RATE, 7 INVALID_RESOLUTION,
9 INVALID_RANGE, 11 INVALID_NUMBER_OF_CHANNELS)."""


class PolarPmd(DeviceProtocol):
    def __init__(self, factor: float | None = None, answers: bool = True) -> None:
        self.factor = factor
        self.answers = answers
        self.running: set[int] = set()

    def reset(self) -> None:
        self.running = set()

    def captured(self, profile: Profile) -> dict[str, float] | None:
        if self.factor is None:
            return None
        return {c.name: self.factor for c in profile.captures}

    def _status(self, data: bytes) -> int:
        op = data[0]
        if op not in (1, 2, 3, 4, 5, 6):
            return 1  # ERROR_INVALID_OP_CODE
        if len(data) < 2:
            return 4  # ERROR_INVALID_LENGTH
        mtype = data[1] & 0x3F
        if op == 3:
            return 0 if mtype in self.running else 6  # ERROR_ALREADY_IN_STATE
        if op != 2:
            return 0
        if mtype not in POLAR_SUPPORTED:
            return 3  # ERROR_NOT_SUPPORTED
        if mtype in self.running:
            return 6
        settings: dict[int, int] = {}
        off = 2
        while off < len(data):
            if off + 2 > len(data) or data[off] not in POLAR_SETTING_SIZES:
                return 4
            sid, count = data[off], data[off + 1]
            size = POLAR_SETTING_SIZES[sid]
            end = off + 2 + count * size
            if count != 1 or end > len(data):
                return 4
            settings[sid] = int.from_bytes(data[off + 2 : end], "little")
            off = end
        for sid, allowed in POLAR_SUPPORTED[mtype].items():
            if sid in settings and settings[sid] not in allowed:
                return POLAR_SETTING_ERROR[sid]
        return 0

    def on_write(self, uuid: str, data: bytes, streaming: bool) -> tuple[list[Notification], bool]:
        if uuid != POLAR_CP or not data:
            return [], True
        status = self._status(data)
        op = data[0]
        mtype = data[1] & 0x3F if len(data) > 1 else 0
        reply = bytes([0xF0, op, mtype, status, 0])
        if status == 0 and op == 2:
            self.running.add(mtype)
            if self.factor is not None:
                reply += bytes([5, 1]) + struct.pack("<f", self.factor)
        elif status == 0 and op == 3:
            self.running.discard(mtype)
        return ([(POLAR_CP, reply)] if self.answers else []), status == 0


# ------------------------------------------------------------------------------------ WitMotion

WIT_REGISTERS = {0x3A: (360, 105, 122), 0x64: (398,)}
"""Register values the simulated module reports: magnetometer x y z (the manual's example
reply), battery voltage (cV)."""


class WitMotion(DeviceProtocol):
    def __init__(
        self,
        poll_every_s: float | None = None,
        chunk_bytes: tuple[int, int] | None = None,
        seed: int = 0,
    ) -> None:
        self.poll_every_s = poll_every_s
        self.chunk_bytes = chunk_bytes
        self._rng = np.random.default_rng(seed)
        self.reset()

    def reset(self) -> None:
        self._buffer = b""
        self._pending: list[bytes] = []
        self._next_poll_s: float | None = None
        self._polls = 0

    @staticmethod
    def register_reply(reg: int) -> bytes:
        values = list(WIT_REGISTERS.get(reg, ())) + [0] * 8
        return bytes([0x55, 0x71, reg, 0]) + struct.pack("<8h", *values[:8])

    def on_write(self, uuid: str, data: bytes, streaming: bool) -> tuple[list[Notification], bool]:
        if uuid == WIT_WRITE and len(data) == 5 and data[:3] == b"\xff\xaa\x27":
            self._pending.append(self.register_reply(data[3]))
        return [], True

    def shape(self, notes: list[Notification], t_s: float) -> list[Notification]:
        if self.poll_every_s is not None:
            if self._next_poll_s is None:
                self._next_poll_s = t_s + self.poll_every_s
            while t_s >= self._next_poll_s:  # as the vendor apps poll while streaming
                self._pending.append(self.register_reply((0x3A, 0x64)[self._polls % 2]))
                self._polls += 1
                self._next_poll_s += self.poll_every_s
        stream = b"".join(p for u, p in notes if u == WIT_NOTIFY)
        other = [(u, p) for u, p in notes if u != WIT_NOTIFY]
        if self._pending and stream:  # a reply goes out between two data frames
            stream = stream[:20] + b"".join(self._pending) + stream[20:]
            self._pending.clear()
        if self.chunk_bytes is None:
            return other + [(WIT_NOTIFY, stream[i : i + 20]) for i in range(0, len(stream), 20)]
        self._buffer += stream
        out = []
        lo, hi = self.chunk_bytes
        while len(self._buffer) >= hi:
            n = int(self._rng.integers(lo, hi + 1))
            out.append((WIT_NOTIFY, self._buffer[:n]))
            self._buffer = self._buffer[n:]
        return other + out


# ------------------------------------------------------------------------------------ MetaWear

METAWEAR_INFO = {
    "bmi160": {0x03: b"\x01\x01", 0x13: b"\x00\x01", 0x08: b"\x00\x00", 0x02: b"\x00\x00"},
    "bmi270": {0x03: b"\x04\x00", 0x13: b"\x01\x00", 0x08: b"\x00\x00", 0x02: b"\x00\x01\x03\x00"},
}
"""Module info replies (implementation, revision, extra) of a MetaMotion R (BMI160) and a
MetaMotion S (BMI270) board, as the SDK's test fixtures emulate them."""
METAWEAR_BMI270_REGISTERS = {
    b"\x13\x05": b"\x13\x04",
    b"\x13\x07": b"\x13\x05",
    b"\x03\x1c": b"\x03\x05",
}
"""Data registers that differ on a BMI270 board: gyro data, packed gyro, packed acc."""


class MetaWear(DeviceProtocol):
    def __init__(self, chip: str = "bmi160") -> None:
        if chip not in METAWEAR_INFO:
            raise ValueError(f"MetaWear chip must be one of {', '.join(METAWEAR_INFO)}")
        self.chip = chip
        self._rename = False

    def on_write(self, uuid: str, data: bytes, streaming: bool) -> tuple[list[Notification], bool]:
        if len(data) == 2 and data[1] == 0x80:
            return [(METAWEAR_NOTIFY, data + METAWEAR_INFO[self.chip].get(data[0], b""))], True
        return [], True

    def encode_profile(self, profile: Profile) -> Profile:
        """The firmware of this chip: the profile's variant for it when the profile has one
        (the BMI160 layout otherwise, with the registers renamed by ``shape``)."""
        for v in profile.variants:
            if v.name == self.chip:
                return v.profile
        self._rename = self.chip == "bmi270"
        return profile

    def shape(self, notes: list[Notification], t_s: float) -> list[Notification]:
        if not self._rename:
            return notes
        out = []
        for u, p in notes:
            head = METAWEAR_BMI270_REGISTERS.get(p[:2])
            out.append((u, head + p[2:] if head is not None and u == METAWEAR_NOTIFY else p))
        return out


# ------------------------------------------------------------------------------------ Movesense

MOVESENSE_MTU = 161
MOVESENSE_PART_BYTES = 150
MOVESENSE_SAMPLES = 8


class Movesense(DeviceProtocol):
    mtu = MOVESENSE_MTU

    def on_write(self, uuid: str, data: bytes, streaming: bool) -> tuple[list[Notification], bool]:
        if len(data) >= 2 and data[0] == 0:  # HELLO
            return [(MOVESENSE_DATA, bytes([1, data[1]]) + b"Hello")], True
        return [], True

    def encode_profile(self, profile: Profile) -> Profile:
        packets = tuple(
            dataclasses.replace(p, encode_samples=MOVESENSE_SAMPLES) for p in profile.packets
        )
        return dataclasses.replace(profile, packets=packets)

    def shape(self, notes: list[Notification], t_s: float) -> list[Notification]:
        out = []
        for u, p in notes:
            if u == MOVESENSE_DATA and p[:1] == b"\x02" and len(p) > 2 + MOVESENSE_PART_BYTES:
                head = 2 + MOVESENSE_PART_BYTES
                out.append((u, p[:head]))
                out.append((u, bytes([3, p[1]]) + p[head:]))
            else:
                out.append((u, p))
        return out


def protocol_for(profile: Profile, **options: Any) -> DeviceProtocol:
    """The vendor protocol of a device whose firmware ``profile`` describes (by its service);
    ``options`` go to the protocol (``factor``, ``poll_every_s``, ``chunk_bytes``, ``chip``)."""
    services = set(profile.service_uuids)
    if POLAR_SERVICE in services:
        return PolarPmd(**options)
    if WIT_SERVICE in services:
        return WitMotion(**options)
    if METAWEAR_SERVICE in services:
        return MetaWear(**options)
    if MOVESENSE_SERVICE in services:
        return Movesense(**options)
    if options:
        raise ValueError(f"profile {profile.name} has no vendor protocol to take {options}")
    return DeviceProtocol()
