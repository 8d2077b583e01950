"""Guided calibration on a live stream: stand still, then hold the exercise's calibration posture.

The calibrator watches the raw samples of every sensor. Step ``standing``: once every sensor has
been still for ``hold_s`` it captures that window. Step ``start``: once every sensor is still
again, in a posture whose gravity direction differs from standing by at least
``min_posture_change_deg`` on the sacrum, it captures that window and computes the calibration
(``calibration.calibrate``). Moving during a capture simply restarts the wait; ``capture_now()`` is
the explicit variant a wizard uses after its countdown: it takes the last ``hold_s`` and refuses
with the reason when the user moved.
"""

from __future__ import annotations

import logging
import math
from collections import deque

import numpy as np

from imu_monitor.errors import CalibrationRefused
from imu_monitor.exercises import Exercise
from imu_monitor.model import SampleChunk, SensorSeries
from imu_monitor.processing.calibration import Calibration, calibrate
from imu_monitor.processing.stillness import EDGE_TOLERANCE, MIN_STILL_S, check_still

log = logging.getLogger(__name__)

STEPS = ("standing", "start", "done")

QUIET_WINDOW_S = 0.5
"""The progress display tests the last this-many seconds with the capture's own stillness check."""
QUIET_MIN_SAMPLES = 10
"""... and at least this many samples (``check_still`` judges no fewer): 1 s at 10 Hz."""

START_POSTURE_CHANGE_DEG = 30.0
"""How far the sacrum's gravity direction must turn from standing before the guided capture
takes the start posture (deg). Larger than the two-posture alignment's own minimum
(``calibration.MIN_POSTURE_CHANGE_DEG``) so that a lean or a half-way posture is not taken
for the start position."""


KEEP_EXTRA_S = 2.0
"""Data kept per sensor beyond one hold (s): the capture waits for the sensor whose samples come
in last, up to this far behind the others."""


