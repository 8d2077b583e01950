"""Joining several sensors onto one time base.

Each wearable samples on its own clock; the lumbar angle needs every sensor's orientation at the
same instant. The master sensor (the sacrum) sets the time base; the others' orientation
quaternions are interpolated (normalised linear interpolation, fine at 200 Hz) to the master's
sample times. The streaming joiner holds a master sample back until every other sensor has data
at or after its time (at most ``max_wait_s``: a sensor that stalls, e.g. during a link drop, is
then held at its last value), so streaming and batch give the same numbers whenever no sensor
stalls.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

KEEP_AHEAD_S = 30.0
"""Another sensor's samples kept while the master sends nothing (a master link drop): the
newest this many seconds of them, so a long drop does not grow the joiner."""


def interp_quat(t_query: np.ndarray, t: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Quaternions ``q`` (n, 4) sampled at ``t`` (n,), interpolated at ``t_query`` (m,).

    Outside ``t`` the first / last quaternion is held. Returns (m, 4), unit norm.
    """
    if len(t) == 0:
        return np.full((len(t_query), 4), np.nan)
    if len(t) == 1:
        return np.repeat(q[:1], len(t_query), axis=0)
    out = np.empty((len(t_query), 4))
    for k in range(4):
        out[:, k] = np.interp(t_query, t, q[:, k])
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def join_batch(
    master_t: np.ndarray, others: dict[str, tuple[np.ndarray, np.ndarray]]
) -> dict[str, np.ndarray]:
    """Batch join: every other sensor's (t, quat) interpolated onto ``master_t``."""
    return {name: interp_quat(master_t, t, q) for name, (t, q) in others.items()}


class SensorJoiner:
    """Streaming join of orientation chunks onto the master sensor's samples.

    ``push(sensor, t_s, quat)`` returns the master samples that became complete, as
    ``(t_s, {placement: quat})`` (the master's own quaternions included).
    """

    def __init__(self, placements: list[str], master: str = "sacrum", max_wait_s: float = 0.5):
        if master not in placements:
            raise ValueError(f"master sensor {master!r} not among {placements}")
        self.master = master
        self.others = [p for p in placements if p != master]
        self.max_wait_s = max_wait_s
        self._pending_t = np.zeros(0)
        self._pending_q = np.zeros((0, 4))
        # per other sensor: all samples not yet needed (the last one before the oldest pending
        # master time is kept as the left bracket)
        self._t = {p: np.zeros(0) for p in self.others}
        self._q = {p: np.zeros((0, 4)) for p in self.others}
        self.held_samples = 0
        """Master samples emitted with a stalled sensor held at its last value."""

    def push(
        self, sensor: str, t_s: np.ndarray, quat: np.ndarray
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        if sensor == self.master:
            self._pending_t = np.concatenate([self._pending_t, t_s])
            self._pending_q = np.concatenate([self._pending_q, quat])
        elif sensor in self._t:
            t_all = np.concatenate([self._t[sensor], t_s])
            q_all = np.concatenate([self._q[sensor], quat])
            if len(self._pending_t) == 0 and len(t_all) and t_all[0] < t_all[-1] - KEEP_AHEAD_S:
                # the master is silent: keep the newest samples, one older as a left bracket
                k = max(int(np.searchsorted(t_all, t_all[-1] - KEEP_AHEAD_S)) - 1, 0)
                t_all, q_all = t_all[k:].copy(), q_all[k:].copy()
            self._t[sensor], self._q[sensor] = t_all, q_all
        else:
            return np.zeros(0), {}
        return self._emit()

    def shift(self, sensor: str, dt_s: float) -> None:
        """Move the samples held of another sensor by ``dt_s`` (s): its clock's offset was
        found (``live_clock_offset``), and its chunks come moved by as much from now on."""
        if sensor in self._t:
            self._t[sensor] = self._t[sensor] + dt_s

    def turn(self, sensor: str, to_new: Callable[[np.ndarray], np.ndarray]) -> None:
        """Turn the orientations held of ``sensor`` (master or other) by ``to_new``, which maps
        (n, 4) ``quat_ws`` to the same: its filter was run again (an accelerometer offset taken
        off) and its samples come in the new filter's frame from now on, so that a joined
        sample never mixes the two."""
        if sensor == self.master:
            if len(self._pending_q):
                self._pending_q = to_new(self._pending_q)
        elif sensor in self._q and len(self._q[sensor]):
            self._q[sensor] = to_new(self._q[sensor])

    def _emit(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        if len(self._pending_t) == 0:
            return np.zeros(0), {}
        latest = self._pending_t[-1]
        ready_until = latest
        stalled = False
        for p in self.others:
            t_other = self._t[p][-1] if len(self._t[p]) else -np.inf
            if t_other < latest - self.max_wait_s:
                stalled = True  # give up waiting: emit what is older than the wait limit
                ready_until = min(ready_until, latest - self.max_wait_s)
            else:
                ready_until = min(ready_until, t_other)
        n = int(np.searchsorted(self._pending_t, ready_until, side="right"))
        if n == 0:
            return np.zeros(0), {}
        t_out = self._pending_t[:n]
        quats = {self.master: self._pending_q[:n]}
        for p in self.others:
            quats[p] = interp_quat(t_out, self._t[p], self._q[p])
        if stalled:
            self.held_samples += n
        self._pending_t = self._pending_t[n:]
        self._pending_q = self._pending_q[n:]
        # drop other-sensor samples no longer needed as a left bracket
        for p in self.others:
            keep_from = max(int(np.searchsorted(self._t[p], t_out[-1], side="right")) - 1, 0)
            self._t[p] = self._t[p][keep_from:]
            self._q[p] = self._q[p][keep_from:]
        return t_out, quats
