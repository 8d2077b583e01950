"""The human-motion program: how a person, not a machine, does the exercises.

Same kinematic chain, degrees of freedom and calibration protocol as ``motion`` (read its module
docstring), but every movement is a point-to-point minimum-jerk movement (bell-shaped velocity,
Flash & Hogan 1985, J Neurosci 5:1688), and nothing repeats exactly. Each feature has its own
switch (``HumanFeatures``) and its own seeded random stream, so switching one off leaves the
others' draws unchanged (for ablations). Ranges, with units:

- ``minimum_jerk``: movements follow ``10 s^3 - 15 s^4 + 6 s^5`` between their end postures; off:
  the same knots joined by the ramp model's trapezoidal profiles (``SmoothTrack``).
- ``rep_variation``: each rep's range of motion is scaled by 0.85-1.15 (+-15 % depth; hip thrust
  and bridge: the bottom varies, the lockout falls 0-3 % of the range short of the calibrated
  one) and each phase's duration by 0.80-1.20 (+-20 %) around the exercise's tempo; rests between
  reps 0.8-2.5 s. Off: every rep at the exercise's tempo and full range, rests of 1.4 s.
- ``pelvis_motion``: even in good form the pelvis rolls 1-3 deg, turns (axial) 1-3 deg (back kick
  3-7 deg: the kicking-side hip rises as the weight shifts), shifts sideways 10-30 mm (weight
  shift) and tilts 1-3 deg (lumbar angle change, either sign) with each rep; the roll, turn
  and shift lead the leg by 50-200 ms (anticipatory weight shift). Off: none of it.
- ``rest_postures``: between reps the pelvis rests turned by up to +-0.5 deg about its x and z
  axes, and the lumbar angle differs by up to +-0.4 deg from the calibrated neutral (uniform, "a
  few tenths"; hip thrust / bridge: at each lockout too). Off: every rest is the calibrated one.
  ``rest_variation_deg`` of the config, when > 0, replaces the +-0.5 deg roll/turn range.
- ``breathing``: 12-20 breaths/min (adult resting respiratory rate); the thorax pitches
  0.2-0.5 deg and the pelvis 0.05-0.15 deg the other way with each breath (amplitudes), so the
  lumbar angle oscillates by 0.25-0.65 deg (amplitude), plus a 2nd harmonic at 10-25 % of it.
  Lumbar/pelvic motion with breathing is small and not well quantified in the literature; these
  values are an assumption at the sub-degree level the sensors resolve.

Physiological sway (sub-degree wander, ``sway_track``) is always on, as in the ramp model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from imu_monitor.exercises import Exercise
from imu_monitor.model import TruthRep
from imu_monitor.simulator.motion import (
    CAL_HOLD_S,
    FINAL_REST_S,
    LOWER_S,
    MOTION_STYLES,
    STAND_S,
    STANDING_ROOT_M,
    TRANSITION_S,
    MotionProgram,
    MotionStyle,
    phase_durations,
    session_markers,
)
from imu_monitor.simulator.set_plan import SetPlan, set_phase_durations
from imu_monitor.simulator.tracks import (
    MinimumJerkTrack,
    Signal,
    SineTrack,
    SmoothTrack,
    Track,
    sway_track,
)

DEPTH_SPREAD = 0.15
"""Rep range of motion varies by +-15 % (``rep_variation``)."""
TIMING_SPREAD = 0.20
"""Phase durations vary by +-20 % (``rep_variation``)."""
LOCKOUT_SHORTFALL = 0.03
"""Hip thrust / bridge: a lockout falls up to 3 % of the range short of the calibrated one."""
REST_S = (0.8, 2.5)
"""The rest at the bottom between reps (s; ``rep_variation``), unless the session gives its own
(``SimulationConfig.rep_rest_s``; 0.25-0.5: touch-and-go)."""
MIN_REST_S = 0.25
"""The shortest rest between reps the model makes: the pelvis leads the leg by up to
``LEAD_S``'s 0.2 s."""
FIXED_REST_S = 1.4
PELVIS_ROLL_DEG = (1.0, 3.0)
PELVIS_TURN_DEG = (1.0, 3.0)
BACK_KICK_TURN_DEG = (3.0, 7.0)
PELVIS_SHIFT_M = (0.010, 0.030)
PELVIS_TILT_DEG = (1.0, 3.0)
LEAD_S = (0.05, 0.20)
REST_TURN_DEG = 0.5
REST_LUMBAR_DEG = 0.4
BREATHS_PER_MIN = (12.0, 20.0)
BREATH_THORAX_DEG = (0.2, 0.5)
BREATH_PELVIS_DEG = (0.05, 0.15)
FAULT_OVER_LIMIT_DEG = (0.5, 8.0)
"""A lumbar fault peaks this far beyond the exercise's limit (deg): some barely, most clearly."""
MARGIN_S = 0.3
"""Calibration windows start/end this long inside the still postures."""


