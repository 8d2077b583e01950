"""Firmware profile schema: the validated, typed form of one ``firmware_profiles/*.toml`` file.

Frozen dataclasses (``Profile`` and its parts), the unit and type tables a profile may use, and
UUID normalisation. Parsing and validation live in ``profile_parse``; lookup by name or scan in
``profiles``. See ``firmware_profiles/README.md`` for the file format.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imu_monitor.devices.name_pattern import search_name
from imu_monitor.model import GRAVITY_M_S2

SCHEMA_VERSION = 1

TYPE_CODES: dict[str, str] = {
    "u8": "u1",
    "i8": "i1",
    "u16": "u2",
    "i16": "i2",
    "u32": "u4",
    "i32": "i4",
    "u64": "u8",
    "i64": "i8",
    "f32": "f4",
    "f64": "f8",
}
"""Field type names a profile may use -> numpy type codes (byte order added separately)."""

UNIT_TO_SI: dict[str, float] = {
    "g": GRAVITY_M_S2,
    "mg": GRAVITY_M_S2 / 1000.0,
    "m/s^2": 1.0,
    "deg/s": math.pi / 180.0,
    "mdeg/s": math.pi / 180000.0,
    "rad/s": 1.0,
    "uT": 1e-6,
    "deg": math.pi / 180.0,
}
"""Physical units a record field may be stated in, with their factor to SI."""

STREAMS = ("acc", "gyr")
"""Record fields the decoder turns into samples; any other field name is read and ignored."""

TIME_SOURCES = ("timestamp", "counter", "receive_nominal", "receive")


def normalize_uuid(uuid: str) -> str:
    """Lower-case 128-bit UUID string; 16-bit shorthands (``"2a19"``) expand on the SIG base."""
    u = uuid.strip().lower()
    if re.fullmatch(r"[0-9a-f]{4}", u):
        return f"0000{u}-0000-1000-8000-00805f9b34fb"
    if re.fullmatch(r"[0-9a-f]{8}", u):
        return f"{u}-0000-1000-8000-00805f9b34fb"
    return u


UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class ValueField:
    """An integer or float at a byte offset of a reply (``dtype``: numpy code with byte order)."""

    offset: int
    dtype: str

    @property
    def nbytes(self) -> int:
        return int(self.dtype[2:])


@dataclass(frozen=True)
class StatusCheck:
    """The status bytes of a reply: ``field`` must hold one of ``ok``; any other value is an
    error, named from ``names`` (code -> vendor's name) in the message."""

    value: ValueField
    ok: tuple[int, ...]
    names: dict[int, str]


@dataclass(frozen=True)
class Capture:
    """A value taken from a reply into decoding (``Decoder.set_captured``), by ``name``.

    Fixed place: ``value`` (offset, type). Tagged settings (``tlv_sizes`` not empty): from
    ``value.offset`` on, the reply is a list of ``[u8 id][u8 count][count x size bytes]`` entries
    (``tlv_sizes``: id -> size of one value); the first value of entry ``tlv_id``, read as
    ``value.dtype``, is captured. ``default``: used when the reply does not carry the value
    (None: the value is mandatory and a reply without it is an error).
    """

    name: str
    value: ValueField
    default: float | None = None
    tlv_id: int | None = None
    tlv_sizes: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ReplySpec:
    """What a step waits for after its write: a notification/indication on ``char_uuid`` whose
    bytes fit ``match`` (other notifications meanwhile go on to the decoder), within
    ``timeout_s``; its ``status`` is checked and its ``captures`` taken."""

    char_uuid: str
    match: tuple[tuple[int, bytes], ...]
    timeout_s: float
    status: StatusCheck | None = None
    captures: tuple[Capture, ...] = ()


@dataclass(frozen=True)
class Write:
    """One GATT write (a step of a start / stop / alert sequence): ``data`` to characteristic
    ``char_uuid``, with or without response; then, when ``reply`` is set, wait for that reply and
    check it (``imu_monitor.devices.replies.check_reply``); then wait ``delay_s`` seconds before
    the next step."""

    char_uuid: str
    data: bytes
    response: bool
    delay_s: float = 0.0
    reply: ReplySpec | None = None


@dataclass(frozen=True)
class Probe:
    """How to tell a device's variant before starting it: GATT-read ``read_char``, or do the step
    ``write`` (which has a ``reply``) and use the reply; ``value`` is read from those bytes.
    ``what``: what the value is, for messages ("gyro module implementation")."""

    what: str
    value: ValueField
    read_char: str | None = None
    write: Write | None = None


@dataclass(frozen=True)
class Framing:
    """A byte stream cut into fixed frames, across notifications, on ``char_uuid``.

    Notifications are appended to a buffer walked frame by frame: every frame must start with
    ``sync``; its first ``header_length`` bytes name its kind (a packet's or ignore's match at
    offset 0). Known kinds are decoded or counted as ignored; a sync with an unknown kind is
    counted (``unknown_frame_kind``) and the walk moves on by one byte, as do bytes that are not
    a sync (``DecodeStats.skipped_bytes``); a partial frame waits for the next notification.
    """

    char_uuid: str
    frame_length: int
    sync: bytes
    header_length: int


@dataclass(frozen=True)
class Continuation:
    """A packet split over two notifications (Movesense DATA / DATA_PART2): a notification on
    ``char_uuid`` starting with ``first`` and exactly ``split_length`` bytes long waits for the
    next one; if that starts with ``next``, its bytes after ``next`` are appended and the joined
    packet is decoded."""

    char_uuid: str
    first: bytes
    next: bytes
    split_length: int


@dataclass(frozen=True)
class FieldSpec:
    """A per-sample field in a notification record.

    ``name``: ``acc`` / ``gyr`` (decoded) or anything else (skipped). ``dtype``: numpy type code
    with byte order (e.g. ``<i2``). ``count``: components (3 for xyz). ``scale``: raw -> SI factor
    (m/s^2 or rad/s per LSB). ``axes``: for each raw component, (sensor axis index, sign).
    ``scale_by``: the name of a captured value (``Capture``) the scale is multiplied by.
    """

    name: str
    dtype: str
    count: int
    scale: float
    axes: tuple[tuple[int, float], ...]
    scale_by: str | None = None

    @property
    def nbytes(self) -> int:
        return int(int(self.dtype[2:]) * self.count)


@dataclass(frozen=True)
class HeaderField:
    """An integer header field (counter, timestamp, sample count) at a byte offset.

    ``units_s``: seconds per tick (timestamps only). ``wrap``: the value's modulus (2**bits).
    ``per``: counters: ``"sample"`` (counter of the first sample) or ``"packet"``.
    ``sample``: timestamps: which sample it stamps, ``"first"`` or ``"last"``.
    """

    offset: int
    dtype: str
    wrap: int
    units_s: float = 0.0
    per: str = "sample"
    sample: str = "first"

    @property
    def nbytes(self) -> int:
        return int(self.dtype[2:])


@dataclass(frozen=True)
class PacketSpec:
    """The layout of one kind of notification (see ``firmware_profiles/README.md``)."""

    name: str
    char_uuid: str
    match: tuple[tuple[int, bytes], ...]
    data_offset: int
    samples: int | None
    """Samples per notification, or None: derived from the length."""
    max_samples: int
    encode_samples: int
    layout: str
    fields: tuple[FieldSpec, ...]
    counter: HeaderField | None
    timestamp: HeaderField | None
    count: HeaderField | None
    compression: str | None = None

    @property
    def sample_nbytes(self) -> int:
        return sum(f.nbytes for f in self.fields)

    @property
    def streams(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields if f.name in STREAMS)

    @property
    def min_length(self) -> int:
        return self.data_offset + self.sample_nbytes * (self.samples or 1)


@dataclass(frozen=True)
class IgnoreSpec:
    """Notifications on ``char_uuid`` starting with these ``match`` bytes are expected non-data
    (command replies) and are counted as ignored, not malformed."""

    char_uuid: str
    match: tuple[tuple[int, bytes], ...]
    name: str = ""
    """Optional: counted by this name in ``DecodeStats.ignored_by`` (e.g. "measurement_stopped")."""


@dataclass(frozen=True)
class Profile:
    """A validated firmware profile (see module docstring). UUIDs are lower-case 128-bit strings.

    ``rate_hz``: nominal sample rate the start writes set. ``samples_per_notification``: None when
    derived from the notification length. ``alerts``: keys ``flexion``, ``extension``, ``off``
    (and an optional ``tick``, the tempo cue's short beat); empty when the device has no
    actuator.
    """

    name: str
    title: str
    path: Path
    name_pattern: str | None
    service_uuids: tuple[str, ...]
    notify_uuids: tuple[str, ...]
    start_writes: tuple[Write, ...]
    stop_writes: tuple[Write, ...]
    rate_hz: float
    samples_per_notification: int | None
    has_counter: bool
    has_timestamp: bool
    alerts: dict[str, tuple[Write, ...]]
    battery_uuid: str | None
    packets: tuple[PacketSpec, ...] = ()
    ignore: tuple[IgnoreSpec, ...] = ()
    time_source: str = "receive_nominal"
    pair_tolerance_s: float = 0.0
    """Acc and gyro halves sent separately pair when their times differ by at most this."""
    reanchor_samples: float = 4.0
    """``receive_nominal`` time: re-anchor when receive time runs this many samples ahead."""
    min_mtu: int = 23
    """The smallest ATT MTU the device's packets fit in (``gatt.min_mtu``; 23 is the BLE
    default every link has)."""
    framing: tuple[Framing, ...] = ()
    continuation: tuple[Continuation, ...] = ()
    probe: Probe | None = None
    """Set when the profile has variants: read this before the start sequence."""
    variants: tuple[Variant, ...] = ()
    """The resolved profile of each variant (the profile itself is the first one's)."""
    variant: str | None = None
    """The name of the variant this profile is (None without variants)."""
    captures: tuple[Capture, ...] = ()
    """Every value a start step captures (their defaults are the decoder's until replies)."""
    sources: tuple[str, ...] = ()
    """Where the facts come from: "owner/repo@commit:path - facts" lines."""
    unverified: tuple[str, ...] = ()
    """What the sources did not settle."""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)

    def matches(self, name: str | None, service_uuids: Iterable[str]) -> bool:
        """True if the advertised ``name`` fits ``name_pattern`` or a service UUID is ours."""
        return self._match_kind(name, service_uuids) is not None

    def _match_kind(self, name: str | None, service_uuids: Iterable[str]) -> str | None:
        ours = set(self.service_uuids)
        if any(normalize_uuid(u) in ours for u in service_uuids):
            return "service"
        if name and self.name_pattern and search_name(re.compile(self.name_pattern), name):
            return "name"
        return None

    @property
    def start_steps(self) -> tuple[Write, ...]:
        """The start sequence (same as ``start_writes``; steps may wait for replies)."""
        return self.start_writes

    @property
    def combined(self) -> bool:
        """True when acc and gyro arrive in separate notifications and must be paired."""
        return not any(p.streams == frozenset(STREAMS) for p in self.packets)


@dataclass(frozen=True)
class Variant:
    """One variant of a device (e.g. MetaMotion with a BMI160 or a BMI270): chosen when the
    probe's value is in ``values``; ``profile``: the complete profile for it."""

    name: str
    title: str
    values: tuple[int, ...]
    profile: Profile
