"""Where a session's settings, calibrations and history live."""

from __future__ import annotations

from pathlib import Path

from imu_monitor.storage.history import HistoryStore, data_dir
from imu_monitor.storage.stores import CalibrationStore, SettingsStore, config_dir

SIMULATED_SUBDIR = "demo"
"""The simulated wearer's settings, calibrations and history stay apart from the user's real
ones, in this folder of the config (and data) directory."""


def user_stores(
    directory: Path | str | None = None, *, simulated: bool = False
) -> tuple[SettingsStore, CalibrationStore]:
    """The settings and calibration stores under ``directory`` (``--config-dir``; default: the
    platform's user config directory, or its ``demo`` folder for a simulated wearer)."""
    if directory is None:
        base = config_dir() / SIMULATED_SUBDIR if simulated else config_dir()
    else:
        base = Path(directory)
    return SettingsStore(base), CalibrationStore(base / "calibrations")


def history_store(directory: Path | str | None = None, *, simulated: bool = False) -> HistoryStore:
    """The history under ``directory`` (``--data-dir``; default: the platform's user data
    directory, or its ``demo`` folder for sessions of the simulated wearer)."""
    if directory is None:
        return HistoryStore(data_dir() / SIMULATED_SUBDIR if simulated else data_dir())
    return HistoryStore(directory)
