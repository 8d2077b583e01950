"""The gyroscope's bias for the live (online) filter, from the sensor's still moments.

vqf estimates the bias at rest: once a sensor has been still for 1.5 s it takes the gyro, low-passed
over 0.5 s, as the bias and trusts it to 0.03 deg/s. A person is never quite still. Breathing turns
the thorax 0.2-0.5 deg at 12-20 breaths a minute (up to ~0.8 deg/s), and a rest between reps lasts
1-3 s, less than a breath: the rest estimate takes part of a breath for the bias, and the
inclination leans by that error times the filter's 3 s accelerometer time constant. In simulated
two-sensor hip thrusts and bridges that is 1-3 deg for a minute or more (the bias is trusted, the
motion-time estimate corrects it slowly), and the live monitor alarmed 7 times in 20 held-out
sessions of each where the lower back never passed its limit.

Here every still moment of the sensor gives one observation of the bias: its mean rate, less the
turn the accelerometer saw over it (the gravity direction at its start and at its end: a breath,
a slow sway or a slow movement turns both alike). The estimate is the observations' average,
weighted by duration squared (the accelerometer's share of an observation is noisier the shorter
the moment) and by age (``FORGET_S``: a MEMS gyro's bias drifts as it warms up). Each new estimate
goes to vqf (``VQF.setBiasEstimate``) with the uncertainty ``SIGMA_DEG_S``; vqf's own rest estimate
is switched off, its estimate during motion stays on. A turn about the vertical is invisible to
the accelerometer, so that part of a moment's rate is taken as it is; for the inclination, which
is all the angles use, that part of the bias does not matter.

The tracker is fed fixed blocks of the filter's samples (``OrientationStream``), so its estimate,
like the filter's output, does not depend on how the stream was chunked. Imports only numpy.
"""

from __future__ import annotations

import math

import numpy as np

STILL_GYRO_DEG_S = 4.0
"""A still moment: the angular rate less the current bias estimate (50 ms average) stays under
this (deg/s; as ``acc_offset.STILL_GYRO_DEG_S``) ..."""
FIRST_STILL_GYRO_DEG_S = 7.0
"""... or, until the first still moment has given an estimate, the rate itself stays under this
(deg/s): a gyro biased by up to 5 deg/s (what ``check-device`` accepts) must find its first
still moment, and a person standing still for the calibration turns by well under 2 deg/s."""
MIN_S = 0.4
"""... for at least this long (s). Its middle half is used: its ends are where a movement starts
or settles."""
MAX_S = 5.0
"""A still moment longer than this (s) is cut into observations of this length, so that a long
rest updates the estimate as it goes."""
FORGET_S = 60.0
"""An observation's weight halves every ``FORGET_S * ln 2`` s (s): the warm-up drift of a
consumer gyro's bias (0.05-0.3 deg/s over 30-120 s) is followed, breathing is averaged out."""
MAX_AGE_S = 5.0 * FORGET_S
"""Observations older than this (s) are dropped (weight below 1 %)."""
SIGMA_DEG_S = 0.05
"""The uncertainty (deg/s) vqf is given with each estimate: breathing's residue after a few
still moments; vqf's motion-time estimate can still move it."""
BLOCK_SAMPLES = 25
"""The tracker sees the filter's samples in blocks of this many; a new estimate reaches vqf at a
block's end (at 200 Hz every 125 ms)."""


def moment_rate(gyr: np.ndarray, acc: np.ndarray, dt: float) -> np.ndarray | None:
    """One still moment's observation of the bias (rad/s, sensor frame): its mean rate less the
    turn the gravity direction made over it, from the accelerometer (module docstring). ``gyr``,
    ``acc``: the moment's samples ((n, 3) rad/s, m/s^2; its middle, without the ends where a
    movement starts or settles), ``dt`` their time step (s). None when there are too few samples
    to see the gravity direction turn, or a non-finite one."""
    third = len(gyr) // 3
    if third < 1:
        return None
    g0 = acc[:third].mean(axis=0)
    g1 = acc[-third:].mean(axis=0)
    if not (np.all(np.isfinite(g0)) and np.all(np.isfinite(g1))):
        return None
    g0, g1 = g0 / np.linalg.norm(g0), g1 / np.linalg.norm(g1)
    up = (g0 + g1) / np.linalg.norm(g0 + g1)
    # the turn the gravity direction made (sensor frame: dg/dt = g x w, so the rate's part across
    # gravity is (dg/dt) x g), over the time between the thirds' middles
    turned = np.cross(g1 - g0, up) / ((len(gyr) - third) * dt)
    return np.asarray(gyr.mean(axis=0) - turned)


