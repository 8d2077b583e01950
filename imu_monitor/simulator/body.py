"""The body of a simulated session: the motion program's segments as a kinematic chain."""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial.transform import Rotation

from imu_monitor.errors import ImuMonitorError
from imu_monitor.model import GRAVITY_M_S2
from imu_monitor.simulator import motion
from imu_monitor.simulator.kinematics import (
    SegmentState,
    offset_acceleration,
    offset_position,
    segment_state,
)


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
        if "root.y" in sig:  # sideways (to the subject's left), human-motion model only
            y, _, ddy = sig["root.y"].evaluate(t_s)
            acc = np.stack([ch * ddx - sh * ddy, sh * ddx + ch * ddy, ddz], -1)
            pos = np.stack([ch * x - sh * y, sh * x + ch * y, z], -1) if with_position else acc
            return pos, acc
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
