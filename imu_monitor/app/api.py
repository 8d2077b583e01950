"""The Python API in a few calls (``import imu_monitor as im``)::

rec = im.load("session.imr")               # raw samples, markers, events, truth
rec.series["sacrum"].acc_m_s2               # numpy (n, 3), m/s^2
cols = im.table("session.imr")              # analysed: dict of numpy columns
df = pandas.DataFrame(cols)                 # one row per sacrum sample (see export.py)
an = im.analyze("session.imr")              # reps, alarms, angles, calibration
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from imu_monitor.model import Recording
from imu_monitor.processing.analysis import analyze_recording
from imu_monitor.storage.export import export_columns
from imu_monitor.storage.recording import load_recording


def load(path: str | Path, *, allow_partial: bool = False) -> Recording:
    """Load a recording (``.imr``) in one call."""
    return load_recording(path, allow_partial=allow_partial)


def analyze(source: str | Path | Recording, **options: Any):
    """Analyse a recording (a path or a loaded ``Recording``); options as
    ``processing.analysis.analyze_recording`` (exercise, limits, calibration, offline)."""
    rec = source if isinstance(source, Recording) else load(source)
    return analyze_recording(rec, **options)


def table(source: str | Path | Recording, **options: Any) -> dict[str, np.ndarray]:
    """The export table (the CSV export's columns) as a dict of numpy arrays, ready for
    ``pandas.DataFrame(...)``."""
    rec = source if isinstance(source, Recording) else load(source)
    return export_columns(rec, analyze(rec, **options))
