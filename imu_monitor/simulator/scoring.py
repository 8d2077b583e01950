"""Scoring an analysis against ground truth (simulated recordings carry it).

``evaluate`` gives the figures the README has reported so far; ``session_goals`` those of issue
11's goals (against the truth as the human-motion model defines it, see ``truth``), and
``goal_misses`` what keeps one session off them.

Used by ``imu-monitor analyze --json`` (a ``truth`` block when the recording has truth) and by the
accuracy benchmark. Definitions:

- *angle RMSE*: estimated vs true lumbar flexion over the exercise part of the session (from 1 s
  before the first rep to the end), truth interpolated onto the estimate's time base.
- *rep matching*: a detected rep matches the true rep it overlaps most.
- *faulty rep alarmed*: a rep with a lumbar fault (``model.LUMBAR_FAULTS``) has an alarm starting
  between its start and 1 s after its end.
- *false alarm*: an alarm that starts outside every lumbar-faulty rep (same window).
- *alarm delay*: alarm start minus (the time the TRUE angle first crosses the limit + dwell).
- *phase errors*: |estimated - true| duration of each tempo phase of matched reps, also over the
  reps without a lumbar fault only, and over the reps whose split is not flagged
  ``tempo_approximate`` (one sensor in a hip thrust / bridge: the fault moved the rep signal).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from imu_monitor.events import AlarmStarted, MonitorMode, RepEnded
from imu_monitor.exercises import get_exercise
from imu_monitor.model import LUMBAR_FAULTS, Truth

SLACK_S = 1.0

SETUPS: tuple[tuple[str, int], ...] = (
    ("back-kick", 1),
    ("back-kick", 2),
    ("back-kick", 3),
    ("hip-thrust", 1),
    ("hip-thrust", 2),
    ("glute-bridge", 1),
    ("glute-bridge", 2),
)
"""The (exercise, sensor count) setups the benchmarks score: each exercise with every sensor set
it is monitored with (a hip thrust or bridge has no thigh sensor)."""


def live_judgement(pipeline: Any, angle_log: Any, events: list) -> SimpleNamespace:
    """The live monitor's judgement of a stream as the scoring reads an analysis: the angles
    ``angle_log`` (a ``processing.pipeline.AngleLog``) kept of ``pipeline``'s output, its
    ``events``, limits, exercise and mode."""
    return SimpleNamespace(
        angles=SimpleNamespace(
            t_s=angle_log.column("t_s"),
            lumbar_flexion_deg=angle_log.column("lumbar_flexion_deg"),
        ),
        result=SimpleNamespace(
            limits=pipeline.limits,
            events=events,
            reps=[e for e in events if isinstance(e, RepEnded)],
        ),
        exercise=pipeline.exercise,
        mode=pipeline.mode,
    )


def _first_crossing(t: np.ndarray, angle: np.ndarray, flex: float, ext: float) -> float | None:
    beyond = (angle > flex) | (angle < -ext)
    idx = np.flatnonzero(beyond)
    return float(t[idx[0]]) if len(idx) else None


def evaluate(analysis: Any, truth: Truth) -> dict[str, Any]:
    """Compare an ``pipeline.Analysis`` with the recording's truth; returns plain numbers."""
    angles = analysis.angles
    limits = analysis.result.limits if hasattr(analysis.result, "limits") else None
    limits = limits or analysis.exercise.limits
    t = angles.t_s
    true_reps = truth.reps
    t0 = (true_reps[0].t_start_s - SLACK_S) if true_reps else float(t[0])
    sel = t >= t0
    err = angles.lumbar_flexion_deg[sel] - truth.lumbar_at(t[sel])
    if analysis.mode == "lockout":
        # one sensor, trunk rotating: only the lockout (hold) is meaningful
        hold = np.zeros(len(t), bool)
        for r in true_reps:
            hold |= (t >= r.t_top_s) & (t <= r.t_hold_end_s)
        err_hold = angles.lumbar_flexion_deg[hold] - truth.lumbar_at(t[hold])
    else:
        err_hold = None

    detected = list(analysis.result.reps)
    alarms = [e for e in analysis.result.events if isinstance(e, AlarmStarted)]

    # match detected reps to true reps by overlap
    phase_err = []
    phase_lumbar_fault = []
    phase_approximate = []
    matched = 0
    for tr in true_reps:
        best, best_ov = None, 0.0
        for d in detected:
            ov = min(tr.t_end_s, d.t_s) - max(tr.t_start_s, d.t_start_s)
            if ov > best_ov:
                best, best_ov = d, ov
        if best is None:
            continue
        matched += 1
        phase_lumbar_fault.append(tr.fault in LUMBAR_FAULTS)
        phase_approximate.append(best.tempo_approximate)
        phase_err.append(
            [
                best.concentric_s - (tr.t_top_s - tr.t_start_s),
                best.hold_s - (tr.t_hold_end_s - tr.t_top_s),
                best.eccentric_s - (tr.t_end_s - tr.t_hold_end_s),
            ]
        )

    faulty = [r for r in true_reps if r.fault in LUMBAR_FAULTS]
    windows = [(r.t_start_s, r.t_end_s + SLACK_S) for r in faulty]
    alarmed, delays = 0, []
    flex, ext = limits.flexion_deg, limits.extension_deg
    if analysis.mode == "lockout":
        flex = np.inf
    for r in faulty:
        in_rep = [a for a in alarms if r.t_start_s <= a.t_s <= r.t_end_s + SLACK_S]
        if not in_rep:
            continue
        alarmed += 1
        sel_r = (truth.t_s >= r.t_start_s) & (truth.t_s <= r.t_end_s)
        t_cross = _first_crossing(truth.t_s[sel_r], truth.lumbar_flexion_deg[sel_r], flex, ext)
        if t_cross is not None:
            delays.append(in_rep[0].t_s - (t_cross + limits.dwell_s))
    false_alarms = [a for a in alarms if not any(lo <= a.t_s <= hi for lo, hi in windows)]
    good = [r for r in true_reps if r.fault not in LUMBAR_FAULTS]
    too_fast_true = {r.index for r in true_reps if r.fault == "too_fast"}

    pe = np.abs(np.array(phase_err)) if phase_err else np.zeros((0, 3))
    faulted = np.array(phase_lumbar_fault, bool)
    pe_good = pe[~faulted] if len(pe) else pe
    pe_vouched = pe[~np.array(phase_approximate, bool)] if len(pe) else pe
    return {
        "angle_rmse_deg": float(np.sqrt(np.mean(err**2))) if len(err) else None,
        "angle_max_abs_err_deg": float(np.max(np.abs(err))) if len(err) else None,
        "lockout_rmse_deg": (
            float(np.sqrt(np.mean(err_hold**2))) if err_hold is not None and len(err_hold) else None
        ),
        "reps_true": len(true_reps),
        "reps_detected": len(detected),
        "reps_matched": matched,
        "phase_abs_err_max_s": float(pe.max()) if len(pe) else None,
        "phase_abs_err_median_s": float(np.median(pe)) if len(pe) else None,
        "phase_abs_err_max_no_lumbar_fault_s": float(pe_good.max()) if len(pe_good) else None,
        "phase_abs_err_max_not_approximate_s": (
            float(pe_vouched.max()) if len(pe_vouched) else None
        ),
        "tempo_approximate_reps": int(sum(phase_approximate)),
        "lumbar_faulty_reps": len(faulty),
        "lumbar_faulty_alarmed": alarmed,
        "good_reps": len(good),
        "false_alarms": len(false_alarms),
        "alarm_delay_s": delays,
        "too_fast_true": len(too_fast_true),
        "too_fast_flagged": sum(d.too_fast for d in detected),
    }


