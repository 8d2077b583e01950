"""What a session report says, gathered from a recording and its analysis: plain data for
``figures`` and ``html``.

The measurement-quality record is measured here from the data (``quality_record``): how still
the neutral capture was, the lumbar angle left over at rest after each set (a drift estimate:
after a set the person returns to the start posture, which is the calibrated neutral; in a lift
calibrated at the top, the hold of the set's last good rep), packet
loss and gaps per sensor, each other sensor's clock offset against the sacrum
(``processing.clock_offset``), and the calibration's method and what it assumed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from imu_monitor.events import MonitorMode, RepEnded
from imu_monitor.model import GRAVITY_M_S2, Recording
from imu_monitor.processing.analysis import MASTER, UPPER, Analysis
from imu_monitor.processing.calibration import CAL_MARKER_START
from imu_monitor.processing.clock_offset import estimate_clock_offset
from imu_monitor.processing.quality import slow_rate_note
from imu_monitor.processing.sets import RepJudgement, SetSummary
from imu_monitor.processing.stillness import MIN_STILL_S, check_still_over

REST_SETTLE_S = 1.0
"""After a set's last rep, the rest window for the left-over angle starts this much later (s):
the body settles into the start posture."""
REST_WINDOW_S = 2.0
"""... and lasts this long (s), cut short by the next rep (``REST_MARGIN_S`` before it) or the
end of the recording."""
REST_MARGIN_S = 0.5
MIN_REST_S = 0.5
"""A shorter rest window is too short to tell a left-over angle: not measured."""


@dataclass
class SessionReport:
    """Everything a session report shows (``build_session_report``). Times in seconds on the
    recording's clock, angles in degrees (flexion +, extension -), reps numbered from 1 where
    shown."""

    source: str
    """The recording's file name (shown as given; escaped where written)."""
    meta: dict[str, Any]
    analysis: Analysis
    duration_s: float
    markers: list[dict[str, Any]]
    quality: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    @property
    def exercise(self):
        return self.analysis.exercise

    @property
    def limits(self):
        return self.analysis.result.limits

    @property
    def reps(self) -> list[RepEnded]:
        return self.analysis.result.reps

    @property
    def sets(self) -> list[SetSummary]:
        return self.analysis.sets.sets

    @property
    def judgements(self) -> list[RepJudgement]:
        """Per rep (in ``reps`` order), good or not and why (``processing.sets``)."""
        return self.analysis.sets.judgements

    @property
    def summary(self) -> dict[str, Any]:
        return self.analysis.summary()

    @property
    def user(self) -> str:
        return str(self.meta.get("user", "") or "")

    @property
    def trace(self) -> tuple[np.ndarray, np.ndarray]:
        """The judged lumbar angle (from the end of the calibration capture)."""
        a = self.analysis.angles
        cal = self.analysis.calibration
        first = 0
        if cal.valid_from_s is not None:
            first = int(np.searchsorted(a.t_s, cal.valid_from_s, side="right"))
        return a.t_s[first:], a.lumbar_flexion_deg[first:]


def neutral_capture(rec: Recording, analysis: Analysis) -> dict[str, Any]:
    """How still every sensor was during the neutral (start-posture) capture: the recording's
    calibration marker window, else the last ``MIN_STILL_S`` before the calibration's end (a
    guessed window); ``window_s`` None when the calibration came from elsewhere."""
    starts = [m for m in rec.markers_of(CAL_MARKER_START) if m.t_end_s is not None]
    cal = analysis.calibration
    if starts:
        t0, t1, how = starts[-1].t_s, float(starts[-1].t_end_s), "calibration marker"
    elif cal.valid_from_s is not None:
        t0, t1, how = cal.valid_from_s - MIN_STILL_S, cal.valid_from_s, "guessed window (its end)"
    else:
        return {
            "window_s": None,
            "how": "the calibration was not made from this recording's data (stored with it)",
            "sensors": {},
        }
    sensors = {}
    for p in analysis.placements:
        st = check_still_over(rec.series[p], t0, t1)
        sensors[p] = {
            "still": st.ok,
            "reason": st.reason,
            "gyro_dev_deg_s": st.gyro_dev_deg_s,
            "acc_dev_m_s2": st.acc_dev_m_s2,
            "tilt_dev_deg": math.degrees(math.asin(min(1.0, st.acc_dev_m_s2 / 9.81)))
            if math.isfinite(st.acc_dev_m_s2)
            else math.nan,
        }
    return {"window_s": [t0, t1], "how": how, "sensors": sensors}


