"""A live source whose wearables' samples are device-calibrated before anything reads them
(``live --device-cal DIR``, or the dashboard's device calibration folder in the settings): the
monitor, the dashboard, LSL and the recording all see the calibrated samples, and a recording's
meta says which calibration was applied (the same ``device_calibration`` entry ``device-cal
apply`` writes; ``processing.device_cal``).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from imu_monitor.errors import ImuMonitorError
from imu_monitor.model import SampleChunk
from imu_monitor.processing.device_cal import DeviceCalibration, applied_meta, check_devices
from imu_monitor.sources.base import ChunkCallback, GapCallback, StatusCallback


def calibration_files(folder: str | Path, sensors: Any) -> dict[str, Path]:
    """The ``<sensor>.json`` files ``device-cal measure`` wrote into ``folder``, of those of
    ``sensors`` that have one (none when ``folder`` is not a folder)."""
    d = Path(folder).expanduser()
    return {s: d / f"{s}.json" for s in sensors if (d / f"{s}.json").is_file()}


def calibrations_in(
    folder: str | Path, sensors: list[str], option: str = "--device-cal"
) -> dict[str, tuple[DeviceCalibration, str]]:
    """The ``<sensor>.json`` files ``device-cal measure`` wrote into ``folder``, for
    ``sensors``; a folder holding none of them is refused (the message names ``option``)."""
    if not Path(folder).is_dir():
        raise ImuMonitorError(
            f"{option} {folder}: no such folder; give the folder 'device-cal measure' wrote"
        )
    found = calibration_files(folder, sensors)
    if not found:
        names = ", ".join(f"{s}.json" for s in sensors)
        raise ImuMonitorError(f"{option} {folder}: none of {names} is in it")
    return {s: (DeviceCalibration.from_file(p), str(p)) for s, p in found.items()}


TRUNK_SENSORS = ("sacrum", "upper_lumbar")
"""The sensors whose own errors go into a two-sensor lumbar angle."""


def device_cal_advice(
    sensors: Any, device_calibration: Any, trunk_turns: bool
) -> tuple[str, str] | None:
    """(the line, its details) when the lumbar angle of a session whose trunk turns with the
    hips (``trunk_turns``: a hip thrust or bridge, 45-90 deg from lockout to the bottom) is
    taken between two wearables that are not both device-calibrated; None otherwise. Measured
    on the simulated two-sensor hip thrust (README, "Measured"): a worst session of 1.7 deg,
    2.4 with sensors as poor as a real one, and 1.2 with the device calibration."""
    if not trunk_turns or not all(s in sensors for s in TRUNK_SENSORS):
        return None
    raw = [s.replace("_", " ") for s in TRUNK_SENSORS if s not in (device_calibration or ())]
    if not raw:
        return None
    line = (
        f"Not device-calibrated: {', '.join(raw)} (a degree or two off as the trunk turns); "
        "Devices… > Device calibration…"
    )
    details = (
        "As the trunk turns 45-90° in a hip thrust or bridge, a wearable's own scale and offset "
        "errors put a degree or two into the lumbar angle, which a session's postures cannot "
        "tell apart. Measured once per wearable on a table (six faces, three turns, about 2 "
        "minutes), they are taken off: README, 'Device calibration'."
    )
    return line, details


def settings_calibrated(source: Any, folder: str) -> tuple[Any, list[str]]:
    """``source`` (opened: its wearables known) calibrated with the files of the settings'
    device calibration ``folder`` that fit it, and a note for each that does not. Unlike
    ``--device-cal``, which is refused whole, a remembered folder may be older than the
    wearables in use: a missing folder, a file that cannot be read, or one measured on another
    wearable is left out and said, and the session goes on with raw samples for that sensor."""
    if not folder:
        return source, []
    where = f"device calibration folder {folder}"
    if not Path(folder).is_dir():
        return source, [f"{where}: no such folder; the samples are not device-calibrated"]
    kept: dict[str, tuple[DeviceCalibration, str]] = {}
    notes = []
    for sensor, path in calibration_files(folder, source.sensors).items():
        try:
            cal = DeviceCalibration.from_file(path)
            check_devices({sensor: (cal, str(path))}, {sensor: source.sensors[sensor]})
        except ImuMonitorError as e:
            notes.append(f"{e} ({sensor} not device-calibrated)")
            continue
        kept[sensor] = (cal, str(path))
    if not kept and not notes:
        names = ", ".join(f"{s}.json" for s in source.sensors)
        notes.append(f"{where}: none of {names} is in it; the samples are not device-calibrated")
    if not kept:
        return source, notes
    return DeviceCalibratedSource(source, kept, from_settings=True), notes


class DeviceCalibratedSource:
    """``source`` with the chunks of the sensors in ``cals`` (sensor -> (calibration, file))
    calibrated on their way out; everything else is the wrapped source's. ``from_settings``:
    the calibrations came from the dashboard's settings (``settings_calibrated``), not from
    ``--device-cal``."""

    def __init__(
        self,
        source: Any,
        cals: dict[str, tuple[DeviceCalibration, str]],
        *,
        from_settings: bool = False,
    ) -> None:
        self._source = source
        self.from_settings = from_settings
        self._given = dict(cals)
        self._cals = {s: c for s, (c, _) in cals.items()}
        self.device_calibration = applied_meta(cals)
        """What a recording of this source's samples keeps in ``meta["device_calibration"]``."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._source, name)

    def carry_to(self, source: Any) -> Any:
        """The same calibrations on another (opened) source, for the sensors it has (the
        dashboard's device panel connecting other wearables; ``source`` itself when it has none
        of them); refused if a sensor's wearable is not the one measured."""
        kept = {s: c for s, c in self._given.items() if s in source.sensors}
        check_devices(kept, source.sensors)
        return DeviceCalibratedSource(source, kept) if kept else source

    def start(
        self, on_chunk: ChunkCallback, on_gap: GapCallback, on_status: StatusCallback
    ) -> None:
        check_devices(self._given, self._source.sensors)  # known once the source is open

        def calibrated(chunk: SampleChunk) -> None:
            cal = self._cals.get(chunk.sensor)
            if cal is not None and len(chunk):
                acc, gyr = cal.apply(chunk.acc_m_s2, chunk.gyr_rad_s)
                chunk = replace(chunk, acc_m_s2=acc, gyr_rad_s=gyr)
            on_chunk(chunk)

        self._source.start(calibrated, on_gap, on_status)
