"""The movement program of a simulated session: posture, reps, faults, sway, as smooth tracks.

The body is a kinematic chain in the subject's sagittal frame (x forward, z up, rotated to a
random heading in the world): a root point at the upper thorax (``root``, moving only while
getting into position; in a hip thrust it is the bench edge the trunk pivots on), the upper
lumbar segment hanging from it, the pelvis (sacrum) pivoting at the lumbar joint, and the working
thigh pivoting at the hip. Segment angles are in degrees; the pelvis pitch is the upper-lumbar
pitch minus the lumbar flexion, so lumbar faults move the sacrum, and good reps keep the lumbar
angle within a small smooth sway.

Movement position ``pos``: 0 in the rep start position, 1 at the top. Back kick: calibration at
``pos = 0`` (quadruped), the thigh swings back and up with ``pos``, the pelvis rolls and yaws
with the weight shift. Hip thrust / glute bridge: calibration at ``pos = 1`` (lockout), the trunk
rotates about the bench by ``trunk_rotation * (1 - pos)``, the thigh by ``thigh_rotation``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from imu_monitor.exercises import Exercise
from imu_monitor.model import LUMBAR_FAULTS, Marker, TruthRep
from imu_monitor.simulator.tracks import Signal, SmoothTrack, sway_track

STAND_S = 3.0
"""Standing still at the start (calibration_standing)."""
TRANSITION_S = 2.5
"""Getting from standing into the calibration posture."""
CAL_HOLD_S = 3.0
"""Holding the calibration posture still (calibration_start)."""
LOWER_S = 2.0
"""Hip thrust / bridge: lowering from the calibrated lockout to the bottom before the reps."""
REST_RANGE_S = (0.8, 2.0)
FINAL_REST_S = 1.5
POSTURE_BLEND_S = 0.4
"""Blend width of the slow posture changes (standing -> exercise posture, lowering)."""
REP_BLEND_S = 0.12
"""Blend width of the rep phase boundaries (trapezoidal velocity profile corners)."""
TEMPO_SPREAD = 0.2
"""Phase durations vary by up to +-20 % around the exercise's tempo."""
TOO_FAST_RANGE_S = (0.6, 1.1)
GOOD_LUMBAR_MAX_DEG = 1.2
"""Largest lumbar excursion programmed into a good rep (plus sway, stays within 2.5 deg)."""
FAULT_MARGIN_DEG = 4.5
"""A lumbar fault exceeds the exercise's limit by at least this much."""

# Segment-frame offsets (m) of the kinematic chain (x anterior, y left, z superior).
UPPER_LUMBAR_SENSOR_M = np.array([-0.09, 0.0, -0.18])  # from the root, upper-lumbar frame
LUMBAR_JOINT_M = np.array([-0.03, 0.0, -0.30])  # from the root, upper-lumbar frame
SACRUM_SENSOR_M = np.array([-0.10, 0.0, -0.08])  # from the lumbar joint, pelvis frame
HIP_JOINT_M = np.array([0.03, -0.09, -0.12])  # right hip, from the lumbar joint, pelvis frame
THIGH_SENSOR_M = np.array([0.02, -0.07, -0.20])  # lateral mid-thigh, from the hip, thigh frame
STANDING_ROOT_M = (0.0, 1.35)  # root (x, z) when standing


@dataclass(frozen=True)
class MotionStyle:
    """How one exercise moves (ranges are drawn per session or per rep, degrees / metres)."""

    calibrate_at_top: bool
    trunk_rotation_deg: tuple[float, float]
    thigh_rotation_deg: tuple[float, float]
    pelvis_roll_deg: tuple[float, float]
    """Rotation about the pelvis' own x (anterior) axis; on all fours that axis is vertical, so
    this is the pelvis turning in the horizontal plane (seen by the gyro only)."""
    pelvis_yaw_deg: tuple[float, float]
    """Axial rotation about the pelvis' own z (superior) axis; on all fours that is the
    kicking-side hip rising as the weight shifts onto the support leg (seen by gravity too)."""
    root_m: tuple[float, float]
    fault_deg: dict[str, tuple[float, float]]
    default_faults: tuple[str, ...]


