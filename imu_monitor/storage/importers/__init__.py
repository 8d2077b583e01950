"""Import other tools' recordings (generic CSV, Xsens MT Manager text export, XDF from LabRecorder)
as ``Recording``.

Imported recordings have ``meta["source"] = "import:<format>"``, profile ``import`` and no
calibration (downstream calibrates from the first still period). One module per format
(``generic_csv``, ``xsens``, ``xdf``) over the shared table reading and validation in ``common``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from imu_monitor.errors import ImuMonitorError
from imu_monitor.model import Recording
from imu_monitor.storage.importers.common import normalise_unit
from imu_monitor.storage.importers.generic_csv import import_csv
from imu_monitor.storage.importers.xdf import import_xdf
from imu_monitor.storage.importers.xsens import import_xsens, import_xsens_sensors, unwrap_counter

__all__ = [
    "IMPORTERS",
    "import_csv",
    "import_file",
    "import_xdf",
    "import_xsens",
    "import_xsens_sensors",
    "normalise_unit",
    "unwrap_counter",
]

IMPORTERS: dict[str, Callable[..., Recording]] = {
    "csv": import_csv,
    "xsens": import_xsens,
    "xdf": import_xdf,
}
"""Known import formats."""


def import_file(path: str | os.PathLike[str], fmt: str, **options: Any) -> Recording:
    """Import ``path`` in format ``fmt`` (a key of ``IMPORTERS``) with that importer's options."""
    try:
        fn = IMPORTERS[fmt]
    except KeyError:
        raise ImuMonitorError(
            f"unknown import format {fmt!r}; known formats: {', '.join(IMPORTERS)}"
        ) from None
    return fn(path, **options)
