"""The simulated wearable's clock: simulated seconds running ``speed`` times the host's."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable

from imu_monitor.errors import SimError


class SimClock:
    """Simulated time in seconds, running ``speed`` times faster than ``time_fn`` (host seconds,
    default ``time.monotonic``). Time 0 is the first ``now()`` call (so building the simulated
    sessions does not eat into them) or the last ``reset()``."""

    def __init__(self, speed: float = 1.0, time_fn: Callable[[], float] = time.monotonic):
        if not (speed > 0 and math.isfinite(speed)):
            raise SimError(f"SimClock speed must be a positive finite factor (got {speed})")
        self.speed = float(speed)
        self._time_fn = time_fn
        self._t0: float | None = None

    def reset(self) -> None:
        """Make now simulated time 0."""
        self._t0 = self._time_fn()

    def now(self) -> float:
        """Simulated seconds since time 0."""
        if self._t0 is None:
            self._t0 = self._time_fn()
        return (self._time_fn() - self._t0) * self.speed

    async def sleep(self, dt_s: float) -> None:
        """Sleep ``dt_s`` simulated seconds."""
        await asyncio.sleep(max(dt_s, 0.0) / self.speed)

    async def sleep_until(self, t_s: float) -> None:
        """Sleep until simulated time ``t_s`` (returns at once, yielding, if it has passed)."""
        await asyncio.sleep(max(t_s - self.now(), 0.0) / self.speed)
