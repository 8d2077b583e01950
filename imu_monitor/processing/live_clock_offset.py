"""The live monitor's clock-offset correction between the sacrum and upper-lumbar wearables.

Each wearable is put on the session clock from its own first notification, and two first
notifications can come a connection interval or two apart. A finished recording has the upper
sensor's offset measured over the whole session and taken off before it is judged
(``clock_offset``; ``analysis``). Live, the offset can only be measured once both sensors have
turned together, so the pipeline keeps their angular speeds from the start of the stream and
measures the offset over everything kept

- when the guided calibration completes: the move from standing into the start posture turns
  the trunk and the pelvis together (240 simulated hip thrusts and bridges, offsets of 0, +40
  and -25 ms: found within 15 ms, correlation 0.99 or better);
- after the reps in ``AFTER_REPS``, more precisely (after the second and the third: within
  10 ms).

A lumbar fault moves the trunk later than the pelvis, and a measure taken just after a faulty
rep can be 15-25 ms off (the move into the start posture alone: within 15 ms). So a measure is
used only when it agrees with an earlier one within ``AGREE_S``; one that does not waits for a
later measure to agree with it.

Only in the lifts where the trunk turns with the pelvis (hip thrust, bridge). On all fours the
trunk is supported: the move into the start posture matches the two sensors' turning, the kicks
hardly do (correlation 0.7-0.8: measures 10-25 ms off, then none), and an offset costs nothing
there (40 ms: 0.01 deg).

Where the measure used is worth taking off (``clock_offset.worth_taking_off``), the upper
sensor's samples are joined to the sacrum's that much earlier (or later) from then on; a later
measure replaces it (one under the threshold puts the times back), and each change is announced
(``ClockOffsetApplied``). The orientation filters and the recording keep the wearables' own
times: ``analyze`` measures the offset again over the whole file. Imports only core types,
numpy and the processing stages.
"""

from __future__ import annotations

import numpy as np

from imu_monitor.events import MonitorMode
from imu_monitor.exercises import Exercise
from imu_monitor.model import SampleChunk
from imu_monitor.processing.clock_offset import (
    ClockOffset,
    offset_of_speeds,
    usable,
    worth_taking_off,
)

AFTER_REPS: tuple[int, ...] = (1, 2, 3)
"""After which reps (counted from the start of the stream) the offset is measured again."""
AGREE_S = 0.010
"""A measure after a rep is used only if it lies this close (s) to an earlier measure (module
docstring): 240 simulated sessions, offset in use after the third rep p90 / worst 5 / 9 ms off
(each latest measure used: 7 / 10 ms, and 15 sessions 15-25 ms off after a rep)."""
MAX_LOG_S = 600.0
"""The angular speeds kept (s of the stream); nothing is kept after the last measure."""
MIN_CHANGE_S = 0.005
"""A new measure changes the offset in use only when it differs from it by this much (s, a
sample at 200 Hz): the measure wanders by a few milliseconds from one rep to the next."""


def trunk_turns_with_pelvis(exercise: Exercise) -> bool:
    """The lift turns the trunk with the pelvis (its one-sensor mode is the lockout's), so the
    clock offset is measured live (module docstring)."""
    return exercise.one_sensor_mode == MonitorMode.LOCKOUT


class LiveClockOffset:
    """The angular speeds of the two sensors, when a measure is due, and the offset in use
    (module docstring). ``reference``: the sensor the session's clock is (the sacrum);
    ``other``: the one whose offset is taken off (the upper lumbar)."""

    def __init__(self, reference: str, other: str, rate_hz: float) -> None:
        self.reference, self.other, self.rate_hz = reference, other, float(rate_hz)
        self._t: dict[str, list[np.ndarray]] = {reference: [], other: []}
        self._w: dict[str, list[np.ndarray]] = {reference: [], other: []}
        self._t0: float | None = None
        self.reps = 0
        self.offset_s = 0.0
        """The offset in use (s; positive: the other sensor's samples are stamped late)."""
        self.latest: ClockOffset | None = None
        """The latest measure, taken off or not."""
        self._measures: list[float] = []
        """The offsets (s) of the measures so far that were ``usable``."""
        self.finished = False
        """No measure is due any more (nothing is kept)."""

    def log(self, chunk: SampleChunk) -> None:
        """Keep a raw chunk's angular speeds (until ``MAX_LOG_S`` of the stream)."""
        if self.finished or chunk.sensor not in self._t or len(chunk) == 0:
            return
        ok = np.isfinite(chunk.t_s) & np.isfinite(chunk.gyr_rad_s).all(axis=1)
        if not ok.any():
            return
        t = chunk.t_s[ok]
        if self._t0 is None:
            self._t0 = float(t[0])
        if float(t[-1]) - self._t0 > MAX_LOG_S:
            self.stop()
            return
        self._t[chunk.sensor].append(t)
        self._w[chunk.sensor].append(np.linalg.norm(chunk.gyr_rad_s[ok], axis=1))

    def stop(self) -> None:
        """No more measures (the stream jumped, or went on too long): forget what is kept."""
        self.finished = True
        self._t = {p: [] for p in self._t}
        self._w = {p: [] for p in self._w}

    def rep_ended(self) -> bool:
        """One more rep; True when a measure is due now."""
        if self.finished:
            return False
        self.reps += 1
        return self.reps in AFTER_REPS

    def measure(self) -> float | None:
        """Measure the offset over everything kept; the new offset in use if it changed (s, 0:
        none taken off any more), else None. After the last rep of ``AFTER_REPS`` nothing more
        is kept."""
        series = []
        for p in (self.reference, self.other):
            if not self._t[p]:
                return None
            t, w = np.concatenate(self._t[p]), np.concatenate(self._w[p])
            # (a sensor's chunks come in time order but for a rare late one; the correlation
            # interpolates, which needs increasing times)
            order = np.argsort(t, kind="stable")
            series += [t[order], w[order]]
        self.latest = latest = offset_of_speeds(*series, rate_hz=self.rate_hz)
        if self.reps >= max(AFTER_REPS):
            self.stop()
        if not usable(latest):
            return None  # (the offset in use stays)
        earlier, self._measures = self._measures, [*self._measures, latest.offset_s]
        if earlier and all(abs(latest.offset_s - m) > AGREE_S for m in earlier):
            return None  # (waits for a later measure to agree with it)
        new = latest.offset_s if worth_taking_off(latest) else 0.0
        if abs(new - self.offset_s) < MIN_CHANGE_S:
            return None
        self.offset_s = new
        return new
