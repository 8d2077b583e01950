"""Simulate a whole session: motion program -> body kinematics -> sensor readings + ground truth."""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import numpy as np
from scipy.spatial.transform import Rotation

from imu_monitor import __version__
from imu_monitor.errors import ImuMonitorError, SimulationError
from imu_monitor.exercises import Exercise, get_exercise
from imu_monitor.model import (
    FAULTS,
    GRAVITY_M_S2,
    PLACEMENTS,
    SENSOR_SETS,
    Recording,
    SensorInfo,
    SensorSeries,
    Truth,
)
from imu_monitor.simulator import motion
from imu_monitor.simulator.kinematics import (
    SegmentState,
    offset_acceleration,
    offset_position,
    relative_lateral_deg,
    sagittal_pitch_deg,
    segment_state,
)
from imu_monitor.simulator.sensors import SensorErrors, draw_sensor_errors, drop_mask, sample_times

log = logging.getLogger(__name__)


@dataclass
class SimulationConfig:
    """Parameters of a simulated session (all of them are stored in the recording's meta)."""

    exercise: str = "back-kick"
    reps: int = 10
    faulty: int = 0
    """How many of the reps are faulty (0..reps); which ones is drawn from the seed."""
    sensors: int = 1
    """1, 2 or 3: the placement set ``model.SENSOR_SETS[sensors]``."""
    seed: int = 0
    rate_hz: float = 200.0
    gyro_bias_max_deg_s: float = 2.0
    mounting_max_deg: float = 25.0
    jitter_s: float = 0.0003
    """Standard deviation of the true sample-time jitter (s)."""
    drop_fraction: float = 0.005
    """Fraction of samples dropped (removed from the output; visible as ``seq`` gaps)."""
    fault_types: tuple[str, ...] | None = None
    """Faults cycled through the faulty reps in order; None: the exercise's default cycle."""
    gyro_noise_deg_s: float = 0.1
    """Gyro white noise, rms per sample (deg/s)."""
    acc_noise_m_s2: float = 0.02
    """Accelerometer white noise, rms per sample (m/s^2)."""
    rest_variation_deg: float = 0.0
    """How differently the pelvis rests around each rep: turned about its x and z axes by up to
    this (uniform, degrees) from the calibration posture; 0: every rep starts from it exactly."""

    def validate(self) -> Exercise:
        """Check every field; return the exercise. Raises ``SimulationError`` naming the field."""
        exercise = get_exercise(self.exercise)
        if int(self.reps) < 1:
            raise SimulationError(f"reps must be at least 1 (got {self.reps})")
        if not 0 <= int(self.faulty) <= int(self.reps):
            raise SimulationError(
                f"faulty must be between 0 and reps={self.reps} (got {self.faulty})"
            )
        if not isinstance(self.seed, int | np.integer) or self.seed < 0:
            raise SimulationError(f"seed must be an integer >= 0 (got {self.seed!r})")
        if self.sensors not in SENSOR_SETS:
            raise SimulationError(
                f"sensors must be one of {', '.join(map(str, SENSOR_SETS))} (got {self.sensors})"
            )
        if not (math.isfinite(self.rate_hz) and 10.0 <= self.rate_hz <= 2000.0):
            raise SimulationError(f"rate_hz must be between 10 and 2000 Hz (got {self.rate_hz})")
        if not 0.0 <= self.drop_fraction <= 0.5:
            raise SimulationError(
                f"drop_fraction must be between 0 and 0.5 (got {self.drop_fraction})"
            )
        for name in (
            "gyro_bias_max_deg_s",
            "mounting_max_deg",
            "jitter_s",
            "gyro_noise_deg_s",
            "acc_noise_m_s2",
            "rest_variation_deg",
        ):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.0):
                raise SimulationError(f"{name} must be a finite value >= 0 (got {value})")
        if self.mounting_max_deg > 180.0:
            raise SimulationError(f"mounting_max_deg must be <= 180 (got {self.mounting_max_deg})")
        faults = self.resolved_fault_types()
        unknown = [f for f in faults if f not in FAULTS]
        if unknown or (self.faulty and not faults):
            raise SimulationError(
                f"fault_types {list(faults)!r} must be a non-empty list of: {', '.join(FAULTS)}"
            )
        return exercise

    def resolved_fault_types(self) -> tuple[str, ...]:
        if self.fault_types is not None:
            return tuple(self.fault_types)
        style = motion.MOTION_STYLES.get(self.exercise)
        return style.default_faults if style else ()


