"""The per-user stores: settings and calibrations, as small JSON files in the user's config
directory (``platformdirs.user_config_dir("imu-monitor")``; injectable for tests).

A person's settings and calibrations are health data: folders are created 0700 and files 0600,
and every file is written atomically (a crash never leaves half a file).
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path

import platformdirs

from imu_monitor.errors import ImuMonitorError, SettingsError
from imu_monitor.processing.calibration import Calibration
from imu_monitor.settings import Settings

log = logging.getLogger(__name__)

APP_DIR_NAME = "imu-monitor"
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def safe_name(s: str) -> str:
    """``s`` as one file-name component: anything but letters, digits, ``._-`` becomes ``_``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", s).strip("._") or "default"


def make_private_dir(path: Path) -> None:
    """Create ``path`` and its missing parents, readable by the owner only."""
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a temporary file renamed over it), owner-only."""
    make_private_dir(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, PRIVATE_FILE_MODE)  # an older tmp file may have had wider permissions
    os.replace(tmp, path)


def config_dir() -> Path:
    """The user's config directory of imu-monitor."""
    return Path(platformdirs.user_config_dir(APP_DIR_NAME))


class SettingsStore:
    """Reads and writes ``Settings`` under ``directory`` (default: the user config dir)."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = (Path(directory) if directory is not None else config_dir()) / "settings"

    def path(self, user: str) -> Path:
        return self.directory / f"{safe_name(user)}.json"

    def last_user(self) -> str:
        try:
            return (self.directory / "last_user").read_text(encoding="utf-8").strip() or "default"
        except OSError:
            return "default"

    def load(self, user: str | None = None) -> Settings:
        """The settings of ``user`` (default: the last one used); defaults when none saved."""
        user = user or self.last_user()
        path = self.path(user)
        if not path.exists():
            return Settings(user=user)
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise SettingsError(f"cannot read settings file {path}: {e}; fix or delete it") from e
        s = Settings.from_dict(d, source=str(path))
        s.user = user
        return s

    def save(self, settings: Settings) -> Path:
        """Write atomically and remember ``settings.user`` as the last user."""
        path = self.path(settings.user)
        write_private(path, json.dumps(settings.to_dict(), indent=2))
        write_private(self.directory / "last_user", settings.user)
        return path


class CalibrationStore:
    """Calibrations saved as JSON, one file per user and exercise:
    ``<dir>/<user>/<exercise>.json``; ``dir`` defaults to the user config dir of imu-monitor."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory is not None else config_dir() / "calibrations"

    def path(self, user: str, exercise: str) -> Path:
        return self.directory / safe_name(user or "default") / f"{safe_name(exercise)}.json"

    def save(self, cal: Calibration) -> Path:
        """Write ``cal`` (atomically: a crash never leaves half a file) and return its path."""
        path = self.path(cal.user, cal.exercise)
        write_private(path, json.dumps(cal.to_dict(), indent=2))
        log.info("calibration saved to %s", path)
        return path

    def load(self, user: str, exercise: str) -> Calibration | None:
        """The saved calibration, or None when there is none."""
        path = self.path(user, exercise)
        if not path.exists():
            return None
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise ImuMonitorError(
                f"cannot read calibration file {path}: {e}; delete it and calibrate again"
            ) from e
        try:
            return Calibration.from_dict(d)
        except ImuMonitorError as e:
            raise ImuMonitorError(f"calibration file {path}: {e}") from e