GOAL_MARGIN_DEG = 1.0
"""Issue 11's goals: a faulty rep must be alarmed when its true lumbar angle stays more than
this far past the limit for longer than the dwell."""


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where ``mask`` is true: the runs' first indices and their ends (exclusive)."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def _goal_excursion(
    t: np.ndarray, angle: np.ndarray, flex: float, ext: float, dwell_s: float
) -> tuple[float, float] | None:
    """The first excursion of a rep's true angle past a limit that the goals require alarmed:
    while past the limit, it stays more than ``GOAL_MARGIN_DEG`` past for longer than the dwell.
    Returns (its crossing of the limit, the end of the rep's previous excursion or its start):
    an alarm is this excursion's when it starts after the latter. None: no such excursion (a
    rep that only touches the limit, within the margin, may be alarmed late or not at all)."""
    beyond = (angle > flex) | (angle < -ext)
    far = (angle > flex + GOAL_MARGIN_DEG) | (angle < -(ext + GOAL_MARGIN_DEG))
    previous = float(t[0]) if len(t) else 0.0
    for a, b in zip(*_runs(beyond), strict=True):
        if longest_run_s(t[a:b], far[a:b]) > dwell_s:
            return float(t[a]), previous
        previous = float(t[b - 1])
    return None


def longest_run_s(t: np.ndarray, beyond: np.ndarray) -> float:
    """Longest time (s) ``beyond`` stays true (consecutive samples; from first to last + 1 dt)."""
    if not np.any(beyond):
        return 0.0
    dt = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
    starts, ends = _runs(beyond)
    return float(np.max(t[ends - 1] - t[starts]) + dt)


