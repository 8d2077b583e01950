"""Firmware profiles: one TOML data file per wearable / firmware under ``firmware_profiles/``.

A profile says how to recognise the device in a scan, which GATT characteristics to subscribe to,
what to write to start and stop streaming and to raise an alert, and how every notification is
laid out (see ``firmware_profiles/README.md`` for the schema). Loading validates the whole file:
a missing or wrong field raises ``ProfileError`` naming the file, the dotted field path and what
is expected. Decoding lives in ``imu_monitor.devices.decode``.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import imu_monitor
from imu_monitor.errors import ProfileError
from imu_monitor.model import GRAVITY_M_S2

_PACKAGE = Path(imu_monitor.__file__).resolve().parent
PROFILE_DIR = _PACKAGE / "firmware_profiles"
if not PROFILE_DIR.is_dir():
    PROFILE_DIR = _PACKAGE.parent / "firmware_profiles"
"""Where profiles are looked up by name: ``imu_monitor/firmware_profiles/`` in an installed wheel
(copied there at build time, see setup.py), else the repository's ``firmware_profiles/``."""

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


_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class Write:
    """One GATT write: ``data`` to characteristic ``char_uuid``, with or without response."""

    char_uuid: str
    data: bytes
    response: bool


@dataclass(frozen=True)
class FieldSpec:
    """A per-sample field in a notification record.

    ``name``: ``acc`` / ``gyr`` (decoded) or anything else (skipped). ``dtype``: numpy type code
    with byte order (e.g. ``<i2``). ``count``: components (3 for xyz). ``scale``: raw -> SI factor
    (m/s^2 or rad/s per LSB). ``axes``: for each raw component, (sensor axis index, sign).
    """

    name: str
    dtype: str
    count: int
    scale: float
    axes: tuple[tuple[int, float], ...]

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


@dataclass(frozen=True)
class Profile:
    """A validated firmware profile (see module docstring). UUIDs are lower-case 128-bit strings.

    ``rate_hz``: nominal sample rate the start writes set. ``samples_per_notification``: None when
    derived from the notification length. ``alerts``: keys ``flexion``, ``extension``, ``off``;
    empty when the device has no actuator.
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
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)

    def matches(self, name: str | None, service_uuids: Iterable[str]) -> bool:
        """True if the advertised ``name`` fits ``name_pattern`` or a service UUID is ours."""
        return self._match_kind(name, service_uuids) is not None

    def _match_kind(self, name: str | None, service_uuids: Iterable[str]) -> str | None:
        ours = set(self.service_uuids)
        if any(normalize_uuid(u) in ours for u in service_uuids):
            return "service"
        if name and self.name_pattern and re.search(self.name_pattern, name):
            return "name"
        return None

    @property
    def combined(self) -> bool:
        """True when acc and gyro arrive in separate notifications and must be paired."""
        return not any(p.streams == frozenset(STREAMS) for p in self.packets)


# --------------------------------------------------------------------------------- validation


class _Ctx:
    """Helpers that read typed values out of the TOML table and raise ProfileError on misfit."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, expected: str, got: Any = None) -> ProfileError:
        got_s = "missing" if got is _MISSING else f"got {got!r}"
        return ProfileError(
            f"firmware profile {self.path}: field '{where}': expected {expected} ({got_s}); "
            "fix the file (schema: firmware_profiles/README.md)"
        )

    def get(self, table: dict[str, Any], key: str, where: str, expected: str, default=None):
        if key not in table:
            if default is _REQUIRED:
                raise self.fail(f"{where}{key}", expected, _MISSING)
            return default
        return table[key]

    def string(self, t: dict, key: str, where: str, default: Any = None) -> str:
        v = self.get(t, key, where, "a string", default)
        if not isinstance(v, str) or not v:
            raise self.fail(f"{where}{key}", "a non-empty string", v)
        return v

    def table(self, t: dict, key: str, where: str, default: Any = None) -> dict:
        v = self.get(t, key, where, "a table", default)
        if not isinstance(v, dict):
            raise self.fail(f"{where}{key}", "a table", v)
        return v

    def integer(self, t: dict, key: str, where: str, lo: int, hi: int, default: Any = None) -> int:
        v = self.get(t, key, where, f"an integer in [{lo}, {hi}]", default)
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise self.fail(f"{where}{key}", f"an integer in [{lo}, {hi}]", v)
        return v

    def number(self, t: dict, key: str, where: str, positive: bool = True, default=None) -> float:
        v = self.get(t, key, where, "a number", default)
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise self.fail(f"{where}{key}", "a finite number", v)
        if positive and v <= 0:
            raise self.fail(f"{where}{key}", "a positive number", v)
        return float(v)

    def boolean(self, t: dict, key: str, where: str, default: Any = None) -> bool:
        v = self.get(t, key, where, "true or false", default)
        if not isinstance(v, bool):
            raise self.fail(f"{where}{key}", "true or false", v)
        return v

    def choice(self, t: dict, key: str, where: str, options: Iterable[str], default=None) -> str:
        opts = tuple(options)
        v = self.get(t, key, where, f"one of {opts}", default)
        if v not in opts:
            raise self.fail(f"{where}{key}", f"one of {', '.join(map(repr, opts))}", v)
        return v

    def uuid(self, t: dict, key: str, where: str, default: Any = None) -> str:
        v = self.get(t, key, where, "a UUID string", default)
        return self.uuid_value(v, f"{where}{key}")

    def uuid_value(self, v: Any, where: str) -> str:
        if not isinstance(v, str) or not _UUID_RE.match(normalize_uuid(v)):
            raise self.fail(where, "a 128-bit UUID 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx'", v)
        return normalize_uuid(v)

    def hexbytes(self, t: dict, key: str, where: str, default: Any = None) -> bytes:
        v = self.get(t, key, where, "a hex string", default)
        try:
            if not isinstance(v, str):
                raise ValueError
            return bytes.fromhex(v)
        except ValueError:
            raise self.fail(f"{where}{key}", "hex bytes such as '01 c8 00'", v) from None

    def array(self, t: dict, key: str, where: str, default: Any = None) -> list:
        v = self.get(t, key, where, "an array", default)
        if not isinstance(v, list):
            raise self.fail(f"{where}{key}", "an array", v)
        return v


