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