class SessionModel:
    """The body of a simulated session: evaluates segment orientations, rates and sensor-point
    accelerations at any sorted times ``t_s`` (s, shape (n,)).

    ``orientation`` etc. are the *segment* quantities; ``sensor_readings`` applies a mounting.
    """

    def __init__(self, program: motion.MotionProgram):
        self.program = program

    def segment(self, placement: str, t_s: np.ndarray, with_rates: bool = True) -> SegmentState:
        """Orientation (segment -> world), body angular velocity and acceleration."""
        sig = self.program.signals
        rad = math.pi / 180.0

        def ev(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            a, b, c = sig[f"{placement}.{name}"].evaluate(t_s, with_rates)
            return a * rad, b * rad, c * rad

        return segment_state(
            self.program.heading_rad, ev("pitch"), ev("roll"), ev("yaw"), with_rates
        )

    def _chain(self, placement: str) -> list[tuple[str, np.ndarray]]:
        """(segment, offset) links from the root to the sensor of ``placement``."""
        if placement == "upper_lumbar":
            return [("upper_lumbar", motion.UPPER_LUMBAR_SENSOR_M)]
        if placement == "sacrum":
            return [("upper_lumbar", motion.LUMBAR_JOINT_M), ("sacrum", motion.SACRUM_SENSOR_M)]
        if placement == "thigh":
            return [
                ("upper_lumbar", motion.LUMBAR_JOINT_M),
                ("sacrum", motion.HIP_JOINT_M),
                ("thigh", motion.THIGH_SENSOR_M),
            ]
        raise ImuMonitorError(f"unknown sensor placement {placement!r}")

    def _root(self, t_s: np.ndarray, with_position: bool) -> tuple[np.ndarray, np.ndarray]:
        sig = self.program.signals
        x, _, ddx = sig["root.x"].evaluate(t_s)
        z, _, ddz = sig["root.z"].evaluate(t_s)
        ch, sh = math.cos(self.program.heading_rad), math.sin(self.program.heading_rad)
        acc = np.stack([ch * ddx, sh * ddx, ddz], -1)
        pos = np.stack([ch * x, sh * x, z], -1) if with_position else acc
        return pos, acc

    def sensor_point(
        self, placement: str, t_s: np.ndarray, with_position: bool = True
    ) -> tuple[SegmentState, np.ndarray, np.ndarray]:
        """The segment state carrying the sensor, and the sensor point's world position (m) and
        acceleration (m/s^2), shapes (n, 3). ``with_position=False`` skips the position (the
        returned array is then meaningless)."""
        pos, acc = self._root(t_s, with_position)
        state = None
        for seg, offset in self._chain(placement):
            state = self.segment(seg, t_s)
            if with_position:
                pos = pos + offset_position(state, offset)
            acc = acc + offset_acceleration(state, offset)
        assert state is not None
        return state, pos, acc

    def sensor_readings(
        self, placement: str, t_s: np.ndarray, mounting: Rotation, with_orientation: bool = True
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Ideal readings of a sensor mounted with ``mounting`` (sensor -> segment): specific
        force (m/s^2), body angular velocity (rad/s), both (n, 3) in the sensor frame, and the
        sensor's orientation (sensor -> world, (n, 3, 3); None if not ``with_orientation``)."""
        state, _, acc = self.sensor_point(placement, t_s, with_position=False)
        M = mounting.as_matrix()
        R = state.R
        fx, fy, fz = acc[:, 0], acc[:, 1], acc[:, 2] + GRAVITY_M_S2
        # specific force in the segment frame (R^T f), then in the sensor frame (M^T f_seg)
        f_seg = np.stack(
            [R[:, 0, j] * fx + R[:, 1, j] * fy + R[:, 2, j] * fz for j in range(3)], axis=-1
        )
        f_sensor = f_seg @ M  # row-wise M^T f
        gyr = state.omega @ M
        return f_sensor, gyr, (R @ M if with_orientation else None)


def _assign_faults(
    rng: np.random.Generator, reps: int, faulty: int, fault_types: tuple[str, ...]
) -> list[str | None]:
    """Which reps are faulty (random, never all at the start by construction of the draw) and
    their fault (cycling through ``fault_types`` in rep order)."""
    chosen = np.sort(rng.choice(reps, size=faulty, replace=False)) if faulty else np.array([])
    out: list[str | None] = [None] * reps
    for j, i in enumerate(chosen):
        out[int(i)] = fault_types[j % len(fault_types)]
    return out


def build_session_model(config: SimulationConfig) -> SessionModel:
    """The validated config's motion model (the body without the sensors' imperfections)."""
    exercise = config.validate()
    rng = np.random.default_rng([int(config.seed), 0])
    faults = _assign_faults(
        rng, int(config.reps), int(config.faulty), config.resolved_fault_types()
    )
    rest_offsets = None
    if config.rest_variation_deg > 0:  # its own generator: the sessions without it stay as they are
        v = float(config.rest_variation_deg)
        rest_offsets = np.random.default_rng([int(config.seed), 2]).uniform(-v, v, (config.reps, 2))
    return SessionModel(motion.build_program(exercise, int(config.reps), faults, rng, rest_offsets))


def sensor_errors_for(
    config: SimulationConfig, placement: str
) -> tuple[np.random.Generator, SensorErrors]:
    """The seeded generator and the constant errors of one sensor (independent of the sensor set,
    so the sacrum sensor is the same with 1, 2 or 3 sensors)."""
    rng = np.random.default_rng([int(config.seed), 1, PLACEMENTS.index(placement)])
    return rng, draw_sensor_errors(rng, config.mounting_max_deg, config.gyro_bias_max_deg_s)


def simulate_session(config: SimulationConfig, *, created_utc: str | None = None) -> Recording:
    """Simulate a session; deterministic for a config (``created_utc`` defaults to now).

    Returns a ``Recording`` with one ``SensorSeries`` per placement of ``SENSOR_SETS[sensors]``
    (true, jittered sample times; dropped samples removed; ``seq`` = sample index), markers for
    calibration and the set, and a fully filled ``Truth`` on the uniform grid ``k / rate_hz``.
    """
    exercise = config.validate()
    model = build_session_model(config)
    program = model.program
    rate = float(config.rate_hz)
    n = int(math.floor(program.duration_s * rate)) + 1
    placements = SENSOR_SETS[config.sensors]

    t_truth = np.arange(n, dtype=np.float64) / rate
    R = {p: model.segment(p, t_truth, with_rates=False).R for p in PLACEMENTS}
    pitch = {p: sagittal_pitch_deg(R[p]) for p in PLACEMENTS}
    lumbar = pitch["upper_lumbar"] - pitch["sacrum"]
    lateral = relative_lateral_deg(R["sacrum"], R["upper_lumbar"])
    hip = pitch["sacrum"] - pitch["thigh"] if "thigh" in placements else None

    reps = []
    for rep in program.reps:
        i0 = np.searchsorted(t_truth, rep.t_start_s, side="left")
        i1 = np.searchsorted(t_truth, rep.t_end_s, side="right")
        seg = lumbar[i0:i1]  # the truth samples with t_start_s <= t <= t_end_s
        rep.peak_flexion_deg = float(max(seg.max(), 0.0))
        rep.peak_extension_deg = float(max(-seg.min(), 0.0))
        reps.append(rep)

    series: dict[str, SensorSeries] = {}
    mounting: dict[str, list[float]] = {}
    biases: dict[str, list[float]] = {}
    gyro_noise = math.radians(config.gyro_noise_deg_s)
    for placement in placements:
        rng, errors = sensor_errors_for(config, placement)
        t_all = sample_times(rng, n, rate, config.jitter_s)
        keep = ~drop_mask(rng, n, config.drop_fraction)
        t_s = t_all[keep]
        acc, gyr, _ = model.sensor_readings(placement, t_s, errors.mounting, False)
        acc = acc + rng.normal(0.0, config.acc_noise_m_s2, acc.shape)
        gyr = gyr + errors.gyro_bias_rad_s + rng.normal(0.0, gyro_noise, gyr.shape)
        series[placement] = SensorSeries(t_s, acc, gyr, np.flatnonzero(keep).astype(np.int64))
        mounting[placement] = errors.mounting_quat_wxyz
        biases[placement] = [float(b) for b in errors.gyro_bias_rad_s]

    truth = Truth(
        t_s=t_truth,
        lumbar_flexion_deg=lumbar,
        lumbar_lateral_deg=lateral,
        hip_flexion_deg=hip,
        reps=reps,
        segment_pitch_deg={p: pitch[p] for p in placements},
        mounting_quat=mounting,
        gyro_bias_rad_s=biases,
    )
    simulation = asdict(config)
    if simulation["fault_types"] is not None:
        simulation["fault_types"] = list(simulation["fault_types"])
    meta = {
        "format_version": 1,
        "exercise": exercise.name,
        "source": "sim",
        "created_utc": created_utc or datetime.now(UTC).isoformat(timespec="seconds"),
        "app_version": __version__,
        "simulation": simulation,
    }
    log.debug(
        "simulated %s: %d reps, %.1f s, %d samples per sensor",
        exercise.name,
        len(reps),
        program.duration_s,
        n,
    )
    return Recording(
        meta=meta,
        sensors={p: SensorInfo(p, "sim", "", rate) for p in placements},
        series=series,
        markers=list(program.markers),
        truth=truth,
    )