MOTION_STYLES: dict[str, MotionStyle] = {
    "back-kick": MotionStyle(
        calibrate_at_top=False,
        trunk_rotation_deg=(0.0, 0.0),
        thigh_rotation_deg=(70.0, 100.0),
        pelvis_roll_deg=(1.0, 3.0),
        pelvis_yaw_deg=(3.0, 7.0),
        root_m=(0.45, 0.60),
        fault_deg={"extension": (13.0, 20.0), "flexion": (13.0, 20.0), "rocking": (12.0, 18.0)},
        default_faults=("extension", "rocking", "too_fast", "flexion"),
    ),
    "hip-thrust": MotionStyle(
        calibrate_at_top=True,
        trunk_rotation_deg=(40.0, 60.0),
        thigh_rotation_deg=(30.0, 40.0),
        pelvis_roll_deg=(0.0, 1.5),
        pelvis_yaw_deg=(0.0, 1.0),
        root_m=(-0.10, 0.45),
        fault_deg={"extension": (9.0, 15.0), "flexion": (9.0, 15.0), "rocking": (9.0, 15.0)},
        default_faults=("extension", "too_fast"),
    ),
    "glute-bridge": MotionStyle(
        calibrate_at_top=True,
        trunk_rotation_deg=(20.0, 30.0),
        thigh_rotation_deg=(25.0, 35.0),
        pelvis_roll_deg=(0.0, 1.5),
        pelvis_yaw_deg=(0.0, 1.0),
        root_m=(-0.10, 0.12),
        fault_deg={"extension": (9.0, 15.0), "flexion": (9.0, 15.0), "rocking": (9.0, 15.0)},
        default_faults=("extension", "too_fast"),
    ),
}

DOFS: tuple[str, ...] = (
    "upper_lumbar.pitch",
    "upper_lumbar.roll",
    "upper_lumbar.yaw",
    "sacrum.pitch",
    "sacrum.roll",
    "sacrum.yaw",
    "thigh.pitch",
    "thigh.roll",
    "thigh.yaw",
    "root.x",
    "root.z",
)
"""The program's signals: segment angles (deg) and the root position (m, subject frame)."""


@dataclass
class MotionProgram:
    """A whole session's movement. ``signals``: one ``Signal`` per name in ``DOFS``."""

    heading_rad: float
    signals: dict[str, Signal]
    reps: list[TruthRep]
    markers: list[Marker]
    duration_s: float
    calibration_window_s: tuple[float, float]
    standing_window_s: tuple[float, float]
    fault_amplitudes_deg: dict[int, float] = field(default_factory=dict)


@dataclass
class _RepParams:
    thigh_deg: float
    roll_deg: float
    yaw_deg: float
    rest_roll_deg: float = 0.0
    rest_yaw_deg: float = 0.0
    """Where the pelvis rests before this rep (``rest_offsets_deg`` of ``build_program``)."""


class _Keyframes:
    """Collects knots (time, blend width, values) for the pose signals."""

    def __init__(self) -> None:
        self.t: list[float] = []
        self.w: list[float] = []
        self.values: dict[str, list[float]] = {}

    def add(self, t: float, w: float, pose: dict[str, float]) -> None:
        if self.t and t <= self.t[-1]:
            raise ValueError(f"keyframe at {t} s is not after {self.t[-1]} s")
        self.t.append(t)
        self.w.append(w)
        for k, v in pose.items():
            self.values.setdefault(k, []).append(v)

    def track(self, name: str) -> SmoothTrack:
        return SmoothTrack(np.array(self.t), np.array(self.values[name]), np.array(self.w))


