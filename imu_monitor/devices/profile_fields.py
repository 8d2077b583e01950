"""Reading typed values out of a parsed profile TOML table: ``FieldReader`` raises ``ProfileError``
naming the file, the dotted field and what was expected; shared by ``profile_parse`` and
``profile_steps``."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from imu_monitor.devices.profile_schema import TYPE_CODES, UUID_RE, normalize_uuid
from imu_monitor.errors import ProfileError

MISSING = object()
REQUIRED = object()
"""Pass as ``default`` to make a key mandatory."""

MAX_GOT_CHARS = 120
"""A wrong value is quoted in the error up to this length (the message stays one short line)."""


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= MAX_GOT_CHARS else f"{text[:MAX_GOT_CHARS]}... ({len(text)} chars)"


class FieldReader:
    """Helpers that read typed values out of the TOML table and raise ProfileError on misfit."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, expected: str, got: Any = None) -> ProfileError:
        got_s = "missing" if got is MISSING else f"got {_short_repr(got)}"
        return ProfileError(
            f"firmware profile {self.path}: field '{where}': expected {expected} ({got_s}); "
            "fix the file (schema: firmware_profiles/README.md)",
            path=self.path,
            field=where,
        )

    def get(self, table: dict[str, Any], key: str, where: str, expected: str, default=None):
        if key not in table:
            if default is REQUIRED:
                raise self.fail(f"{where}{key}", expected, MISSING)
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

    def number(
        self,
        t: dict,
        key: str,
        where: str,
        positive: bool = True,
        default=None,
        bounds: tuple[float, float] | None = None,
    ) -> float:
        """A finite number (> 0 when ``positive``), within ``bounds`` (lo, hi) when given."""
        v = self.get(t, key, where, "a number", default)
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise self.fail(f"{where}{key}", "a finite number", v)
        if positive and v <= 0:
            raise self.fail(f"{where}{key}", "a positive number", v)
        if bounds is not None and not bounds[0] <= v <= bounds[1]:
            raise self.fail(f"{where}{key}", f"a number in [{bounds[0]:g}, {bounds[1]:g}]", v)
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
        if not isinstance(v, str) or not UUID_RE.match(normalize_uuid(v)):
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


def read_dtype(ctx: FieldReader, t: dict, where: str, byte_order: str, ints_only=False) -> str:
    """The ``type`` key of ``t`` as a numpy type code with ``byte_order`` (``<`` or ``>``)."""
    names = [k for k in TYPE_CODES if not (ints_only and k[0] == "f")]
    tname = ctx.choice(t, "type", where, names, REQUIRED)
    return byte_order + TYPE_CODES[tname]


def read_match(ctx: FieldReader, t: dict, where: str) -> tuple[tuple[int, bytes], ...]:
    """The ``match`` list of ``t``: (offset, bytes) pairs (empty when absent)."""
    out = []
    for i, m in enumerate(ctx.array(t, "match", where, [])):
        mw = f"{where}match[{i}]."
        if not isinstance(m, dict):
            raise ctx.fail(mw[:-1], "a table {offset, hex}", m)
        off = ctx.integer(m, "offset", mw, 0, 512, REQUIRED)
        hx = ctx.hexbytes(m, "hex", mw, REQUIRED)
        if not hx:
            raise ctx.fail(f"{mw}hex", "at least one byte", m["hex"])
        out.append((off, hx))
    return tuple(out)
