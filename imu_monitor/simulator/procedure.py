"""The device calibration's procedure, simulated: the wearables of a simulated session held in a
box on a table, on each of its six faces, and turned once round on the table about three of
them (the Ferraris procedure; README, "Device calibration").

The wearables are the session's own devices: the same config (its seed, and its length: the
gyro scale is drawn after tracks as long as the session) draws the same accelerometer offset
and scale errors and gyro scale errors (``human_session.device_errors``), changed by what
differs between a table at room temperature and the skin (``TEMPERATURE_*``), with a gyro bias
of their own power-on. What a person does imperfectly is drawn too: each face sits a little off
level (``FACE_TILT_SD_DEG``), each turn ends a little off a full turn (``TURN_END_SD_DEG``) about
an axis a little off vertical. The recording's ``meta["simulation_procedure"]`` keeps the truth:
each device's errors on the day of the procedure and on the day of the session.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from imu_monitor import __version__
from imu_monitor.model import (
    GRAVITY_M_S2,
    PLACEMENTS,
    SENSOR_SETS,
    Recording,
    SensorInfo,
    SensorSeries,
)
from imu_monitor.simulator.config import SimulationConfig
from imu_monitor.simulator.generate import build_session_model
from imu_monitor.simulator.human_session import device_errors
from imu_monitor.simulator.sensors import (
    HumanSensorErrors,
    burst_drop_mask,
    draw_human_sensor_errors,
    sample_times,
)

HOLD_S = 4.0
"""How long each face is held still (s)."""
MOVE_S = 2.5
"""How long the box takes from one face to the next, lifted and put down (s)."""
LIFT_M = 0.10
"""How high the box is lifted while it is turned onto its next face (m)."""
TURN_S = 6.0
"""How long one turn round on the table takes (s)."""
FACE_TILT_SD_DEG = 0.5
"""A face resting on the table is off level by this much (sd, deg, about each horizontal axis):
a box's faces and a table are not perfectly flat, nor the wearables perfectly square in it."""
TURN_END_SD_DEG = 0.5
"""A turn by hand back to the same edge ends off a full turn by this much (sd, deg)."""
TURN_AXIS_SD_DEG = 0.5
"""The turn's axis is off the vertical by this much (sd, deg, about each horizontal axis)."""
TEMPERATURE_ACC_OFFSET_SD_M_S2 = 0.003 * GRAVITY_M_S2
"""How far each accelerometer axis's offset moves between the procedure and the session (sd):
a wearable on the skin is ~10 K warmer than on a table, and consumer parts drift by
0.2-1 mg/K (Bosch BMI160 +-1 mg/K, BMI270 +-0.25 mg/K typical)."""
TEMPERATURE_SCALE_SD = 0.001
"""How far each axis's accelerometer and gyro scale factor moves between the procedure and the
session (sd, fraction; datasheets give +-0.02 to +-0.03 %/K over the same ~10 K)."""
WARM_UP_S = 180.0
"""The wearables are switched on this long before the procedure (the README asks for a few
minutes): most of the gyro bias's warm-up drift has settled by then."""
POWER_ON_GYRO_BIAS_SD_DEG_S = 0.3
"""How far the gyro bias at the procedure's power-on is from the session's (sd per axis,
deg/s; the pipeline estimates the session's own bias in any case)."""

FACES: tuple[str, ...] = ("z_p", "z_a", "x_p", "x_a", "y_p", "y_a")
"""The order the faces are held in: ``x_p`` has the sensor's +x axis up (its accelerometer
reads +g on x), ``x_a`` its -x axis, and so on (imucal's names)."""
TURN_AFTER: dict[str, str] = {"z_p": "z", "x_p": "x", "y_p": "y"}
"""The face on which the box is turned round on the table, and about which of its axes."""


@dataclass
class _Segment:
    """A stretch of the procedure: the box turns from ``R0`` by ``angle_rad`` about the body-fixed
    axis ``axis_b`` with a minimum-jerk profile over ``duration_s``, lifted by ``lift_m``."""

    R0: np.ndarray
    axis_b: np.ndarray
    angle_rad: float
    duration_s: float
    lift_m: float = 0.0

    @property
    def R1(self) -> np.ndarray:
        return self.R0 @ Rotation.from_rotvec(self.axis_b * self.angle_rad).as_matrix()


