"""Firmware profiles: one TOML data file per wearable / firmware under ``firmware_profiles/``.

A profile says how to recognise the device in a scan, which GATT characteristics to subscribe to,
what to write to start and stop streaming and to raise an alert, and how every notification is
laid out (see ``firmware_profiles/README.md`` for the schema). Loading validates the whole file:
a missing or wrong field raises ``ProfileError`` naming the file, the dotted field path and what
is expected. This module finds profiles (by name, path or scanned advertisement); the schema
dataclasses are in ``profile_schema``, the validation in ``profile_parse``, decoding in
``decode``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path

import imu_monitor
from imu_monitor.devices.profile_parse import parse_profile
from imu_monitor.devices.profile_schema import (
    SCHEMA_VERSION,
    STREAMS,
    TIME_SOURCES,
    TYPE_CODES,
    UNIT_TO_SI,
    FieldSpec,
    HeaderField,
    IgnoreSpec,
    PacketSpec,
    Profile,
    Write,
    normalize_uuid,
)
from imu_monitor.errors import ProfileError
from imu_monitor.files import FileTooLargeError, NotRegularFileError, read_regular_file

__all__ = [
    "PROFILE_DIR",
    "SCHEMA_VERSION",
    "STREAMS",
    "TIME_SOURCES",
    "TYPE_CODES",
    "UNIT_TO_SI",
    "FieldSpec",
    "HeaderField",
    "IgnoreSpec",
    "PacketSpec",
    "Profile",
    "Write",
    "list_profiles",
    "load_profile",
    "match_profile",
    "normalize_uuid",
    "parse_profile",
]

_PACKAGE = Path(imu_monitor.__file__).resolve().parent
PROFILE_DIR = _PACKAGE / "firmware_profiles"
if not PROFILE_DIR.is_dir():
    PROFILE_DIR = _PACKAGE.parent / "firmware_profiles"
"""Where profiles are looked up by name: ``imu_monitor/firmware_profiles/`` in an installed wheel
(copied there at build time, see setup.py), else the repository's ``firmware_profiles/``."""


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
    return parse_profile(read_profile_toml(p), p)


MAX_PROFILE_BYTES = 1 << 20
"""A profile is a few kB; a larger file is refused before it is read whole."""
MAX_PROFILE_DEPTH = 16
"""Tables and arrays nested deeper than this are refused (a profile nests 4 deep)."""


def read_profile_toml(p: Path) -> dict:
    """The TOML table in ``p``, read with bounds: a regular file of at most
    ``MAX_PROFILE_BYTES``, UTF-8, nested at most ``MAX_PROFILE_DEPTH`` deep; anything else
    raises ``ProfileError`` naming the file and what to do. Opened without blocking (a named
    pipe with no writer) and checked on the open descriptor, so a directory, device or pipe is
    never read."""
    try:
        raw = read_regular_file(p, MAX_PROFILE_BYTES)
    except FileNotFoundError:
        raise ProfileError(f"firmware profile {p} does not exist; check the path", path=p) from None
    except (IsADirectoryError, NotRegularFileError):
        raise ProfileError(
            f"firmware profile {p} is not a regular file (a directory, device or pipe); "
            "give the path of a .toml file",
            path=p,
        ) from None
    except FileTooLargeError:
        raise ProfileError(
            f"firmware profile {p} is larger than {MAX_PROFILE_BYTES // 1024} KiB; a profile "
            "is a small TOML file: check that this is the right file",
            path=p,
        ) from None
    except OSError as e:
        raise ProfileError(
            f"cannot open firmware profile {p}: {e.strerror or e}; check the path and its "
            "permissions",
            path=p,
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ProfileError(
            f"firmware profile {p}: not UTF-8 text (bad byte at offset {e.start}); save it as "
            "UTF-8",
            path=p,
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ProfileError(
            f"firmware profile {p}: not valid TOML ({e}); fix the syntax", path=p
        ) from None
    except RecursionError:
        data = None
    if data is None or _depth(data) > MAX_PROFILE_DEPTH:
        raise ProfileError(
            f"firmware profile {p}: tables or arrays nested more than {MAX_PROFILE_DEPTH} deep; "
            "fix the file (schema: firmware_profiles/README.md)",
            path=p,
        )
    return data


def _depth(value: object) -> int:
    """How deep tables and arrays nest in ``value`` (iterative: no recursion limit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict | list):
            deepest = max(deepest, d)
            if d <= MAX_PROFILE_DEPTH:
                stack.extend((x, d + 1) for x in (v.values() if isinstance(v, dict) else v))
    return deepest


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