def _rest_median(t: np.ndarray, y: np.ndarray, t0: float, t1: float) -> tuple[float, float] | str:
    """The median angle over ``[t0, t1]`` and its p10-p90 spread, or why it cannot be told."""
    if t1 - t0 < MIN_REST_S:
        return "the next rep or the end of the recording came too soon"
    i0, i1 = np.searchsorted(t, [t0, t1])
    seg = y[i0:i1]
    seg = seg[np.isfinite(seg)]
    if len(seg) == 0:
        return "no data in the rest window"
    return float(np.median(seg)), float(np.percentile(seg, 90) - np.percentile(seg, 10))


def rest_residuals(
    analysis: Analysis, sets: list[SetSummary], duration_end_s: float
) -> list[dict[str, Any]]:
    """Per set, the lumbar angle left over in the calibration posture at the set's end (median
    over a window, degrees), a drift estimate: the neutral is that posture. Where the person
    rests in it between sets (on all fours: ``Exercise.rests_in_calibration_posture``), the
    window is the rest after the set's last rep (``REST_*``; ``where``: ``"rest"``). Where the
    neutral is the top of the lift and the rest is at the bottom (a hip thrust, a bridge: the
    bottom is as deep as the person sits, a few degrees either way), it is the hold at the top
    of the set's last rep without an alarm (``where``: ``"lockout"``, ``rep`` numbered from
    1); with one sensor (lockout mode) that reads the pelvis' tilt (``pelvis_tilt``)."""
    out: list[dict[str, Any]] = []
    t, y = analysis.angles.t_s, analysis.angles.lumbar_flexion_deg
    reps = sorted(analysis.result.reps, key=lambda r: r.t_start_s)
    at_rest = analysis.exercise.rests_in_calibration_posture
    for s in sets:
        row: dict[str, Any] = {
            "set": s.index + 1,
            "window_s": None,
            "residual_deg": math.nan,
            "where": "rest" if at_rest else "lockout",
            "pelvis_tilt": analysis.mode == MonitorMode.LOCKOUT,
        }
        if at_rest:
            t0 = s.t_end_s + REST_SETTLE_S
            after = [r.t_start_s for r in reps if r.t_start_s > s.t_end_s]
            t1 = min(t0 + REST_WINDOW_S, duration_end_s)
            if after:
                t1 = min(t1, after[0] - REST_MARGIN_S)
            window = _rest_median(t, y, t0, t1)
        else:
            good = [
                r
                for r in reps
                if s.t_start_s <= r.t_start_s <= s.t_end_s
                and not r.alarmed
                and r.t_hold_end_s - r.t_top_s >= MIN_REST_S
            ]
            if not good:
                row["reason"] = "not measured: no rep of the set without an alarm held its top"
                out.append(row)
                continue
            t0, t1 = good[-1].t_top_s, good[-1].t_hold_end_s
            row["rep"] = good[-1].index + 1
            window = _rest_median(t, y, t0, t1)
        if isinstance(window, str):
            row["reason"] = f"not measured: {window}"
        else:
            row["window_s"] = [float(t0), float(t1)]
            row["residual_deg"], row["spread_deg"] = window
            row["reason"] = ""
        out.append(row)
    return out


def sensor_quality(rec: Recording, analysis: Analysis) -> dict[str, dict[str, Any]]:
    """Per sensor: samples received, samples lost (from the counter or the time steps), loss
    as a percentage, gaps and the longest, the link gaps the recording marked, and the
    accelerometer offset the analysis took off (mg, from how many posture pairs)."""
    out: dict[str, dict[str, Any]] = {}
    for p in analysis.placements:
        q = dict(analysis.quality.get(p, {}))
        ok, missing = int(q.get("samples_ok", 0)), int(q.get("samples_missing", 0))
        marked = [g for g in rec.gaps if g.sensor == p]
        off = q.get("acc_offset") or {}
        out[p] = {
            "profile": rec.sensors[p].profile,
            "device": rec.sensors[p].device,
            "rate_hz": rec.sensors[p].rate_hz,
            "samples": ok,
            "samples_missing": missing,
            "loss_percent": 100.0 * missing / (ok + missing) if ok + missing else math.nan,
            "gaps": int(q.get("gaps", 0)),
            "gaps_bridged": int(q.get("gaps_bridged", 0)),
            "longest_gap_s": float(q.get("longest_gap_s", 0.0)),
            "bad_samples": int(q.get("nan_samples", 0)) + int(q.get("backwards_or_repeated", 0)),
            "link_gaps": len(marked),
            "link_gap_s": float(sum(g.t_end_s - g.t_start_s for g in marked)),
            # the accelerometer offset the analysis estimated and took off (None: not done);
            # estimated but left off, with the reason (``acc_offset.AccOffset.not_applied``)
            # (or the one the calibration was made with: the live monitor's correction)
            "acc_offset_mg": (
                1000.0 * float(np.linalg.norm(off["offset_m_s2"])) / GRAVITY_M_S2
                if (off.get("pairs") and not off.get("not_applied")) or off.get("from_calibration")
                else None
            ),
            "acc_offset_from_calibration": bool(off.get("from_calibration")),
            # the wearable's own calibration its samples carry (``device-cal``), by its file
            "device_calibration": (rec.meta.get("device_calibration") or {})
            .get(p, {})
            .get("source"),
            "acc_offset_pairs": int(off.get("pairs", 0)),
            "acc_offset_not_applied": str(off.get("not_applied", "")),
        }
    return out


