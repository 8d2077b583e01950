"""Ground truth defined the way biomechanics defines it, independent of the monitor's methods.

- *Lumbar angle*: the joint angle between the pelvis (sacrum segment) and the upper lumbar
  segment: the upper segment's orientation relative to the pelvis, ``R_rel = R_pelvis^T R_upper``,
  decomposed flexion-extension first (about the pelvis' medio-lateral y axis, flexion positive),
  then lateral bending, then axial rotation: the Cardan sequence the ISB recommends for the spine
  (Wu et al. 2002, J Biomech 35:543), in this project's axes (x anterior, y left, z superior).
- *Phase boundaries*: movement onset and offset, where the speed of the movement's driving
  coordinate crosses ``PHASE_ONSET_FRACTION`` of that movement's peak speed (the rise and the
  lowering are two movements, each with its own peak); between the samples the crossing is
  interpolated linearly. The driving coordinate is the working thigh's sagittal inclination in
  the world (deg): the hip-extension movement that defines back kicks, hip thrusts and bridges.
  A velocity threshold is the usual way motor-control and biomechanics studies time movement
  onset (Botzer & Karniel 2009, Front Neurosci, doi:10.3389/neuro.20.002.2009); the fractions
  in use range from 2 % (reach-to-grasp kinematics) to 10 % of the peak; 5 % is the default here
  (``SimulationConfig.phase_onset_fraction``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from imu_monitor.model import Truth, TruthRep
from imu_monitor.simulator.sensors import SensorErrors

PHASE_ONSET_FRACTION = 0.05


def joint_flexion_deg(R_lower: np.ndarray, R_upper: np.ndarray) -> np.ndarray:
    """Flexion (deg, (n,)) of the upper segment relative to the lower one (rotation matrices
    segment -> world, (n, 3, 3)): the first angle of the flexion / lateral / axial Cardan
    decomposition of ``R_lower^T R_upper``, i.e. the tilt of the upper segment's z axis towards
    the lower segment's +x in the lower segment's sagittal plane. Unwrapped over time."""
    z_up = np.matmul(R_lower.transpose(0, 2, 1), R_upper[:, :, 2:3])[:, :, 0]
    return np.degrees(np.unwrap(np.arctan2(z_up[:, 0], z_up[:, 2])))


def _crossing(t: np.ndarray, s: np.ndarray, i: int, j: int, level: float) -> float:
    """Time between samples i and j (adjacent) where ``s`` crosses ``level`` (linear)."""
    if s[j] == s[i]:
        return float(t[j])
    f = (level - s[i]) / (s[j] - s[i])
    return float(t[i] + f * (t[j] - t[i]))


def movement_on_off(
    t: np.ndarray, v: np.ndarray, lo: float, hi: float, fraction: float
) -> tuple[float, float]:
    """Onset and offset (s) of the movement whose speed peaks in ``[lo, hi]``: the run of samples
    around that peak where the signed velocity ``v`` (in the movement's direction) stays at or
    above ``fraction`` of the peak, with the crossings interpolated."""
    i0, i1 = np.searchsorted(t, lo), np.searchsorted(t, hi, side="right")
    k = i0 + int(np.argmax(np.abs(v[i0:i1])))
    s = v * np.sign(v[k])
    level = fraction * s[k]
    below = np.flatnonzero(s[:k] < level)
    a = int(below[-1]) if len(below) else 0
    after = np.flatnonzero(s[k:] < level)
    b = k + int(after[0]) if len(after) else len(t) - 1
    onset = _crossing(t, s, a, a + 1, level) if len(below) else float(t[0])
    offset = _crossing(t, s, b - 1, b, level) if len(after) else float(t[-1])
    return onset, offset


def phase_truth(
    t: np.ndarray,
    coordinate_deg: np.ndarray,
    programmed: list[TruthRep],
    fraction: float = PHASE_ONSET_FRACTION,
) -> list[TruthRep]:
    """The reps with their phase boundaries at movement onset / offset of ``coordinate_deg``
    (sampled at ``t``). ``programmed``: the motion program's reps (start, top, hold end and end
    of the programmed movements), used only to say which peak belongs to which phase."""
    v = np.gradient(coordinate_deg, t)
    out = []
    for rep in programmed:
        start, top = movement_on_off(t, v, rep.t_start_s, rep.t_top_s, fraction)
        hold_end, end = movement_on_off(t, v, rep.t_hold_end_s, rep.t_end_s, fraction)
        out.append(replace(rep, t_start_s=start, t_top_s=top, t_hold_end_s=hold_end, t_end_s=end))
    return out


def session_truth(
    t: np.ndarray,
    lumbar_deg: np.ndarray,
    lateral_deg: np.ndarray,
    hip_deg: np.ndarray | None,
    reps: list[TruthRep],
    pitch_deg: dict[str, np.ndarray],
    errors: dict[str, SensorErrors],
) -> Truth:
    """The session's ``Truth`` on the time base ``t``: each rep's peak lumbar flexion and
    extension (from ``lumbar_deg`` between its start and end, set on ``reps``), and per sensor
    of ``errors`` its segment's pitch, mounting and gyro bias."""
    for rep in reps:
        i0 = np.searchsorted(t, rep.t_start_s, side="left")
        i1 = np.searchsorted(t, rep.t_end_s, side="right")
        seg = lumbar_deg[i0:i1]  # the truth samples with t_start_s <= t <= t_end_s
        rep.peak_flexion_deg = float(max(seg.max(), 0.0))
        rep.peak_extension_deg = float(max(-seg.min(), 0.0))
    return Truth(
        t_s=t,
        lumbar_flexion_deg=lumbar_deg,
        lumbar_lateral_deg=lateral_deg,
        hip_flexion_deg=hip_deg,
        reps=reps,
        segment_pitch_deg={p: pitch_deg[p] for p in errors},
        mounting_quat={p: e.mounting_quat_wxyz for p, e in errors.items()},
        gyro_bias_rad_s={p: [float(b) for b in e.gyro_bias_rad_s] for p, e in errors.items()},
    )
