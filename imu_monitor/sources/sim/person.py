"""The simulated person behind the simulated wearables: one simulated session, looped.

All sensors of one person come from one ``simulate_session`` call with ``sensors = 1..3``, so a
two-sensor person streams the sacrum and upper-lumbar series of the same session. A live session
longer than the simulated one loops part of its reps (from just before one rep to just before a
later one, or the final rest): both ends are the person at rest between reps with the same body
and sensor mounting, and of the possible loops the one whose two rests are nearest each other in
every sensor's inclination is taken (``SimPerson._loop``), so the signal stays continuous
within a degree or two and the orientation filter and calibration stay valid. The looped reps
repeat identically on every pass; the standing / calibration phase is played once at the start.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from imu_monitor.errors import SimError
from imu_monitor.model import LUMBAR_FAULTS, SENSOR_SETS
from imu_monitor.simulator import SimulationConfig, simulate_session
from imu_monitor.simulator.procedure import simulate_procedure

LOOP_LEAD_S = 0.3
"""The loop of a long session starts this long before a rep (at rest)."""
LOOP_MIN_REPS = 3
"""The loop repeats at least this many reps (or all, in a shorter session)."""
REST_MEAN_S = 0.25
"""The rests compared for the loop are the readings' mean over this long."""


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
        procedure: bool = False,
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
        self.procedure = procedure
        """Doing the device calibration's procedure with the session's wearables instead of
        the session (``device-cal record --device sim``); looped whole."""
        self.recording = (
            simulate_procedure(self.config) if procedure else simulate_session(self.config)
        )
        self.placements = SENSOR_SETS[sensors]
        self.rate_hz = float(rate_hz)
        series = self.recording.series
        self.n = len(series[self.placements[0]])
        self.loop_k0, self.loop_k1 = self._loop()
        """The samples the session loops over once past ``loop_k1``: ``[loop_k0, loop_k1)``."""
        self.t0_s: float | None = None
        """World time of the person's time 0: when the first of its devices starts streaming
        (so scanning and connecting do not eat into the standing / calibration phase)."""
        self._acc = {p: series[p].acc_m_s2 for p in self.placements}
        self._gyr = {p: series[p].gyr_rad_s for p in self.placements}

    def _loop(self) -> tuple[int, int]:
        """The samples the loop runs over, ``[k0, k1)``: from ``LOOP_LEAD_S`` before one rep
        to as long before a later one (or the session's end), with at least ``LOOP_MIN_REPS``
        reps and one with a lumbar fault among them where the session has any (the demo goes
        on showing alarms), the pair whose rests are nearest each other summed over the
        sensors' inclinations (gravity in each sensor's frame; the mean of ``REST_MEAN_S``). A
        hip thrust's or bridge's rests between reps lie up to 17 deg apart (each rep's depth
        varies): looped from the final rest to the first rep, a session jumped by that much,
        which no gyro reading accounts for, and the orientation filter took seconds to follow
        (the first rep of each later pass read 3 deg off)."""
        reps = self.recording.truth.reps if self.recording.truth else []
        if not reps:
            return 0, self.n
        width = max(int(REST_MEAN_S * self.rate_hz), 1)
        starts = [
            int(np.clip(round((r.t_start_s - LOOP_LEAD_S) * self.rate_hz), 0, self.n - width))
            for r in reps
        ]
        marks = [*starts, self.n]  # (the loop ends before a rep's rest, or at the session's end)
        rests = np.array(
            [
                [self._inclination(p, min(k, self.n - width), width) for p in self.placements]
                for k in marks
            ]
        )  # (mark, placement, 3)
        lumbar = [r.fault in LUMBAR_FAULTS for r in reps]

        def worse(i: int, j: int) -> tuple[bool, float]:
            """How bad a loop from rep i to mark j is: no lumbar fault in it, then the jump."""
            cos = np.clip(np.einsum("pk,pk->p", rests[i], rests[j]), -1.0, 1.0)
            return not any(lumbar[i:j]) and any(lumbar), float(np.degrees(np.arccos(cos)).sum())

        pairs = [
            (i, j)
            for i in range(len(reps))
            for j in range(i + min(LOOP_MIN_REPS, len(reps)), len(marks))
        ]  # (never empty: the first rep to the end, at least)
        i, j = min(pairs, key=lambda ij: worse(*ij))
        return starts[i], marks[j]

    def _inclination(self, placement: str, k: int, width: int) -> np.ndarray:
        g = self.recording.series[placement].acc_m_s2[k : k + width].mean(axis=0)
        return g / np.linalg.norm(g)

    @property
    def session_s(self) -> float:
        """Length of the first pass (standing, calibration, reps up to the loop's end), s."""
        return self.loop_k1 / self.rate_hz

    def index(self, k: np.ndarray) -> np.ndarray:
        """Person sample counter -> row of the simulated session (looping the reps part)."""
        k = np.asarray(k, dtype=np.int64)
        k1 = self.loop_k1
        return np.where(k < k1, k, self.loop_k0 + np.mod(k - k1, k1 - self.loop_k0))

    def samples(self, placement: str, k0: int, k1: int) -> tuple[np.ndarray, np.ndarray]:
        """acc (m/s^2) and gyro (rad/s) readings, each (k1 - k0, 3), in the sensor frame."""
        if placement not in self._acc:
            raise SimError(
                f"simulated person {self.name!r} wears no {placement!r} sensor "
                f"(sensors: {', '.join(self.placements)}); add the person with more sensors"
            )
        rows = self.index(np.arange(k0, k1))
        return self._acc[placement][rows], self._gyr[placement][rows]
