"""Firmware profile parsing: a TOML table -> a validated ``Profile``.

Every field is checked; a missing or wrong one raises ``ProfileError`` naming the file, the dotted
field path (e.g. ``packet[0].record[1].unit``) and what is expected.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from imu_monitor.devices.name_pattern import UnsafePattern, check_name_pattern
from imu_monitor.devices.profile_fields import REQUIRED, FieldReader, read_dtype, read_match
from imu_monitor.devices.profile_schema import (
    SCHEMA_VERSION,
    STREAMS,
    TIME_SOURCES,
    UNIT_TO_SI,
    FieldSpec,
    HeaderField,
    IgnoreSpec,
    PacketSpec,
    Profile,
    Variant,
    Write,
)
from imu_monitor.devices.profile_steps import (
    read_continuation,
    read_framing,
    read_probe,
    read_steps,
)
from imu_monitor.errors import ProfileError

_AXIS_RE = re.compile(r"^([+-]?)([xyz])$")

RATE_HZ_BOUNDS = (1.0, 5000.0)
"""Nominal sample rates a profile may state (BLE carries a few kHz of 6-axis samples at most)."""
LSB_BOUNDS = (1e-6, 1e9)
"""``lsb_per_unit``: raw counts per g, deg/s, ... (floats are 1.0, 16-bit ints a few thousand)."""
UNITS_S_BOUNDS = (1e-9, 1.0)
"""Timestamp units: ns to s."""
PAIR_TOLERANCE_S_BOUNDS = (1e-6, 1.0)
REANCHOR_SAMPLES_BOUNDS = (0.5, 10_000.0)
MAX_PACKET_BYTES = 8192
"""The longest packet layout (``data_offset`` + ``max_samples`` x sample bytes). A notification
holds at most 512 bytes (the longest attribute value, Core spec Vol 3 Part F 3.2.9), two when a
``[[continuation]]`` joins them; ``max_samples`` is a loose bound in some profiles (Polar's raw
frames: 10 + 1024 x 6 bytes), so the limit only refuses the absurd."""
MAX_RECORD_FIELDS = 32


ALERT_KEYS = ("flexion", "extension", "off", "tick")
"""``[alerts]`` keys: the three alarm writes (all or none) and an optional short ``tick`` (the
tempo cue's beat, ``ui.tempo_cue``)."""


def _header_field(ctx: FieldReader, t: dict, where: str, kind: str, bo: str) -> HeaderField:
    offset = ctx.integer(t, "offset", where, 0, 512, REQUIRED)
    dt = read_dtype(ctx, t, where, bo, ints_only=True)
    wrap = 1 << (8 * int(dt[2:]))
    if kind == "timestamp":
        units = ctx.number(t, "units_s", where, True, REQUIRED, UNITS_S_BOUNDS)
        sample = ctx.choice(t, "sample", where, ("first", "last"), REQUIRED)
        return HeaderField(offset, dt, wrap, units_s=units, sample=sample)
    if kind == "counter":
        per = ctx.choice(t, "per", where, ("sample", "packet"), REQUIRED)
        return HeaderField(offset, dt, wrap, per=per)
    return HeaderField(offset, dt, wrap)


def _packet(ctx: FieldReader, p: Any, where: str, notify: tuple[str, ...], bo: str) -> PacketSpec:
    if not isinstance(p, dict):
        raise ctx.fail(where[:-1], "a table", p)
    name = ctx.string(p, "name", where, REQUIRED)
    char = ctx.uuid(p, "char", where, REQUIRED)
    if char not in notify:
        raise ctx.fail(f"{where}char", f"one of gatt.notify {list(notify)}", char)
    bo = {"little": "<", "big": ">"}[
        ctx.choice(p, "byte_order", where, ("little", "big"), "little")
    ]
    match = read_match(ctx, p, where)
    data_offset = ctx.integer(p, "data_offset", where, 0, 512, REQUIRED)
    samples_v = ctx.get(p, "samples", where, "", REQUIRED)
    if samples_v == "derived":
        samples: int | None = None
    else:
        samples = ctx.integer(p, "samples", where, 1, 1024, REQUIRED)
    max_samples = ctx.integer(p, "max_samples", where, 1, 4096, samples or 64)
    encode_samples = ctx.integer(p, "encode_samples", where, 1, max_samples, samples or 1)
    if samples is not None and encode_samples != samples:
        raise ctx.fail(f"{where}encode_samples", f"equal to samples ({samples})", encode_samples)
    layout = ctx.choice(p, "layout", where, ("interleaved", "planar"), "interleaved")
    compression = p.get("compression")
    if compression is not None:
        ctx.choice(p, "compression", where, ("polar_delta",))
    fields = []
    recs = ctx.array(p, "record", where, REQUIRED)
    if not recs or len(recs) > MAX_RECORD_FIELDS:
        raise ctx.fail(f"{where}record", f"1 to {MAX_RECORD_FIELDS} fields", f"{len(recs)} fields")
    for i, r in enumerate(recs):
        rw = f"{where}record[{i}]."
        if not isinstance(r, dict):
            raise ctx.fail(rw[:-1], "a table {name, type, ...}", r)
        fname = ctx.string(r, "name", rw, REQUIRED)
        dt = read_dtype(ctx, r, rw, bo)
        count = ctx.integer(r, "count", rw, 1, 16, 3)
        if fname in STREAMS:
            if count != 3:
                raise ctx.fail(f"{rw}count", "3 (x, y, z)", count)
            unit = ctx.choice(r, "unit", rw, UNIT_TO_SI, REQUIRED)
            si_ok = ("g", "mg", "m/s^2") if fname == "acc" else ("deg/s", "mdeg/s", "rad/s")
            if unit not in si_ok:
                raise ctx.fail(f"{rw}unit", f"one of {si_ok} for {fname}", unit)
            lsb = ctx.number(r, "lsb_per_unit", rw, True, REQUIRED, LSB_BOUNDS)
            axes_raw = ctx.array(r, "axes", rw, ["x", "y", "z"])
            axes = []
            for a in axes_raw:
                m = _AXIS_RE.match(a) if isinstance(a, str) else None
                if m is None:
                    raise ctx.fail(f"{rw}axes", "three of 'x', '-y', '+z', ...", axes_raw)
                axes.append(("xyz".index(m.group(2)), -1.0 if m.group(1) == "-" else 1.0))
            if len(axes) != 3 or sorted(a for a, _ in axes) != [0, 1, 2]:
                raise ctx.fail(f"{rw}axes", "a signed permutation of x, y, z", axes_raw)
            scale_by = ctx.string(r, "scale_by", rw) if "scale_by" in r else None
            fields.append(FieldSpec(fname, dt, 3, UNIT_TO_SI[unit] / lsb, tuple(axes), scale_by))
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
    longest = data_offset + (samples or max_samples) * sum(f.nbytes for f in fields)
    if compression is None and longest > MAX_PACKET_BYTES:
        raise ctx.fail(
            f"{where}max_samples" if samples is None else f"{where}samples",
            f"a packet of at most {MAX_PACKET_BYTES} bytes (data_offset + samples x record)",
            f"{longest} bytes",
        )
    if compression == "polar_delta" and (layout != "interleaved" or len(fields) != 1):
        raise ctx.fail(f"{where}record", "a single acc or gyr field for polar_delta frames", names)
    return PacketSpec(
        name, char, match, data_offset, samples, max_samples, encode_samples, layout,
        tuple(fields), counter, timestamp, count_f, compression,
    )  # fmt: skip


VARIANT_KEYS = (
    "rate", "start", "stop", "packet", "ignore", "alerts", "timing", "framing", "continuation",
    "gatt",
)  # fmt: skip
"""Top-level tables a ``[[variant]]`` may replace."""


def parse_profile(data: dict[str, Any], path: Path) -> Profile:
    """Validate a parsed TOML table and build the ``Profile`` (``path`` names it in errors).

    With ``[[variant]]`` tables, every variant is merged over the top level and validated; the
    profile returned is the first variant's, carrying ``probe`` and all ``variants``."""
    ctx = FieldReader(path)
    if "variant" not in data:
        if "probe" in data:
            raise ctx.fail("variant", "[[variant]] tables (a probe picks one of them)", None)
        return _parse_one(ctx, data, path)
    if "probe" not in data:
        raise ctx.fail("probe", "a [probe] table that tells the variants apart", None)
    items = ctx.array(data, "variant", "")
    if not items:
        raise ctx.fail("variant", "at least one [[variant]] table", items)
    base = {k: v for k, v in data.items() if k != "variant"}
    variants: list[Variant] = []
    seen: dict[int, str] = {}
    for i, v in enumerate(items):
        w = f"variant[{i}]."
        if not isinstance(v, dict):
            raise ctx.fail(w[:-1], "a table {name, title, values, ...}", v)
        vname = ctx.string(v, "name", w, REQUIRED)
        if not re.fullmatch(r"[a-z0-9_]+", vname) or vname in {x.name for x in variants}:
            raise ctx.fail(f"{w}name", "a unique name of lower-case letters, digits, '_'", vname)
        title = ctx.string(v, "title", w, REQUIRED)
        values = ctx.array(v, "values", w, REQUIRED)
        if not values or not all(isinstance(x, int) and not isinstance(x, bool) for x in values):
            raise ctx.fail(f"{w}values", "a non-empty array of integer probe values", values)
        for x in values:
            if x in seen:
                raise ctx.fail(f"{w}values", f"values not already taken by {seen[x]!r}", x)
            seen[x] = vname
        extra = set(v) - {"name", "title", "values", *VARIANT_KEYS}
        if extra:
            raise ctx.fail(f"{w}{sorted(extra)[0]}", f"only name, title, values, {VARIANT_KEYS}")
        merged = {**base, **{k: v[k] for k in VARIANT_KEYS if k in v}}
        merged["title"] = title
        prof = _parse_one(ctx, merged, path, vname, where=w)
        variants.append(Variant(vname, title, tuple(values), prof))
    return replace(variants[0].profile, variants=tuple(variants))


def _parse_one(
    ctx: FieldReader, data: dict[str, Any], path: Path, variant: str | None = None, where=""
) -> Profile:
    try:
        return _parse_fields(ctx, data, path, variant)
    except ProfileError as e:
        if not where:
            raise
        raise ProfileError(f"{e} (in {where[:-1]})", path=e.path, field=e.field) from None


def _parse_fields(
    ctx: FieldReader, data: dict[str, Any], path: Path, variant: str | None
) -> Profile:
    schema = ctx.integer(data, "schema", "", 1, 99, REQUIRED)
    if schema != SCHEMA_VERSION:
        raise ctx.fail("schema", f"{SCHEMA_VERSION} (this program's profile schema)", schema)
    name = ctx.string(data, "name", "", REQUIRED)
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ctx.fail("name", "lower-case letters, digits and '_'", name)
    title = ctx.string(data, "title", "", REQUIRED)
    sources = _strings(ctx, data, "sources")
    unverified = _strings(ctx, data, "unverified")
    match = ctx.table(data, "match", "", REQUIRED)
    pattern = match.get("name_pattern")
    if pattern is not None:
        ctx.string(match, "name_pattern", "match.")
        try:
            check_name_pattern(pattern)
        except re.error as e:
            raise ctx.fail(
                "match.name_pattern", f"a valid regular expression ({e})", pattern
            ) from None
        except UnsafePattern as e:
            raise ctx.fail("match.name_pattern", f"a bounded pattern: {e}", pattern) from None
    services = tuple(
        ctx.uuid_value(u, f"match.service_uuids[{i}]")
        for i, u in enumerate(ctx.array(match, "service_uuids", "match.", []))
    )
    if pattern is None and not services:
        raise ctx.fail("match", "name_pattern and/or service_uuids", match)
    gatt = ctx.table(data, "gatt", "", REQUIRED)
    notify_raw = ctx.array(gatt, "notify", "gatt.", REQUIRED)
    if not notify_raw:
        raise ctx.fail("gatt.notify", "at least one characteristic UUID", notify_raw)
    notify = tuple(ctx.uuid_value(u, f"gatt.notify[{i}]") for i, u in enumerate(notify_raw))
    battery = ctx.uuid(gatt, "battery", "gatt.") if "battery" in gatt else None
    min_mtu = ctx.integer(gatt, "min_mtu", "gatt.", 23, 517, 23)
    rate = ctx.table(data, "rate", "", REQUIRED)
    rate_hz = ctx.number(rate, "hz", "rate.", True, REQUIRED, RATE_HZ_BOUNDS)
    ctx.string(rate, "how", "rate.", REQUIRED)
    start = read_steps(ctx, data.get("start", []), "start", notify)
    stop = read_steps(ctx, data.get("stop", []), "stop", notify, replies=False)
    alerts: dict[str, tuple[Write, ...]] = {}
    at = ctx.table(data, "alerts", "", {})
    for key, val in at.items():
        if key not in ALERT_KEYS:
            raise ctx.fail(f"alerts.{key}", "only keys 'flexion', 'extension', 'off', 'tick'", key)
        alerts[key] = read_steps(ctx, val, f"alerts.{key}", notify, replies=False)
    if alerts.keys() - {"tick"} and not {"flexion", "extension", "off"} <= set(alerts):
        raise ctx.fail("alerts", "all of 'flexion', 'extension' and 'off' (or no alerts)", alerts)
    captures = [c for s in start if s.reply is not None for c in s.reply.captures]
    cap_names = [c.name for c in captures]
    if len(set(cap_names)) != len(cap_names):
        raise ctx.fail("start", "capture names used once each", cap_names)
    probe = read_probe(ctx, data["probe"], notify) if "probe" in data else None
    bo = "<"
    pk_raw = ctx.array(data, "packet", "", REQUIRED)
    if not pk_raw:
        raise ctx.fail("packet", "at least one [[packet]] table", pk_raw)
    packets = tuple(_packet(ctx, p, f"packet[{i}].", notify, bo) for i, p in enumerate(pk_raw))
    for i, p in enumerate(packets):
        for j, f in enumerate(p.fields):
            if f.scale_by is not None and f.scale_by not in cap_names:
                raise ctx.fail(
                    f"packet[{i}].record[{j}].scale_by",
                    f"the name of a value a start step captures {cap_names}",
                    f.scale_by,
                )
    ignore = []
    for i, ig in enumerate(ctx.array(data, "ignore", "", [])):
        iw = f"ignore[{i}]."
        if not isinstance(ig, dict):
            raise ctx.fail(iw[:-1], "a table {char, match}", ig)
        ichar = ctx.uuid(ig, "char", iw, REQUIRED)
        if ichar not in notify:
            raise ctx.fail(f"{iw}char", f"one of gatt.notify {list(notify)}", ichar)
        imatch = read_match(ctx, ig, iw)
        if not imatch:
            raise ctx.fail(f"{iw}match", "at least one {offset, hex}", ig.get("match"))
        iname = ctx.string(ig, "name", iw, "") if ig.get("name") else ""
        ignore.append(IgnoreSpec(ichar, imatch, iname))
    framing = read_framing(ctx, data.get("framing", []), notify)
    for fr in framing:
        _check_framing(ctx, fr, packets, ignore)
    continuation = read_continuation(ctx, data.get("continuation", []), notify)
    covered = set().union(*(p.streams for p in packets))
    if covered != set(STREAMS):
        raise ctx.fail(
            "packet", "packets that together carry both 'acc' and 'gyr'", sorted(covered)
        )
    for i, p in enumerate(packets):
        if p.samples is not None and p.min_length + 3 > min_mtu:
            raise ctx.fail(
                "gatt.min_mtu",
                f"at least {p.min_length + 3} (packet[{i}] is {p.min_length} bytes + 3 ATT)",
                min_mtu,
            )
    timing = ctx.table(data, "timing", "", REQUIRED)
    source = ctx.choice(timing, "source", "timing.", TIME_SOURCES, REQUIRED)
    for i, p in enumerate(packets):
        need = {"timestamp": p.timestamp, "counter": p.counter}.get(source, True)
        if need is None:
            raise ctx.fail(f"packet[{i}].{source}", f"present (timing.source = {source!r})", None)
    combined = not any(p.streams == frozenset(STREAMS) for p in packets)
    tol_bounds, re_bounds = PAIR_TOLERANCE_S_BOUNDS, REANCHOR_SAMPLES_BOUNDS
    tol = ctx.number(timing, "pair_tolerance_s", "timing.", True, 0.5 / rate_hz, tol_bounds)
    reanchor = ctx.number(timing, "reanchor_samples", "timing.", True, 4.0, re_bounds)
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
        min_mtu=min_mtu,
        framing=framing,
        continuation=continuation,
        probe=probe,
        variant=variant,
        captures=tuple(captures),
        sources=sources,
        unverified=unverified,
        raw=data,
    )


