"""Sets and good reps: what the monitor's rep and alarm events mean for a trainee and a coach.

A session's reps fall into sets: a set ends at a rest longer than ``SetRules.pause_s`` (from one
rep's end to the next one's start) or at a set marker (``set_start``: the first rep that ends
after it begins a new set; ``set_end``: the first rep that starts after it does).

Each rep is judged good or not (``good_reps``: the limits and the target tempo). Per set:
reps, good reps, faulty reps per direction and for tempo, the peak excursions, the tempo per
phase (mean and spread) against the target, and the form drift: the least-squares slope of the
per-rep lumbar excursion (``good_reps``) over the set (deg/rep) and the first rep whose
excursion passes ``SetRules.drift_warning_fraction`` of its limit.

``SetTracker`` takes the monitor's events one by one (the live pipeline); ``judge_session`` runs
a whole event list through it (the batch analysis), so both give the same sets.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from imu_monitor.events import DIRECTIONS, AlarmEnded, AlarmStarted, Event, MonitorMode, RepEnded
from imu_monitor.exercises import Exercise, Limits, Tempo
from imu_monitor.processing.good_reps import (
    FAULT_CODES,
    TEMPO_PHASES,
    RepJudgement,
    check_set_rules,
    judge_rep,
)

SET_MARKERS = ("set_start", "set_end")
ALARM_MEMORY = 64
"""Recent alarms kept to find which ones overlapped a finished rep."""


@dataclass(frozen=True)
class PhaseTempo:
    """One tempo phase over a set: the target and the reps' mean and spread (sample standard
    deviation; 0 for one rep), seconds; None when no rep of the set was timed exactly."""

    phase: str
    target_s: float
    mean_s: float | None
    sd_s: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "target_s": self.target_s,
            "mean_s": self.mean_s,
            "sd_s": self.sd_s,
            "mean_minus_target_s": None if self.mean_s is None else self.mean_s - self.target_s,
        }


@dataclass(frozen=True)
class SetSummary:
    """One set (module docstring).

    ``index``: 0-based; ``first_rep`` / ``last_rep``: rep indices (0-based); ``ended_by``:
    ``pause``, ``marker``, ``end`` (the session ended) or None while the set is open;
    ``rest_before_s``: rest since the previous set's last rep (None for the first).
    ``faulty_flexion`` / ``faulty_extension``: reps with an alarm that way; ``faulty_tempo``:
    reps off the target tempo. ``tempo``: per phase in ``TEMPO_PHASES`` order (tempo-approximate
    reps left out). ``drift_slope_deg_per_rep``: least-squares slope of the excursion over the
    set's reps (None below 2 reps); ``drift_first_rep``: the first rep whose excursion passes
    ``drift_warning_fraction`` of its limit (None: none did).
    """

    index: int
    first_rep: int
    last_rep: int
    t_start_s: float
    t_end_s: float
    reps: int
    good_reps: int
    faulty_flexion: int
    faulty_extension: int
    faulty_tempo: int
    peak_flexion_deg: float
    peak_extension_deg: float
    tempo: tuple[PhaseTempo, ...]
    drift_slope_deg_per_rep: float | None
    drift_first_rep: int | None
    drift_warning_fraction: float
    ended_by: str | None
    rest_before_s: float | None

    def phase(self, name: str) -> PhaseTempo:
        return next(p for p in self.tempo if p.phase == name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe (None for what a set has not got), units in the keys; set and rep numbers
        0-based (``index``, ``first_rep``, ``last_rep``, ``drift_first_rep``) as everywhere
        inside the program (the command line shows them from 1)."""
        return {
            "index": self.index,
            "first_rep": self.first_rep,
            "last_rep": self.last_rep,
            "t_start_s": self.t_start_s,
            "t_end_s": self.t_end_s,
            "reps": self.reps,
            "good_reps": self.good_reps,
            "faulty_reps_by_direction": {
                "flexion": self.faulty_flexion,
                "extension": self.faulty_extension,
                "tempo": self.faulty_tempo,
            },
            "peak_flexion_deg": self.peak_flexion_deg,
            "peak_extension_deg": self.peak_extension_deg,
            "tempo": {p.phase: p.to_dict() for p in self.tempo},
            "drift_slope_deg_per_rep": self.drift_slope_deg_per_rep,
            "drift_first_rep": self.drift_first_rep,
            "drift_warning_fraction": self.drift_warning_fraction,
            "ended_by": self.ended_by,
            "rest_before_s": self.rest_before_s,
        }


def drift_slope(excursions_deg: list[float]) -> float | None:
    """Least-squares slope (deg/rep) of the excursions against their rep number in the set;
    None below two reps."""
    n = len(excursions_deg)
    if n < 2:
        return None
    x = np.arange(n, dtype=np.float64)
    y = np.asarray(excursions_deg, dtype=np.float64)
    xm = x - x.mean()
    return float(np.dot(xm, y - y.mean()) / np.dot(xm, xm))


