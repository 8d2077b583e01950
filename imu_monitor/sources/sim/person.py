"""The simulated person behind the simulated wearables: one simulated session, looped.

All sensors of one person come from one ``simulate_session`` call with ``sensors = 1..3``, so a
two-sensor person streams the sacrum and upper-lumbar series of the same session. A live session
longer than the simulated one loops the *reps part* of the session (from just before the first
rep to the final rest): both ends are the person at rest in the exercise's start position with
the same body and sensor mounting, so the signal stays continuous (within the simulator's
sub-degree sway) and the orientation filter and calibration stay valid. The reps repeat
identically on every pass; the standing / calibration phase is played once at the start.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from imu_monitor.errors import SimError
from imu_monitor.model import SENSOR_SETS
from imu_monitor.simulator import SimulationConfig, simulate_session

LOOP_LEAD_S = 0.3
"""The loop of a long session starts this long before the first rep (at rest)."""


class SimPerson:
    """One simulated person wearing 1-3 sensors: one simulated session, looped (see module
    docstring). ``samples(placement, k0, k1)`` gives the readings of samples ``k0..k1-1`` on the
    person's own sample counter (sample ``k`` is at ``k / rate_hz`` s of person time, which
    starts at world time ``t0_s``)."""

    def __init__(
        self,
        name: str,
        *,
        exercise: str = "back-kick",
        sensors: int = 1,
        seed: int = 0,
        rate_hz: float = 200.0,
        reps: int = 10,
        faulty: int = 3,
        **sim_options: Any,
    ) -> None:
        self.name = name
        self.config = SimulationConfig(
            exercise=exercise,
            reps=reps,
            faulty=faulty,
            sensors=sensors,
            seed=seed,
            rate_hz=rate_hz,
            drop_fraction=0.0,  # loss is the BLE link's business here (SimFaults)
            **sim_options,
        )
        self.recording = simulate_session(self.config)
        self.placements = SENSOR_SETS[sensors]
        self.rate_hz = float(rate_hz)
        series = self.recording.series
        self.n = len(series[self.placements[0]])
        first_rep = self.recording.truth.reps[0].t_start_s if self.recording.truth else 0.0
        self.loop_k0 = int(np.clip(round((first_rep - LOOP_LEAD_S) * rate_hz), 0, self.n - 1))
        self.t0_s: float | None = None
        """World time of the person's time 0: when the first of its devices starts streaming
        (so scanning and connecting do not eat into the standing / calibration phase)."""
        self._acc = {p: series[p].acc_m_s2 for p in self.placements}
        self._gyr = {p: series[p].gyr_rad_s for p in self.placements}

    @property
    def session_s(self) -> float:
        """Length of the first pass (standing, calibration, reps, final rest), s."""
        return self.n / self.rate_hz

    def index(self, k: np.ndarray) -> np.ndarray:
        """Person sample counter -> row of the simulated session (looping the reps part)."""
        k = np.asarray(k, dtype=np.int64)
        period = self.n - self.loop_k0
        return np.where(k < self.n, k, self.loop_k0 + np.mod(k - self.n, period))

    def samples(self, placement: str, k0: int, k1: int) -> tuple[np.ndarray, np.ndarray]:
        """acc (m/s^2) and gyro (rad/s) readings, each (k1 - k0, 3), in the sensor frame."""
        if placement not in self._acc:
            raise SimError(
                f"simulated person {self.name!r} wears no {placement!r} sensor "
                f"(sensors: {', '.join(self.placements)}); add the person with more sensors"
            )
        rows = self.index(np.arange(k0, k1))
        return self._acc[placement][rows], self._gyr[placement][rows]
