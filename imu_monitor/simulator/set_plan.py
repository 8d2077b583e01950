"""A session of sets (``SimulationConfig.sets``, ``tempo_faulty``, ``drift_reps``): which rep
belongs to which set, the rests between sets, the reps that break the target tempo, the reps
whose form drifts, and each rep's phase durations.

Phase durations are chosen in the truth's terms: the truth times a phase from movement onset to
offset (``truth``: where the speed crosses ``phase_onset_fraction`` of the movement's peak), and a
minimum-jerk movement of duration T crosses it ``s0 T`` after its start and before its end, with
``16 s0^2 (1 - s0)^2 = fraction`` (0.059 T at 5 %). So a movement meant to last ``d`` by the truth
is programmed ``d / (1 - 2 s0)`` long, and a hold meant to last ``h`` is programmed
``h - s0 (up + down)`` (trapezoidal movements, ``minimum_jerk`` off: no correction). The truth is
still measured from the motion (``set_truth`` judges from it); this only puts the intended
durations where the truth will find them. Ranges (the exercise's target tempo, the default
tolerance ``SetRules.tempo_tolerance_s``):

- good reps (and reps with a lumbar fault): up and down within +-10 % of the target, the hold
  5-30 % longer than the target;
- ``hold_short``: the hold 35-60 % of the target (at least 0.05 s longer than the overlap of the
  two movements' slow ends);
- ``down_short``: the lowering 0.3-0.6 s shorter than the tolerance allows (at least 0.3 s);
- ``up_long``: the rise 0.3-0.8 s longer than the tolerance allows;
- ``too_fast`` (a lumbar-fault list's tempo fault): as in any session (``phase_durations``);
- drifting reps (the last ``drift_reps`` of the last set): good tempo; the lower back arches at
  the top by 30 % rising to 90 % of the extension limit over them (``DRIFT_FRACTIONS``), which the
  program sets as the lumbar angle at the top (the rep's own tilt included).
- the rest before each set after the first: ``set_rest_s`` +-25 %.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from imu_monitor.exercises import Exercise
from imu_monitor.simulator.motion import phase_durations

DRIFT_FRACTIONS = (0.3, 0.9)
"""A drifting rep's arch at the top, from the first to the last drifting rep (fractions of the
extension limit, linear in between)."""
SET_REST_SPREAD = 0.25


@dataclass(frozen=True)
class SetPlan:
    """What a session of sets holds, per rep (all lists of the session's length)."""

    reps_per_set: int
    set_of_rep: list[int]
    rest_before_set_s: list[float]
    """Per set; 0 for the first."""
    tempo_fault_of_rep: list[str | None]
    drift_of_rep: list[float | None]
    """The programmed arch at the top as a fraction of the extension limit, or None."""
    onset_fraction: float
    minimum_jerk: bool

    def starts_set(self, i: int) -> bool:
        return i > 0 and self.set_of_rep[i] != self.set_of_rep[i - 1]


def draw_set_plan(
    seed: int,
    sets: int,
    reps_per_set: int,
    fault_of_rep: list[str | None],
    tempo_faulty: int,
    tempo_faults: tuple[str, ...],
    drift_reps: int,
    set_rest_s: float,
    onset_fraction: float,
    minimum_jerk: bool,
) -> SetPlan:
    """The plan (deterministic for ``seed``; its own random stream, so sessions of one set with
    none of it are drawn as before)."""
    rng = np.random.default_rng([int(seed), 40])
    n = sets * reps_per_set
    drift: list[float | None] = [None] * n
    if drift_reps:
        fr = np.linspace(*DRIFT_FRACTIONS, drift_reps) if drift_reps > 1 else [DRIFT_FRACTIONS[1]]
        for k, f in enumerate(fr):
            drift[n - drift_reps + k] = float(f)
    free = [i for i in range(n) if fault_of_rep[i] is None and drift[i] is None]
    chosen = sorted(rng.choice(free, size=tempo_faulty, replace=False)) if tempo_faulty else []
    tempo: list[str | None] = [None] * n
    for j, i in enumerate(chosen):
        tempo[int(i)] = tempo_faults[j % len(tempo_faults)]
    rests = [0.0] + [
        float(set_rest_s * rng.uniform(1 - SET_REST_SPREAD, 1 + SET_REST_SPREAD))
        for _ in range(sets - 1)
    ]
    return SetPlan(
        reps_per_set=reps_per_set,
        set_of_rep=[i // reps_per_set for i in range(n)],
        rest_before_set_s=rests,
        tempo_fault_of_rep=tempo,
        drift_of_rep=drift,
        onset_fraction=onset_fraction,
        minimum_jerk=minimum_jerk,
    )


def onset_position(fraction: float) -> float:
    """Where (0..1 of its duration) a minimum-jerk movement's speed first reaches ``fraction``
    of its peak: ``16 s^2 (1 - s)^2 = fraction``."""
    return (1.0 - math.sqrt(1.0 - math.sqrt(fraction))) / 2.0


def set_phase_durations(
    rng: np.random.Generator,
    exercise: Exercise,
    plan: SetPlan,
    i: int,
    fault: str | None,
) -> tuple[float, float, float]:
    """Programmed up, hold and down durations (s) of rep ``i`` (module docstring)."""
    if fault == "too_fast":
        return phase_durations(rng, exercise, fault)
    t = exercise.tempo
    tol = exercise.sets.tempo_tolerance_s
    up = t.up_s * float(rng.uniform(0.9, 1.1))
    down = t.down_s * float(rng.uniform(0.9, 1.1))
    hold = t.hold_s * float(rng.uniform(1.05, 1.3))
    kind = plan.tempo_fault_of_rep[i]
    if kind == "down_short":
        down = max(0.3, t.down_s - tol - float(rng.uniform(0.3, 0.6)))
    elif kind == "up_long":
        up = t.up_s + tol + float(rng.uniform(0.3, 0.8))
    s0 = onset_position(plan.onset_fraction) if plan.minimum_jerk else 0.0
    up_p, down_p = up / (1.0 - 2.0 * s0), down / (1.0 - 2.0 * s0)
    overlap = s0 * (up_p + down_p)
    if kind == "hold_short":
        hold = max(t.hold_s * float(rng.uniform(0.35, 0.6)), overlap + 0.05)
    return up_p, hold - overlap, down_p
