"""``imu-monitor decode --profile NAME``: what a device's notification bytes mean.

Reads notifications as hex, one per line, from a file, stdin (``-`` or no file) or ``--hex``;
a line is ``HEX`` (spaces allowed; on the profile's data characteristic, ``--interval`` apart)
or ``CHAR TIME_S HEX`` (CHAR a full UUID or an alias: a packet or ignore name of the profile, or
``notify0``, ``notify1``, ...). Blank lines and ``#`` comments are skipped. Prints the decoded
samples in SI units as JSON lines (``t_s``, ``acc_m_s2``, ``gyr_rad_s``, and ``counter`` where
the device sends one), then one ``{"stats": ...}`` line (samples, malformed by reason, ignored).

A start reply in the input (e.g. Polar's ``F0 02 02 00 00 ...``) is checked as the live link
checks it and its captured values (the conversion factor) are used from then on; ``--factor``
sets them by hand. Usage errors exit 2, unreadable or malformed input exits 1, always with one
line naming the file/line and what to do.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Iterable, Iterator

import numpy as np

from imu_monitor.devices.decode import Decoder
from imu_monitor.devices.profile_schema import Profile, normalize_uuid
from imu_monitor.devices.profiles import load_profile
from imu_monitor.devices.replies import check_reply, reply_matches, variant_named
from imu_monitor.errors import ImuMonitorError, ProfileReplyError

EXIT_RUNTIME = 1
EXIT_USAGE = 2
_HEX_JUNK = re.compile(r"0x|[\s,:;\-\[\]]", re.IGNORECASE)


class _InputError(Exception):
    """A line of the input cannot be read (runtime error: exit 1)."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "decode",
        help="decode notification bytes (hex) with a firmware profile into SI samples",
        description="Decode BLE notifications given as hex with a firmware profile, printing "
        "samples in SI units as JSON lines, then a stats line. Input lines: HEX, or "
        "CHAR_UUID_OR_ALIAS TIME_S HEX.",
    )
    p.add_argument("--profile", required=True, help="profile name (firmware_profiles/NAME.toml)")
    p.add_argument("--variant", help="profile variant (e.g. metamotion: bmi160, bmi270)")
    p.add_argument("file", nargs="?", help="input file, one notification per line ('-': stdin)")
    p.add_argument("--hex", nargs="+", metavar="HEX", help="notifications given as arguments")
    p.add_argument(
        "--char", help="characteristic (UUID or alias) of lines without one (default: data)"
    )
    p.add_argument(
        "--interval",
        type=float,
        metavar="S",
        help="seconds between lines without a time (default: one sample period)",
    )
    p.add_argument(
        "--factor",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a value a start reply would carry, e.g. acc_factor=2.44e-4 (repeatable)",
    )
    p.add_argument(
        "--halves",
        action="store_true",
        help="print each acc or gyro message on its own (devices that send them separately)",
    )
    p.set_defaults(func=run)


def _fail(code: int, msg: str) -> int:
    print(f"imu-monitor decode: error: {msg}", file=sys.stderr)
    return code


