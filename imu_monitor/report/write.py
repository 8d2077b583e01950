"""Writing a report file: analyse (unless given the analysis), gather, render, write atomically
and owner-only (a report holds a person's data, as recordings do)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from imu_monitor.model import Recording
from imu_monitor.processing.analysis import Analysis, analyze_recording
from imu_monitor.report.html import session_html
from imu_monitor.report.session import SessionReport, build_session_report
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