@dataclass(frozen=True)
class HumanFeatures:
    """The switches of the human-motion model (see the module docstring for each)."""

    minimum_jerk: bool = True
    rep_variation: bool = True
    pelvis_motion: bool = True
    rest_postures: bool = True
    breathing: bool = True

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


class _Knots:
    """Per-signal knot lists (time s, value); each signal's times strictly increasing."""

    def __init__(self, minimum_jerk: bool) -> None:
        self.minimum_jerk = minimum_jerk
        self.knots: dict[str, list[tuple[float, float]]] = {}

    def add(self, name: str, t: float, v: float) -> None:
        lst = self.knots.setdefault(name, [])
        if lst and t <= lst[-1][0]:
            raise ValueError(f"knot of {name} at {t} s is not after {lst[-1][0]} s")
        lst.append((float(t), float(v)))

    def track(self, name: str) -> Track:
        t, v = (np.array(c) for c in zip(*self.knots[name], strict=True))
        if self.minimum_jerk:
            return MinimumJerkTrack(t, v)
        w = 0.9 * np.min(np.diff(t)) if t.size > 1 else 0.1
        return SmoothTrack(t, v, min(0.12, w))


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), 20, stream])


def _fault_knots(
    rng: np.random.Generator, exercise: Exercise, fault: str | None, times: tuple[float, ...]
) -> tuple[list[tuple[float, float]], float]:
    """Knots (t, lumbar flexion deg) of a lumbar fault within one rep, and its peak (0: none)."""
    t0, t1, t2, t3 = times
    lim = exercise.limits
    if fault in ("extension", "flexion"):
        sign = -1.0 if fault == "extension" else 1.0
        limit = lim.extension_deg if fault == "extension" else lim.flexion_deg
        amp = limit + float(rng.uniform(*FAULT_OVER_LIMIT_DEG))
        ramp_in, ramp_out = rng.uniform(0.4, 0.7, 2)
        a = t1 - 0.6 * ramp_in
        b = min(t1 + 0.4 * ramp_in, t1 + 0.5 * (t2 - t1))
        d = t2 + min(ramp_out, 0.7 * (t3 - t2))
        return [(t0, 0.0), (a, 0.0), (b, sign * amp), (t2, sign * amp), (d, 0.0), (t3, 0.0)], amp
    if fault == "rocking":
        a_flex = lim.flexion_deg + float(rng.uniform(*FAULT_OVER_LIMIT_DEG))
        a_ext = lim.extension_deg + float(rng.uniform(*FAULT_OVER_LIMIT_DEG))
        amps = (a_flex, -a_ext) if rng.random() < 0.5 else (-a_ext, a_flex)
        dur = t3 - t0
        fr = [0.05, 0.25, 0.35, 0.60, 0.70, 0.92]
        vals = [0.0, amps[0], amps[0], amps[1], amps[1], 0.0]
        return [(t0, 0.0)] + [(t0 + f * dur, v) for f, v in zip(fr, vals, strict=True)] + [
            (t3, 0.0)
        ], max(a_flex, a_ext)
    return [], 0.0


