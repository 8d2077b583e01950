"""C3D export (written with ezc3d): the sensors' channels as analog channels, the session's
events in the EVENT group.

- Analog channels at the sacrum's rate, one per quantity: ``<p>_acc_{x,y,z}`` (m/s^2) and
  ``<p>_gyr_{x,y,z}`` (rad/s) per placement (sensor frame; the sacrum's samples exactly, the
  others interpolated onto its times, as in the CSV export), the angles ``lumbar_flexion``,
  ``lumbar_lateral``, ``hip_flexion`` (with a thigh sensor), ``true_lumbar_flexion``
  (simulated sessions) in deg, and two state channels readable in any C3D viewer: ``phase``
  (0 rest, 1 concentric, 2 hold, 3 eccentric) and ``alarm`` (+1 flexion alarm, -1 extension
  alarm, 0 none). Labels in ANALOG:LABELS, units in ANALOG:UNITS, descriptions in
  ANALOG:DESCRIPTIONS; values are stored as 32-bit floats (scale 1, offset 0).
- No 3D points. POINT:RATE is the analog rate divided by the smallest whole number that keeps the
  frame count within the header's 16 bits (65535 frames), so a long session is read whole by
  readers that take the count from the header; the analog samples fill whole frames (the last
  frame is padded with NaN).
- Events (EVENT group, as C3D's minutes/seconds pairs) on the file's own time axis, where analog
  sample i is at i / ANALOG:RATE: an event is put at the (interpolated) index of the samples it
  falls between. The sensor's own times drift from that axis by their jitter and lost samples
  (0.3 s in a minute of a simulated session with 0.5 % loss), so times in seconds from the first
  sample would not line up with the channels they describe (the BIDS and CSV exports keep the
  sample times). ``rep_start``/``rep_end`` (context General, description "rep N ...", N from
  1), ``top``/``hold_end``
  (phase boundaries), ``alarm_start``/``alarm_end`` (context Flexion or Extension) and each
  marker's kind (``calibration_standing``, ``set_start``...). A C3D parameter dimension is one
  byte, so the group holds at most 255 events: past that the markers and alarms are kept and the
  reps are kept in time order until the group is full (the ``phase``/``alarm`` channels and the
  BIDS/CSV exports hold them all); ``write_c3d`` says how many were left out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import ezc3d
import numpy as np

from imu_monitor.errors import ImuMonitorError
from imu_monitor.model import Recording
from imu_monitor.processing.analysis import Analysis
from imu_monitor.storage.export import PRIVATE_FILE_MODE
from imu_monitor.storage.exports.tables import ExportTable, export_table, session_spans

MAX_EVENTS = 255
MAX_FRAMES = 65535
PHASE_CODES = {"concentric": 1.0, "hold": 2.0, "eccentric": 3.0}
_ANGLES = ("lumbar_flexion", "lumbar_lateral", "hip_flexion", "true_lumbar_flexion")


@dataclass
class C3dEvent:
    t_s: float
    label: str
    context: str
    description: str
    keep_first: bool
    """Kept before reps when the group is full (markers, alarms)."""


def _analog_channels(table: ExportTable, an: Analysis) -> tuple[list, list, list, np.ndarray]:
    labels, units, descs, cols = [], [], [], []
    for p in table.placements:
        for q, unit, what in (("acc", "m/s^2", "specific force"), ("gyr", "rad/s", "angular rate")):
            suffix = "m_s2" if q == "acc" else "rad_s"
            for a in "xyz":
                labels.append(f"{p}_{q}_{a}")
                units.append(unit)
                descs.append(f"{p} sensor {what}, sensor {a} axis")
                cols.append(table.columns[f"{p}_{q}_{a}_{suffix}"])
    for name in _ANGLES:
        if f"{name}_deg" in table.columns:
            labels.append(name)
            units.append("deg")
            descs.append(f"{name.replace('_', ' ')} from the calibrated neutral")
            cols.append(table.columns[f"{name}_deg"])
    phase, alarm = _state_channels(table, an)
    labels += ["phase", "alarm"]
    units += ["", ""]
    descs += ["0 rest, 1 concentric, 2 hold, 3 eccentric", "+1 flexion, -1 extension alarm"]
    cols += [phase, alarm]
    return labels, units, descs, np.vstack(cols).astype(np.float64)


def _state_channels(table: ExportTable, an: Analysis) -> tuple[np.ndarray, np.ndarray]:
    t = table.t_s
    phase = np.zeros(t.shape)
    for r in an.result.reps:
        bounds = (r.t_start_s, r.t_top_s, r.t_hold_end_s, r.t_s)
        for code, a, b in zip(PHASE_CODES.values(), bounds, bounds[1:], strict=False):
            phase[np.searchsorted(t, a) : np.searchsorted(t, b)] = code
    alarm = np.zeros(t.shape)
    for a in an.result.alarms:
        end = a.t_end_s if a.t_end_s is not None else t[-1]
        alarm[np.searchsorted(t, a.t_start_s) : np.searchsorted(t, end)] = (
            1.0 if a.direction == "flexion" else -1.0
        )
    return phase, alarm


def c3d_events(rec: Recording, an: Analysis, table: ExportTable) -> list[C3dEvent]:
    """Every event as a C3D instant on the file's time axis (module docstring), in time
    order."""
    index = np.arange(table.n, dtype=np.float64)

    def at(t_s: float) -> float:  # session time -> sample index / rate
        return float(np.interp(t_s, table.t_s, index)) / table.rate_hz

    out: list[C3dEvent] = []
    for r in an.result.reps:
        d = f"rep {r.index + 1}" + (" alarmed" if r.alarmed else "")
        out += [
            C3dEvent(at(r.t_start_s), "rep_start", "General", d, False),
            C3dEvent(at(r.t_top_s), "top", "General", d, False),
            C3dEvent(at(r.t_hold_end_s), "hold_end", "General", d, False),
            C3dEvent(at(r.t_s), "rep_end", "General", d, False),
        ]
    for a in an.result.alarms:
        ctx = str(a.direction).capitalize()
        d = f"peak {a.peak_deg:.1f} deg, phase {a.phase}"
        out.append(C3dEvent(at(a.t_start_s), "alarm_start", ctx, d, True))
        if a.t_end_s is not None:
            out.append(C3dEvent(at(a.t_end_s), "alarm_end", ctx, d, True))
    for s in session_spans(rec, an, table.t0_s):
        if s.trial_type in ("rep", "concentric", "hold", "eccentric") or s.trial_type.startswith(
            "alarm_"
        ):
            continue
        out.append(
            C3dEvent(at(table.t0_s + s.onset_s), s.trial_type, "General", s.value[:80], True)
        )
    out.sort(key=lambda e: e.t_s)
    return out


def _choose(events: list[C3dEvent]) -> list[C3dEvent]:
    if len(events) <= MAX_EVENTS:
        return events
    first = [e for e in events if e.keep_first][:MAX_EVENTS]
    rest = [e for e in events if not e.keep_first][: MAX_EVENTS - len(first)]
    return sorted(first + rest, key=lambda e: e.t_s)


def write_c3d(
    rec: Recording, an: Analysis, path: str | Path, *, force: bool = False
) -> tuple[int, int]:
    """Write the C3D file; returns (events written, events left out)."""
    p = Path(path)
    if p.is_dir():
        raise ImuMonitorError(f"{p}: is a folder; give a file name such as out.c3d")
    if not p.parent.is_dir():
        raise ImuMonitorError(f"{p.parent}: folder does not exist; create it first")
    if p.exists() and not force:
        raise ImuMonitorError(f"{p} exists; pass --force to overwrite")
    if not os.access(p.parent, os.W_OK | os.X_OK):
        raise ImuMonitorError(f"{p.parent}: folder is not writable")
    table = export_table(rec, an)
    labels, units, descs, data = _analog_channels(table, an)
    n = data.shape[1]
    per_frame = -(-n // MAX_FRAMES)  # ceil
    frames = -(-n // per_frame)
    padded = np.full((data.shape[0], frames * per_frame), np.nan)
    padded[:, :n] = data

    c = ezc3d.c3d()
    c["parameters"]["POINT"]["RATE"]["value"] = [table.rate_hz / per_frame]
    c["parameters"]["ANALOG"]["RATE"]["value"] = [table.rate_hz]
    c["parameters"]["ANALOG"]["LABELS"]["value"] = labels
    c["parameters"]["ANALOG"]["UNITS"]["value"] = units
    c["parameters"]["ANALOG"]["DESCRIPTIONS"]["value"] = descs
    c["data"]["analogs"] = padded[None, :, :]
    c["data"]["points"] = np.zeros((4, 0, frames))
    events = c3d_events(rec, an, table)
    chosen = _choose(events)
    if chosen:  # the EVENT group as ezc3d's add_event builds it, in one go
        minutes = np.array([int(e.t_s // 60.0) if e.t_s > 0 else 0 for e in chosen])
        seconds = np.array([e.t_s for e in chosen]) - 60.0 * minutes
        c.add_parameter("EVENT", "USED", len(chosen))
        c.add_parameter("EVENT", "TIMES", np.vstack([minutes.astype(float), seconds]))
        c.add_parameter("EVENT", "CONTEXTS", [e.context for e in chosen])
        c.add_parameter("EVENT", "LABELS", [e.label for e in chosen])
        c.add_parameter("EVENT", "DESCRIPTIONS", [e.description for e in chosen])
        c.add_parameter("EVENT", "SUBJECTS", ["" for _ in chosen])
        c.add_parameter("EVENT", "ICON_IDS", [0.0] * len(chosen))
        c.add_parameter("EVENT", "GENERIC_FLAGS", [0.0] * len(chosen))
    c.add_parameter("MANUFACTURER", "SOFTWARE", "imu-monitor")
    try:
        # created owner-only first: ezc3d truncates and writes into it, keeping the mode
        os.close(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE))
        c.write(str(p))
    except OSError as e:
        raise ImuMonitorError(f"{p}: cannot write the file: {e.strerror}") from None
    except (RuntimeError, ValueError) as e:
        raise ImuMonitorError(f"{p}: cannot write the C3D file: {e}") from None
    return len(chosen), len(events) - len(chosen)