def session_markers(
    exercise: Exercise,
    standing_window: tuple[float, float],
    cal_window: tuple[float, float],
    first: TruthRep,
    last: TruthRep,
    sets: list[tuple[TruthRep, TruthRep]] | None = None,
) -> list[Marker]:
    """The markers a simulated session carries: both calibration captures (windows in s) and
    the set around the reps from ``first`` to ``last`` (or each of ``sets``: first and last
    rep of each)."""
    set_data = {"exercise": exercise.name}
    sets = sets or [(first, last)]
    out = [
        Marker(
            standing_window[0], "calibration_standing", standing_window[1], {"posture": "standing"}
        ),
        Marker(
            cal_window[0],
            "calibration_start",
            cal_window[1],
            {"exercise": exercise.name, "posture": exercise.calibration_posture},
        ),
    ]
    for a, b in sets:
        out.append(Marker(a.t_start_s - 0.4, "set_start", None, dict(set_data)))
        out.append(Marker(b.t_end_s + 1.0, "set_end", None, dict(set_data)))
    return out


def phase_durations(
    rng: np.random.Generator,
    exercise: Exercise,
    fault: str | None,
    spread: float = TEMPO_SPREAD,
    tempo_scale: float = 1.0,
) -> tuple[float, float, float]:
    """Concentric, hold and eccentric durations (s) of one rep: a too-fast rep's drawn within
    ``TOO_FAST_RANGE_S``, else the exercise's tempo times ``tempo_scale`` (a person slower or
    faster than the target), each phase scaled by a factor drawn within 1 +- ``spread`` (the same
    random draws whatever the spread or scale)."""
    tempo = exercise.tempo
    if fault == "too_fast":
        hi = min(TOO_FAST_RANGE_S[1], 0.75 * tempo.min_rep_s)
        total = rng.uniform(min(TOO_FAST_RANGE_S[0], 0.8 * hi), hi)
        frac = np.array([0.4, 0.15, 0.45]) * rng.uniform(0.9, 1.1, 3)
        up, hold, down = total * frac / frac.sum()
        return float(up), float(hold), float(down)
    f = rng.uniform(1.0 - spread, 1.0 + spread, 3) * tempo_scale
    return tempo.up_s * f[0], tempo.hold_s * f[1], tempo.down_s * f[2]


def _fault_amplitude(
    rng: np.random.Generator, style: MotionStyle, exercise: Exercise, fault: str, limit_deg: float
) -> float:
    lo, hi = style.fault_deg[fault]
    lo = max(lo, limit_deg + FAULT_MARGIN_DEG)
    hi = max(hi, lo + 2.0)
    return float(rng.uniform(lo, hi))


def _lumbar_knots(
    rng: np.random.Generator,
    style: MotionStyle,
    exercise: Exercise,
    rep: TruthRep,
    w: float,
) -> tuple[list[tuple[float, float, float]], float]:
    """Knots (t, flexion deg, blend width) of the lumbar flexion during one rep, and the fault
    amplitude (0 for good reps)."""
    t0, t1, t2, t3 = rep.t_start_s, rep.t_top_s, rep.t_hold_end_s, rep.t_end_s
    lim = exercise.limits
    if rep.fault in ("extension", "flexion"):
        sign = -1.0 if rep.fault == "extension" else 1.0
        limit = lim.extension_deg if rep.fault == "extension" else lim.flexion_deg
        amp = _fault_amplitude(rng, style, exercise, rep.fault, limit)
        ramp_in, ramp_out = rng.uniform(0.3, 0.5, 2)
        # in: mostly before the top, reached early in the hold; out: early in the lowering
        a = t1 - 0.5 * ramp_in
        b = min(t1 + 0.5 * ramp_in, t1 + 0.5 * (t2 - t1))
        c = t2
        d = t2 + min(ramp_out, 0.6 * (t3 - t2))
        return [
            (t0, 0.0, w),
            (a, 0.0, w),
            (b, sign * amp, w),
            (c, sign * amp, w),
            (d, 0.0, w),
            (t3, 0.0, w),
        ], amp
    if rep.fault == "rocking":
        first = float(rng.choice([-1.0, 1.0]))
        a_flex = _fault_amplitude(rng, style, exercise, "rocking", lim.flexion_deg)
        a_ext = _fault_amplitude(rng, style, exercise, "rocking", lim.extension_deg)
        amps = (a_flex, -a_ext) if first > 0 else (-a_ext, a_flex)
        dur = t3 - t0
        fr = [0.05, 0.25, 0.33, 0.62, 0.70, 0.92]
        vals = [0.0, amps[0], amps[0], amps[1], amps[1], 0.0]
        knots = [(t0, 0.0, w)] + [(t0 + f * dur, v, w) for f, v in zip(fr, vals, strict=True)]
        return knots + [(t3, 0.0, w)], max(a_flex, a_ext)
    e = float(rng.uniform(-GOOD_LUMBAR_MAX_DEG, GOOD_LUMBAR_MAX_DEG))
    return [(t0, 0.0, w), (t1, e, w), (t2, e, w), (t3, 0.0, w)], 0.0