_MISSING = object()
_REQUIRED = object()

_AXIS_RE = re.compile(r"^([+-]?)([xyz])$")


def _dtype(ctx: _Ctx, t: dict, where: str, byte_order: str, ints_only: bool = False) -> str:
    names = [k for k in TYPE_CODES if not (ints_only and k[0] == "f")]
    tname = ctx.choice(t, "type", where, names, _REQUIRED)
    return byte_order + TYPE_CODES[tname]


def _writes(ctx: _Ctx, items: Any, where: str, chars: set[str]) -> tuple[Write, ...]:
    if not isinstance(items, list):
        raise ctx.fail(where, "an array of tables {char, hex, response}", items)
    out = []
    for i, w in enumerate(items):
        wh = f"{where}[{i}]."
        if not isinstance(w, dict):
            raise ctx.fail(wh[:-1], "a table {char, hex, response}", w)
        char = ctx.uuid(w, "char", wh, _REQUIRED)
        data = ctx.hexbytes(w, "hex", wh, _REQUIRED)
        if not data:
            raise ctx.fail(f"{wh}hex", "at least one byte", w["hex"])
        out.append(Write(char, data, ctx.boolean(w, "response", wh, _REQUIRED)))
        chars.add(char)
    return tuple(out)


def _header_field(ctx: _Ctx, t: dict, where: str, kind: str, bo: str) -> HeaderField:
    offset = ctx.integer(t, "offset", where, 0, 512, _REQUIRED)
    dt = _dtype(ctx, t, where, bo, ints_only=True)
    wrap = 1 << (8 * int(dt[2:]))
    if kind == "timestamp":
        units = ctx.number(t, "units_s", where, True, _REQUIRED)
        sample = ctx.choice(t, "sample", where, ("first", "last"), _REQUIRED)
        return HeaderField(offset, dt, wrap, units_s=units, sample=sample)
    if kind == "counter":
        per = ctx.choice(t, "per", where, ("sample", "packet"), _REQUIRED)
        return HeaderField(offset, dt, wrap, per=per)
    return HeaderField(offset, dt, wrap)


