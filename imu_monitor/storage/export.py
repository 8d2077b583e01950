"""CSV export of an analysed recording: one row per sacrum sample, SI units, documented columns.

Columns (``<p>`` is each placement: sacrum, upper_lumbar, thigh):

- ``t_s``: time of the sacrum sample, seconds on the session clock.
- ``<p>_acc_{x,y,z}_m_s2``, ``<p>_gyr_{x,y,z}_rad_s``: raw channels in the sensor frame. The
  sacrum's are its samples exactly (printed with 17 significant digits: bit-exact on re-import);
  other sensors are linearly interpolated to the sacrum's sample times.
- ``<p>_q{w,x,y,z}``: the sensor's estimated orientation, sensor to earth (z up, heading
  arbitrary: 6D fusion without magnetometer), unit quaternion.
- ``lumbar_flexion_deg`` (flexion positive), ``lumbar_lateral_deg``, ``hip_flexion_deg`` (with a
  thigh sensor), ``movement_deg`` (the rep-detection signal).
- ``true_lumbar_flexion_deg``: ground truth, only for simulated recordings.

Events go to a second file beside it, ``<name>.events.csv``: ``t_s,type,direction,rep,value_deg,
duration_s`` (alarms and reps found by the analysis, in time order; ``rep`` from 1 as every
output counts them). A ``rep_started`` row is at the rep's start, where its ``rep_ended`` row's
``duration_s`` counts from, not at the moment the monitor could tell a rep had begun.

What the table cannot hold goes to a third file, ``<name>.meta.json`` (``export_meta``): the
recording's meta data (exercise, source, ...), each sensor's placement, profile, device and rate,
the calibration in force while recording and the one the angle columns were computed with
(``angles_calibration``: method, capture windows, whether they were guessed, notes), markers
(calibration postures, sets, notes), the events recorded during the session, and gaps.
``imu-monitor import`` reads it back when it sits beside the CSV, so export -> import gives the
same analysis.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from imu_monitor.errors import ImuMonitorError
from imu_monitor.events import AlarmEnded, AlarmStarted, RepEnded, RepStarted
from imu_monitor.model import Recording
from imu_monitor.storage.recording.format import encode_json

AXES = ("x", "y", "z")
EXPORT_META_FORMAT = "imu-monitor export meta"
EXPORT_META_VERSION = 1
PRIVATE_FILE_MODE = 0o600
"""Exported files hold a person's movement data: readable by their owner only."""


def export_columns(rec: Recording, analysis: Any) -> dict[str, np.ndarray]:
    """The export table as named columns (also the numpy/pandas path: ``pd.DataFrame(cols)``)."""
    t = analysis.angles.t_s
    cols: dict[str, np.ndarray] = {"t_s": t}
    for p in analysis.placements:
        s = rec.series[p]
        if p == "sacrum":
            acc = s.acc_m_s2[analysis.master_index]
            gyr = s.gyr_rad_s[analysis.master_index]
        else:
            ok = np.isfinite(s.acc_m_s2).all(axis=1) & np.isfinite(s.gyr_rad_s).all(axis=1)
            acc = np.column_stack([np.interp(t, s.t_s[ok], s.acc_m_s2[ok, k]) for k in range(3)])
            gyr = np.column_stack([np.interp(t, s.t_s[ok], s.gyr_rad_s[ok, k]) for k in range(3)])
        for k, ax in enumerate(AXES):
            cols[f"{p}_acc_{ax}_m_s2"] = acc[:, k]
        for k, ax in enumerate(AXES):
            cols[f"{p}_gyr_{ax}_rad_s"] = gyr[:, k]
        q = analysis.quats[p]
        for k, name in enumerate("wxyz"):
            cols[f"{p}_q{name}"] = q[:, k]
    a = analysis.angles
    cols["lumbar_flexion_deg"] = a.lumbar_flexion_deg
    cols["lumbar_lateral_deg"] = a.lumbar_lateral_deg
    if a.hip_flexion_deg is not None:
        cols["hip_flexion_deg"] = a.hip_flexion_deg
    cols["movement_deg"] = a.movement_deg
    if rec.truth is not None:
        cols["true_lumbar_flexion_deg"] = rec.truth.lumbar_at(t)
    return cols


