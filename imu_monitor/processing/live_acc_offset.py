"""The live monitor's accelerometer-offset correction: at the calibration, then after the session's
first and third reps.

A finished recording has its accelerometer offsets measured over the whole session before it is
calibrated (``acc_offset``; ``analysis``). Live, the calibration comes first, from raw readings:
a 15-40 mg offset then leaves the angles 1-2 deg off wherever the sensor is turned away from the
start posture (a hip thrust's bottom is 45 deg from its lockout), enough to alarm on a good rep.
So the live pipeline keeps the raw samples from the start of its guided calibration; as the
calibration completes and after the reps in ``AFTER_REPS`` it measures each sensor's offset from
them (``estimate_acc_offset``: the stand-to-start turn and the reps' turns), and where one is
found, it

- computes the calibration again from the captured windows with the offset taken off (the
  calibration records the offset: ``SensorCalibration.acc_offset_m_s2``); a sensor its two
  postures could not align (a back kick's thigh points down in both) is aligned there from the
  reps' movement so far (``calibration``'s functional axis), even where no offset is found;
- runs each sensor's orientation filter again over the corrected samples, so that its state is
  as if the offset had been off from the start;
- takes the offset off every sample from then on; and says so (``AccOffsetApplied``).

It happens in the start posture (the calibration's, or the end of a rep), where the old and
the new angles agree
(the correction matters away from it), so the angle does not jump. The recording keeps the raw
samples and gets the new calibration (the last one written wins), so ``analyze`` and ``replay``
of the file use the same offsets. Imports only core types, numpy and the processing stages.
"""

from __future__ import annotations

import math

from imu_monitor.model import SampleChunk, SensorSeries
from imu_monitor.processing.acc_offset import (
    NO_OFFSET,
    AccOffset,
    estimate_acc_offset,
    remove_acc_offset,
)
from imu_monitor.processing.stillness import window

AFTER_REPS: tuple[int, ...] = (0, 1, 3)
"""After which reps (counted from the calibration) the offsets are measured, each time over all
the samples since the calibration began: 0, as the calibration completes (its stand-to-start
turn, one still-moment pair), so that the first rep is judged with them; after the first rep
(3 pairs) soon enough for the second rep's alarm; after the third (7 pairs) better. Simulated
two-sensor hip thrusts and bridges, live, held-out seeds: after rep 3 only, 1 false alarm each;
after 1 and 3, none, and on seeds 200-219 a fault 1.2 deg past the limit in rep 2 no longer
missed. At the calibration too (2026-12-07, six seed sets of 20): the first rep's arch 1.2 deg
past the limit that read 1.8 deg low (seed 16012) is alarmed, the two-sensor hip thrust's mean
RMSE 0.02-0.05 deg lower in each set (with 40 mg offsets 0.94 -> 0.79), its worst sessions
within +-0.05 deg (docs/accuracy.md)."""
MAX_LOG_S = 600.0
"""The raw samples kept for it (s of the session); a session that has not done ``AFTER_REPS``
reps by then goes on uncorrected (and keeps no samples)."""
G_MG = 9.80665 / 1000.0
"""m/s^2 per milli-g."""


class LiveAccOffset:
    """The samples and captures the correction needs, and when it is due (module docstring)."""

    def __init__(self, placements: list[str]) -> None:
        self.placements = list(placements)
        self._log: dict[str, list[SampleChunk]] = {p: [] for p in self.placements}
        self._t0: float | None = None
        self.windows: dict[str, dict[str, SensorSeries]] | None = None
        """The calibration's captured windows (``LiveCalibrator.captured``), once calibrated."""
        self.reps = 0
        self.given_up = False
        """True when the session went on too long without the reps: nothing is kept."""

    def log(self, chunk: SampleChunk) -> None:
        """Keep a raw chunk (until ``MAX_LOG_S`` of the session)."""
        if self.given_up or chunk.sensor not in self._log or len(chunk) == 0:
            return
        if self._t0 is None:
            self._t0 = float(chunk.t_s[0])
        if float(chunk.t_s[-1]) - self._t0 > MAX_LOG_S:
            self.given_up = True
            self._log = {p: [] for p in self.placements}
            return
        self._log[chunk.sensor].append(chunk)

    def calibrated(self, windows: dict[str, dict[str, SensorSeries]]) -> bool:
        """The guided calibration finished with these captures (without a start-posture capture
        there is nothing to calibrate again from: no correction is made); True when a
        correction is due now (``AFTER_REPS`` holds 0)."""
        self.windows = windows if "start" in windows else None
        self.reps = 0
        return self.windows is not None and not self.given_up and 0 in AFTER_REPS

    def rep_ended(self) -> bool:
        """One more rep after the calibration; True when a correction is due now."""
        if self.windows is None or self.given_up:
            return False
        self.reps += 1
        return self.reps in AFTER_REPS

    @property
    def finished(self) -> bool:
        """No correction is due any more (the samples kept can go)."""
        return self.given_up or self.reps >= max(AFTER_REPS)

    def series(self, placement: str, offset: AccOffset | None = None) -> SensorSeries:
        """The raw samples kept of ``placement``, with ``offset`` taken off if given."""
        series = SensorSeries.concat(list(self._log[placement]))
        return series if offset is None else remove_acc_offset(series, offset)

    def estimate(self) -> dict[str, AccOffset]:
        """Each sensor's offset from the samples kept (``estimate_acc_offset``)."""
        return {p: estimate_acc_offset(self.series(p)) for p in self.placements}

    def motion(self, offsets: dict[str, AccOffset]) -> dict[str, SensorSeries]:
        """Each sensor's samples since its start-posture capture ended (the reps so far), with
        the applied offsets taken off: the movement a functional axis is found from
        (``calibration``'s method B), for a sensor whose two postures could not align it."""
        assert self.windows is not None
        out = {}
        for p in self.placements:
            captured = self.windows["start"].get(p)
            series = self.series(p, offsets.get(p))
            if captured is None or not len(captured) or not len(series):
                continue
            out[p] = window(series, float(captured.t_s[-1]), math.inf)
        return out

    def corrected_windows(
        self, offsets: dict[str, AccOffset]
    ) -> dict[str, dict[str, SensorSeries]]:
        """The calibration's windows with the applied offsets taken off."""
        assert self.windows is not None
        return {
            step: {p: remove_acc_offset(w, offsets.get(p, NO_OFFSET)) for p, w in by.items()}
            for step, by in self.windows.items()
        }


def offsets_mg(offsets: dict[str, AccOffset]) -> dict[str, list[float]]:
    """The applied offsets in milli-g (x, y, z), per placement, for the event and the notes."""
    return {p: [round(v / G_MG, 1) for v in o.offset_m_s2] for p, o in offsets.items() if o.applied}