class LiveCalibrator:
    """State machine for the two-posture calibration on streaming data."""

    def __init__(
        self,
        exercise: Exercise,
        placements: list[str],
        *,
        user: str = "default",
        hold_s: float = MIN_STILL_S,
        min_posture_change_deg: float = START_POSTURE_CHANGE_DEG,
        with_standing: bool = True,
    ) -> None:
        self.exercise = exercise
        self.placements = list(placements)
        self.user = user
        self.hold_s = hold_s
        self.min_posture_change_deg = min_posture_change_deg
        self.step = "standing" if with_standing else "start"
        self.refusal: str | None = None
        self.calibration: Calibration | None = None
        self._chunks: dict[str, deque[SampleChunk]] = {p: deque() for p in self.placements}
        self._captured: dict[str, dict[str, SensorSeries]] = {}
        self._still_since: float | None = None
        self._latest_t = -math.inf
        self._last_dir: dict[str, tuple[float, np.ndarray]] = {}

    # -- what the UI shows ------------------------------------------------------------------
    @property
    def prompt(self) -> str:
        if self.step == "standing":
            return "Calibration 1/2: stand tall and hold still"
        if self.step == "start":
            return (
                "Calibration 2/2: get into the start position "
                f"({self.exercise.calibration_posture}) and hold still"
            )
        return "Calibrated: neutral captured"

    @property
    def progress(self) -> float:
        """0..1 through the whole calibration (each step is half)."""
        if self.step == "done":
            return 1.0
        held = 0.0
        if self._still_since is not None:
            held = min(1.0, (self._latest_t - self._still_since) / self.hold_s)
        base = 0.0 if self.step == "standing" else 0.5
        return base + 0.5 * held

    @property
    def done(self) -> bool:
        return self.step == "done"

    @property
    def captured(self) -> dict[str, dict[str, SensorSeries]]:
        """The windows captured so far, per step (``standing``, ``start``) and placement: what
        the calibration was computed from (``calibrate``), for a later correction of it."""
        return dict(self._captured)

    # -- feeding ------------------------------------------------------------------------------
    def feed(self, chunk: SampleChunk) -> Calibration | None:
        """Take a raw chunk; returns the Calibration the moment it is complete."""
        if self.done or chunk.sensor not in self._chunks or len(chunk) == 0:
            return None
        buf = self._chunks[chunk.sensor]
        buf.append(chunk)
        self._latest_t = max(self._latest_t, float(chunk.t_s[-1]))
        # keep one hold window per sensor and some more: the windows end where the sensor
        # whose data arrives last is (``_windows``)
        while len(buf) > 1 and buf[-1].t_s[-1] - buf[1].t_s[0] > self.hold_s + KEEP_EXTRA_S:
            buf.popleft()
        if chunk.sensor != self.placements[0]:
            return None
        quiet_since = self._quiet_since()
        if quiet_since is None:
            self._still_since = None
            return None
        if self._still_since is None:
            self._still_since = quiet_since
        if self._latest_t - self._still_since < self.hold_s:
            return None
        windows = self._windows()
        if windows is None or not self._posture_changed(windows):
            return None
        min_s = EDGE_TOLERANCE * self.hold_s
        if all(check_still(w, min_duration_s=min_s).ok for w in windows.values()):
            try:
                return self._advance(windows)
            except CalibrationRefused:
                return None  # the reason is in self.refusal; keep waiting
        return None

    def capture_now(self) -> Calibration | None:
        """Capture this step from the last ``hold_s`` seconds, or raise CalibrationRefused."""
        windows = self._windows()
        if windows is None:
            raise CalibrationRefused(
                f"not enough data yet: hold the position for {self.hold_s:.0f} s, then capture"
            )
        for placement, w in windows.items():
            report = check_still(w, min_duration_s=EDGE_TOLERANCE * self.hold_s)
            if not report.ok:
                raise CalibrationRefused(f"{placement} sensor moved: {report.reason}")
        if not self._posture_changed(windows):
            raise CalibrationRefused(
                "this is still the standing posture: get into the start position "
                f"({self.exercise.calibration_posture}) first"
            )
        return self._advance(windows)

    # -- internals ----------------------------------------------------------------------------
    def _quiet_since(self) -> float | None:
        """The start of the last ``QUIET_WINDOW_S`` (at least ``QUIET_MIN_SAMPLES`` samples) if
        every sensor was still over it, by the capture's own test; else None. Samples missing
        from it (a lost notification) do not make it restless: the capture's window is judged in
        full afterwards."""
        since = -math.inf
        for p in self.placements:
            series = SensorSeries.concat(list(self._chunks[p]))
            if len(series) < QUIET_MIN_SAMPLES:
                return None
            recent = series.t_s >= series.t_s[-1] - QUIET_WINDOW_S
            recent[-QUIET_MIN_SAMPLES:] = True
            w = SensorSeries(series.t_s[recent], series.acc_m_s2[recent], series.gyr_rad_s[recent])
            if not check_still(w, min_duration_s=0.0).ok:
                return None
            since = max(since, float(w.t_s[0]))
        return since

    def _windows(self) -> dict[str, SensorSeries] | None:
        """Every sensor's samples over the same last ``hold_s`` (and a little more: the check
        needs the full hold) up to the latest time all of them reached: one span for the
        posture, which the recording's calibration markers can give back."""
        every = {p: SensorSeries.concat(list(self._chunks[p])) for p in self.placements}
        if any(len(series) < 2 for series in every.values()):
            return None
        t_end = min(float(series.t_s[-1]) for series in every.values())
        t_start = t_end - (self.hold_s + 0.1)
        out = {}
        for p, series in every.items():
            if series.t_s[0] > t_start:
                return None
            keep = (series.t_s >= t_start) & (series.t_s <= t_end)
            out[p] = SensorSeries(
                series.t_s[keep],
                series.acc_m_s2[keep],
                series.gyr_rad_s[keep],
                None if series.seq is None else series.seq[keep],
            )
        return out

    def _posture_changed(self, windows: dict[str, SensorSeries]) -> bool:
        if self.step != "start" or "standing" not in self._captured:
            return True
        master = self.placements[0]
        a = windows[master].acc_m_s2.mean(axis=0)
        b = self._captured["standing"][master].acc_m_s2.mean(axis=0)
        cos = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
        return math.degrees(math.acos(max(-1.0, min(1.0, cos)))) >= self.min_posture_change_deg

    def _advance(self, windows: dict[str, SensorSeries]) -> Calibration | None:
        self._still_since = None
        if self.step == "standing":
            self._captured["standing"] = windows
            self.step = "start"
            self.refusal = None
            for buf in self._chunks.values():
                buf.clear()
            log.info("calibration: standing posture captured")
            return None
        try:
            cal = calibrate(self.exercise, start=windows, standing=self._captured.get("standing"))
        except CalibrationRefused as e:
            self.refusal = str(e)
            log.warning("calibration refused: %s", e)
            raise
        cal.user = self.user
        cal.valid_from_s = float(windows[self.placements[0]].t_s[-1])
        self._captured["start"] = windows
        self.calibration = cal
        self.step = "done"
        self.refusal = None
        log.info("calibration: done (%s)", cal.method)
        return cal