@dataclass
class _OpenSet:
    """The reps of the set in progress (a set's reps are few; kept to give exact statistics)."""

    index: int
    rest_before_s: float | None
    judgements: list[RepJudgement] = field(default_factory=list)
    ended_by: str | None = None

    def summary(self, tempo: Tempo, warning_fraction: float) -> SetSummary:
        js = self.judgements
        phases = []
        timed = [j for j in js if not j.tempo_approximate]
        for name, target in zip(
            TEMPO_PHASES, (tempo.up_s, tempo.hold_s, tempo.down_s), strict=True
        ):
            vals = [getattr(j, f"{name}_s") for j in timed]
            mean = math.fsum(vals) / len(vals) if vals else None
            sd = float(np.std(vals, ddof=1)) if len(vals) > 1 else (0.0 if vals else None)
            phases.append(PhaseTempo(name, target, mean, sd))
        first_warn = next((j.index for j in js if j.excursion_fraction > warning_fraction), None)
        return SetSummary(
            index=self.index,
            first_rep=js[0].index,
            last_rep=js[-1].index,
            t_start_s=js[0].t_start_s,
            t_end_s=js[-1].t_end_s,
            reps=len(js),
            good_reps=sum(j.good for j in js),
            faulty_flexion=sum("flexion" in j.faults for j in js),
            faulty_extension=sum("extension" in j.faults for j in js),
            faulty_tempo=sum(any(f not in DIRECTIONS for f in j.faults) for j in js),
            peak_flexion_deg=max(j.peak_flexion_deg for j in js),
            peak_extension_deg=max(j.peak_extension_deg for j in js),
            tempo=tuple(phases),
            drift_slope_deg_per_rep=drift_slope([j.excursion_deg for j in js]),
            drift_first_rep=first_warn,
            drift_warning_fraction=warning_fraction,
            ended_by=self.ended_by,
            rest_before_s=self.rest_before_s,
        )


@dataclass
class _Alarm:
    t_start_s: float
    direction: str
    t_end_s: float | None = None


