"""Every error this program raises on purpose, in one place (the shape of ``bleak.exc``).

Each class carries the facts a caller needs as attributes (the file, field, device or sensor at
fault) and a message that says what to do next; the command line prints the message alone, in
one line, and exits 1. Core layer: imports nothing of the package.
"""

from __future__ import annotations

from pathlib import Path


class ImuMonitorError(Exception):
    """Base class of the errors this program raises on purpose; the message says what to do."""


class SettingsError(ImuMonitorError):
    """A settings value or file is invalid. ``path``: the file (None for a value given in code or
    on the command line); ``field``: the setting at fault, when one is."""

    def __init__(self, message: str, *, path: str | Path | None = None, field: str | None = None):
        self.path = None if path is None else str(path)
        self.field = field
        super().__init__(message)


class ProfileError(ImuMonitorError):
    """A firmware profile file is missing, unreadable or invalid. ``path``: the profile file;
    ``field``: where in it (``packets[0].fields``), when the fault is one field."""

    def __init__(self, message: str, *, path: str | Path | None = None, field: str | None = None):
        self.path = None if path is None else str(path)
        self.field = field
        super().__init__(message)


class CalibrationFileError(ImuMonitorError):
    """A saved calibration file cannot be used (unreadable, not JSON, wrong types or values).
    ``path``: the file. The message names it and says what to do (delete it, calibrate again)."""

    def __init__(self, message: str, *, path: str | Path | None = None):
        self.path = None if path is None else str(path)
        super().__init__(message)


class RecordingError(ImuMonitorError):
    """A recording file cannot be read or written.

    ``path``: the file; ``offset``: byte offset where it breaks (None when not about one place).
    The message names both and says what to do.
    """

    def __init__(self, path: object, offset: int | None, message: str) -> None:
        self.path = str(path)
        self.offset = offset
        where = f" at byte {offset}" if offset is not None else ""
        super().__init__(f"{self.path}{where}: {message}")


class ImportFileError(ImuMonitorError):
    """A file cannot be imported. ``path``, ``row`` (1-based line number or None), ``column``."""

    def __init__(
        self, path: object, message: str, *, row: int | None = None, column: str | None = None
    ) -> None:
        self.path = str(path)
        self.row = row
        self.column = column
        where = ""
        if row is not None:
            where += f" row {row}"
        if column is not None:
            where += f" column {column!r}"
        super().__init__(f"{self.path}{':' if where else ''}{where}: {message}")


class CalibrationRefused(ImuMonitorError):  # noqa: N818 - the public name others code against
    """A sensor moved during a still capture (the message says which, how much, what to do).
    ``sensor``: the placement that moved, when one did; ``step``: "standing" or "start"."""

    def __init__(self, message: str, *, sensor: str | None = None, step: str | None = None):
        self.sensor = sensor
        self.step = step
        super().__init__(message)


class MonitorError(ImuMonitorError):
    """Bad monitor settings or input arrays. ``field``: the setting or array at fault."""

    def __init__(self, message: str, *, field: str | None = None):
        self.field = field
        super().__init__(message)


class SimulationError(ImuMonitorError):
    """A simulation parameter is out of range; the message names it and the allowed values.
    ``field``: the parameter."""

    def __init__(self, message: str, *, field: str | None = None):
        self.field = field
        super().__init__(message)


class BleError(ImuMonitorError):
    """A Bluetooth problem the user can act on (the message says what to do). ``device``: the
    device's name or address, when the problem is one device's."""

    def __init__(self, message: str, *, device: str | None = None):
        self.device = device
        super().__init__(message)


class BluetoothUnavailableError(BleError):
    """No usable Bluetooth adapter (none present, powered off, or no permission)."""


class DeviceNotFoundError(BleError):
    """No advertising device matched the name, address or profile asked for."""


class ProfileMismatchError(BleError):
    """The device connected but does not offer what its firmware profile needs."""


class ProfileReplyError(BleError):
    """A device answered a start step with an error status, a malformed reply, or not at all.
    ``step``: the 0-based index of the step in the start sequence; ``status``: the status code
    (None when there was no usable reply); ``status_name``: the vendor's name for it."""

    def __init__(
        self,
        message: str,
        *,
        device: str | None = None,
        step: int | None = None,
        status: int | None = None,
        status_name: str | None = None,
    ):
        self.step = step
        self.status = status
        self.status_name = status_name
        super().__init__(message, device=device)


class DeviceVariantError(BleError):
    """The device is a variant its profile does not support (e.g. an unknown IMU chip).
    ``value``: the probed value; ``what``: what was probed."""

    def __init__(self, message: str, *, device: str | None = None, value=None, what=None):
        self.value = value
        self.what = what
        super().__init__(message, device=device)


class MtuTooSmallError(BleError):
    """The negotiated ATT MTU is below what the profile's packets need. ``mtu``: negotiated;
    ``min_mtu``: needed."""

    def __init__(self, message: str, *, device: str | None = None, mtu: int = 0, min_mtu: int = 0):
        self.mtu = mtu
        self.min_mtu = min_mtu
        super().__init__(message, device=device)


class HistoryError(ImuMonitorError):
    """The session history database cannot be used (not an SQLite database, written by a newer
    version, cannot be opened). ``path``: the database file."""

    def __init__(self, message: str, *, path: str | Path | None = None):
        self.path = None if path is None else str(path)
        super().__init__(message)


class SimError(ImuMonitorError):
    """A simulated world is set up wrongly (unknown person, duplicate device, ...)."""


class ScreenshotError(ImuMonitorError):
    """The screenshot could not be written. ``path``: the file asked for."""

    def __init__(self, message: str, *, path: str | Path | None = None):
        self.path = None if path is None else str(path)
        super().__init__(message)


class LslUnavailableError(ImuMonitorError):
    """``--lsl`` was asked for but pylsl or the liblsl it loads cannot be used; the message is
    what failed to load (one line)."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(
            f"the Lab Streaming Layer library cannot be loaded ({reason}); install it with "
            "`pip install pylsl` (its wheels bundle liblsl) or run without --lsl"
        )


class UsageError(ImuMonitorError):
    """The command line asks for something that cannot be done as given (a missing or clashing
    option, a value out of range); the command line exits with code 2, as for its own parse
    errors. ``option``: the option at fault (``--duration``), when one is."""

    def __init__(self, message: str, *, option: str | None = None):
        self.option = option
        super().__init__(message)
