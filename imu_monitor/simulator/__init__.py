"""The simulated wearable: a kinematic model of the exercises with ground truth.

``simulate_session(SimulationConfig(...))`` returns a ``model.Recording`` whose sensor series
look like a real session (mounting misalignment, gyro bias, noise, timing jitter, dropped
samples) and whose ``truth`` holds what really happened (lumbar angle, segment pitches, reps with
their phase boundaries and faults, mountings, biases). ``scoring`` judges an analysis against
that truth.

Two models (``SimulationConfig.motion``): ``"human"`` (the default) moves like a person and
defines its truth as biomechanics does (lumbar joint angle; phase boundaries at movement
onset/offset, ``truth``); ``"ramps"`` is the original model (straight ramps with rounded
corners, rigid sensors, tangent-method phase truth), kept unchanged for comparison.

Imports only the core types, numpy and scipy: the truth never depends on the monitor's code.
"""

from imu_monitor.errors import SimulationError
from imu_monitor.simulator.generate import (
    SessionModel,
    SimulationConfig,
    build_session_model,
    simulate_session,
)

__all__ = [
    "SessionModel",
    "SimulationConfig",
    "SimulationError",
    "build_session_model",
    "simulate_session",
]