class SetTracker:
    """Sets and good reps from the monitor's events, one at a time (module docstring).

    ``exercise``: the tempo target and the set rules (``Exercise.sets``); ``limits``: the limits
    the monitor judged with (default the exercise's); ``mode``: the monitor's mode.
    ``memory``: how many finished sets and rep judgements to keep (None: all, for a batch
    result; a live session keeps the latest and counts every rep in ``reps`` / ``good_reps``).
    """

    def __init__(
        self,
        exercise: Exercise,
        *,
        limits: Limits | None = None,
        mode: MonitorMode | str = MonitorMode.CONTINUOUS,
        memory: int | None = None,
    ) -> None:
        self.exercise = exercise
        self.limits = limits or exercise.limits
        self.mode = MonitorMode(mode)
        self.rules = check_set_rules(exercise.sets)
        self.tempo = exercise.tempo
        self._closed: deque[SetSummary] | list[SetSummary] = (
            [] if memory is None else deque(maxlen=memory)
        )
        self.judgements: deque[RepJudgement] | list[RepJudgement] = (
            [] if memory is None else deque(maxlen=memory)
        )
        """The judged reps (the latest ``memory``)."""
        self.reps = 0
        self.good_reps = 0
        self.sets_count = 0
        self._open: _OpenSet | None = None
        self._last_end_s: float | None = None
        self._last_start_s: float | None = None
        self._markers: list[tuple[float, str]] = []
        self._alarms: deque[_Alarm] = deque(maxlen=ALARM_MEMORY)

    # -- input ---------------------------------------------------------------------------------
    def add_marker(self, t_s: float, kind: str) -> None:
        """A marker on the timeline; ``set_start`` / ``set_end`` split sets, others are
        ignored. Markers may come in any order, before the reps they split."""
        if kind in SET_MARKERS:
            self._markers.append((float(t_s), kind))
            self._markers.sort()

    def add(self, ev: Event) -> RepJudgement | None:
        """One monitor event; a finished rep is judged and returned."""
        if isinstance(ev, AlarmStarted):
            self._alarms.append(_Alarm(ev.t_s, ev.direction))
        elif isinstance(ev, AlarmEnded):
            for a in reversed(self._alarms):
                if a.direction == ev.direction and a.t_end_s is None:
                    a.t_end_s = ev.t_s
                    break
        elif isinstance(ev, RepEnded):
            return self._add_rep(ev)
        return None

    def finish(self) -> None:
        """The session ended: the open set is closed (``ended_by`` ``end``)."""
        self._close("end")

    # -- output --------------------------------------------------------------------------------
    @property
    def last(self) -> RepJudgement | None:
        return self.judgements[-1] if self.judgements else None

    def sets(self) -> list[SetSummary]:
        """The finished sets (the latest ``memory``) and the open one, in order."""
        out = list(self._closed)
        if self._open is not None and self._open.judgements:
            out.append(self._open.summary(self.tempo, self.rules.drift_warning_fraction))
        return out

    def current(self) -> SetSummary | None:
        """The open set, or None between sets (after ``finish``)."""
        if self._open is None or not self._open.judgements:
            return None
        return self._open.summary(self.tempo, self.rules.drift_warning_fraction)

    def view(self, recent: int = 0) -> SetsView:
        """The counts, the last judgement, the latest ``recent`` judgements and the sets as a
        copy (the live pipeline takes it under its lock for the dashboard)."""
        latest = list(self.judgements)[-recent:] if recent > 0 else []
        return SetsView(self.reps, self.good_reps, self.last, self.sets(), latest)

    def to_dict(self) -> dict[str, Any]:
        """The sets block of a summary."""
        return {
            "good_reps": self.good_reps,
            "sets_count": self.sets_count,
            "set_rules": {
                "pause_s": self.rules.pause_s,
                "tempo_tolerance_s": self.rules.tempo_tolerance_s,
                "drift_warning_fraction": self.rules.drift_warning_fraction,
            },
            "tempo_target_s": {
                "up": self.tempo.up_s,
                "hold": self.tempo.hold_s,
                "down": self.tempo.down_s,
            },
            "sets": [s.to_dict() for s in self.sets()],
        }

    # -- internals -----------------------------------------------------------------------------
    def _new_set_reason(self, rep: RepEnded) -> str | None:
        """Why ``rep`` begins a new set (None: it continues the open one)."""
        if self._open is None or not self._open.judgements:
            return None
        assert self._last_end_s is not None and self._last_start_s is not None
        rep_end = rep.t_hold_end_s + rep.eccentric_s
        for t, kind in self._markers:
            if kind == "set_start" and self._last_end_s < t <= rep_end:
                return "marker"
            if kind == "set_end" and self._last_start_s < t <= rep.t_start_s:
                return "marker"
        if rep.t_start_s - self._last_end_s > self.rules.pause_s:
            return "pause"
        return None

    def _add_rep(self, rep: RepEnded) -> RepJudgement:
        why = self._new_set_reason(rep)
        if why is not None:
            self._close(why)
        if self._open is None:
            rest = None if self._last_end_s is None else rep.t_start_s - self._last_end_s
            self._open = _OpenSet(self.sets_count, rest)
            self.sets_count += 1
        dirs = self._alarm_directions(rep)
        j = judge_rep(rep, self._open.index, self.tempo, self.limits, self.rules, self.mode, dirs)
        self._open.judgements.append(j)
        self.judgements.append(j)
        self.reps += 1
        self.good_reps += j.good
        self._last_end_s = j.t_end_s
        self._last_start_s = rep.t_start_s
        # the markers that could only split before this rep have done their work
        rep_end = rep.t_hold_end_s + rep.eccentric_s
        self._markers = [
            (t, k) for t, k in self._markers if t > (rep_end if k == "set_start" else rep.t_start_s)
        ]
        return j

    def _close(self, why: str) -> None:
        if self._open is not None and self._open.judgements:
            self._open.ended_by = why
            self._closed.append(self._open.summary(self.tempo, self.rules.drift_warning_fraction))
        self._open = None

    def _alarm_directions(self, rep: RepEnded) -> set[str]:
        """Directions of the alarms that overlapped the rep (as ``Monitor`` decides
        ``alarmed``: fired before the rep's fitted end, not ended before its start)."""
        t_end = rep.t_hold_end_s + rep.eccentric_s
        return {
            a.direction
            for a in self._alarms
            if a.t_start_s < t_end and (a.t_end_s is None or a.t_end_s > rep.t_start_s)
        }


@dataclass(frozen=True)
class SetsView:
    """A copy of a tracker's counts, last judgement and sets, for another thread to show."""

    reps: int
    good_reps: int
    last: RepJudgement | None
    sets: list[SetSummary]
    recent: list[RepJudgement] = field(default_factory=list)
    """The latest judgements, oldest first (as many as asked for)."""


@dataclass(frozen=True)
class SessionSets:
    """A whole session's judged reps and sets (``judge_session``)."""

    judgements: list[RepJudgement]
    sets: list[SetSummary]
    good_reps: int
    block: dict[str, Any]
    """``SetTracker.to_dict``: what summaries print."""


def judge_session(
    events: Iterable[Event],
    exercise: Exercise,
    *,
    limits: Limits | None = None,
    mode: MonitorMode | str = MonitorMode.CONTINUOUS,
    markers: Iterable[tuple[float, str]] = (),
) -> SessionSets:
    """The sets and good reps of a whole event list (the batch path); ``markers``: (time,
    kind) pairs of the recording's markers."""
    tracker = SetTracker(exercise, limits=limits, mode=mode)
    for t, kind in markers:
        tracker.add_marker(t, kind)
    for ev in events:
        tracker.add(ev)
    tracker.finish()
    return SessionSets(
        judgements=list(tracker.judgements),
        sets=tracker.sets(),
        good_reps=tracker.good_reps,
        block=tracker.to_dict(),
    )


__all__ = [
    "FAULT_CODES",
    "SET_MARKERS",
    "TEMPO_PHASES",
    "PhaseTempo",
    "RepJudgement",
    "SessionSets",
    "SetSummary",
    "SetsView",
    "SetTracker",
    "check_set_rules",
    "drift_slope",
    "judge_rep",
    "judge_session",
]
