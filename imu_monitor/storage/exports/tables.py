"""What the research exports share: the channel table on the sacrum's time base, the session's
events as spans, the calibration capture, and writing files into an output folder.

Times: every export counts from the first exported sample (the sacrum's first valid sample),
``onset_s = t_s - t0_s``; ``t0_s`` is kept so an export can be put back on the session clock.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from imu_monitor.errors import ImuMonitorError
from imu_monitor.events import AlarmRecord, RepEnded
from imu_monitor.model import Recording
from imu_monitor.processing.analysis import Analysis
from imu_monitor.processing.calibration import CAL_MARKER_STANDING, CAL_MARKER_START
from imu_monitor.storage.export import PRIVATE_FILE_MODE, export_columns

CAPTURE_FALLBACK_S = 1.0
"""Length of the capture window taken before the calibration's end (or at the start) when the
recording has no calibration markers."""


@dataclass
class Span:
    """One event of the session, as the exports write it.

    ``onset_s``: seconds from the first exported sample; ``duration_s``: 0 for an instant;
    ``trial_type``: ``rep``, ``concentric``, ``hold``, ``eccentric``, ``alarm_flexion``,
    ``alarm_extension``, or a marker's kind (``calibration_standing``, ``set_start``, ``note``...);
    ``rep``: the rep's number, from 1 as every output counts them (reps, their phases, alarms
    during a rep); ``peak_deg``: the rep's or
    alarm's most extreme lumbar angle (signed, flexion +); ``value``: free text.
    """

    onset_s: float
    duration_s: float
    trial_type: str
    rep: int | None = None
    peak_deg: float | None = None
    value: str = ""


@dataclass
class ExportTable:
    """The analysed recording on one time base: ``columns`` as ``storage.export.export_columns``
    gives them (``t_s`` first), ``placements`` in order (sacrum first), ``rate_hz`` the sacrum's
    nominal rate and ``t0_s`` the session time of the first row."""

    columns: dict[str, np.ndarray]
    placements: list[str]
    rate_hz: float
    t0_s: float

    @property
    def t_s(self) -> np.ndarray:
        return self.columns["t_s"]

    @property
    def n(self) -> int:
        return int(self.t_s.shape[0])

    def latency_s(self) -> np.ndarray:
        return self.t_s - self.t0_s

    def block(self, names: Iterable[str]) -> np.ndarray:
        """The named columns as one (n, k) float64 array."""
        return np.column_stack([np.asarray(self.columns[c], dtype=np.float64) for c in names])


def export_table(rec: Recording, an: Analysis) -> ExportTable:
    cols = export_columns(rec, an)
    if len(cols["t_s"]) == 0:
        raise ImuMonitorError("the recording has no valid sacrum samples: nothing to export")
    return ExportTable(
        cols, list(an.placements), float(rec.sensors["sacrum"].rate_hz), float(cols["t_s"][0])
    )


def _peak(rep: RepEnded) -> float:
    if rep.peak_flexion_deg >= rep.peak_extension_deg:
        return float(rep.peak_flexion_deg)
    return -float(rep.peak_extension_deg)


def session_spans(rec: Recording, an: Analysis, t0_s: float) -> list[Span]:
    """Reps with their three phases, alarms and markers, in time order."""
    spans: list[Span] = []
    for r in an.result.reps:
        spans.append(
            Span(
                r.t_start_s - t0_s,
                r.t_s - r.t_start_s,
                "rep",
                r.index + 1,
                _peak(r),
                "alarmed" if r.alarmed else ("too_fast" if r.too_fast else ""),
            )
        )
        bounds = (r.t_start_s, r.t_top_s, r.t_hold_end_s, r.t_s)
        for name, a, b in zip(
            ("concentric", "hold", "eccentric"), bounds, bounds[1:], strict=False
        ):
            spans.append(Span(a - t0_s, max(0.0, b - a), name, r.index + 1))
    for a in an.result.alarms:
        spans.append(_alarm_span(a, t0_s))
    for m in rec.markers:
        dur = 0.0 if m.t_end_s is None else max(0.0, m.t_end_s - m.t_s)
        text = "; ".join(f"{k}={v}" for k, v in sorted(m.data.items()))
        spans.append(Span(m.t_s - t0_s, dur, m.kind, value=text))
    if an.calibration.windows_guessed:  # no markers: the windows the angles rest on, as guessed
        for kind, (a, b) in _guessed_windows(an):
            spans.append(Span(a - t0_s, max(0.0, b - a), kind, value=GUESSED_WINDOW))
    spans.sort(key=lambda s: (s.onset_s, s.trial_type))
    return spans


GUESSED_WINDOW = "guessed: the recording has no calibration markers"
"""The ``value`` of a calibration window the analysis guessed (``session_spans``)."""


def _guessed_windows(an: Analysis) -> list[tuple[str, tuple[float, float]]]:
    """The calibration's guessed capture windows as marker kinds, standing first."""
    kinds = (("standing", CAL_MARKER_STANDING), ("start", CAL_MARKER_START))
    return [
        (kind, an.calibration.windows_s[k]) for k, kind in kinds if k in an.calibration.windows_s
    ]


