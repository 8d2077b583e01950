"""A session's counts and means, kept as running totals (constant memory, however long).

``SessionTally`` takes events as they happen (``add``) and gives the block ``summarize_result``
gives for the whole lists: the live pipeline keeps only a recent window of events, reps and
alarms for the display, and the summary from this. The figures are the same to the bit: counts
and maxima are exact, the alarm time is summed in the same order, and the mean phase durations
use an exact running sum (``ExactSum``), as ``statistics.fmean`` sums exactly.
"""

from __future__ import annotations

import math
from typing import Any

from imu_monitor.events import AlarmEnded, AlarmRecord, AlarmStarted, Direction, Event, RepEnded


class ExactSum:
    """The exactly rounded sum of the floats added, as ``math.fsum`` of all of them would give,
    in constant memory: the running sum is held as a few non-overlapping partial sums (Shewchuk's
    method; their number is bounded by the float exponent range, in practice 1-3)."""

    def __init__(self) -> None:
        self._partials: list[float] = []
        self._special: list[float] = []  # inf / NaN: handled by fsum as it would handle them

    def add(self, x: float) -> None:
        x = float(x)
        if not math.isfinite(x):
            if repr(x) not in map(repr, self._special):  # inf, -inf, nan: each once is enough
                self._special.append(x)
            return
        i = 0
        for y in self._partials:
            if abs(x) < abs(y):
                x, y = y, x
            hi = x + y
            lo = y - (hi - x)
            if lo:
                self._partials[i] = lo
                i += 1
            x = hi
        self._partials[i:] = [x]

    @property
    def value(self) -> float:
        return math.fsum(self._partials + self._special)


class SessionTally:
    """Running counts of one session (see the module docstring)."""

    def __init__(self) -> None:
        self.events = 0
        self.reps = 0
        self.reps_alarmed = 0
        self.reps_too_fast = 0
        self.alarms = 0
        self.alarms_flexion = 0
        self.alarms_extension = 0
        self.alarm_time_s: float | int = 0
        self.max_flexion_deg: float | None = None
        self.max_extension_deg: float | None = None
        self._tempo = {k: ExactSum() for k in ("concentric", "hold", "eccentric", "rep")}

    # -- input -----------------------------------------------------------------------------------
    def add(self, ev: Event) -> None:
        """One published event: every one counts; reps and alarm starts / ends are tallied."""
        self.events += 1
        if isinstance(ev, RepEnded):
            self.add_rep(ev)
        elif isinstance(ev, AlarmStarted):
            self.add_alarm(ev.direction, None)
        elif isinstance(ev, AlarmEnded):
            self.alarm_time_s += ev.duration_s or 0.0

    def add_rep(self, r: RepEnded) -> None:
        self.reps += 1
        self.reps_alarmed += bool(r.alarmed)
        self.reps_too_fast += bool(r.too_fast)
        if self.max_flexion_deg is None or r.peak_flexion_deg > self.max_flexion_deg:
            self.max_flexion_deg = r.peak_flexion_deg
        if self.max_extension_deg is None or r.peak_extension_deg > self.max_extension_deg:
            self.max_extension_deg = r.peak_extension_deg
        self._tempo["concentric"].add(r.concentric_s)
        self._tempo["hold"].add(r.hold_s)
        self._tempo["eccentric"].add(r.eccentric_s)
        self._tempo["rep"].add(r.t_s - r.t_start_s)

    def add_alarm(self, direction: str, duration_s: float | None) -> None:
        """An alarm that started (``duration_s``: its length once ended, None while open)."""
        self.alarms += 1
        self.alarms_flexion += direction == Direction.FLEXION
        self.alarms_extension += direction == Direction.EXTENSION
        self.alarm_time_s += duration_s or 0.0

    # -- output ----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The keys and values ``summarize_result`` gives."""
        out: dict[str, Any] = {
            "reps": self.reps,
            "reps_alarmed": self.reps_alarmed,
            "reps_too_fast": self.reps_too_fast,
            "alarms": self.alarms,
            "alarms_flexion": self.alarms_flexion,
            "alarms_extension": self.alarms_extension,
            "alarm_time_s": float(self.alarm_time_s),
            "max_flexion_deg": 0.0 if self.max_flexion_deg is None else self.max_flexion_deg,
            "max_extension_deg": 0.0 if self.max_extension_deg is None else self.max_extension_deg,
            "events": self.events,
        }
        if self.reps:
            out["mean_tempo_s"] = {k: s.value / self.reps for k, s in self._tempo.items()}
        return out


def summarize_result(
    events: list[Event], reps: list[RepEnded], alarms: list[AlarmRecord]
) -> dict[str, Any]:
    """Counts and means of one session: reps, alarmed / too-fast reps, alarms per direction,
    alarm time (s), mean phase durations (s), largest lumbar excursions (deg)."""
    tally = SessionTally()
    tally.events = len(events)
    for r in reps:
        tally.add_rep(r)
    for a in alarms:
        tally.add_alarm(a.direction, a.duration_s)
    return tally.to_dict()
