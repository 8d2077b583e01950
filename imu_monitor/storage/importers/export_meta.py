"""The ``<name>.meta.json`` file ``imu-monitor export`` writes beside its CSV, read back on import.

It holds what the table cannot: meta data (exercise, ...), each sensor's profile, device and
rate, the calibration, markers, recorded events and gaps (``storage.export.export_meta``). With
it, export -> import gives back a recording that analyses the same. It is input like any other
file: size-bounded, its structure checked, and every fault reported as ``ImportFileError``
naming it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imu_monitor.errors import ImportFileError
from imu_monitor.model import Gap, Marker, Recording, SensorInfo
from imu_monitor.storage.export import EXPORT_META_FORMAT, EXPORT_META_VERSION, meta_path
from imu_monitor.storage.importers.common import read_bounded, valid_rate

MAX_META_BYTES = 64 << 20
"""Largest ``.meta.json`` read (64 MiB; a 2-hour session's events and markers take < 1 MiB)."""


@dataclass
class ExportMeta:
    path: Path
    placements: list[str]
    meta: dict[str, Any]
    sensors: dict[str, SensorInfo]
    calibration: dict[str, Any] | None
    markers: list[Marker]
    events: list[dict[str, Any]]
    gaps: list[Gap]


def read_export_meta(csv_path: Path, rows: int) -> ExportMeta | None:
    """The export meta file beside ``csv_path`` (None when there is none).

    ``rows``: the CSV's data rows; a meta file written for another table is refused.
    """
    path = meta_path(csv_path)
    if not path.exists():
        return None
    raw = read_bounded(path, MAX_META_BYTES)
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise ImportFileError(path, f"not valid JSON ({e}); delete it or export again") from None
    try:
        return _parse(path, doc, rows)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise ImportFileError(
            path,
            f"not a valid export meta file ({type(e).__name__}: {e}); delete it or export again",
        ) from None


def _parse(path: Path, doc: Any, rows: int) -> ExportMeta:
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_META_FORMAT:
        raise ImportFileError(path, f"does not say it is an {EXPORT_META_FORMAT!r} file")
    version = doc.get("format_version")
    if not isinstance(version, int) or version > EXPORT_META_VERSION:
        raise ImportFileError(
            path, f"format version {version!r} is newer than this program reads; update it"
        )
    if doc.get("rows") != rows:
        raise ImportFileError(
            path,
            f"describes a table of {doc.get('rows')!r} rows but {csv_name(path)} has {rows}: it "
            "belongs to another export; delete it or export again",
        )
    placements = [str(p) for p in doc["placements"]]
    sensors = {}
    for name, d in dict(doc.get("sensors") or {}).items():
        info = SensorInfo.from_dict(d)
        valid_rate(info.rate_hz, f"{path} sensors.{name}.rate_hz")
        sensors[str(name)] = info
    calibration = doc.get("calibration")
    if calibration is not None and not isinstance(calibration, dict):
        raise ValueError("calibration is not an object")
    events = list(doc.get("events") or [])
    if not all(isinstance(e, dict) for e in events):
        raise ValueError("an event is not an object")
    return ExportMeta(
        path=path,
        placements=placements,
        meta=dict(doc.get("meta") or {}),
        sensors=sensors,
        calibration=calibration,
        markers=[Marker.from_dict(m) for m in doc.get("markers") or []],
        events=events,
        gaps=[Gap.from_dict(g) for g in doc.get("gaps") or []],
    )


def csv_name(meta_file: Path) -> str:
    return meta_file.name.removesuffix(".meta.json") + ".csv"


def apply_export_meta(rec: Recording, em: ExportMeta, rate_given: bool) -> None:
    """Put back into ``rec`` what the export meta file holds (an explicit exercise and rate,
    kept in ``rec``, win)."""
    meta = {k: v for k, v in em.meta.items() if k not in ("source", "created_utc", "import")}
    meta["exported_source"] = em.meta.get("source")
    rec.meta = {**meta, **rec.meta}
    rec.meta["import"]["export_meta_file"] = str(em.path)
    for p in rec.sensors:
        if p in em.sensors:
            info = em.sensors[p]
            rate = rec.sensors[p].rate_hz if rate_given else info.rate_hz
            rec.sensors[p] = SensorInfo(p, info.profile, info.device, rate)
    rec.calibration = em.calibration
    rec.markers = list(em.markers)
    rec.events = list(em.events)
    rec.gaps = [g for g in em.gaps if g.sensor in rec.series]