def _up_in_sensor(face: str) -> np.ndarray:
    v = np.zeros(3)
    v["xyz".index(face[0])] = 1.0 if face.endswith("_p") else -1.0
    return v


def _resting(face: str, rng: np.random.Generator, yaw_rad: float) -> np.ndarray:
    """A box orientation (sensor -> world) with ``face`` up, turned ``yaw_rad`` about the
    vertical and tilted off level by ``FACE_TILT_SD_DEG``."""
    up = _up_in_sensor(face)
    align, _ = Rotation.align_vectors([[0.0, 0.0, 1.0]], [up])  # sensor -> world, face up
    tilt = np.radians(rng.normal(0.0, FACE_TILT_SD_DEG, 2))
    level = Rotation.from_rotvec([tilt[0], tilt[1], 0.0])
    return (level * Rotation.from_rotvec([0.0, 0.0, yaw_rad]) * align).as_matrix()


def _script(rng: np.random.Generator) -> list[_Segment]:
    """The procedure's segments: a hold on each face, the turn where ``TURN_AFTER`` says, and
    the move to the next face between them."""
    segments: list[_Segment] = []
    R = _resting(FACES[0], rng, rng.uniform(-math.pi, math.pi))
    for i, face in enumerate(FACES):
        segments.append(
            _Segment(R, np.array([0.0, 0.0, 1.0]), 0.0, HOLD_S + (1.0 if i == 0 else 0.0))
        )
        if face in TURN_AFTER:
            tilt = np.radians(rng.normal(0.0, TURN_AXIS_SD_DEG, 2))
            vertical = Rotation.from_rotvec([tilt[0], tilt[1], 0.0]).apply([0.0, 0.0, 1.0])
            angle = -2.0 * math.pi + math.radians(rng.normal(0.0, TURN_END_SD_DEG))
            segments.append(_Segment(R, R.T @ vertical, angle, TURN_S))  # clockwise from above
            R = segments[-1].R1
            segments.append(_Segment(R, np.array([0.0, 0.0, 1.0]), 0.0, HOLD_S))
        if i + 1 < len(FACES):
            R_next = _resting(FACES[i + 1], rng, rng.uniform(-math.pi, math.pi))
            rotvec = Rotation.from_matrix(R.T @ R_next).as_rotvec()
            angle = float(np.linalg.norm(rotvec))
            segments.append(_Segment(R, rotvec / angle, angle, MOVE_S, LIFT_M))
            R = R_next
    return segments