def _match_list(ctx: _Ctx, t: dict, where: str) -> tuple[tuple[int, bytes], ...]:
    out = []
    for i, m in enumerate(ctx.array(t, "match", where, [])):
        mw = f"{where}match[{i}]."
        if not isinstance(m, dict):
            raise ctx.fail(mw[:-1], "a table {offset, hex}", m)
        off = ctx.integer(m, "offset", mw, 0, 512, _REQUIRED)
        hx = ctx.hexbytes(m, "hex", mw, _REQUIRED)
        if not hx:
            raise ctx.fail(f"{mw}hex", "at least one byte", m["hex"])
        out.append((off, hx))
    return tuple(out)


def _packet(ctx: _Ctx, p: Any, where: str, notify: tuple[str, ...], bo: str) -> PacketSpec:
    if not isinstance(p, dict):
        raise ctx.fail(where[:-1], "a table", p)
    name = ctx.string(p, "name", where, _REQUIRED)
    char = ctx.uuid(p, "char", where, _REQUIRED)
    if char not in notify:
        raise ctx.fail(f"{where}char", f"one of gatt.notify {list(notify)}", char)
    bo = {"little": "<", "big": ">"}[
        ctx.choice(p, "byte_order", where, ("little", "big"), "little")
    ]
    match = _match_list(ctx, p, where)
    data_offset = ctx.integer(p, "data_offset", where, 0, 512, _REQUIRED)
    samples_v = ctx.get(p, "samples", where, "", _REQUIRED)
    if samples_v == "derived":
        samples: int | None = None
    else:
        samples = ctx.integer(p, "samples", where, 1, 1024, _REQUIRED)
    max_samples = ctx.integer(p, "max_samples", where, 1, 4096, samples or 64)
    encode_samples = ctx.integer(p, "encode_samples", where, 1, max_samples, samples or 1)
    if samples is not None and encode_samples != samples:
        raise ctx.fail(f"{where}encode_samples", f"equal to samples ({samples})", encode_samples)
    layout = ctx.choice(p, "layout", where, ("interleaved", "planar"), "interleaved")
    compression = p.get("compression")
    if compression is not None:
        ctx.choice(p, "compression", where, ("polar_delta",))
    fields = []
    recs = ctx.array(p, "record", where, _REQUIRED)
    if not recs:
        raise ctx.fail(f"{where}record", "at least one field", recs)
    for i, r in enumerate(recs):
        rw = f"{where}record[{i}]."
        if not isinstance(r, dict):
            raise ctx.fail(rw[:-1], "a table {name, type, ...}", r)
        fname = ctx.string(r, "name", rw, _REQUIRED)
        dt = _dtype(ctx, r, rw, bo)
        count = ctx.integer(r, "count", rw, 1, 16, 3)
        if fname in STREAMS:
            if count != 3:
                raise ctx.fail(f"{rw}count", "3 (x, y, z)", count)
            unit = ctx.choice(r, "unit", rw, UNIT_TO_SI, _REQUIRED)
            si_ok = ("g", "mg", "m/s^2") if fname == "acc" else ("deg/s", "mdeg/s", "rad/s")
            if unit not in si_ok:
                raise ctx.fail(f"{rw}unit", f"one of {si_ok} for {fname}", unit)
            lsb = ctx.number(r, "lsb_per_unit", rw, True, _REQUIRED)
            axes_raw = ctx.array(r, "axes", rw, ["x", "y", "z"])
            axes = []
            for a in axes_raw:
                m = _AXIS_RE.match(a) if isinstance(a, str) else None
                if m is None:
                    raise ctx.fail(f"{rw}axes", "three of 'x', '-y', '+z', ...", axes_raw)
                axes.append(("xyz".index(m.group(2)), -1.0 if m.group(1) == "-" else 1.0))
            if len(axes) != 3 or sorted(a for a, _ in axes) != [0, 1, 2]:
                raise ctx.fail(f"{rw}axes", "a signed permutation of x, y, z", axes_raw)
            fields.append(FieldSpec(fname, dt, 3, UNIT_TO_SI[unit] / lsb, tuple(axes)))
        else:
            fields.append(FieldSpec(fname, dt, count, 1.0, ()))
    names = [f.name for f in fields]
    streams = [n for n in names if n in STREAMS]
    if not streams or len(set(streams)) != len(streams):
        raise ctx.fail(f"{where}record", "'acc' and/or 'gyr' fields, each at most once", names)
    counter = timestamp = count_f = None
    if "counter" in p:
        counter = _header_field(
            ctx, ctx.table(p, "counter", where), f"{where}counter.", "counter", bo
        )
    if "timestamp" in p:
        ts = ctx.table(p, "timestamp", where)
        timestamp = _header_field(ctx, ts, f"{where}timestamp.", "timestamp", bo)
    if "count" in p:
        count_f = _header_field(ctx, ctx.table(p, "count", where), f"{where}count.", "count", bo)
    for hname, hf in (("counter", counter), ("timestamp", timestamp), ("count", count_f)):
        if hf is not None and hf.offset + hf.nbytes > data_offset:
            raise ctx.fail(
                f"{where}{hname}.offset",
                f"a header field ending by data_offset {data_offset}",
                hf.offset,
            )
    if compression == "polar_delta" and (layout != "interleaved" or len(fields) != 1):
        raise ctx.fail(f"{where}record", "a single acc or gyr field for polar_delta frames", names)
    return PacketSpec(
        name, char, match, data_offset, samples, max_samples, encode_samples, layout,
        tuple(fields), counter, timestamp, count_f, compression,
    )  # fmt: skip