def _open_private(path: str | Path, mode: str = "w"):
    """Open ``path`` for writing, created 0600 (an existing file keeps its mode); a clear
    ``ImuMonitorError`` instead of an OSError."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
        return os.fdopen(fd, mode, encoding="utf-8", newline="\n")
    except IsADirectoryError:
        raise ImuMonitorError(f"{path}: is a folder; give a file name such as out.csv") from None
    except FileNotFoundError:
        raise ImuMonitorError(f"{path}: its folder does not exist; create it first") from None
    except OSError as e:
        raise ImuMonitorError(f"{path}: cannot write the file: {e.strerror}") from None


def write_csv(path: str | Path, cols: dict[str, np.ndarray]) -> None:
    names = list(cols)
    table = np.column_stack([np.asarray(cols[n], dtype=np.float64) for n in names])
    raw = [n for n in names if "_acc_" in n or "_gyr_" in n or n == "t_s"]
    fmt = ["%.17g" if n in raw else "%.9g" for n in names]
    with _open_private(path) as f:
        np.savetxt(f, table, delimiter=",", header=",".join(names), comments="", fmt=fmt)


def write_events_csv(path: str | Path, events: list[Any]) -> None:
    starts = {e.index: e.t_start_s for e in events if isinstance(e, RepEnded)}
    rows: list[tuple[Any, ...]] = []
    for e in events:
        if isinstance(e, AlarmStarted):
            row = (e.t_s, e.type, e.direction, _number(e.rep), e.angle_deg, "")
        elif isinstance(e, AlarmEnded):
            row = (e.t_s, e.type, e.direction, _number(e.rep), e.peak_deg, e.duration_s)
        elif isinstance(e, RepStarted):
            row = (starts.get(e.index, e.t_s), e.type, "", e.index + 1, "", "")
        elif isinstance(e, RepEnded):
            peak = (
                e.peak_flexion_deg
                if e.peak_flexion_deg >= e.peak_extension_deg
                else (-e.peak_extension_deg)
            )
            row = (e.t_s, e.type, "", e.index + 1, peak, e.t_s - e.t_start_s)
        else:
            continue
        rows.append(row)
    rows.sort(key=lambda r: r[0])  # stable: a rep's start before what the monitor said at it
    lines = ["t_s,type,direction,rep,value_deg,duration_s"]
    lines += [",".join("" if v is None else str(v) for v in row) for row in rows]
    with _open_private(path) as f:
        f.write("\n".join(lines) + "\n")


def _number(rep: int | None) -> int | None:
    """A rep's number as users read it (from 1)."""
    return None if rep is None else rep + 1


def events_path(csv_path: str | Path) -> Path:
    p = Path(csv_path)
    return p.with_name(p.stem + ".events.csv")


def meta_path(csv_path: str | Path) -> Path:
    p = Path(csv_path)
    return p.with_name(p.stem + ".meta.json")


def export_meta(
    rec: Recording,
    placements: list[str],
    rows: int,
    angles_calibration: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``<name>.meta.json`` document: what the CSV table cannot hold (see the module doc).

    ``placements`` and ``rows`` describe the CSV it belongs to, so an importer can tell a stale
    file from the right one. ``angles_calibration``: the calibration the table's angles were
    computed with (``Calibration.to_dict``: its method, capture windows, whether they were
    guessed, notes), where ``calibration`` is the one recorded with the session, if any.
    """
    meta = {k: v for k, v in rec.meta.items() if k not in ("load_warning", "import")}
    return {
        "format": EXPORT_META_FORMAT,
        "format_version": EXPORT_META_VERSION,
        "rows": int(rows),
        "placements": list(placements),
        "meta": meta,
        "sensors": {p: rec.sensors[p].to_dict() for p in placements if p in rec.sensors},
        "calibration": rec.calibration,
        "angles_calibration": angles_calibration,
        "markers": [m.to_dict() for m in rec.markers],
        "events": list(rec.events),
        "gaps": [g.to_dict() for g in rec.gaps if g.sensor in placements],
    }


def write_meta_json(path: str | Path, doc: dict[str, Any]) -> None:
    text = json.dumps(json.loads(encode_json(doc)), indent=1)
    with _open_private(path) as f:
        f.write(text + "\n")
