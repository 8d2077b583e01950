"""Simulate a whole session: motion program -> body kinematics -> sensor readings + ground truth.

Two models (``SimulationConfig.motion``): the human-motion model (``human_session``, the
default) and the original ramp model, which this module simulates itself, unchanged.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np

from imu_monitor import __version__
from imu_monitor.model import (
    PLACEMENTS,
    SENSOR_SETS,
    Marker,
    Recording,
    SensorInfo,
    SensorSeries,
    Truth,
)
from imu_monitor.simulator import human, human_session, motion
from imu_monitor.simulator.body import SessionModel
from imu_monitor.simulator.config import SimulationConfig
from imu_monitor.simulator.kinematics import relative_lateral_deg, sagittal_pitch_deg
from imu_monitor.simulator.sensors import SensorErrors, drop_mask, sample_times, sensor_errors_for
from imu_monitor.simulator.set_plan import draw_set_plan
from imu_monitor.simulator.truth import session_truth

log = logging.getLogger(__name__)

UPPER = "upper_lumbar"
"""The placement whose clock ``SimulationConfig.clock_offset_ms`` puts off the sacrum's."""


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
    # with form drift, the faults go to the reps before the drifting set (a drift shows clean)
    drawn = config.total_reps - config.fault_free_reps
    faults = _assign_faults(rng, drawn, int(config.faulty), config.resolved_fault_types())
    faults += [None] * config.fault_free_reps
    plan = None
    if config.of_sets:
        plan = draw_set_plan(
            int(config.seed),
            int(config.sets),
            int(config.reps),
            faults,
            int(config.tempo_faulty),
            tuple(config.tempo_faults),
            int(config.drift_reps),
            float(config.set_rest_s),
            float(config.phase_onset_fraction),
            bool(config.minimum_jerk),
        )
    if config.motion == "human":
        return SessionModel(
            human.build_human_program(
                exercise,
                config.total_reps,
                faults,
                int(config.seed),
                config.human_features(),
                float(config.rest_variation_deg),
                plan,
                float(config.tempo_scale),
                (float(config.rep_rest_s[0]), float(config.rep_rest_s[1])),
                (float(config.kick_turn_deg[0]), float(config.kick_turn_deg[1])),
                float(config.depth_spread),
            )
        )
    rest_offsets = None
    if config.rest_variation_deg > 0:  # its own generator: the sessions without it stay as they are
        v = float(config.rest_variation_deg)
        rest_offsets = np.random.default_rng([int(config.seed), 2]).uniform(-v, v, (config.reps, 2))
    return SessionModel(motion.build_program(exercise, int(config.reps), faults, rng, rest_offsets))


def simulate_session(config: SimulationConfig, *, created_utc: str | None = None) -> Recording:
    """Simulate a session; deterministic for a config (``created_utc`` defaults to now).

    Returns a ``Recording`` with one ``SensorSeries`` per placement of ``SENSOR_SETS[sensors]``
    (true, jittered sample times; dropped samples removed; ``seq`` = sample index), markers for
    calibration and the set, and a fully filled ``Truth`` on the uniform grid ``k / rate_hz``.
    """
    exercise = config.validate()
    model = build_session_model(config)
    if config.motion == "human":
        sensors, truth, about = human_session.sensors_and_truth(config, model)
        return _recording(config, exercise.name, model, sensors, truth, created_utc, about)
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

    series: dict[str, SensorSeries] = {}
    errors_of: dict[str, SensorErrors] = {}
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
        errors_of[placement] = errors

    truth = session_truth(t_truth, lumbar, lateral, hip, list(program.reps), pitch, errors_of)
    return _recording(config, exercise.name, model, series, truth, created_utc)


def _recording(
    config: SimulationConfig,
    exercise: str,
    model: SessionModel,
    series: dict[str, SensorSeries],
    truth: Truth,
    created_utc: str | None,
    truth_meta: dict[str, Any] | None = None,
) -> Recording:
    program = model.program
    rate = float(config.rate_hz)
    if config.clock_offset_ms and UPPER in series:
        late = series[UPPER]
        series = series | {UPPER: replace(late, t_s=late.t_s + config.clock_offset_ms / 1000.0)}
    simulation = asdict(config)
    if simulation["fault_types"] is not None:
        simulation["fault_types"] = list(simulation["fault_types"])
    simulation["tempo_faults"] = list(simulation["tempo_faults"])
    meta = {
        "format_version": 1,
        "exercise": exercise,
        "source": "sim",
        "created_utc": created_utc or datetime.now(UTC).isoformat(timespec="seconds"),
        "app_version": __version__,
        "simulation": simulation,
    }
    if truth_meta is not None:
        meta["simulation_truth"] = truth_meta
    log.debug(
        "simulated %s (%s): %d reps, %.1f s",
        exercise,
        config.motion,
        len(truth.reps),
        program.duration_s,
    )
    return Recording(
        meta=meta,
        sensors={p: SensorInfo(p, "sim", "", rate) for p in series},
        series=series,
        markers=_markers(program.markers, config.markers),
        truth=truth,
    )


def _markers(markers: list[Marker], which: str) -> list[Marker]:
    if which == "none":
        return []
    if which == "set":
        return [m for m in markers if not m.kind.startswith("calibration")]
    return list(markers)
