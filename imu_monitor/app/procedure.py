"""The device calibration's procedure, done with wearables that stream (README, "Device
calibration"): recorded to a file while what has been found so far is told, then measured into a
folder of ``<sensor>.json``. ``device-cal record`` / ``measure`` and the dashboard's Device
calibration dialog share it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from imu_monitor import __version__
from imu_monitor.model import Recording, SampleChunk, SensorSeries
from imu_monitor.processing.device_cal import (
    FACES,
    DeviceCalibration,
    measure,
    scan,
    signed_axis,
    still_to_do,
)
from imu_monitor.sources.base import SourceStatus
from imu_monitor.storage.recording import RecordingWriter

STEPS = (
    "Put the wearable(s) square in a box, axes along its edges. Rest the box still on the "
    "table for 4 s on each of its six faces (the sensor's +x, -x, +y, -y, +z and -z axis up); "
    "with the +x, the +y and the +z axis up, turn it once round on the table, clockwise seen "
    "from above, back against the same edge, and hold it still again."
)
"""What the person does, in the words ``device-cal record`` and the dashboard show."""

PARTS: tuple[str, ...] = (*FACES, "x", "y", "z")
"""The procedure's nine parts as ``Progress`` keys them: the six holds (by face) and the three
turns (by axis)."""

MIN_SAMPLES = 100
"""A sensor is looked at once it has this many samples."""


def part_heading(key: str) -> str:
    """A part of ``PARTS`` in a few characters: "+x up", "turn z"."""
    return f"turn {key}" if key in "xyz" else f"{signed_axis(key)} up"


FIGURE_COLUMNS: tuple[str, ...] = (
    "sensor",
    "acc offset x y z (mg)",
    "acc scale (%)",
    "gyro scale (%)",
    "gyro bias (deg/s)",
    "misalignment acc / gyro (deg, max)",
    "check: |g| / turn",
)
"""The columns of ``figure_row``: what a calibration measured, as ``device-cal measure`` and
the dashboard's dialog show it."""


def figure_row(sensor: str, f: dict[str, Any]) -> list[str]:
    """One sensor's calibration figures (``DeviceCalibration.figures``) as ``FIGURE_COLUMNS``."""

    def three(values: list[float]) -> str:
        return " ".join(f"{v:+.2f}" for v in values)

    return [
        sensor,
        " ".join(f"{v:+.1f}" for v in f["acc_offset_mg"]),
        three(f["acc_scale_error_pct"]),
        three(f["gyro_scale_error_pct"]),
        three(f["gyro_bias_deg_s"]),
        f"{max(f['acc_misalignment_deg']):.2f} / {max(f['gyro_misalignment_deg']):.2f}",
        f"{f['check_gravity_mg']:.1f} mg / {f['check_turn_deg']:.2f} deg",
    ]


COARSE_GYRO_NOTE_PCT = 0.1
"""A measure says when the gyro's resolution alone may put its scale this far off (%)."""


def coarse_gyro_note(sensor: str, f: dict[str, Any]) -> str | None:
    """What to know of a calibration whose gyro reads in steps coarser than its noise (the
    Polar Verity Sense without a conversion factor), from its ``figures``; None otherwise."""
    if f["gyro_scale_uncertain_pct"] < COARSE_GYRO_NOTE_PCT:
        return None
    return (
        f"{sensor}: its gyro reads in steps of {f['gyro_step_deg_s']:.2g} deg/s, coarser than "
        "its noise, so the bias it reads held still may be up to half a step off; over the "
        f"turns that leaves its scale uncertain by up to {f['gyro_scale_uncertain_pct']:.1f} %. "
        "A finer gyro setting (a smaller range, or a firmware that sends its conversion factor) "
        "measures it better"
    )


def procedure_meta(source_kind: str, simulation: dict[str, Any] | None = None) -> dict[str, Any]:
    """The meta of a procedure's recording."""
    meta: dict[str, Any] = {
        "format_version": 1,
        "exercise": "device-calibration",
        "procedure": "ferraris",
        "source": source_kind,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "app_version": __version__,
    }
    if simulation is not None:
        meta["simulation"] = simulation
    return meta


