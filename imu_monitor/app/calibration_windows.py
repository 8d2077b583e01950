"""Calibration windows given by the user (``imu-monitor calibrate``, ``import --calibration``):
checked against the recording (inside its time range, every sensor still), written as the
calibration markers ``calibrate_recording`` uses, and the calibration they give.

For recordings whose captures the program cannot know (imported files, sessions recorded
without the guided calibration), where it would otherwise guess them from still periods.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imu_monitor.errors import CalibrationRefused, ImuMonitorError, UsageError
from imu_monitor.exercises import Exercise
from imu_monitor.model import Marker, Recording
from imu_monitor.processing.calibration import (
    CAL_MARKER_STANDING,
    CAL_MARKER_START,
    Calibration,
    calibrate_recording,
    capture_markers,
)
from imu_monitor.processing.posture_pair import RETURN_WINDOW_S, time_near
from imu_monitor.processing.stillness import MIN_STILL_S, check_still_over, window

CAL_MARKERS = (CAL_MARKER_STANDING, CAL_MARKER_START)
SWAPPED_MIN_FRACTION = 0.1
"""The windows are refused as swapped when the session spends more time near the standing
window's posture than near the calibration posture's, and at least this fraction of the next
``posture_pair.RETURN_WINDOW_S``."""


@dataclass(frozen=True)
class Window:
    """A capture window in seconds on the recording's clock; ``label`` names it in messages
    as the user gave it (``--pose 5.8-8.2``)."""

    t0_s: float
    t1_s: float
    label: str


def _span(rec: Recording) -> tuple[float, float]:
    span = rec.time_span()
    if span is None:
        raise ImuMonitorError("the recording holds no samples, so it has no time to calibrate from")
    return span


def runs_from(first_s: float, last_s: float) -> str:
    """A recording's time range as the messages about times inside it give it: "runs from 0.00
    to 79.27 s" (a first sample jittered just before 0 reads 0.00, not -0.00)."""
    return f"runs from {round(first_s, 2) + 0.0:.2f} to {last_s:.2f} s"


def check_window(rec: Recording, w: Window, posture: str, step: str) -> None:
    """Refuse ``w`` unless it lies inside the recording, lasts ``MIN_STILL_S`` or more and every
    sensor was still over it (``check_still_over``); one line naming the window and what moved."""
    first, last = _span(rec)
    if not (np.isfinite(w.t0_s) and np.isfinite(w.t1_s)) or w.t1_s <= w.t0_s:
        raise ImuMonitorError(f"{w.label}: give the window as FROM-TO in seconds, FROM before TO")
    if w.t0_s < first or w.t1_s > last:
        raise ImuMonitorError(f"{w.label} s is outside the recording: it {runs_from(first, last)}")
    if w.t1_s - w.t0_s < MIN_STILL_S:
        raise ImuMonitorError(
            f"{w.label} s lasts {w.t1_s - w.t0_s:.2g} s; a calibration window needs "
            f"{MIN_STILL_S:g} s or more of holding still"
        )
    for placement, series in rec.series.items():
        rep = check_still_over(series, w.t0_s, w.t1_s)
        if not rep.ok:
            raise CalibrationRefused(
                f"{w.label} s: sensor {placement!r} was not still ({posture}): {rep.reason}; "
                "give a window where every sensor is held still",
                sensor=placement,
                step=step,
            )


def _refuse_if_swapped(rec: Recording, pose: Window, stand: Window) -> None:
    """Refuse the windows when the session keeps coming back to the standing window's posture
    rather than the calibration posture's (``posture_pair``: the reps return to the start
    posture, standing is left): taken as given, every angle was off by the turn between them
    (+91 deg of flexion on every rep of a back kick)."""
    sacrum = rec.series["sacrum"]
    ups = [window(sacrum, w.t0_s, w.t1_s).acc_m_s2.mean(axis=0) for w in (pose, stand)]
    near_pose, near_stand = time_near(sacrum, max(pose.t1_s, stand.t1_s), ups)
    if near_stand > max(near_pose, SWAPPED_MIN_FRACTION):
        raise ImuMonitorError(
            f"{pose.label} and {stand.label} look swapped: after them the sacrum spends "
            f"{100 * near_stand:.0f} % of the next {RETURN_WINDOW_S:g} s in the posture of "
            f"{stand.label} and {100 * near_pose:.0f} % in that of {pose.label}, and the reps "
            "return to the calibration posture, not to standing; give --pose the window held in "
            "the calibration posture and --stand the one standing"
        )


def existing_calibration(rec: Recording) -> str | None:
    """What calibration the recording already carries (markers or a stored calibration), in
    words, or None."""
    parts = [
        f"{m.kind.removeprefix('calibration_')} {m.t_s:.1f}-{m.t_end_s:.1f} s"
        for m in rec.markers
        if m.kind in CAL_MARKERS and m.t_end_s is not None
    ]
    if rec.calibration is not None:
        parts.append("a calibration stored during the session")
    return ", ".join(parts) or None


def set_calibration_windows(
    rec: Recording, exercise: Exercise, pose: Window, stand: Window | None = None
) -> tuple[list[Marker], Calibration]:
    """Check the windows, replace the recording's calibration markers (and any stored
    calibration, which would otherwise take precedence) with markers for them, and return the
    new markers and the calibration they give (its notes say the markers were used)."""
    if stand is not None and stand.t0_s < pose.t1_s and pose.t0_s < stand.t1_s:
        raise UsageError(
            f"{stand.label} and {pose.label} overlap; standing and the calibration posture "
            "are two different postures"
        )
    check_window(rec, pose, exercise.calibration_posture, "start")
    if stand is not None:
        check_window(rec, stand, "standing upright", "standing")
        _refuse_if_swapped(rec, pose, stand)
    markers = capture_markers(
        exercise, (pose.t0_s, pose.t1_s), None if stand is None else (stand.t0_s, stand.t1_s)
    )
    rec.markers = [m for m in rec.markers if m.kind not in CAL_MARKERS] + markers
    rec.calibration = None
    return markers, calibrate_recording(rec, exercise)