def _minimum_jerk(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position and speed (per unit duration) of a minimum-jerk move at phase ``s`` in [0, 1]."""
    return 10 * s**3 - 15 * s**4 + 6 * s**5, 30 * s**2 - 60 * s**3 + 30 * s**4


def _kinematics(segments: list[_Segment], t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Specific force (m/s^2) and angular rate (rad/s) in the sensor frame at ``t_s``; a
    sample jittered past either end of the script is taken where the script starts or ends."""
    t_s = np.clip(t_s, 0.0, sum(seg.duration_s for seg in segments))
    f = np.zeros((len(t_s), 3))
    w = np.zeros((len(t_s), 3))
    start = 0.0
    for k, seg in enumerate(segments):
        end = start + seg.duration_s
        last = k == len(segments) - 1
        inside = (t_s >= start) & ((t_s <= end) if last else (t_s < end))
        s = np.clip((t_s[inside] - start) / seg.duration_s, 0.0, 1.0)
        pos, speed = _minimum_jerk(s)
        R = Rotation.from_matrix(seg.R0) * Rotation.from_rotvec(
            np.outer(pos * seg.angle_rad, seg.axis_b)
        )
        lift_acc = (
            seg.lift_m / 2.0 * (2.0 * math.pi / seg.duration_s) ** 2 * np.cos(2.0 * math.pi * s)
        )
        world = np.zeros((len(s), 3))
        world[:, 2] = GRAVITY_M_S2 + (lift_acc if seg.lift_m else 0.0)
        f[inside] = R.inv().apply(world)
        w[inside] = np.outer(speed * seg.angle_rad / seg.duration_s, seg.axis_b)
        start = end
    return f, w


def on_the_day(
    session: HumanSensorErrors,
    rng: np.random.Generator,
    config: SimulationConfig,
    duration_s: float,
) -> HumanSensorErrors:
    """A device's errors on the table on the procedure's day, from its errors in the session:
    the constants moved by the temperature, the warm-up drift and wander of its own power-on."""
    own = draw_human_sensor_errors(
        rng, duration_s, config.acc_errors, config.gyro_drift, config.gyro_scale
    )
    moved = (config.acc_errors, config.acc_errors, config.gyro_scale)
    return replace(
        own,
        acc_offset_m_s2=session.acc_offset_m_s2
        + moved[0] * rng.normal(0, TEMPERATURE_ACC_OFFSET_SD_M_S2, 3),
        acc_scale=session.acc_scale + moved[1] * rng.normal(0.0, TEMPERATURE_SCALE_SD, 3),
        gyro_scale=session.gyro_scale + moved[2] * rng.normal(0.0, TEMPERATURE_SCALE_SD, 3),
    )


def _errors_dict(extra: HumanSensorErrors, bias_rad_s: np.ndarray) -> dict[str, list[float]]:
    return {
        "acc_offset_m_s2": [float(v) for v in extra.acc_offset_m_s2],
        "acc_scale": [float(v) for v in extra.acc_scale],
        "gyro_scale": [float(v) for v in extra.gyro_scale],
        "gyro_bias_rad_s": [float(v) for v in bias_rad_s],
    }


def simulate_procedure(config: SimulationConfig, *, created_utc: str | None = None) -> Recording:
    """The Ferraris procedure with the wearables of the session ``config`` describes (its seed,
    sensor set, rate, noise, loss and error switches); deterministic for a config."""
    config.validate()
    segments = _script(np.random.default_rng([int(config.seed), 40]))
    duration = sum(seg.duration_s for seg in segments)
    rate = float(config.rate_hz)
    n = int(math.floor(duration * rate)) + 1
    gyro_noise = math.radians(config.gyro_noise_deg_s)
    series: dict[str, SensorSeries] = {}
    truth: dict[str, Any] = {}
    session_s = build_session_model(config).program.duration_s + 1.0  # as the session draws
    for placement in SENSOR_SETS[config.sensors]:
        _, errors, _, session = device_errors(config, placement, session_s)
        rng = np.random.default_rng([int(config.seed), 41, PLACEMENTS.index(placement)])
        extra = on_the_day(session, rng, config, WARM_UP_S + duration + 1.0)
        bias = errors.gyro_bias_rad_s + np.radians(rng.normal(0, POWER_ON_GYRO_BIAS_SD_DEG_S, 3))
        t_all = sample_times(rng, n, rate, config.jitter_s)
        keep = ~burst_drop_mask(rng, n, config.drop_fraction)
        t_s = t_all[keep]
        f, w = _kinematics(segments, t_s)
        acc = f * (1.0 + extra.acc_scale) + extra.acc_offset_m_s2
        acc = acc + rng.normal(0.0, config.acc_noise_m_s2, acc.shape)
        gyr = w * (1.0 + extra.gyro_scale) + bias + extra.gyro_bias_change(t_s + WARM_UP_S)
        gyr = gyr + rng.normal(0.0, gyro_noise, gyr.shape)
        series[placement] = SensorSeries(t_s, acc, gyr, np.flatnonzero(keep).astype(np.int64))
        truth[placement] = {
            "procedure": _errors_dict(extra, bias),
            "session": _errors_dict(session, errors.gyro_bias_rad_s),
        }
    meta = {
        "format_version": 1,
        "exercise": "device-calibration",
        "source": "sim",
        "created_utc": created_utc or datetime.now(UTC).isoformat(timespec="seconds"),
        "app_version": __version__,
        "procedure": "ferraris",
        "simulation": {"seed": int(config.seed), "sensors": int(config.sensors), "rate_hz": rate},
        "simulation_procedure": {
            "faces": list(FACES),
            "turns": "once round clockwise seen from above, on the faces x_p, y_p, z_p",
            "errors": truth,
        },
    }
    return Recording(
        meta=meta,
        sensors={p: SensorInfo(p, "sim", "", rate) for p in series},
        series=series,
    )