def _strings(ctx: FieldReader, data: dict, key: str) -> tuple[str, ...]:
    items = ctx.array(data, key, "", [])
    for i, s in enumerate(items):
        if not isinstance(s, str) or not s.strip():
            raise ctx.fail(f"{key}[{i}]", "a non-empty string", s)
    return tuple(items)


def _check_framing(ctx: FieldReader, fr, packets, ignore) -> None:
    """Every packet / ignore on a framed characteristic is one whole frame named by its header."""
    for kind, items in (("packet", packets), ("ignore", ignore)):
        for i, p in enumerate(items):
            if p.char_uuid != fr.char_uuid:
                continue
            head = dict(p.match).get(0, b"")
            if len(head) < fr.header_length or not head.startswith(fr.sync):
                raise ctx.fail(
                    f"{kind}[{i}].match",
                    f"a match at offset 0 of at least {fr.header_length} bytes starting with "
                    f"the framing sync {fr.sync.hex(' ')}",
                    [(o, h.hex(" ")) for o, h in p.match],
                )
            if kind == "packet" and (p.samples is None or p.min_length != fr.frame_length):
                raise ctx.fail(
                    f"packet[{i}].samples",
                    f"a fixed sample count making the packet one {fr.frame_length}-byte frame",
                    p.samples,
                )
