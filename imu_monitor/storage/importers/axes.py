"""Relabel an imported sensor's axes as the project's (``import --axes``).

A sensor whose axes are labelled otherwise than ours (``model``: x anterior, y left, z superior
as nominally worn) can pass the calibration-posture check with its flexion sign reversed when
only gravity in one posture calibrates it. ``apply_axes`` maps its accelerometer and gyroscope
into our labels (``processing.frames.axes_matrix``) and records the mapping in
``meta["import"]["axes"]``.
"""

from __future__ import annotations

import numpy as np

from imu_monitor.errors import ImuMonitorError
from imu_monitor.model import Recording
from imu_monitor.processing.frames import axes_matrix

ALL_SENSORS = "*"
"""The key of a mapping given for every sensor (``--axes=-x,y,-z``)."""


def apply_axes(rec: Recording, axes: dict[str, str]) -> dict[str, str]:
    """Map the axes of ``rec``'s sensors: ``axes`` maps a placement (or ``ALL_SENSORS``, for
    every sensor not named) to a spec such as ``-x,y,-z``. Returns the mapping applied per
    placement (also stored in ``meta["import"]["axes"]``). A placement the recording does not
    have, or an invalid spec, raises ``ImuMonitorError``."""
    missing = [p for p in axes if p != ALL_SENSORS and p not in rec.series]
    if missing:
        raise ImuMonitorError(
            f"--axes names {', '.join(missing)}, which the import does not have "
            f"(it has {', '.join(rec.series) or 'no sensor'})"
        )
    applied: dict[str, str] = {}
    for placement, series in rec.series.items():
        spec = axes.get(placement, axes.get(ALL_SENSORS))
        if spec is None:
            continue
        try:
            m = axes_matrix(spec)
        except ValueError as e:
            raise ImuMonitorError(f"--axes {placement}={spec}: {e}") from None
        series.acc_m_s2 = np.ascontiguousarray(series.acc_m_s2 @ m.T)
        series.gyr_rad_s = np.ascontiguousarray(series.gyr_rad_s @ m.T)
        applied[placement] = ",".join(p.strip().lower() for p in spec.split(","))
    if applied:
        rec.meta.setdefault("import", {})["axes"] = applied
    return applied