def _alarm_span(a: AlarmRecord, t0_s: float) -> Span:
    end = a.t_end_s if a.t_end_s is not None else a.t_start_s
    return Span(
        a.t_start_s - t0_s,
        max(0.0, end - a.t_start_s),
        f"alarm_{a.direction}",
        None if a.rep is None else a.rep + 1,
        float(a.peak_deg),
        f"phase={a.phase}",
    )


def capture_window(rec: Recording, an: Analysis) -> tuple[float, float, str]:
    """The still capture an OpenSense calibration should use (session seconds) and what it is:
    the standing capture when there is one (the model's default pose is standing), else the
    exercise's start-posture capture (the markers', or the windows the calibration guessed),
    else the second before the calibration's end, else the first second."""
    for kind in (CAL_MARKER_STANDING, CAL_MARKER_START):
        for m in rec.markers_of(kind):
            if m.t_end_s is not None and m.t_end_s > m.t_s:
                return float(m.t_s), float(m.t_end_s), kind
    if an.calibration.windows_guessed:
        for kind, (a, b) in _guessed_windows(an):
            if b > a:
                return a, b, f"{kind} (guessed: no calibration markers)"
    t = an.angles.t_s
    if an.calibration.valid_from_s is not None:
        end = float(an.calibration.valid_from_s)
        return end - CAPTURE_FALLBACK_S, end, "the end of the calibration capture"
    return float(t[0]), float(t[0]) + CAPTURE_FALLBACK_S, "the first second"


# -- output files --------------------------------------------------------------------------------


def prepare_dir(path: str | Path, names: Iterable[str | Path], force: bool) -> Path:
    """Make the output folder ``path`` (its parent must exist) and refuse to overwrite any of
    ``names`` (relative to it) without ``force``; errors name the path."""
    d = Path(path)
    if d.exists() and not d.is_dir():
        raise ImuMonitorError(f"{d}: is a file; give a folder to export into")
    if not d.exists():
        if not d.parent.is_dir():
            raise ImuMonitorError(f"{d.parent}: folder does not exist; create it first")
        try:
            d.mkdir()
        except OSError as e:
            raise ImuMonitorError(f"{d}: cannot create the folder: {e.strerror}") from None
    if not os.access(d, os.W_OK | os.X_OK):
        raise ImuMonitorError(f"{d}: folder is not writable")
    if not force:
        there = [str(d / n) for n in names if (d / n).exists()]
        if there:
            more = f" and {len(there) - 1} more" if len(there) > 1 else ""
            raise ImuMonitorError(f"{there[0]}{more} exist(s); pass --force to overwrite")
    return d


def write_private(path: str | Path, data: bytes | str) -> None:
    """Write ``data`` to ``path``, created owner-only (0600); a one-line error naming it."""
    p = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
    except OSError as e:
        raise ImuMonitorError(f"{p}: cannot write the file: {e.strerror}") from None


def tsv(header: list[str], rows: Iterable[Iterable[Any]]) -> str:
    """A small TSV table (header line first); None and NaN become ``n/a``."""

    def cell(v: Any) -> str:
        if v is None or (isinstance(v, float) and not np.isfinite(v)):
            return "n/a"
        if isinstance(v, float):
            return f"{v:.6f}".rstrip("0").rstrip(".") if v != int(v) else f"{v:.1f}"
        return str(v).replace("\t", " ").replace("\n", " ") or "n/a"

    lines = ["\t".join(header)] + ["\t".join(cell(v) for v in r) for r in rows]
    return "\n".join(lines) + "\n"
