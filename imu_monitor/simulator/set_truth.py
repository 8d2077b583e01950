"""The truth about sets and good reps, from the simulated motion, and an analysis scored on it.

Judged from the truth alone (never from the monitor's estimate or code), by the rules a coach
sets (``exercises.SetRules``, the tempo target, the limits):

- *sets*: the program's (``TruthRep.set_index``);
- *lumbar*: a rep is faulty in a direction when the true angle (``scoring.reference_angle``)
  stays past that limit for longer than the dwell within the rep (one sensor in a hip thrust
  or bridge: extension only, as the monitor judges it);
- *tempo*: the true phase durations (movement onset / offset, ``truth``): up and down within
  the tolerance of the target, the hold not shorter than the target; a rep with a lumbar fault
  is not judged on tempo (its rep signal is moved by the fault on one or two sensors);
- *form drift*: per set, the least-squares slope of the true per-rep excursion (the peak in the
  judged direction that is the larger fraction of its limit) and the first rep past
  ``drift_warning_fraction`` of its limit.

Fault codes: ``flexion``, ``extension``, ``up_short``, ``up_long``, ``hold_short``,
``down_short``, ``down_long`` (the words ``analyze --json`` prints).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from imu_monitor.exercises import Exercise
from imu_monitor.model import Truth, TruthRep
from imu_monitor.simulator.scoring import longest_run_s, reference_angle

LUMBAR = ("flexion", "extension")


@dataclass(frozen=True)
class TruthJudgement:
    index: int
    set_index: int
    good: bool
    faults: tuple[str, ...]
    excursion_deg: float
    excursion_fraction: float


def judge_truth(
    truth: Truth, exercise: Exercise, reference_deg: np.ndarray, *, flexion_judged: bool = True
) -> list[TruthJudgement]:
    """Each true rep judged (module docstring); ``reference_deg``: the true angle on
    ``truth.t_s`` the estimate answers to."""
    lim, tempo, tol = exercise.limits, exercise.tempo, exercise.sets.tempo_tolerance_s
    out = []
    for r in truth.reps:
        w = (truth.t_s >= r.t_start_s) & (truth.t_s <= r.t_end_s)
        tw, aw = truth.t_s[w], reference_deg[w]
        faults: list[str] = []
        if flexion_judged and longest_run_s(tw, aw > lim.flexion_deg) > lim.dwell_s:
            faults.append("flexion")
        if longest_run_s(tw, aw < -lim.extension_deg) > lim.dwell_s:
            faults.append("extension")
        if not faults:
            up, hold, down = _phases(r)
            for name, value, target in (("up", up, tempo.up_s), ("down", down, tempo.down_s)):
                if value < target - tol:
                    faults.append(f"{name}_short")
                elif value > target + tol:
                    faults.append(f"{name}_long")
            if hold < tempo.hold_s:
                faults.append("hold_short")
        flex = max(float(aw.max()), 0.0) / lim.flexion_deg if flexion_judged and len(aw) else 0.0
        ext = max(-float(aw.min()), 0.0) / lim.extension_deg if len(aw) else 0.0
        exc = flex * lim.flexion_deg if flex > ext else ext * lim.extension_deg
        out.append(
            TruthJudgement(r.index, r.set_index, not faults, tuple(faults), exc, max(flex, ext))
        )
    return out


def _phases(r: TruthRep) -> tuple[float, float, float]:
    return r.t_top_s - r.t_start_s, r.t_hold_end_s - r.t_top_s, r.t_end_s - r.t_hold_end_s


def _slope(y: list[float]) -> float | None:
    if len(y) < 2:
        return None
    x = np.arange(len(y), dtype=float)
    xm = x - x.mean()
    return float(np.dot(xm, np.asarray(y) - np.mean(y)) / np.dot(xm, xm))


def _match(truth: Truth, detected: list[Any]) -> dict[int, Any]:
    """True rep index -> the detected rep judgement overlapping it most (None: missed)."""
    out = {}
    for tr in truth.reps:
        best, best_ov = None, 0.0
        for d in detected:
            ov = min(tr.t_end_s, d.t_end_s) - max(tr.t_start_s, d.t_start_s)
            if ov > best_ov:
                best, best_ov = d, ov
        out[tr.index] = best
    return out


def score_sets(
    analysis: Any, truth: Truth, reference_deg: np.ndarray, *, flexion_judged: bool = True
) -> dict[str, Any]:
    """An analysis's sets and good reps (``analysis.sets``: ``processing.sets.SessionSets``)
    against the truth. Plain numbers:

    - ``sets_true`` / ``sets_detected``; ``sets_exact``: the detected sets hold exactly the true
      sets' reps;
    - ``good_true`` / ``good_detected``: good reps; ``good_agree``: true reps judged the same
      (good or not; a missed rep disagrees); ``faults_agree``: true reps whose fault codes are
      the same (lumbar directions; tempo codes on reps without a lumbar fault);
      ``tempo_faulty_true`` / ``tempo_faulty_found``: reps with a true tempo fault and those the
      analysis faults on the same phase;
    - ``drift``: per true set, the true and detected slope (deg/rep) and first warning rep
      (true rep index);
    - ``disagreements``: (rep, true faults, detected faults) for each rep judged otherwise.
    """
    exercise = analysis.exercise
    tj = judge_truth(truth, exercise, reference_deg, flexion_judged=flexion_judged)
    judged = list(analysis.sets.judgements)
    match = _match(truth, judged)
    to_true = {id(d): i for i, d in match.items() if d is not None}
    good_agree = faults_agree = tempo_true = tempo_found = 0
    disagreements = []
    for t in tj:
        d = match[t.index]
        d_faults = tuple(d.faults) if d is not None else ("missed",)
        if t.faults and not set(t.faults) & set(LUMBAR):
            tempo_true += 1
            tempo_found += bool(set(t.faults) & set(d_faults))
        same_good = d is not None and d.good == t.good
        good_agree += same_good
        lumbar_d = [f for f in d_faults if f in LUMBAR]
        lumbar_t = [f for f in t.faults if f in LUMBAR]
        same = lumbar_d == lumbar_t and (bool(lumbar_t) or set(d_faults) == set(t.faults))
        faults_agree += same and d is not None
        if not (same_good and same):
            disagreements.append([t.index, list(t.faults), list(d_faults)])
    true_sets = sorted({t.set_index for t in tj})
    true_groups = [[t.index for t in tj if t.set_index == s] for s in true_sets]
    det_groups = [
        [to_true[id(j)] for j in judged if j.set_index == s.index and id(j) in to_true]
        for s in analysis.sets.sets
    ]
    wf = exercise.sets.drift_warning_fraction
    drift = []
    for s, group in zip(true_sets, true_groups, strict=True):
        ts = [t for t in tj if t.set_index == s]
        first_true = next((t.index for t in ts if t.excursion_fraction > wf), None)
        det = [match[t.index] for t in ts if match[t.index] is not None]
        first_det = next((to_true[id(d)] for d in det if d.excursion_fraction > wf), None)
        drift.append(
            {
                "set": s,
                "slope_true_deg_per_rep": _slope([t.excursion_deg for t in ts]),
                "slope_detected_deg_per_rep": _slope([d.excursion_deg for d in det]),
                "first_warning_true": first_true,
                "first_warning_detected": first_det,
                "drifting_reps": [i for i in group if truth.reps[i].drift_fraction is not None],
            }
        )
    return {
        "sets_true": len(true_sets),
        "sets_detected": len(analysis.sets.sets),
        "sets_exact": det_groups == true_groups,
        "reps_true": len(tj),
        "reps_matched": sum(d is not None for d in match.values()),
        "good_true": sum(t.good for t in tj),
        "good_detected": sum(j.good for j in judged),
        "good_agree": good_agree,
        "faults_agree": faults_agree,
        "tempo_faulty_true": tempo_true,
        "tempo_faulty_found": tempo_found,
        "drift": drift,
        "disagreements": disagreements,
    }


def score_analysis_sets(analysis: Any, truth: Truth, meta: dict[str, Any] | None) -> dict[str, Any]:
    """``score_sets`` with the true angle the analysis answers to (``scoring.reference_angle``)
    and its mode (lockout: extension only)."""
    lockout = analysis.mode == "lockout"
    one_sensor = set(truth.segment_pitch_deg) == {"sacrum"}
    ref = reference_angle(truth, meta, one_sensor and not lockout)
    return score_sets(analysis, truth, ref, flexion_judged=not lockout)