def build_program(
    exercise: Exercise,
    reps: int,
    fault_of_rep: list[str | None],
    rng: np.random.Generator,
    rest_offsets_deg: np.ndarray | None = None,
) -> MotionProgram:
    """Build the whole session's movement program (deterministic for a generator state).

    ``fault_of_rep``: length ``reps``, the fault of each rep (None for good reps).
    ``rest_offsets_deg``: optional (reps, 2), how far the pelvis' rest posture after each rep
    is turned from the calibration posture (about its x and its z axis, degrees): people do not
    come back to exactly the same posture between reps. None: they do.
    """
    style = MOTION_STYLES[exercise.name]
    heading = float(rng.uniform(0.0, 2.0 * math.pi))
    side = float(rng.choice([-1.0, 1.0]))
    trunk_rot = float(rng.uniform(*style.trunk_rotation_deg))
    thigh_rot = float(rng.uniform(*style.thigh_rotation_deg))
    pos_cal = 1.0 if style.calibrate_at_top else 0.0

    def pose(pos: float, rp: _RepParams) -> dict[str, float]:
        return {
            "upper_lumbar.pitch": exercise.start_pitch_deg + trunk_rot * (pos_cal - pos),
            "thigh.pitch": exercise.thigh_start_pitch_deg + rp.thigh_deg * (pos - pos_cal),
            "sacrum.roll": rp.rest_roll_deg + side * rp.roll_deg * pos,
            "sacrum.yaw": rp.rest_yaw_deg + side * rp.yaw_deg * pos,
            "root.x": style.root_m[0],
            "root.z": style.root_m[1],
        }

    neutral = _RepParams(thigh_rot, 0.0, 0.0)
    standing = {k: 0.0 for k in pose(0.0, neutral)}
    standing["root.x"], standing["root.z"] = STANDING_ROOT_M

    keys = _Keyframes()
    keys.add(0.0, POSTURE_BLEND_S, standing)
    keys.add(STAND_S, POSTURE_BLEND_S, standing)
    t_cal0 = STAND_S + TRANSITION_S
    keys.add(t_cal0, POSTURE_BLEND_S, pose(pos_cal, neutral))
    t_cal1 = t_cal0 + CAL_HOLD_S
    t = t_cal1
    if style.calibrate_at_top:
        keys.add(t_cal1, POSTURE_BLEND_S, pose(1.0, neutral))
        t = t_cal1 + LOWER_S
        keys.add(t, POSTURE_BLEND_S, pose(0.0, neutral))

    # the pelvis' rest posture before each rep and after the last (the first: the calibration's)
    offsets = np.zeros((reps, 2)) if rest_offsets_deg is None else rest_offsets_deg
    rests = [(0.0, 0.0)] + [(float(r), float(y)) for r, y in offsets]
    flex_knots: list[tuple[float, float, float]] = [(0.0, 0.0, REP_BLEND_S)]
    truth_reps: list[TruthRep] = []
    amplitudes: dict[int, float] = {}
    for i, fault in enumerate(fault_of_rep):
        up, hold, down = phase_durations(rng, exercise, fault)
        rp = _RepParams(
            thigh_rot * (1.0 if style.calibrate_at_top else float(rng.uniform(0.9, 1.1))),
            float(rng.uniform(*style.pelvis_roll_deg)),
            float(rng.uniform(*style.pelvis_yaw_deg)),
            *rests[i],
        )
        w = min(REP_BLEND_S, 0.9 * min(up, hold, down))
        t0 = t + float(rng.uniform(*REST_RANGE_S))
        t_top, t_hold_end = float(t0 + up), float(t0 + up + hold)
        rep = TruthRep(i, float(t0), t_top, t_hold_end, float(t_hold_end + down), fault)
        keys.add(rep.t_start_s, w, pose(0.0, rp))
        keys.add(rep.t_top_s, w, pose(1.0, rp))
        keys.add(rep.t_hold_end_s, w, pose(1.0, rp))
        after = dataclasses.replace(rp, rest_roll_deg=rests[i + 1][0], rest_yaw_deg=rests[i + 1][1])
        keys.add(rep.t_end_s, w, pose(0.0, after))
        knots, amp = _lumbar_knots(rng, style, exercise, rep, w)
        flex_knots.extend(knots)
        if amp:
            amplitudes[i] = amp
        truth_reps.append(rep)
        t = rep.t_end_s
    duration = t + FINAL_REST_S
    keys.add(
        duration,
        REP_BLEND_S,
        pose(
            0.0, dataclasses.replace(neutral, rest_roll_deg=rests[-1][0], rest_yaw_deg=rests[-1][1])
        ),
    )

    ft, fv, fw = (np.array(c) for c in zip(*flex_knots, strict=True))
    flexion = SmoothTrack(ft, fv, fw)

    def sway(amp_deg: float) -> SmoothTrack:
        return sway_track(rng, amp_deg, duration)

    signals: dict[str, Signal] = {
        "upper_lumbar.pitch": Signal().plus(keys.track("upper_lumbar.pitch")).plus(sway(0.12)),
        "upper_lumbar.roll": Signal().plus(sway(0.1)),
        "upper_lumbar.yaw": Signal(),
        "sacrum.pitch": Signal()
        .plus(keys.track("upper_lumbar.pitch"))
        .plus(flexion, -1.0)
        .plus(sway(0.12)),
        "sacrum.roll": Signal().plus(keys.track("sacrum.roll")).plus(sway(0.1)),
        "sacrum.yaw": Signal().plus(keys.track("sacrum.yaw")),
        "thigh.pitch": Signal().plus(keys.track("thigh.pitch")).plus(sway(0.2)),
        "thigh.roll": Signal().plus(sway(0.15)),
        "thigh.yaw": Signal(),
        "root.x": Signal().plus(keys.track("root.x")),
        "root.z": Signal().plus(keys.track("root.z")),
    }

    margin = POSTURE_BLEND_S / 2.0 + 0.1
    standing_window = (0.0, STAND_S - margin)
    cal_window = (t_cal0 + margin, t_cal1 - margin)
    first, last = truth_reps[0], truth_reps[-1]
    markers = session_markers(exercise, standing_window, cal_window, first, last)
    return MotionProgram(
        heading_rad=heading,
        signals=signals,
        reps=truth_reps,
        markers=markers,
        duration_s=duration,
        calibration_window_s=cal_window,
        standing_window_s=standing_window,
        fault_amplitudes_deg=amplitudes,
    )


def is_lumbar_fault(fault: str | None) -> bool:
    return fault in LUMBAR_FAULTS
