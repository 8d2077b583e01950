"""Writing a report file: analyse (unless given the analysis), gather, render, write atomically
and owner-only (a report holds a person's data, as recordings do)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from imu_monitor.errors import ImuMonitorError
from imu_monitor.exercises import Exercise
from imu_monitor.model import Recording
from imu_monitor.processing.analysis import Analysis, analyze_recording
from imu_monitor.report.html import session_html
from imu_monitor.report.session import SessionReport, build_session_report
from imu_monitor.storage.recording import load_recording
from imu_monitor.storage.stores import write_private


def write_session_report(
    rec: Recording,
    path: str | Path,
    *,
    source: str,
    analysis: Analysis | None = None,
    **analysis_options: Any,
) -> SessionReport:
    """Write the session report of ``rec`` to ``path`` (HTML); ``source`` names the recording
    in it. ``analysis_options`` as ``analyze_recording`` (exercise, limits, offline) when no
    ``analysis`` is given. Returns what the report says."""
    an = analysis if analysis is not None else analyze_recording(rec, **analysis_options)
    report = build_session_report(rec, an, source=source)
    write_private(Path(path), session_html(report))
    return report


def write_report_job(
    session: Recording | Path, name: str, out: Path, exercise: Exercise
) -> tuple[bool, str]:
    """Load (a file), analyse and write the report of a finished session, judged with
    ``exercise`` (its limits and set rules) when the session is of that exercise, else with the
    recording's own exercise's defaults. Runs in a worker process (the dashboard's "Save
    report..."), so it returns ``(True, path)`` or ``(False, reason)`` rather than raising."""
    try:
        rec = load_recording(session) if isinstance(session, Path) else session
        if exercise.name == rec.exercise:  # judged as the dashboard judges it
            write_session_report(rec, out, source=name, exercise=exercise, limits=exercise.limits)
        else:  # another exercise's recording: its own defaults
            write_session_report(rec, out, source=name)
    except (ImuMonitorError, OSError) as e:
        return False, f"report not saved: {e}"
    return True, str(out)
