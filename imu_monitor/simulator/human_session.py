"""The human-motion model's sensors and truth (``SimulationConfig.motion == "human"``).

Sensors: the ramp model's mounting, gyro bias, noise, jitter and (burst) loss, plus the skin
artefact (``skin``), accelerometer offset/scale errors and gyro bias drift
(``sensors.HumanSensorErrors``), each behind its switch. Truth: the lumbar joint angle and the
onset/offset phase boundaries of ``truth``; the truth's definitions, the calibration windows and
the sacrum's neutral pitch go into the recording's ``meta["simulation_truth"]``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from imu_monitor.model import GRAVITY_M_S2, PLACEMENTS, SENSOR_SETS, SensorSeries, Truth
from imu_monitor.simulator.body import SessionModel
from imu_monitor.simulator.config import SimulationConfig
from imu_monitor.simulator.kinematics import relative_lateral_deg, sagittal_pitch_deg
from imu_monitor.simulator.sensors import (
    HumanSensorErrors,
    SensorErrors,
    burst_drop_mask,
    draw_human_sensor_errors,
    drop_mask,
    sample_times,
    sensor_errors_for,
)
from imu_monitor.simulator.skin import (
    GRID_HZ,
    SkinMotion,
    apply_skin,
    draw_skin_motion,
    patch_matrices,
    skin_rotation,
    wobble_splines,
)
from imu_monitor.simulator.truth import joint_flexion_deg, phase_truth, session_truth

Triple = tuple[np.ndarray, np.ndarray, np.ndarray]


def _to_segment(R: np.ndarray, v_world: np.ndarray) -> np.ndarray:
    return np.einsum("nji,nj->ni", R, v_world)  # R^T v


class _HipAngle:
    """The programmed hip angle (thigh pitch minus pelvis pitch, deg) relative to the calibration
    posture, over the session's hip range: what the skin over the pelvis follows."""

    def __init__(self, model: SessionModel, t_grid: np.ndarray, cal: tuple[float, float]):
        self.model = model
        h = self._raw(t_grid, False)[0]
        sel = (t_grid >= cal[0]) & (t_grid <= cal[1])
        self.ref = float(np.mean(h[sel]))
        self.range = max(float(np.ptp(h[t_grid > cal[1]])), 1.0)

    def _raw(self, t_s: np.ndarray, derivatives: bool) -> Triple:
        sig = self.model.program.signals
        a = sig["thigh.pitch"].evaluate(t_s, derivatives)
        b = sig["sacrum.pitch"].evaluate(t_s, derivatives)
        return a[0] - b[0], a[1] - b[1], a[2] - b[2]

    def normalised(self, t_s: np.ndarray) -> Triple:
        h, dh, ddh = self._raw(t_s, True)
        return (h - self.ref) / self.range, dh / self.range, ddh / self.range


def _skin_error_deg(
    patch_R: dict[str, np.ndarray], lumbar: np.ndarray, sacrum_pitch: np.ndarray, in_cal: np.ndarray
) -> np.ndarray | None:
    """What skin motion alone does to the scored angle (``Truth.skin_error_deg``): the angle
    perfect sensors on the skin patches (``patch_R``: patch -> world, per placement) would read,
    less the bones', relative to the calibration posture (``in_cal``). The lumbar joint angle
    with an upper-lumbar sensor, else the sacrum's own tilt (flexion positive). None without
    skin motion."""
    if "sacrum" not in patch_R:
        return None
    if "upper_lumbar" in patch_R:
        error = joint_flexion_deg(patch_R["sacrum"], patch_R["upper_lumbar"]) - lumbar
    else:
        error = -(sagittal_pitch_deg(patch_R["sacrum"]) - sacrum_pitch)
    return error - float(np.mean(error[in_cal]))


def device_errors(
    config: SimulationConfig, placement: str, duration_s: float
) -> tuple[np.random.Generator, SensorErrors, SkinMotion, HumanSensorErrors]:
    """One wearable's errors in the session of ``config`` (its seed and switches): the seeded
    generator (for its timing, loss and noise), the mounting and gyro bias, the skin under it
    and the human model's further errors over ``duration_s``. The device calibration's procedure
    (``simulator.procedure``) starts from the same draws: the same device."""
    rng, errors = sensor_errors_for(config, placement)
    extra_rng = np.random.default_rng([int(config.seed), 30, PLACEMENTS.index(placement)])
    skin = draw_skin_motion(extra_rng, placement)
    extra = draw_human_sensor_errors(
        extra_rng,
        duration_s,
        config.acc_errors,
        config.gyro_drift,
        config.gyro_scale,
        float(config.acc_offset_sd_m_s2),
        tuple(config.gyro_scale_range),
    )
    return rng, errors, skin, extra