def _drift_knots(times: tuple[float, ...], value: float) -> list[tuple[float, float]]:
    """Knots (t, lumbar flexion deg) of a drifting rep: ``value`` added from just before the top
    to early in the lowering (as an arched lockout, with fixed ramps)."""
    t0, t1, t2, t3 = times
    a, b = t1 - 0.3, min(t1 + 0.2, t1 + 0.5 * (t2 - t1))
    d = t2 + min(0.5, 0.7 * (t3 - t2))
    return [(t0, 0.0), (a, 0.0), (b, value), (t2, value), (d, 0.0), (t3, 0.0)]


def build_human_program(
    exercise: Exercise,
    reps: int,
    fault_of_rep: list[str | None],
    seed: int,
    features: HumanFeatures,
    rest_variation_deg: float = 0.0,
    plan: SetPlan | None = None,
    tempo_scale: float = 1.0,
    rest_s: tuple[float, float] = REST_S,
    kick_turn_deg: tuple[float, float] = BACK_KICK_TURN_DEG,
    depth_spread: float = DEPTH_SPREAD,
) -> MotionProgram:
    """The whole session's movement (deterministic for ``seed``). ``fault_of_rep``: length
    ``reps``. The returned reps carry the *programmed* movement knots (start of the rise, end of
    the rise, start of the lowering, end of the lowering); the truth's phase boundaries are
    measured from the resulting motion (``truth.phase_truth``). ``plan``: a session of sets
    (``set_plan``): set rests, phase durations, tempo faults and form drift. ``tempo_scale``:
    each phase lasts this many times the exercise's tempo (a session without sets).
    ``rest_s``: the range the rest at the bottom between reps is drawn from (``REST_S``).
    ``kick_turn_deg``: the range a back kick's turn of the pelvis about its long axis is drawn
    from (``BACK_KICK_TURN_DEG``). ``depth_spread``: each rep's range of motion is scaled by
    1 +- this (``DEPTH_SPREAD``)."""
    style: MotionStyle = MOTION_STYLES[exercise.name]
    base = _rng(seed, 0)
    heading = float(base.uniform(0.0, 2.0 * math.pi))
    side = float(base.choice([-1.0, 1.0]))
    trunk_rot = float(base.uniform(*style.trunk_rotation_deg))
    thigh_rot = float(base.uniform(*style.thigh_rotation_deg))
    at_top = style.calibrate_at_top
    pos_cal = 1.0 if at_top else 0.0
    timing, depth, pelvis, rest, breath, faults_rng = (_rng(seed, k) for k in range(1, 7))

    def vary(rng: np.random.Generator, spread: float, n: int) -> np.ndarray:
        return rng.uniform(1.0 - spread, 1.0 + spread, n) if features.rep_variation else np.ones(n)

    # levels of the driving position (0 bottom .. 1 calibrated top) per rep / per rest
    amp = vary(depth, depth_spread, reps)
    if at_top:
        short = depth.uniform(0.0, LOCKOUT_SHORTFALL, reps) if features.rep_variation else 0 * amp
        tops = 1.0 - short
        bottoms = np.concatenate([tops - amp, [tops[-1] - amp[-1]]])  # rest j: before rep j
    else:
        tops = amp
        bottoms = np.zeros(reps + 1)

    # pelvis: per-rep movement and per-rest posture
    pm = features.pelvis_motion
    roll = pelvis.uniform(*PELVIS_ROLL_DEG, reps) * (1.0 if pm else 0.0)
    turn_range = kick_turn_deg if exercise.name == "back-kick" else PELVIS_TURN_DEG
    turn = pelvis.uniform(*turn_range, reps) * (1.0 if pm else 0.0)
    shift = pelvis.uniform(*PELVIS_SHIFT_M, reps) * (1.0 if pm else 0.0)
    tilt = pelvis.uniform(*PELVIS_TILT_DEG, reps) * pelvis.choice([-1.0, 1.0], reps)
    tilt = tilt * (1.0 if pm else 0.0)
    lead = pelvis.uniform(*LEAD_S, reps) if pm else np.zeros(reps)
    rv = rest_variation_deg if rest_variation_deg > 0 else REST_TURN_DEG
    on = 1.0 if features.rest_postures else 0.0
    rest_roll = np.concatenate([[0.0], rest.uniform(-rv, rv, reps)]) * on
    rest_turn = np.concatenate([[0.0], rest.uniform(-rv, rv, reps)]) * on
    rest_lumbar = (
        np.concatenate([[0.0], rest.uniform(-REST_LUMBAR_DEG, REST_LUMBAR_DEG, reps)]) * on
    )
    if at_top:  # the bottom of a thrust tilts the pelvis; the lockout is the calibrated posture
        lumbar_bottom = rest_lumbar + np.concatenate([tilt, tilt[-1:]])
        lumbar_top = rest_lumbar[:reps]
    else:
        lumbar_bottom, lumbar_top = rest_lumbar, rest_lumbar[:reps] + tilt

    keys = _Knots(features.minimum_jerk)
    names_pose = ("trunk", "thigh", "sacrum.roll", "sacrum.yaw", "root.x", "root.y", "root.z")
    names_pose += ("lumbar",)

    def pose(level: float) -> dict[str, float]:
        return {
            "trunk": exercise.start_pitch_deg + trunk_rot * (pos_cal - level),
            "thigh": exercise.thigh_start_pitch_deg + thigh_rot * (level - pos_cal),
        }

    standing = dict.fromkeys(names_pose, 0.0)
    standing["root.x"], standing["root.z"] = STANDING_ROOT_M
    posture = {
        **pose(pos_cal),
        "sacrum.roll": 0.0,
        "sacrum.yaw": 0.0,
        "root.x": style.root_m[0],
        "root.y": 0.0,
        "root.z": style.root_m[1],
        "lumbar": 0.0,
    }
    t_cal0 = STAND_S + TRANSITION_S
    t_cal1 = t_cal0 + CAL_HOLD_S
    for name in names_pose:
        keys.add(name, 0.0, standing[name])
        keys.add(name, STAND_S, standing[name])
        keys.add(name, t_cal0, posture[name])
        keys.add(name, t_cal1, posture[name])
    t = t_cal1
    if at_top:
        t = t_cal1 + LOWER_S
        low = pose(float(bottoms[0]))
        keys.add("trunk", t, low["trunk"])
        keys.add("thigh", t, low["thigh"])
        keys.add("lumbar", t, float(lumbar_bottom[0]))

    fault_knots: list[tuple[float, float]] = [(0.0, 0.0)]
    program_reps: list[TruthRep] = []
    amplitudes: dict[int, float] = {}
    for i, fault in enumerate(fault_of_rep):
        spread = TIMING_SPREAD if features.rep_variation else 0.0
        if plan is None:
            up, hold, down = phase_durations(timing, exercise, fault, spread, tempo_scale)
        else:
            up, hold, down = set_phase_durations(timing, exercise, plan, i, fault)
        gap = float(timing.uniform(*rest_s)) if features.rep_variation else FIXED_REST_S
        if plan is not None and plan.starts_set(i):
            gap = plan.rest_before_set_s[plan.set_of_rep[i]]
        t0 = t + gap
        times = (t0, t0 + up, t0 + up + hold, t0 + up + hold + down)
        top, b0, b1 = pose(float(tops[i])), pose(float(bottoms[i])), pose(float(bottoms[i + 1]))
        for name, vals in (
            ("trunk", (b0["trunk"], top["trunk"], top["trunk"], b1["trunk"])),
            ("thigh", (b0["thigh"], top["thigh"], top["thigh"], b1["thigh"])),
            (
                "lumbar",
                (lumbar_bottom[i], lumbar_top[i], lumbar_top[i], lumbar_bottom[i + 1]),
            ),
        ):
            for tk, v in zip(times, vals, strict=True):
                keys.add(name, tk, float(v))
        # the weight shift: roll, turn and sideways shift, leading the leg
        lt = tuple(tk - float(lead[i]) for tk in times)
        for name, rest_vals, peak in (
            ("sacrum.roll", rest_roll, side * roll[i]),
            ("sacrum.yaw", rest_turn, side * turn[i]),
            ("root.y", np.zeros(reps + 1), -side * shift[i]),
        ):
            r0, r1 = float(rest_vals[i]), float(rest_vals[i + 1])
            for tk, v in zip(lt, (r0, r0 + peak, r0 + peak, r1), strict=True):
                keys.add(name, tk, float(v))
        knots, fault_amp = _fault_knots(faults_rng, exercise, fault, times)
        drift = None if plan is None else plan.drift_of_rep[i]
        if drift is not None:  # arched at the top to this fraction of the limit, tilt included
            knots = _drift_knots(times, -drift * exercise.limits.extension_deg - lumbar_top[i])
        fault_knots.extend(knots)
        if fault_amp:
            amplitudes[i] = fault_amp
        rep = TruthRep(i, *(float(x) for x in times), fault)
        if plan is not None:
            rep.set_index, rep.drift_fraction = plan.set_of_rep[i], drift
            rep.tempo_fault = plan.tempo_fault_of_rep[i]
        program_reps.append(rep)
        t = times[3]
    duration = t + FINAL_REST_S
    for name in names_pose:
        last_t, last_v = keys.knots[name][-1]
        keys.add(name, max(duration, last_t + 0.5), last_v)

    sway_rng = _rng(seed, 7)

    def sway(amp_deg: float) -> SmoothTrack:
        return sway_track(sway_rng, amp_deg, duration)

    ft, fv = (np.array(c) for c in zip(*fault_knots, strict=True))
    faults_track: Track = (
        MinimumJerkTrack(ft, fv) if features.minimum_jerk else SmoothTrack(ft, fv, 0.12)
    )
    trunk = Signal().plus(keys.track("trunk")).plus(sway(0.12))
    pelvis_pitch = trunk.plus(keys.track("lumbar"), -1.0).plus(faults_track, -1.0).plus(sway(0.12))
    if features.breathing:
        rate_hz = float(breath.uniform(*BREATHS_PER_MIN)) / 60.0
        phase = float(breath.uniform(0.0, 2.0 * math.pi))
        harmonic = float(breath.uniform(0.10, 0.25))
        a_thorax = float(breath.uniform(*BREATH_THORAX_DEG))
        a_pelvis = float(breath.uniform(*BREATH_PELVIS_DEG))
        freqs = np.array([rate_hz, 2.0 * rate_hz])
        phases = np.array([phase, 2.0 * phase + 1.0])
        trunk = trunk.plus(SineTrack(a_thorax * np.array([1.0, harmonic]), freqs, phases))
        pelvis_pitch = pelvis_pitch.plus(
            SineTrack(-a_pelvis * np.array([1.0, harmonic]), freqs, phases)
        )
    signals: dict[str, Signal] = {
        "upper_lumbar.pitch": trunk,
        "upper_lumbar.roll": Signal().plus(sway(0.1)),
        "upper_lumbar.yaw": Signal(),
        "sacrum.pitch": pelvis_pitch,
        "sacrum.roll": Signal().plus(keys.track("sacrum.roll")).plus(sway(0.1)),
        "sacrum.yaw": Signal().plus(keys.track("sacrum.yaw")),
        "thigh.pitch": Signal().plus(keys.track("thigh")).plus(sway(0.2)),
        "thigh.roll": Signal().plus(sway(0.15)),
        "thigh.yaw": Signal(),
        "root.x": Signal().plus(keys.track("root.x")),
        "root.y": Signal().plus(keys.track("root.y")),
        "root.z": Signal().plus(keys.track("root.z")),
    }
    standing_window = (0.0, STAND_S - MARGIN_S)
    cal_window = (t_cal0 + MARGIN_S, t_cal1 - MARGIN_S)
    first, last = program_reps[0], program_reps[-1]
    sets = None
    if plan is not None:
        n = plan.reps_per_set
        sets = [(program_reps[k], program_reps[k + n - 1]) for k in range(0, len(program_reps), n)]
    markers = session_markers(exercise, standing_window, cal_window, first, last, sets)
    return MotionProgram(
        heading_rad=heading,
        signals=signals,
        reps=program_reps,
        markers=markers,
        duration_s=duration,
        calibration_window_s=cal_window,
        standing_window_s=standing_window,
        fault_amplitudes_deg=amplitudes,
    )
