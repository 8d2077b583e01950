"""XDF files (LabRecorder's format for Lab Streaming Layer sessions) read with pyxdf: the only
module that imports it.

Each placement takes one stream holding accelerometer and gyroscope channels, or two streams (one
of each, as ``imu-monitor ... --lsl`` and muse-lsl send them), chosen by stream name or type
(``streams={"sacrum": "NAME"}`` or ``"ACCNAME,GYRONAME"``). Without a choice, the streams an
``imu-monitor --lsl`` session sent are found by their ``desc/placement``. Each channel's unit
comes from the stream's meta-data (``desc/channels/channel/unit``, the XDF convention): an
acceleration unit (m/s^2, g, mg) or an angular rate (rad/s, deg/s); a channel without one, or
with another, is refused naming the stream and channel. Two streams of one placement must have
the same time stamps.

Times: pyxdf's clock synchronisation (LabRecorder's clock offsets) without de-jittering, so the
times are the sender's. When the file holds an ``imu-monitor markers`` stream its
``session_clock`` marker gives the session times back exactly (and its user markers come back as
markers); otherwise times are shifted so the first sample is at 0 s.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pyxdf

from imu_monitor.errors import ImportFileError, ImuMonitorError
from imu_monitor.model import PLACEMENTS, Marker, Recording, SensorSeries, check_placement
from imu_monitor.storage.importers.common import (
    ACC_UNITS,
    GYR_UNITS,
    MAX_IMPORT_BYTES,
    estimate_rate,
    make_recording,
    normalise_unit,
    valid_rate,
)

SAME_TIME_FRACTION = 0.5
"""Acc and gyro streams of one placement pair sample by sample when their time stamps differ by
less than this fraction of a sample period."""


def _first(d: dict[str, Any], key: str, default: Any = None) -> Any:
    v = d.get(key)
    if isinstance(v, list):
        return v[0] if v else default
    return default if v is None else v


def _name(stream: dict[str, Any]) -> str:
    return str(_first(stream["info"], "name", "") or "")


def _type(stream: dict[str, Any]) -> str:
    return str(_first(stream["info"], "type", "") or "")


def _desc(stream: dict[str, Any]) -> dict[str, Any]:
    d = _first(stream["info"], "desc")
    return d if isinstance(d, dict) else {}


def _channels(stream: dict[str, Any]) -> list[dict[str, Any]]:
    chans = _first(_desc(stream), "channels")
    if not isinstance(chans, dict):
        return []
    return [c for c in chans.get("channel") or [] if isinstance(c, dict)]


def _listing(streams: list[dict[str, Any]]) -> str:
    if not streams:
        return "none"
    return "; ".join(
        f"{_name(s)!r} (type {_type(s) or '-'}, {_first(s['info'], 'channel_count', '?')} ch)"
        for s in streams
    )


def _select(path: Path, streams: list[dict[str, Any]], spec: str) -> list[dict[str, Any]]:
    """The streams ``spec`` names (comma-separated names or types; a name wins over a type)."""
    out = []
    for key in (k.strip() for k in spec.split(",")):
        hits = [s for s in streams if _name(s) == key] or [s for s in streams if _type(s) == key]
        if not hits:
            raise ImportFileError(
                path, f"no stream named or of type {key!r}; the file's streams: {_listing(streams)}"
            )
        if len(hits) > 1:
            raise ImportFileError(
                path,
                f"{len(hits)} streams match {key!r}: {_listing(hits)}; give the stream's name",
            )
        out.append(hits[0])
    return out


def _own_streams(path: Path, streams: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The acc and gyro streams an ``imu-monitor --lsl`` session sent, by placement."""
    found: dict[str, list[dict[str, Any]]] = {}
    for s in streams:
        placement = _first(_desc(s), "placement")
        if _type(s) in ("ACC", "GYRO") and placement and _name(s).startswith("imu-monitor "):
            found.setdefault(str(placement), []).append(s)
    if not found:
        raise ImportFileError(
            path,
            "no imu-monitor streams in the file: choose the IMU streams with --stream "
            f"PLACEMENT=NAME (or TYPE); the file's streams: {_listing(streams)}",
        )
    return found


def _unit_columns(path: Path, stream: dict[str, Any]) -> dict[str, list[tuple[int, float]]]:
    """{"acc"|"gyr": [(column, factor to SI)...]} from the channels' units."""
    chans = _channels(stream)
    n = int(_first(stream["info"], "channel_count", 0) or 0)
    if len(chans) != n:
        raise ImportFileError(
            path,
            f"stream {_name(stream)!r} describes {len(chans)} of its {n} channels; the units "
            "of each channel are needed (desc/channels/channel/unit)",
        )
    out: dict[str, list[tuple[int, float]]] = {"acc": [], "gyr": []}
    for i, ch in enumerate(chans):
        unit = str(_first(ch, "unit", "") or "").strip()
        label = str(_first(ch, "label", "") or f"#{i + 1}")
        for kind, table in (("acc", ACC_UNITS), ("gyr", GYR_UNITS)):
            try:
                out[kind].append((i, table[normalise_unit(unit, table, kind)]))
                break
            except ImuMonitorError:
                continue
        else:
            known = ", ".join([*ACC_UNITS, *GYR_UNITS])
            raise ImportFileError(
                path,
                f"stream {_name(stream)!r} channel {label!r} has "
                f"{'unit ' + repr(unit) if unit else 'no unit'}: not an acceleration or angular "
                f"rate ({known}); choose streams with only accelerometer and gyroscope channels",
            )
    return out


