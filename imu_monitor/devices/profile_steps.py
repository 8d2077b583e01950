"""Parsing the interactive parts of a profile: write steps (delays, replies with status checks and
captured values), the variant probe, and stream framing. See ``firmware_profiles/README.md``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from imu_monitor.devices.profile_fields import (
    REQUIRED,
    FieldReader,
    read_dtype,
    read_match,
)
from imu_monitor.devices.profile_schema import (
    Capture,
    Continuation,
    Framing,
    Probe,
    ReplySpec,
    StatusCheck,
    ValueField,
    Write,
)

MAX_DELAY_S = 10.0
MAX_TIMEOUT_S = 60.0


def read_value(ctx: FieldReader, t: dict, where: str, ints_only: bool = False) -> ValueField:
    """An ``{offset, type}`` table (little-endian unless ``byte_order = "big"``)."""
    bo = {"little": "<", "big": ">"}[
        ctx.choice(t, "byte_order", where, ("little", "big"), "little")
    ]
    off = ctx.integer(t, "offset", where, 0, 512, REQUIRED)
    return ValueField(off, read_dtype(ctx, t, where, bo, ints_only))


def _int_keys(ctx: FieldReader, t: dict, where: str, lo: int, hi: int) -> dict[int, Any]:
    out = {}
    for k, v in t.items():
        try:
            code = int(k, 0)
        except ValueError:
            raise ctx.fail(f"{where}.{k}", 'integer keys such as "5" or "0x05"', k) from None
        if not lo <= code <= hi:
            raise ctx.fail(f"{where}.{k}", f"a key in [{lo}, {hi}]", k)
        out[code] = v
    return out


def _status(ctx: FieldReader, t: Any, where: str) -> StatusCheck:
    if not isinstance(t, dict):
        raise ctx.fail(where, "a table {offset, type, ok, names}", t)
    w = f"{where}."
    value = read_value(ctx, t, w, ints_only=True)
    ok_raw = ctx.array(t, "ok", w, REQUIRED)
    if not ok_raw or not all(isinstance(v, int) and not isinstance(v, bool) for v in ok_raw):
        raise ctx.fail(f"{w}ok", "a non-empty array of integer status codes", ok_raw)
    names_raw = ctx.table(t, "names", w, {})
    names = _int_keys(ctx, names_raw, f"{w}names", 0, 2**32 - 1)
    for code, name in names.items():
        if not isinstance(name, str) or not name:
            raise ctx.fail(f"{w}names.{code}", "a status name string", name)
    return StatusCheck(value, tuple(ok_raw), names)


def _capture(ctx: FieldReader, c: Any, where: str) -> Capture:
    if not isinstance(c, dict):
        raise ctx.fail(where, "a table {name, offset, type, ...}", c)
    w = f"{where}."
    name = ctx.string(c, "name", w, REQUIRED)
    value = read_value(ctx, c, w)
    default = ctx.number(c, "default", w, False) if "default" in c else None
    tlv_id = None
    sizes: dict[int, int] = {}
    if "tlv_id" in c or "tlv_sizes" in c:
        tlv_id = ctx.integer(c, "tlv_id", w, 0, 255, REQUIRED)
        raw = _int_keys(ctx, ctx.table(c, "tlv_sizes", w, REQUIRED), f"{w}tlv_sizes", 0, 255)
        for k, v in raw.items():
            if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 64:
                raise ctx.fail(f"{w}tlv_sizes.{k}", "a value size in bytes, 1-64", v)
            sizes[k] = v
        if sizes.get(tlv_id) != value.nbytes:
            raise ctx.fail(
                f"{w}tlv_sizes.{tlv_id}", f"{value.nbytes} (the size of type)", sizes.get(tlv_id)
            )
    return Capture(name, value, default, tlv_id, sizes)


def read_reply(ctx: FieldReader, t: Any, where: str, notify: tuple[str, ...]) -> ReplySpec:
    """A ``reply`` table: ``{char, match, timeout_s, status?, capture?}``."""
    if not isinstance(t, dict):
        raise ctx.fail(where, "a table {char, match, timeout_s, ...}", t)
    w = f"{where}."
    char = ctx.uuid(t, "char", w, REQUIRED)
    if char not in notify:
        raise ctx.fail(f"{w}char", f"one of gatt.notify {list(notify)}", char)
    match = read_match(ctx, t, w)
    if not match:
        raise ctx.fail(f"{w}match", "at least one {offset, hex} identifying the reply", None)
    timeout = ctx.number(t, "timeout_s", w, True, REQUIRED)
    if timeout > MAX_TIMEOUT_S:
        raise ctx.fail(f"{w}timeout_s", f"at most {MAX_TIMEOUT_S} s", timeout)
    status = _status(ctx, t["status"], f"{w}status") if "status" in t else None
    caps = tuple(
        _capture(ctx, c, f"{w}capture[{i}]") for i, c in enumerate(ctx.array(t, "capture", w, []))
    )
    return ReplySpec(char, match, timeout, status, caps)


def read_step(
    ctx: FieldReader, w: Any, where: str, notify: tuple[str, ...], replies: bool = True
) -> Write:
    """One write step ``{char, hex, response, delay_s?, reply?}``."""
    if not isinstance(w, dict):
        raise ctx.fail(where, "a table {char, hex, response}", w)
    wh = f"{where}."
    char = ctx.uuid(w, "char", wh, REQUIRED)
    data = ctx.hexbytes(w, "hex", wh, REQUIRED)
    if not data:
        raise ctx.fail(f"{wh}hex", "at least one byte", w["hex"])
    response = ctx.boolean(w, "response", wh, REQUIRED)
    delay = ctx.number(w, "delay_s", wh, False, 0.0)
    if not 0.0 <= delay <= MAX_DELAY_S:
        raise ctx.fail(f"{wh}delay_s", f"seconds in [0, {MAX_DELAY_S}]", delay)
    reply = None
    if "reply" in w:
        if not replies:
            raise ctx.fail(f"{wh}reply", "no reply here (only start steps and the probe wait)")
        reply = read_reply(ctx, w["reply"], f"{wh}reply", notify)
    return Write(char, data, response, delay, reply)


def read_steps(
    ctx: FieldReader,
    items: Any,
    where: str,
    notify: tuple[str, ...],
    replies: bool = True,
) -> tuple[Write, ...]:
    """An array of write steps."""
    if not isinstance(items, list):
        raise ctx.fail(where, "an array of tables {char, hex, response}", items)
    return tuple(read_step(ctx, w, f"{where}[{i}]", notify, replies) for i, w in enumerate(items))


def read_probe(ctx: FieldReader, t: Any, notify: tuple[str, ...]) -> Probe:
    """The ``[probe]`` table: ``what``, ``value``, and ``read`` or a write step with a reply."""
    if not isinstance(t, dict):
        raise ctx.fail("probe", "a table", t)
    what = ctx.string(t, "what", "probe.", REQUIRED)
    value = read_value(ctx, ctx.table(t, "value", "probe.", REQUIRED), "probe.value.", True)
    if "read" in t:
        if "hex" in t:
            raise ctx.fail("probe", "either read = UUID or a write (char, hex, reply), not both")
        return Probe(what, value, read_char=ctx.uuid(t, "read", "probe."))
    step_t = {k: v for k, v in t.items() if k not in ("what", "value")}
    step = read_step(ctx, step_t, "probe", notify)
    if step.reply is None:
        raise ctx.fail("probe.reply", "a reply table (the value is read from the reply)", None)
    return Probe(what, value, write=step)


def _notify_tables(
    ctx: FieldReader, items: Any, key: str, fields: tuple[str, ...], notify: tuple[str, ...]
) -> Iterator[tuple[str, dict[str, Any], str]]:
    """Each table of the array ``key`` (its ``fields``, the first a notify characteristic):
    its field prefix for messages (``framing[0].``), the table and its checked ``char``."""
    if not isinstance(items, list):
        raise ctx.fail(key, f"an array of tables {{{', '.join(fields[:3])}, ...}}", items)
    for i, t in enumerate(items):
        w = f"{key}[{i}]."
        if not isinstance(t, dict):
            raise ctx.fail(w[:-1], f"a table {{{', '.join(fields)}}}", t)
        char = ctx.uuid(t, "char", w, REQUIRED)
        if char not in notify:
            raise ctx.fail(f"{w}char", f"one of gatt.notify {list(notify)}", char)
        yield w, t, char


def read_framing(ctx: FieldReader, items: Any, notify: tuple[str, ...]) -> tuple[Framing, ...]:
    """The ``[[framing]]`` tables."""
    out: list[Framing] = []
    fields = ("char", "frame_length", "sync", "header_length")
    for w, t, char in _notify_tables(ctx, items, "framing", fields, notify):
        if any(f.char_uuid == char for f in out):
            raise ctx.fail(f"{w}char", "one framing per characteristic", char)
        length = ctx.integer(t, "frame_length", w, 2, 512, REQUIRED)
        sync = ctx.hexbytes(t, "sync", w, REQUIRED)
        if not 1 <= len(sync) < length:
            raise ctx.fail(f"{w}sync", "1 or more bytes, shorter than a frame", t["sync"])
        header = ctx.integer(t, "header_length", w, len(sync), length, REQUIRED)
        out.append(Framing(char, length, sync, header))
    return tuple(out)


def read_continuation(
    ctx: FieldReader, items: Any, notify: tuple[str, ...]
) -> tuple[Continuation, ...]:
    """The ``[[continuation]]`` tables."""
    out: list[Continuation] = []
    fields = ("char", "first", "next", "split_length")
    for w, t, char in _notify_tables(ctx, items, "continuation", fields, notify):
        first = ctx.hexbytes(t, "first", w, REQUIRED)
        nxt = ctx.hexbytes(t, "next", w, REQUIRED)
        if not first or not nxt or first == nxt:
            raise ctx.fail(f"{w}next", "non-empty headers, first != next", t.get("next"))
        split = ctx.integer(t, "split_length", w, len(first) + 1, 517, REQUIRED)
        out.append(Continuation(char, first, nxt, split))
    return tuple(out)