class StillBias:
    """Streaming bias estimate of one gyroscope from its still moments (module docstring)."""

    def __init__(self, rate_hz: float) -> None:
        self.dt = 1.0 / float(rate_hz)
        self.window = max(1, round(0.05 * rate_hz))  # the 50 ms average
        self.bias = np.zeros(3)
        """The current estimate (rad/s, sensor frame); zero until the first still moment."""
        self.observations = 0
        """Still moments used so far."""
        self._speed_tail = np.zeros(0)  # the last window - 1 speeds, for the moving average
        self._run_gyr: list[np.ndarray] = []  # the open still moment, in pieces
        self._run_acc: list[np.ndarray] = []
        self._run_n = 0
        self._t = 0.0  # filter time (s) at the end of the samples seen
        self._obs: list[tuple[float, float, np.ndarray]] = []  # (time, weight, rate)

    def restart(self) -> None:
        """A long gap in the data: a still moment does not span it (the estimate is kept)."""
        self._speed_tail = np.zeros(0)
        self._close_run(self._t)

    def feed(self, gyr: np.ndarray, acc: np.ndarray) -> bool:
        """Take the next samples ((n, 3) rad/s, m/s^2); True when the estimate changed."""
        n = len(gyr)
        if n == 0:
            return False
        speed = np.linalg.norm(gyr - self.bias, axis=1)
        joined = np.concatenate((self._speed_tail, speed))
        csum = np.concatenate(([0.0], np.cumsum(joined)))
        lo = np.maximum(np.arange(len(self._speed_tail), len(joined)) - self.window + 1, 0)
        hi = np.arange(len(self._speed_tail), len(joined)) + 1
        mean = (csum[hi] - csum[lo]) / (hi - lo)
        self._speed_tail = joined[-(self.window - 1) :] if self.window > 1 else np.zeros(0)
        limit = STILL_GYRO_DEG_S if self._obs else FIRST_STILL_GYRO_DEG_S
        still = mean < math.radians(limit)
        changed = False
        start = 0
        cap = max(1, round(MAX_S / self.dt))
        while start < n:
            # the samples from ``start`` that keep the current state (still or not)
            flips = np.flatnonzero(still[start:] != still[start])
            stop = start + int(flips[0]) if len(flips) else n
            if still[start]:
                while start < stop:
                    take = min(stop - start, cap - self._run_n)
                    self._run_gyr.append(gyr[start : start + take])
                    self._run_acc.append(acc[start : start + take])
                    self._run_n += take
                    start += take
                    if self._run_n >= cap:
                        changed |= self._close_run(self._t + start * self.dt)
            else:
                changed |= self._close_run(self._t + start * self.dt)
            start = stop
        self._t += n * self.dt
        return changed

    def _close_run(self, now: float) -> bool:
        """End the open still moment at time ``now`` (s); True when it changed the estimate."""
        if not self._run_n:
            return False
        gyr = np.concatenate(self._run_gyr)
        acc = np.concatenate(self._run_acc)
        self._run_gyr, self._run_acc, self._run_n = [], [], 0
        if len(gyr) * self.dt < MIN_S:
            return False
        quarter = len(gyr) // 4
        gyr, acc = gyr[quarter : len(gyr) - quarter], acc[quarter : len(acc) - quarter]
        rate = moment_rate(gyr, acc, self.dt)
        if rate is None:
            return False
        self._obs = [o for o in self._obs if now - o[0] <= MAX_AGE_S]
        self._obs.append((now, (len(gyr) * self.dt) ** 2, rate))
        weights = np.array([w * math.exp(-(now - t) / FORGET_S) for t, w, _ in self._obs])
        rates = np.array([r for _, _, r in self._obs])
        self.bias = (weights[:, None] * rates).sum(axis=0) / weights.sum()
        self.observations += 1
        return True