def sensors_and_truth(
    config: SimulationConfig, model: SessionModel
) -> tuple[dict[str, SensorSeries], Truth, dict[str, Any]]:
    """The sensor series, the truth and the truth's description (for the recording's meta)."""
    program = model.program
    rate = float(config.rate_hz)
    n = int(math.floor(program.duration_s * rate)) + 1
    placements = SENSOR_SETS[config.sensors]
    t_truth = np.arange(n, dtype=np.float64) / rate
    R = {p: model.segment(p, t_truth, with_rates=False).R for p in PLACEMENTS}
    pitch = {p: sagittal_pitch_deg(R[p]) for p in PLACEMENTS}
    lumbar = joint_flexion_deg(R["sacrum"], R["upper_lumbar"])
    lateral = relative_lateral_deg(R["sacrum"], R["upper_lumbar"])
    hip = pitch["sacrum"] - pitch["thigh"] if "thigh" in placements else None
    reps = phase_truth(t_truth, pitch["thigh"], program.reps, config.phase_onset_fraction)
    cal = program.calibration_window_s
    in_cal = (t_truth >= cal[0]) & (t_truth <= cal[1])

    hip_angle = _HipAngle(model, t_truth, cal) if config.skin_motion else None
    hip_on_truth = None if hip_angle is None else hip_angle.normalised(t_truth)
    grid = np.arange(0.0, program.duration_s + 0.5, 1.0 / GRID_HZ)
    series: dict[str, SensorSeries] = {}
    errors_of: dict[str, SensorErrors] = {}
    patch_R: dict[str, np.ndarray] = {}
    gyro_noise = math.radians(config.gyro_noise_deg_s)
    for placement in placements:
        rng, errors, skin, extra = device_errors(config, placement, program.duration_s + 1.0)
        t_all = sample_times(rng, n, rate, config.jitter_s)
        lose = burst_drop_mask if config.burst_loss else drop_mask
        keep = ~lose(rng, n, config.drop_fraction)
        t_s = t_all[keep]
        state, _, acc = model.sensor_point(placement, t_s, with_position=False)
        f_world = acc + np.array([0.0, 0.0, GRAVITY_M_S2])
        f_seg, omega_seg = _to_segment(state.R, f_world), state.omega
        if hip_angle is not None:
            st_g, _, acc_g = model.sensor_point(placement, grid, with_position=False)
            wobble = wobble_splines(skin, grid, _to_segment(st_g.R, acc_g))
            rotation = skin_rotation(skin, hip_angle.normalised(t_s), wobble, t_s)
            f_seg, omega_seg, _ = apply_skin(skin, f_seg, omega_seg, rotation)
            if placement != "thigh":
                on_truth = skin_rotation(skin, hip_on_truth, wobble, t_truth)
                patch_R[placement] = R[placement] @ patch_matrices(on_truth[0])
        M = errors.mounting.as_matrix()
        acc_s = (f_seg @ M) * (1.0 + extra.acc_scale) + extra.acc_offset_m_s2
        acc_s = acc_s + rng.normal(0.0, config.acc_noise_m_s2, acc_s.shape)
        gyr = (omega_seg @ M) * (1.0 + extra.gyro_scale)
        gyr = gyr + errors.gyro_bias_rad_s + extra.gyro_bias_change(t_s)
        gyr = gyr + rng.normal(0.0, gyro_noise, gyr.shape)
        series[placement] = SensorSeries(t_s, acc_s, gyr, np.flatnonzero(keep).astype(np.int64))
        errors_of[placement] = errors

    truth = session_truth(t_truth, lumbar, lateral, hip, reps, pitch, errors_of)
    truth.skin_error_deg = _skin_error_deg(patch_R, lumbar, pitch["sacrum"], in_cal)
    meta = {
        "motion": "human",
        "lumbar_angle": "joint angle of the upper lumbar segment relative to the pelvis, "
        "flexion first (ISB Cardan sequence), flexion positive",
        "phase_boundaries": "movement onset/offset: the working thigh's sagittal inclination "
        "speed crosses phase_onset_fraction of each movement's peak speed",
        "phase_onset_fraction": float(config.phase_onset_fraction),
        "calibration_window_s": [float(cal[0]), float(cal[1])],
        "standing_window_s": [float(x) for x in program.standing_window_s],
        "sacrum_neutral_pitch_deg": float(np.mean(pitch["sacrum"][in_cal])),
        "gyro_bias_is_at": "power-on (t = 0); the bias drifts from there (gyro_drift)",
    }
    return series, truth, meta