def parse_profile(data: dict[str, Any], path: Path) -> Profile:
    """Validate a parsed TOML table and build the ``Profile`` (``path`` names it in errors)."""
    ctx = _Ctx(path)
    schema = ctx.integer(data, "schema", "", 1, 99, _REQUIRED)
    if schema != SCHEMA_VERSION:
        raise ctx.fail("schema", f"{SCHEMA_VERSION} (this program's profile schema)", schema)
    name = ctx.string(data, "name", "", _REQUIRED)
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ctx.fail("name", "lower-case letters, digits and '_'", name)
    title = ctx.string(data, "title", "", _REQUIRED)
    match = ctx.table(data, "match", "", _REQUIRED)
    pattern = match.get("name_pattern")
    if pattern is not None:
        ctx.string(match, "name_pattern", "match.")
        try:
            re.compile(pattern)
        except re.error as e:
            raise ctx.fail(
                "match.name_pattern", f"a valid regular expression ({e})", pattern
            ) from None
    services = tuple(
        ctx.uuid_value(u, f"match.service_uuids[{i}]")
        for i, u in enumerate(ctx.array(match, "service_uuids", "match.", []))
    )
    if pattern is None and not services:
        raise ctx.fail("match", "name_pattern and/or service_uuids", match)
    gatt = ctx.table(data, "gatt", "", _REQUIRED)
    notify_raw = ctx.array(gatt, "notify", "gatt.", _REQUIRED)
    if not notify_raw:
        raise ctx.fail("gatt.notify", "at least one characteristic UUID", notify_raw)
    notify = tuple(ctx.uuid_value(u, f"gatt.notify[{i}]") for i, u in enumerate(notify_raw))
    battery = ctx.uuid(gatt, "battery", "gatt.") if "battery" in gatt else None
    rate = ctx.table(data, "rate", "", _REQUIRED)
    rate_hz = ctx.number(rate, "hz", "rate.", True, _REQUIRED)
    ctx.string(rate, "how", "rate.", _REQUIRED)
    chars: set[str] = set()
    start = _writes(ctx, data.get("start", []), "start", chars)
    stop = _writes(ctx, data.get("stop", []), "stop", chars)
    alerts: dict[str, tuple[Write, ...]] = {}
    at = ctx.table(data, "alerts", "", {})
    for key, val in at.items():
        if key not in ("flexion", "extension", "off"):
            raise ctx.fail(f"alerts.{key}", "only keys 'flexion', 'extension', 'off'", key)
        alerts[key] = _writes(ctx, val, f"alerts.{key}", chars)
    if alerts and not {"flexion", "extension", "off"} <= set(alerts):
        raise ctx.fail("alerts", "all of 'flexion', 'extension' and 'off' (or no alerts)", alerts)
    bo = "<"
    pk_raw = ctx.array(data, "packet", "", _REQUIRED)
    if not pk_raw:
        raise ctx.fail("packet", "at least one [[packet]] table", pk_raw)
    packets = tuple(_packet(ctx, p, f"packet[{i}].", notify, bo) for i, p in enumerate(pk_raw))
    ignore = []
    for i, ig in enumerate(ctx.array(data, "ignore", "", [])):
        iw = f"ignore[{i}]."
        if not isinstance(ig, dict):
            raise ctx.fail(iw[:-1], "a table {char, match}", ig)
        ichar = ctx.uuid(ig, "char", iw, _REQUIRED)
        if ichar not in notify:
            raise ctx.fail(f"{iw}char", f"one of gatt.notify {list(notify)}", ichar)
        imatch = _match_list(ctx, ig, iw)
        if not imatch:
            raise ctx.fail(f"{iw}match", "at least one {offset, hex}", ig.get("match"))
        ignore.append(IgnoreSpec(ichar, imatch))
    covered = set().union(*(p.streams for p in packets))
    if covered != set(STREAMS):
        raise ctx.fail(
            "packet", "packets that together carry both 'acc' and 'gyr'", sorted(covered)
        )
    timing = ctx.table(data, "timing", "", _REQUIRED)
    source = ctx.choice(timing, "source", "timing.", TIME_SOURCES, _REQUIRED)
    for i, p in enumerate(packets):
        need = {"timestamp": p.timestamp, "counter": p.counter}.get(source, True)
        if need is None:
            raise ctx.fail(f"packet[{i}].{source}", f"present (timing.source = {source!r})", None)
    combined = not any(p.streams == frozenset(STREAMS) for p in packets)
    tol = ctx.number(timing, "pair_tolerance_s", "timing.", True, 0.5 / rate_hz)
    reanchor = ctx.number(timing, "reanchor_samples", "timing.", True, 4.0)
    if combined and "pair_tolerance_s" not in timing and source == "receive":
        raise ctx.fail("timing.pair_tolerance_s", "a number (seconds) for receive-time pairing")
    spn = packets[0].samples  # what the first (primary) packet kind carries
    return Profile(
        name=name,
        title=title,
        path=path,
        name_pattern=pattern,
        service_uuids=services,
        notify_uuids=notify,
        start_writes=start,
        stop_writes=stop,
        rate_hz=rate_hz,
        samples_per_notification=spn,
        has_counter=any(p.counter is not None for p in packets),
        has_timestamp=any(p.timestamp is not None for p in packets),
        alerts=alerts,
        battery_uuid=battery,
        packets=packets,
        ignore=tuple(ignore),
        time_source=source,
        pair_tolerance_s=tol if combined else 0.0,
        reanchor_samples=reanchor,
        raw=data,
    )


