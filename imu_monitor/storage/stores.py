"""The per-user stores: settings and calibrations, as small JSON files in the user's config
directory (``platformdirs.user_config_dir("imu-monitor")``; injectable for tests).

A person's settings and calibrations are health data: folders are created 0700 and files 0600,
and every file is written atomically (a crash never leaves half a file). Reading is bounded and
checked: a file that is not a regular file of at most ``MAX_STORE_BYTES``, not UTF-8, not JSON,
or holds values of the wrong type raises one error naming the file and what to do.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs

from imu_monitor.errors import CalibrationFileError, ImuMonitorError, SettingsError
from imu_monitor.files import FileTooLargeError, NotRegularFileError, read_regular_file
from imu_monitor.processing.calibration import Calibration
from imu_monitor.settings import Settings

log = logging.getLogger(__name__)

APP_DIR_NAME = "imu-monitor"
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
MAX_STORE_BYTES = 1 << 20
"""Settings and calibration files are a few kB; a larger one is refused before it is read."""


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

    def users(self) -> list[str]:
        """The users with saved settings, sorted (a file that cannot be read counts by its
        name)."""
        if not self.directory.is_dir():
            return []
        names = set()
        for path in self.directory.glob("*.json"):
            try:
                d = read_json_file(path, ValueError)
            except ValueError:
                d = None
            user = d.get("user") if isinstance(d, dict) else None
            names.add(user if isinstance(user, str) and user else path.stem)
        return sorted(names)

    def has(self, user: str) -> bool:
        """Whether ``user`` has saved settings."""
        return self.path(user).exists()

    def load(self, user: str | None = None) -> Settings:
        """The settings of ``user`` (default: the last one used); defaults when none saved."""
        user = user or self.last_user()
        path = self.path(user)
        if not path.exists():
            return Settings(user=user)

        def fail(reason: str) -> SettingsError:
            return SettingsError(f"settings file {path}: {reason}; fix or delete it", path=path)

        d = read_json_file(path, fail)
        _check_settings_types(d, fail)
        try:
            s = Settings.from_dict(d, source=str(path))
        except SettingsError as e:
            raise SettingsError(str(e), path=path, field=e.field) from None
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

        def fail(reason: str) -> CalibrationFileError:
            return CalibrationFileError(
                f"calibration file {path}: {reason}; delete it and calibrate again", path=path
            )

        d = read_json_file(path, fail)
        if not isinstance(d, dict):
            raise fail(f"expected a JSON object, found {_json_type(d)}")
        try:
            cal = Calibration.from_dict(d)
        except ImuMonitorError as e:
            raise fail(str(e)) from None
        except (AttributeError, TypeError, ValueError, KeyError) as e:
            raise fail(f"malformed ({type(e).__name__}: {e})") from None
        for place, sc in cal.sensors.items():
            q = np.asarray(sc.q_segment_sensor, dtype=float)
            angles = (sc.neutral_pitch_deg, sc.neutral_roll_deg)
            if not (np.isfinite(q).all() and np.linalg.norm(q) > 1e-6):
                raise fail(f"sensor {place!r}: q_segment_sensor is not a rotation ({list(q)})")
            if not all(math.isfinite(a) and abs(a) <= 360.0 for a in angles):
                raise fail(f"sensor {place!r}: neutral angles out of range {angles}")
        if cal.valid_from_s is not None and not math.isfinite(cal.valid_from_s):
            raise fail(f"valid_from_s is not a finite time ({cal.valid_from_s})")
        return cal


def read_json_file(path: Path, fail: Callable[[str], Exception]) -> Any:
    """The JSON value in ``path``, read with bounds: a regular file (opened without blocking,
    checked on the open descriptor) of at most ``MAX_STORE_BYTES``, UTF-8, nested no deeper
    than the parser's recursion allows. Anything else raises ``fail(reason)``."""
    try:
        raw = read_regular_file(path, MAX_STORE_BYTES)
    except (IsADirectoryError, NotRegularFileError):
        raise fail("not a regular file (a directory, device or pipe)") from None
    except FileTooLargeError:
        raise fail(f"larger than {MAX_STORE_BYTES // 1024} KiB, not one of ours") from None
    except OSError as e:
        raise fail(f"cannot read it ({e.strerror or e})") from None
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise fail(f"not UTF-8 text (bad byte at offset {e.start})") from None
    except json.JSONDecodeError as e:
        raise fail(f"not JSON ({e})") from None
    except RecursionError:
        raise fail("not JSON we wrote (nested too deeply)") from None


def _json_type(v: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "true/false"}
    return "null" if v is None else names.get(type(v), "a number")


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _check_settings_types(d: Any, fail: Callable[[str], Exception]) -> None:
    """Every key the program reads has the JSON type it writes (``Settings.to_dict``)."""
    if not isinstance(d, dict):
        raise fail(f"expected a JSON object, found {_json_type(d)}")
    for key, want, ok in (
        ("user", "a string", lambda v: isinstance(v, str)),
        ("exercise", "a string", lambda v: isinstance(v, str)),
        ("sound_on", "true or false", lambda v: isinstance(v, bool)),
        ("per_exercise", "an object", lambda v: v is None or isinstance(v, dict)),
    ):
        if key in d and not ok(d[key]):
            raise fail(f"'{key}' must be {want}, found {_json_type(d[key])} {d[key]!r:.60}")
    for name, o in (d.get("per_exercise") or {}).items():
        if not isinstance(o, dict):
            raise fail(f"'per_exercise.{name}' must be an object, found {_json_type(o)}")
        for k, v in o.items():
            if v is not None and not _number(v):
                raise fail(f"'per_exercise.{name}.{k}' must be a finite number, found {v!r:.60}")
