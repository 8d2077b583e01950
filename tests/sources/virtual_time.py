"""An asyncio event loop on virtual time, for tests that drive the simulated wearable on one loop.

The simulated wearable's clock (``SimClock``) follows a host clock times a speed factor. On the
host's monotonic clock, a loaded machine that does not schedule the loop for a while makes
simulated time jump: a device's stream then falls behind and catches up later, while a test's
own timer (``clock.sleep``) is already due, so what a test sees "after 1 simulated second"
depends on the machine's load. On this loop, time moves only when every ready callback has run
and the loop would otherwise wait: it jumps to the next timer. Everything due at a simulated
time has then happened before anything later, whatever the load.

>>> vt = VirtualTime()                                            # doctest: +SKIP
>>> world.clock = SimClock(speed=50, time_fn=vt.time)
>>> run_virtual(vt, coro)

Single thread only: a callback another thread schedules still wakes the loop, but the loop does
not wait for other threads while it has timers (it jumps to them).
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

IDLE_POLL_S = 1.0
"""Host seconds the loop waits for I/O when it has no timer at all (nothing to jump to)."""


class VirtualTime:
    """Seconds since the start, moved on only by a ``VirtualTimeLoop`` with nothing to do."""

    def __init__(self) -> None:
        self.now = 0.0

    def time(self) -> float:
        return self.now


class _JumpingSelector(selectors.BaseSelector):
    """A selector that polls without blocking and, when nothing is ready, moves virtual time on
    by the timeout asked for (the time to the loop's next timer)."""

    def __init__(self, inner: selectors.BaseSelector, vt: VirtualTime) -> None:
        self._inner = inner
        self._vt = vt

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.modify(fileobj, events, data)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is None:  # no timer: only I/O (another thread) can wake the loop
            return self._inner.select(IDLE_POLL_S)
        ready = self._inner.select(0)
        if not ready and timeout > 0:
            self._vt.now += timeout
        return ready

    def close(self) -> None:
        self._inner.close()

    def get_map(self) -> Any:
        return self._inner.get_map()


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop whose ``time()`` is ``vt``'s (see the module docstring)."""

    def __init__(self, vt: VirtualTime) -> None:
        super().__init__(_JumpingSelector(selectors.DefaultSelector(), vt))
        self._vt = vt

    def time(self) -> float:
        return self._vt.now


def run_virtual(vt: VirtualTime, coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)`` on a ``VirtualTimeLoop`` of ``vt``."""
    with asyncio.Runner(loop_factory=lambda: VirtualTimeLoop(vt)) as runner:
        return runner.run(coro)


def virtual_loops(monkeypatch: pytest.MonkeyPatch) -> VirtualTime:
    """Make every event loop created in this test (``asyncio.run``, ``asyncio.new_event_loop``,
    as ``BleSource`` does for its thread) a ``VirtualTimeLoop`` on one returned ``VirtualTime``.
    For tests of what a scan of so many host seconds finds: on the host's clock a late loop can
    see the scan's timeout and the advertisements it should have seen fall due together."""
    vt = VirtualTime()
    monkeypatch.setattr(
        asyncio.get_event_loop_policy(), "new_event_loop", lambda: VirtualTimeLoop(vt)
    )
    return vt