@dataclass
class Found:
    """One part of the procedure found in one sensor's samples: ``key`` (of ``PARTS``) and the
    words that tell it ("-y up held", "turn about z (-361 deg)")."""

    sensor: str
    key: str
    said: str


class ProcedureRecorder:
    """Records an opened source's samples to ``out`` and finds, on each ``check()``, which of
    the procedure's holds and turns each sensor has done.

    The source streams from ``start`` to ``stop`` (its thread hands samples over under a lock);
    ``check`` runs in the caller's thread (the command's loop, the dialog's timer).
    """

    def __init__(self, source: Any, out: Path, meta: dict[str, Any]) -> None:
        self.source = source
        self.out = Path(out)
        self.sensors: list[str] = list(source.sensors)
        self.writer = RecordingWriter(self.out, meta, source.sensors)
        self.found: dict[str, dict[str, str]] = {p: {} for p in self.sensors}
        """sensor -> {part key: words}, everything found so far."""
        self.todo: dict[str, list[str]] = {p: ["everything"] for p in self.sensors}
        """sensor -> what it still lacks, in words (``still_to_do``)."""
        self._chunks: dict[str, list[SampleChunk]] = {p: [] for p in self.sensors}
        self._lock = threading.Lock()
        self._stopped = False

    def start(self, on_status: Callable[[SourceStatus], None]) -> None:
        self.source.start(self._on_chunk, self.writer.write_gap, on_status)

    def _on_chunk(self, chunk: SampleChunk) -> None:
        self.writer.write_chunk(chunk)
        with self._lock:
            self._chunks.setdefault(chunk.sensor, []).append(chunk)

    @property
    def complete(self) -> bool:
        """Every sensor has its six holds and three turns."""
        return not any(self.todo.values())

    def samples(self, sensor: str) -> SensorSeries:
        with self._lock:
            chunks = list(self._chunks.get(sensor, []))
        return SensorSeries.concat(chunks)

    def check(self) -> list[Found]:
        """Look for holds and turns in everything streamed so far; returns what is new."""
        new: list[Found] = []
        for sensor in self.sensors:
            series = self.samples(sensor)
            if len(series) < MIN_SAMPLES:
                continue
            sections = scan(series, sensor)
            done = {f: f"{signed_axis(f)} up held" for f in sections.holds} | {
                a: f"turn about {a} ({t.angle_deg:+.0f} deg)" for a, t in sections.turns.items()
            }
            for key, said in done.items():
                if key not in self.found[sensor]:
                    new.append(Found(sensor, key, said))
                self.found[sensor][key] = said
            self.todo[sensor] = still_to_do(sections)
        return new

    def stop(self) -> None:
        """Stop the source and close the file (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        try:
            self.source.stop()
        finally:
            self.writer.close()


def measure_sensors(
    rec: Recording,
    sensors: list[str],
    *,
    procedure_file: str,
    misalignment: bool = False,
) -> dict[str, DeviceCalibration]:
    """Each of ``sensors``' calibration from ``rec``, a recording of the procedure (an error
    names the file and sensor and says what is missing)."""
    results: dict[str, DeviceCalibration] = {}
    for sensor in sensors:
        info = rec.sensors.get(sensor)
        about = {
            "sensor": sensor,
            "device": info.device if info else "",
            "profile": info.profile if info else "",
            "procedure_file": procedure_file,
            "procedure_created_utc": rec.meta.get("created_utc"),
        }
        results[sensor] = measure(
            rec.series[sensor],
            what=f"{procedure_file} ({sensor})",
            about=about,
            misalignment=misalignment,
        )
    return results


def write_calibrations(
    results: dict[str, DeviceCalibration], targets: dict[str, Path]
) -> dict[str, Path]:
    """Write each calibration to its target, once all are known (a folder never holds half a
    set from a failed measure)."""
    for sensor, cal in results.items():
        targets[sensor].parent.mkdir(parents=True, exist_ok=True)
        targets[sensor].write_text(cal.to_json(), encoding="utf-8")
    return {s: targets[s] for s in results}