def _placement_series(
    path: Path, placement: str, chosen: list[dict[str, Any]]
) -> tuple[SensorSeries, float, dict[str, str]]:
    parts: dict[str, tuple[dict[str, Any], list[tuple[int, float]]]] = {}
    for s in chosen:
        for kind, cols in _unit_columns(path, s).items():
            if cols:
                if kind in parts or len(cols) != 3:
                    raise ImportFileError(
                        path,
                        f"{placement}: the chosen streams ({_listing(chosen)}) must hold three "
                        "accelerometer and three gyroscope channels in all",
                    )
                parts[kind] = (s, cols)
    if set(parts) != {"acc", "gyr"}:
        raise ImportFileError(
            path,
            f"{placement}: the chosen streams ({_listing(chosen)}) have no "
            f"{'gyroscope' if 'acc' in parts else 'accelerometer'} channels; name both streams: "
            f"--stream {placement}=ACC_STREAM,GYRO_STREAM",
        )
    (sa, ca), (sg, cg) = parts["acc"], parts["gyr"]
    ta = np.asarray(sa["time_stamps"], dtype=np.float64)
    tg = np.asarray(sg["time_stamps"], dtype=np.float64)
    rate = float(_first(sa["info"], "nominal_srate", 0) or 0)
    rate = valid_rate(rate, f"stream {_name(sa)!r} nominal_srate") if rate > 0 else 0.0
    if rate == 0.0:
        rate = estimate_rate(ta, path)
    apart = len(ta) != len(tg) or np.any(np.abs(ta - tg) >= SAME_TIME_FRACTION / rate)
    if sa is not sg and apart:
        raise ImportFileError(
            path,
            f"{placement}: streams {_name(sa)!r} ({len(ta)} samples) and {_name(sg)!r} "
            f"({len(tg)} samples) do not have the same time stamps; they must be one sensor's",
        )
    if len(ta) == 0:
        raise ImportFileError(path, f"{placement}: stream {_name(sa)!r} has no samples")
    xa = np.asarray(sa["time_series"], dtype=np.float64)
    xg = np.asarray(sg["time_series"], dtype=np.float64)
    acc = np.column_stack([xa[:, i] * f for i, f in ca])
    gyr = np.column_stack([xg[:, i] * f for i, f in cg])
    units = {
        "acc": str(_first(_channels(sa)[ca[0][0]], "unit")),
        "gyr": str(_first(_channels(sg)[cg[0][0]], "unit")),
    }
    return SensorSeries(ta, acc, gyr, None), rate, units


def _session_markers(streams: list[dict[str, Any]]) -> tuple[float | None, list[Marker]]:
    """The session clock offset and the user markers of an ``imu-monitor markers`` stream."""
    for s in streams:
        if _name(s) != "imu-monitor markers" or _type(s) != "Markers":
            continue
        offset, markers = None, []
        for row, stamp in zip(s["time_series"], s["time_stamps"], strict=False):
            try:
                doc = json.loads(row[0])
            except (ValueError, TypeError, IndexError):
                continue
            if not isinstance(doc, dict):
                continue
            if doc.get("type") == "session_clock" and offset is None:
                offset = float(stamp) - float(doc["t_s"])  # on the recorder's clock
            elif doc.get("type") == "marker":
                try:  # its own session times, as the recording it came from had them
                    markers.append(Marker.from_dict(doc))
                except (KeyError, TypeError, ValueError):
                    continue
        return offset, markers
    return None, []


def import_xdf(
    path: str | os.PathLike[str],
    *,
    streams: dict[str, str] | None = None,
    exercise: str | None = None,
) -> Recording:
    """Import an XDF file (module docstring). ``streams``: {placement: "NAME" or "ACC,GYRO"}."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as e:
        raise ImportFileError(path, f"cannot read the file: {e.strerror}") from None
    if size > MAX_IMPORT_BYTES:
        raise ImportFileError(path, f"{size} bytes is more than {MAX_IMPORT_BYTES} for import")
    try:
        loaded, _header = pyxdf.load_xdf(str(path), dejitter_timestamps=False)
    except Exception as e:  # pyxdf raises what its parsing met: a damaged or non-XDF file
        raise ImportFileError(path, f"not a readable XDF file ({type(e).__name__}: {e})") from None
    if streams:
        chosen = {check_placement(p): _select(path, loaded, spec) for p, spec in streams.items()}
    else:
        chosen = {check_placement(p): s for p, s in _own_streams(path, loaded).items()}
    chosen = {p: chosen[p] for p in PLACEMENTS if p in chosen}
    if "sacrum" not in chosen:
        raise ImportFileError(path, "no sacrum stream: give --stream sacrum=NAME")
    offset, markers = _session_markers(loaded)
    series, rates, units = {}, {}, {}
    for placement, group in chosen.items():
        s, rate, u = _placement_series(path, placement, group)
        if offset is not None:
            s.t_s = s.t_s - offset
        series[placement], rates[placement] = s, rate
        units.setdefault("acc", (u["acc"], "stream meta-data"))
        units.setdefault("gyr", (u["gyr"], "stream meta-data"))
    info: dict[str, Any] = {
        "units": units,
        "rows": int(sum(len(s) for s in series.values())),
        "skipped_rows": 0,
        "skipped": {},
        "examples": [],
        "streams": {p: [_name(s) for s in g] for p, g in chosen.items()},
    }
    rec = make_recording("xdf", path, series, rates, exercise, info, rebase=offset is None)
    rec.markers = markers
    return rec
