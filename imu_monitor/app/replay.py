"""A recording replayed through the live pipeline: the pipeline with the right calibration,
and the rep list for the replay controls. Used by ``replay --headless`` and the dashboard."""

from __future__ import annotations

import logging

from imu_monitor.errors import ImuMonitorError
from imu_monitor.exercises import Exercise
from imu_monitor.model import Recording
from imu_monitor.processing.analysis import analyze_recording, calibrate_with_acc_offsets
from imu_monitor.processing.calibration import Calibration
from imu_monitor.processing.pipeline import Pipeline

log = logging.getLogger(__name__)


def recording_calibration(rec: Recording, exercise: Exercise) -> tuple[Calibration, list[str]]:
    """The calibration to judge ``rec`` with, and notes saying where it came from: the one
    stored in the recording when it was made for this exercise, else one computed from the
    recording's own calibration captures (or, without markers, its still periods) with the
    accelerometer offsets measured over the whole recording, as ``analyze`` does (the replay
    takes them off every sample: ``calibrate_with_acc_offsets``). When the
    windows were guessed, the first note says so and how to give them: the dashboard shows the
    first note on its notice line."""
    if rec.calibration is not None and rec.calibration.get("exercise") == exercise.name:
        return Calibration.from_dict(rec.calibration), [
            "calibration: the one stored in the recording"
        ]
    cal = calibrate_with_acc_offsets(rec, exercise)
    head = f"calibration computed from the recording ({cal.method})"
    if cal.acc_offsets():
        head += ", with the accelerometer offsets measured over it taken off"
    if cal.windows_guessed:  # its first note is the guess and what to do about it
        return cal, [*cal.notes[:1], head, *cal.notes[1:]]
    return cal, [head, *cal.notes]


def replay_pipeline(rec: Recording, exercise: Exercise) -> tuple[Pipeline, list[str]]:
    """The pipeline for a replay of ``rec`` judged as ``exercise`` (with its limits), and the
    calibration notes. Its gaps are bridged as ``analyze --online`` bridges them (on a line: no
    ``gap_fill``), so a replay judges as ``analyze --online`` does (``analyze``'s offline filter
    also puts back what a gap's line missed in a fast movement: ``gap_turn``)."""
    cal, notes = recording_calibration(rec, exercise)
    pipe = Pipeline(exercise, rec.sensors, calibration=cal, limits=exercise.limits, gap_fill=False)
    return pipe, notes


def rep_starts_of(rec: Recording, calibration: Calibration | None = None) -> list[float]:
    """Rep start times (recording clock): the recorded events, else the simulation's truth,
    else a quick batch analysis of the recording."""
    starts = [float(e["t_start_s"]) for e in rec.events if e.get("type") == "rep_ended"]
    if starts:
        return starts
    if rec.truth is not None and rec.truth.reps:
        return [float(r.t_start_s) for r in rec.truth.reps]
    try:
        analysis = analyze_recording(rec, calibration=calibration, offline=False)
        return [float(r.t_start_s) for r in analysis.result.reps]
    except ImuMonitorError as e:
        log.warning("no rep list for the replay controls: %s", e)
        return []