def run(args: argparse.Namespace) -> int:
    if args.hex and args.file:
        return _fail(EXIT_USAGE, "give either a FILE or --hex, not both")
    try:
        name, _, variant = args.profile.partition(":")
        profile = load_profile(name)
        variant = args.variant or variant
        if variant:
            profile = variant_named(profile, variant)
        factors = _factors(args.factor, profile)
        char = _char(profile, args.char) if args.char else profile.packets[0].char_uuid
    except ImuMonitorError as e:
        return _fail(EXIT_USAGE, str(e))
    except ValueError as e:
        return _fail(EXIT_USAGE, str(e))
    if args.interval is not None and not args.interval > 0:
        return _fail(
            EXIT_USAGE, f"--interval must be a positive number of seconds, not {args.interval}"
        )
    interval = args.interval or 1.0 / profile.rate_hz
    if args.hex:
        where, lines = "--hex", args.hex
        for i, h in enumerate(lines):
            try:
                _hex(h)
            except _InputError as e:
                return _fail(EXIT_USAGE, f"--hex argument {i + 1}: {e}")
    elif args.file and args.file != "-":
        where = args.file
        try:
            with open(args.file, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except (OSError, UnicodeDecodeError) as e:
            return _fail(EXIT_RUNTIME, f"cannot read {args.file}: {e}")
    else:
        where, lines = "stdin", sys.stdin.read().splitlines()
    try:
        notes = list(_parse(lines, profile, char, interval, where))
    except _InputError as e:
        return _fail(EXIT_RUNTIME, str(e))
    return _decode(profile, notes, factors, args.halves)


def _factors(items: list[str], profile: Profile) -> dict[str, float]:
    known = [c.name for c in profile.captures]
    out = {}
    for item in items:
        key, eq, val = item.partition("=")
        try:
            if not eq or key not in known:
                raise ValueError
            out[key] = float(val)
            if not math.isfinite(out[key]):
                raise ValueError
        except ValueError:
            raise ValueError(
                f"--factor {item!r}: expected NAME=NUMBER with NAME one of "
                f"{known or '(none: profile ' + profile.name + ' captures no values)'}"
            ) from None
    return out


def _aliases(profile: Profile) -> dict[str, str]:
    out = {f"notify{i}": u for i, u in enumerate(profile.notify_uuids)}
    for x in (*profile.packets, *profile.ignore):
        if x.name:
            out.setdefault(x.name, x.char_uuid)
    return out


def _char(profile: Profile, text: str) -> str:
    aliases = _aliases(profile)
    if text in aliases:
        return aliases[text]
    u = normalize_uuid(text)
    if u in profile.notify_uuids:
        return u
    raise ValueError(
        f"characteristic {text!r} is not one profile {profile.name} listens to; use a UUID "
        f"of {list(profile.notify_uuids)} or an alias {sorted(aliases)}"
    )


def _hex(text: str) -> bytes:
    cleaned = _HEX_JUNK.sub("", text)
    try:
        data = bytes.fromhex(cleaned)
    except ValueError:
        raise _InputError(f"not hex bytes: {text.strip()[:60]!r}") from None
    if not data:
        raise _InputError("no bytes")
    return data


def _parse(
    lines: Iterable[str], profile: Profile, char: str, interval: float, where: str
) -> Iterator[tuple[str, float, bytes]]:
    aliases = _aliases(profile)
    n = 0
    for lineno, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split(None, 2)
        if len(parts) == 3 and (parts[0] in aliases or "-" in parts[0]):
            try:
                c = _char(profile, parts[0])
                t = float(parts[1])
                if not np.isfinite(t):
                    raise ValueError(f"time {parts[1]!r} is not a finite number")
                data = _hex(parts[2])
            except (ValueError, _InputError) as e:
                raise _InputError(f"{where} line {lineno}: {e}") from None
            yield c, t, data
        else:
            try:
                yield char, n * interval, _hex(line)
            except _InputError as e:
                raise _InputError(
                    f"{where} line {lineno}: {e} (a line is HEX or CHAR TIME_S HEX)"
                ) from None
        n += 1


def _row(t: float, acc, gyr, seq) -> dict:
    row: dict = {"t_s": round(float(t), 6)}
    if acc is not None:
        row["acc_m_s2"] = [round(float(v), 5) for v in acc]
    if gyr is not None:
        row["gyr_rad_s"] = [round(float(v), 6) for v in gyr]
    if seq is not None:
        row["counter"] = int(seq)
    return row


def _decode(profile: Profile, notes, factors: dict[str, float], halves: bool) -> int:
    d = Decoder(profile, "device")
    d.set_captured(factors)
    out = sys.stdout
    replies = []
    n_halves = 0
    if halves:

        def show(stream: str, t: np.ndarray, v: np.ndarray) -> None:
            nonlocal n_halves
            n_halves += len(t)
            for ti, vi in zip(t, v, strict=True):
                acc, gyr = (vi, None) if stream == "acc" else (None, vi)
                out.write(json.dumps(_row(ti, acc, gyr, None)) + "\n")

        d.on_half = show
    steps = [(i, s) for i, s in enumerate(profile.start_steps) if s.reply is not None]
    for char, t, data in notes:
        for i, step in steps:
            if reply_matches(step.reply, char, data):
                try:
                    got = check_reply(profile, i, data)
                    d.set_captured({k: v for k, v in got.items() if k not in factors})
                    replies.append({"step": i + 1, "ok": True, "captured": got})
                except ProfileReplyError as e:
                    replies.append({"step": i + 1, "ok": False, "error": str(e)})
                break
        ch = d.feed(char, data, t)
        if ch is None or halves:
            continue
        seq = ch.seq if ch.seq is not None else [None] * len(ch)
        for k in range(len(ch)):
            out.write(json.dumps(_row(ch.t_s[k], ch.acc_m_s2[k], ch.gyr_rad_s[k], seq[k])) + "\n")
    stats = d.stats.to_dict()
    stats = {
        "notifications": len(notes),
        "samples": stats["samples"],
        "malformed": stats["malformed"],
        "ignored": stats["ignored"],
        **{k: v for k, v in stats.items() if k not in ("samples", "malformed", "ignored") and v},
        "profile": profile.name if profile.variant is None else f"{profile.name}:{profile.variant}",
        "captured": d.captured,
    }
    if halves:
        stats["halves"] = n_halves
    if replies:
        stats["replies"] = replies
    if profile.combined and not halves and stats["samples"] == 0 and len(notes):
        stats["hint"] = (
            "this device sends acc and gyro in separate messages and none paired here: "
            "--halves prints each message's values"
        )
    out.write(json.dumps({"stats": stats}) + "\n")
    return 0