def load_profile(name_or_path: str | Path) -> Profile:
    """Load and validate a profile by name (``firmware_profiles/<name>.toml``) or by file path."""
    p = Path(name_or_path)
    if p.suffix != ".toml" and len(p.parts) == 1:
        p = PROFILE_DIR / f"{name_or_path}.toml"
        if not p.is_file():
            known = ", ".join(sorted(q.stem for q in PROFILE_DIR.glob("*.toml")))
            raise ProfileError(
                f"no firmware profile named {str(name_or_path)!r} in {PROFILE_DIR}; "
                f"known profiles: {known or '(none)'}"
            )
    try:
        with open(p, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ProfileError(f"firmware profile {p} does not exist; check the path") from None
    except tomllib.TOMLDecodeError as e:
        raise ProfileError(f"firmware profile {p}: not valid TOML ({e}); fix the syntax") from None
    return parse_profile(data, p)


def list_profiles() -> list[Profile]:
    """All profiles in ``firmware_profiles/``, sorted by name (an invalid file raises)."""
    return [load_profile(p) for p in sorted(PROFILE_DIR.glob("*.toml"))]


def match_profile(name: str | None, service_uuids: Iterable[str]) -> Profile | None:
    """The profile for a scanned device: a service-UUID match wins over a name match; None if
    nothing fits."""
    services = list(service_uuids)
    by_name = None
    for prof in list_profiles():
        kind = prof._match_kind(name, services)
        if kind == "service":
            return prof
        if kind == "name" and by_name is None:
            by_name = prof
    return by_name