THIGH_LAG_NOTE = "includes the leg's own lag behind the pelvis (a kick: 0.1-0.2 s)"


def clock_offsets(rec: Recording, analysis: Analysis) -> dict[str, dict[str, Any]]:
    """Each other sensor's clock offset against the sacrum, measured from the movement, and
    (``taken_off``) whether the analysis took it off (``clock_offset.worth_taking_off``): the
    analysis' own measure where it made one (the upper lumbar, over the whole recording), else
    measured here from the calibration on. The thigh's, which the analysis leaves as stamped,
    gets a ``note``: its lag holds the leg's own (a person's kick moves the pelvis first:
    simulated, 150-190 ms with the clocks in step), so a clock error shows only as a lag out of
    that range."""
    rate = rec.sensors[MASTER].rate_hz
    out = {}
    for p in analysis.placements:
        if p == MASTER:
            continue
        measured = analysis.quality[p].get("clock_offset")
        if measured is None:
            measured = estimate_clock_offset(
                rec.series[MASTER],
                rec.series[p],
                rate_hz=rate,
                t_from_s=analysis.calibration.valid_from_s,
            ).to_dict() | {"taken_off": False}
            if p != UPPER:
                measured["note"] = THIGH_LAG_NOTE
        out[p] = dict(measured)
    return out


def quality_record(
    rec: Recording, analysis: Analysis, sets: list[SetSummary], end_s: float
) -> dict[str, Any]:
    cal = analysis.calibration
    return {
        "neutral_capture": neutral_capture(rec, analysis),
        "rest_residuals": rest_residuals(analysis, sets, end_s),
        "sensors": sensor_quality(rec, analysis),
        "clock_offsets": clock_offsets(rec, analysis),
        "calibration": {
            "method": cal.method,
            "guessed": cal.windows_guessed,
            "created_utc": cal.created_utc,
            "notes": list(cal.notes),
            "per_sensor": {p: s.method for p, s in cal.sensors.items()},
        },
        "orientation_filter": "offline (forward-backward)" if analysis.offline else "online",
        # the lumbar angle's share in the pelvis' turn the reps were timed from (``leak``)
        "pelvis_turn_leak": analysis.result.pelvis_leak,
    }


def build_session_report(rec: Recording, analysis: Analysis, *, source: str) -> SessionReport:
    """Gather a report of ``rec`` (analysed as ``analysis``); ``source`` names the file."""
    sets = analysis.sets.sets
    t_end = float(analysis.angles.t_s[-1]) if len(analysis.angles.t_s) else 0.0
    markers = [
        {"t_s": m.t_s, "t_end_s": m.t_end_s, "kind": m.kind, "data": dict(m.data)}
        for m in sorted(rec.markers, key=lambda m: m.t_s)
    ]
    notes = []
    if analysis.mode == MonitorMode.LOCKOUT:
        notes.append(analysis.exercise.one_sensor_note)
    slow = slow_rate_note({p: s.rate_hz for p, s in rec.sensors.items()})
    if slow is not None:
        notes.append(slow)
    warning = rec.meta.get("load_warning")
    if warning:
        notes.append(str(warning))
    return SessionReport(
        source=source,
        meta=dict(rec.meta),
        analysis=analysis,
        duration_s=rec.duration_s,
        markers=markers,
        quality=quality_record(rec, analysis, sets, t_end),
        notes=notes,
    )
