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
duration_s`` (alarms and reps).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from imu_monitor.events import AlarmEnded, AlarmStarted, RepEnded, RepStarted
from imu_monitor.model import Recording

AXES = ("x", "y", "z")


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


def write_csv(path: str | Path, cols: dict[str, np.ndarray]) -> None:
    names = list(cols)
    table = np.column_stack([np.asarray(cols[n], dtype=np.float64) for n in names])
    raw = [n for n in names if "_acc_" in n or "_gyr_" in n or n == "t_s"]
    fmt = ["%.17g" if n in raw else "%.9g" for n in names]
    np.savetxt(path, table, delimiter=",", header=",".join(names), comments="", fmt=fmt)


def write_events_csv(path: str | Path, events: list[Any]) -> None:
    lines = ["t_s,type,direction,rep,value_deg,duration_s"]
    for e in events:
        if isinstance(e, AlarmStarted):
            row = (e.t_s, e.type, e.direction, e.rep, e.angle_deg, "")
        elif isinstance(e, AlarmEnded):
            row = (e.t_s, e.type, e.direction, e.rep, e.peak_deg, e.duration_s)
        elif isinstance(e, RepStarted):
            row = (e.t_s, e.type, "", e.index, "", "")
        elif isinstance(e, RepEnded):
            peak = (
                e.peak_flexion_deg
                if e.peak_flexion_deg >= e.peak_extension_deg
                else (-e.peak_extension_deg)
            )
            row = (e.t_s, e.type, "", e.index, peak, e.t_s - e.t_start_s)
        else:
            continue
        lines.append(",".join("" if v is None else str(v) for v in row))
    Path(path).write_text("\n".join(lines) + "\n")


def events_path(csv_path: str | Path) -> Path:
    p = Path(csv_path)
    return p.with_name(p.stem + ".events.csv")