def reference_angle(
    truth: Truth, meta: dict[str, Any] | None, one_sensor_trunk: bool
) -> np.ndarray:
    """The true angle an estimate is scored against (deg, on ``truth.t_s``): the lumbar joint
    angle, or with one sensor that does not rotate with the trunk (back kick) and a human-model
    truth, the sacrum segment's own sagittal tilt from its calibrated neutral (flexion positive),
    which is all one sensor can see."""
    about = (meta or {}).get("simulation_truth") or {}
    if one_sensor_trunk and "sacrum_neutral_pitch_deg" in about:
        pitch = truth.segment_pitch_deg["sacrum"]
        return -(pitch - float(about["sacrum_neutral_pitch_deg"]))
    return truth.lumbar_flexion_deg


def session_goals(
    analysis: Any, truth: Truth, meta: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Per-session figures of issue 11's goals (plain numbers; the benchmark aggregates them):

    - ``reps_exact``: the number of detected reps equals the number of true reps.
    - ``goal_faulty_reps``: reps with a lumbar fault whose true angle stays more than
      ``GOAL_MARGIN_DEG`` past a limit for longer than the dwell (lockout mode: the extension
      limit only); ``goal_faulty_alarmed``: those with an alarm of that excursion (starting
      after the rep's previous excursion past the limit, if any, and at most ``SLACK_S`` after
      the rep's end).
    - ``false_alarms``: alarms starting outside every lumbar-faulty rep's window (as ``evaluate``);
      ``false_alarm_angles_deg``: for each, the estimated and the true angle when it fired.
    - ``rmse_deg``: estimate vs ``reference_angle`` over the exercise part (lockout mode: over the
      true holds only), ``rmse_scope`` says which. ``skin_rmse_deg``: over the same samples, the
      RMS of what the skin motion alone puts into that angle (``Truth.skin_error_deg``), which
      no method using the sensors removes; None in lockout mode and without skin motion.
    - ``alarm_delays_s``: per alarmed rep of those the goal requires alarmed, alarm start minus
      (the true crossing of the limit + dwell) for the first excursion that goes past the margin
      (``_goal_excursion``): the alarm it is, the first after the rep's previous excursion.
      ``alarm_delays_within_margin_s``: the same, from the first crossing, for alarmed
      lumbar-faulty reps that never went ``GOAL_MARGIN_DEG`` past for the dwell (0.1-1 deg past
      the limit, an estimate a few tenths of a degree low alarms late there, as the goal allows).
    - ``phase_errors_s``: per matched rep, estimated minus true (concentric, hold, eccentric)
      duration, signed; ``tempo_approximate``: per matched rep, the monitor's own flag.
    """
    angles = analysis.angles
    limits = analysis.result.limits if hasattr(analysis.result, "limits") else None
    limits = limits or analysis.exercise.limits
    lockout = analysis.mode == "lockout"
    t = angles.t_s
    one_sensor = set(truth.segment_pitch_deg) == {"sacrum"}
    ref = reference_angle(truth, meta, one_sensor and not lockout)
    true_reps = truth.reps
    t0 = (true_reps[0].t_start_s - SLACK_S) if true_reps else float(t[0])
    if lockout:
        sel = np.zeros(len(t), bool)
        for r in true_reps:
            sel |= (t >= r.t_top_s) & (t <= r.t_hold_end_s)
        scope = "lockout (true holds)"
    else:
        sel = t >= t0
        scope = "sacrum's own tilt" if ref is not truth.lumbar_flexion_deg else "lumbar joint"
    err = angles.lumbar_flexion_deg[sel] - np.interp(t[sel], truth.t_s, ref)
    skin = truth.skin_error_deg
    skin_err = None if lockout or skin is None else np.interp(t[sel], truth.t_s, skin)

    alarms = [e for e in analysis.result.events if isinstance(e, AlarmStarted)]
    flex = np.inf if lockout else limits.flexion_deg
    ext = limits.extension_deg
    faulty = [r for r in true_reps if r.fault in LUMBAR_FAULTS]
    goal_n = goal_alarmed = 0
    delays = []
    marginal = []
    for r in faulty:
        in_rep = [a for a in alarms if r.t_start_s <= a.t_s <= r.t_end_s + SLACK_S]
        w = (truth.t_s >= r.t_start_s) & (truth.t_s <= r.t_end_s)
        tw, aw = truth.t_s[w], ref[w]
        excursion = _goal_excursion(tw, aw, flex, ext, limits.dwell_s)
        if excursion is not None:
            t_cross, after = excursion
            own = [a for a in in_rep if a.t_s >= after]
            goal_n += 1
            goal_alarmed += bool(own)
            if own:
                delays.append(own[0].t_s - (t_cross + limits.dwell_s))
        else:
            t_cross = _first_crossing(tw, aw, flex, ext)
            if in_rep and t_cross is not None:
                marginal.append(in_rep[0].t_s - (t_cross + limits.dwell_s))
    windows = [(r.t_start_s, r.t_end_s + SLACK_S) for r in faulty]
    false_alarms = [a for a in alarms if not any(lo <= a.t_s <= hi for lo, hi in windows)]

    detected = list(analysis.result.reps)
    phase, approx = [], []
    for tr in true_reps:
        best, best_ov = None, 0.0
        for d in detected:
            ov = min(tr.t_end_s, d.t_s) - max(tr.t_start_s, d.t_start_s)
            if ov > best_ov:
                best, best_ov = d, ov
        if best is None:
            continue
        approx.append(bool(best.tempo_approximate))
        phase.append(
            [
                best.concentric_s - (tr.t_top_s - tr.t_start_s),
                best.hold_s - (tr.t_hold_end_s - tr.t_top_s),
                best.eccentric_s - (tr.t_end_s - tr.t_hold_end_s),
            ]
        )
    return {
        "reps_true": len(true_reps),
        "reps_detected": len(detected),
        "reps_exact": len(detected) == len(true_reps),
        "goal_faulty_reps": goal_n,
        "goal_faulty_alarmed": goal_alarmed,
        "false_alarms": len(false_alarms),
        "false_alarm_angles_deg": [
            [float(a.angle_deg), float(np.interp(a.t_s, truth.t_s, ref))] for a in false_alarms
        ],
        "rmse_deg": float(np.sqrt(np.mean(err**2))) if len(err) else None,
        "rmse_scope": scope,
        "skin_rmse_deg": (
            float(np.sqrt(np.mean(skin_err**2))) if skin_err is not None and len(skin_err) else None
        ),
        "alarm_delays_s": delays,
        "alarm_delays_within_margin_s": marginal,
        "phase_errors_s": phase,
        "tempo_approximate": approx,
    }


GOAL_RMSE_WORST_DEG = 1.5
"""Issue 11: a session's lumbar RMSE at most this (deg), with 2-3 sensors and in the one-sensor
back kick (the sacrum's own tilt)."""
GOAL_DELAY_MAX_S = 0.2
"""Issue 11: an alarm at most this late after the true crossing plus the dwell (s) ..."""
GOAL_DELAY_MAX_ONE_SENSOR_HIP_THRUST_S = 0.4
"""... in the one-sensor hip thrust at most this (s)."""
GOAL_PHASE_MAX_S = 0.2
"""Issue 11: a phase duration at most this far from movement onset / offset (s), with 2-3
sensors and in the one-sensor back kick."""


def goal_misses(goals: dict[str, Any], exercise: str, sensors: int) -> list[str]:
    """What keeps one session (``session_goals``) of a setup off issue 11's goals, one short
    phrase each (empty: none): reps miscounted, a faulty rep unalarmed, a false alarm, the RMSE,
    the latest alarm, the worst phase. The goals that hold per session; those on a p90 or a mean
    hold only over a setup's sessions (the benchmark's tables)."""
    misses = []
    if not goals["reps_exact"]:
        misses.append(f"{goals['reps_detected']} reps counted of {goals['reps_true']}")
    unalarmed = goals["goal_faulty_reps"] - goals["goal_faulty_alarmed"]
    if unalarmed:
        misses.append(f"{unalarmed} of {goals['goal_faulty_reps']} faulty reps not alarmed")
    for est, true in goals["false_alarm_angles_deg"]:
        misses.append(f"false alarm at {est:+.1f} deg (true {true:+.1f})")
    # a one-sensor hip thrust or bridge is judged at lockout alone (``analysis.monitor_mode``)
    judged_whole = sensors >= 2 or get_exercise(exercise).one_sensor_mode == MonitorMode.CONTINUOUS
    rmse = goals["rmse_deg"]
    if judged_whole and rmse is not None and rmse > GOAL_RMSE_WORST_DEG:
        skin = goals.get("skin_rmse_deg")
        alone = "" if skin is None else f" (skin motion alone: {skin:.2f})"
        misses.append(f"RMSE {rmse:.2f} deg{alone}")
    one_hip_thrust = exercise == "hip-thrust" and sensors == 1
    late_s = GOAL_DELAY_MAX_ONE_SENSOR_HIP_THRUST_S if one_hip_thrust else GOAL_DELAY_MAX_S
    delays = goals["alarm_delays_s"]
    if delays and max(delays) > late_s:
        misses.append(f"an alarm {1000 * max(delays):.0f} ms late")
    phase = np.abs(np.asarray(goals["phase_errors_s"], float).reshape(-1, 3))
    if judged_whole and len(phase) and phase.max() > GOAL_PHASE_MAX_S:
        worst = int(phase.max(axis=1).argmax())
        flagged = " (flagged approximate)" if goals["tempo_approximate"][worst] else ""
        misses.append(f"a phase {1000 * phase.max():.0f} ms off{flagged}")
    return misses
