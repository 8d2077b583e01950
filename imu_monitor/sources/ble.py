"""BLE wearables as a ``session.Source``: bleak on its own event-loop thread behind a small
synchronous facade.

>>> src = BleSource([SensorTarget("sacrum", device="LumbarIMU-1")])      # doctest: +SKIP
>>> src.open()                  # scan, connect, check the profile; fills src.sensors
>>> src.start(on_chunk, on_gap, on_status)   # subscribe + start writes; returns at once
>>> src.alert("extension")      # the wearable's own alert, never blocks
>>> src.stop()                  # stop writes, disconnect, join the thread

``BleBackend(scanner=SimScanner, client=SimClient, kwargs={"sim_world": world})`` runs the same
code against the simulated wearable (``sources.sim``); ``sim_source(...)`` builds that.
The async parts live in ``sources.scanning`` (scan, device choice), ``sources.link`` (one link
per sensor, reconnection), ``sources.link_stats`` and ``sources.battery``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from imu_monitor.errors import (
    BleError,
    BluetoothUnavailableError,
    DeviceNotFoundError,
    ProfileMismatchError,
)
from imu_monitor.model import SensorInfo, check_placement
from imu_monitor.sources.base import ChunkCallback, GapCallback, StatusCallback
from imu_monitor.sources.battery import BATTERY_INTERVAL_S
from imu_monitor.sources.link import ReconnectPolicy, SensorLink
from imu_monitor.sources.scanning import (
    BleBackend,
    FoundDevice,
    SensorTarget,
    looks_like_address,
    resolve_targets,
    scan,
)
from imu_monitor.sources.sim import SimClient, SimScanner, SimWorld

__all__ = [
    "BleBackend",
    "BleError",
    "BleSource",
    "BluetoothUnavailableError",
    "DeviceNotFoundError",
    "FoundDevice",
    "ProfileMismatchError",
    "ReconnectPolicy",
    "SensorTarget",
    "looks_like_address",
    "scan_devices",
    "sim_backend",
    "sim_source",
]

log = logging.getLogger(__name__)

T = TypeVar("T")


def sim_backend(world: SimWorld) -> BleBackend:
    """The bleak backend of a simulated world (``sim.SimWorld``)."""
    return BleBackend(SimScanner, SimClient, {"sim_world": world})


def scan_devices(timeout_s: float = 5.0, backend: BleBackend | None = None) -> list[FoundDevice]:
    """Scan for ``timeout_s`` host seconds; devices strongest first, each with the profile its
    advertisement matches. Raises ``BluetoothUnavailableError`` without an adapter."""
    return asyncio.run(scan(timeout_s, backend))


class BleSource:
    """One or more BLE wearables, one per placement, as a ``Source`` (see module docstring).

    ``targets``: what to connect per placement. ``backend``: bleak backends (None: the
    platform's). ``policy``: reconnection backoff. ``clock``: the session clock samples are
    timed on (host seconds by default; ``SimClock.now`` for the simulated wearable).
    ``scan_timeout_s``: how long ``open`` scans for the devices (host seconds).
    ``battery_interval_s``: host seconds between battery level reads of devices whose profile
    names a battery characteristic (``stats()[placement]["battery_pct"]``).
    """

    def __init__(
        self,
        targets: list[SensorTarget],
        *,
        backend: BleBackend | None = None,
        policy: ReconnectPolicy | None = None,
        clock: Callable[[], float] = time.perf_counter,
        scan_timeout_s: float = 10.0,
        battery_interval_s: float = BATTERY_INTERVAL_S,
    ) -> None:
        if not targets:
            raise BleError("no sensors to connect: name at least one placement")
        seen = set()
        for t in targets:
            check_placement(t.placement)
            if t.placement in seen:
                raise BleError(f"placement {t.placement!r} given twice; one sensor per placement")
            seen.add(t.placement)
        self.targets = list(targets)
        self.backend = backend or BleBackend()
        self.policy = policy or ReconnectPolicy()
        self.clock = clock
        self.scan_timeout_s = float(scan_timeout_s)
        self.battery_interval_s = float(battery_interval_s)
        self.sensors: dict[str, SensorInfo] = {
            t.placement: SensorInfo(t.placement) for t in targets
        }
        self.links: dict[str, SensorLink] = {}
        self.t0_s: float | None = None
        self.pending_tasks_at_stop: int | None = None
        """Tasks the loop still had after the orderly shutdown (0 means a clean stop)."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._supervisors: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[Any]] = set()
        self._started = False

    # -- the loop thread ----------------------------------------------------------------------
    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._run_loop, name="ble-loop", daemon=True)
            self._thread.start()
        return self._loop

    def _run_loop(self) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def _call(self, coro: Coroutine[Any, Any, T], timeout_s: float) -> T:
        if threading.current_thread() is self._thread:
            raise BleError("BleSource methods must not be called from its own event-loop thread")
        fut = asyncio.run_coroutine_threadsafe(coro, self._ensure_loop())
        try:
            return fut.result(timeout_s)
        except concurrent.futures.TimeoutError:
            fut.cancel()
            raise BleError(f"Bluetooth operation timed out after {timeout_s:g} s") from None

    @property
    def thread_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- Source protocol ----------------------------------------------------------------------
    def open(self) -> None:
        """Scan, connect every sensor and check its profile (blocking). Fills ``sensors``.
        Raises ``BleError`` subclasses naming the device and what was found."""
        if self.links:
            return
        budget = self.scan_timeout_s + self.policy.connect_timeout_s * len(self.targets) + 5.0
        try:
            self._call(self._open(), budget)
        except BaseException:
            self._close_loop()
            raise

    async def _open(self) -> None:
        chosen = await resolve_targets(self.targets, self.backend, self.scan_timeout_s)
        links = {}
        try:
            for t in self.targets:
                found, prof = chosen[t.placement]
                link = SensorLink(
                    t.placement,
                    found,
                    prof,
                    self.backend,
                    policy=self.policy,
                    clock=self.clock,
                    battery_interval_s=self.battery_interval_s,
                )
                links[t.placement] = link
                await link.connect()
                self.sensors[t.placement] = SensorInfo(
                    t.placement, prof.name, found.name or found.address, prof.rate_hz
                )
        except BaseException:
            for link in links.values():
                await link.close()
            raise
        self.links = links

    def start(
        self, on_chunk: ChunkCallback, on_gap: GapCallback, on_status: StatusCallback
    ) -> None:
        """Connect if needed, subscribe and send the start writes; returns once streaming.
        The callbacks run on the BLE thread."""
        if self._started:
            raise BleError("this BLE source is already streaming; stop() it first")
        self.open()
        for link in self.links.values():
            link.on_chunk, link.on_gap, link.on_status = on_chunk, on_gap, on_status
        try:
            self._call(self._start(), self.policy.connect_timeout_s * len(self.links) + 5.0)
        except BaseException:
            self.stop()
            raise
        self._started = True

    async def _start(self) -> None:
        self.t0_s = self.clock()
        for link in self.links.values():
            await link.start_stream(self.t0_s)
        loop = asyncio.get_running_loop()
        self._supervisors = [
            loop.create_task(link.supervise(), name=f"ble-supervise-{p}")
            for p, link in self.links.items()
        ]

    def stop(self) -> None:
        """Stop writes, disconnect every device (an intentional stop, not a dropped link),
        finish every task and join the thread. Safe to call twice."""
        if self._loop is None:
            return
        try:
            self._call(self._shutdown(), 10.0 + 5.0 * len(self.links))
        except BleError as e:
            log.warning("BLE shutdown: %s", e)
        finally:
            self._close_loop()
            self._started = False

    async def _shutdown(self) -> None:
        await asyncio.gather(*(link.close() for link in self.links.values()))
        me = asyncio.current_task()
        for _ in range(3):  # tasks cancelled here may leave follow-up tasks; a few rounds
            others = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
            if not others:
                break
            for t in others:
                t.cancel()
            await asyncio.gather(*others, return_exceptions=True)
        self.pending_tasks_at_stop = len(
            [t for t in asyncio.all_tasks() if t is not me and not t.done()]
        )
        await asyncio.get_running_loop().shutdown_asyncgens()

    def _close_loop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=10.0)
            if thread.is_alive():
                log.warning("the BLE thread did not finish within 10 s")
                return
        loop.close()
        self._loop = None

    def alert(self, direction: str) -> None:
        """Send the wearable alert for ``direction`` (``flexion``, ``extension`` or ``off``) to
        every connected device whose profile has one. Never blocks (safe from any thread,
        including the BLE thread the pipeline's listeners run on)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        def spawn() -> None:
            for link in self.links.values():
                task = loop.create_task(link.alert(direction))
                self._background.add(task)
                task.add_done_callback(self._background.discard)

        try:
            loop.call_soon_threadsafe(spawn)
        except RuntimeError:  # loop closing
            pass

    def alert_and_wait(self, direction: str, timeout_s: float = 5.0) -> dict[str, bool]:
        """Send the wearable alert for ``direction`` and wait for the writes: per placement,
        whether they went through (False: no alert in the profile, or the write failed).
        Blocking: not for the BLE thread (check-device's alert check)."""

        async def send() -> dict[str, bool]:
            return {p: await link.alert(direction) for p, link in self.links.items()}

        return self._call(send(), timeout_s)

    # -- reporting ----------------------------------------------------------------------------
    def stats(self) -> dict[str, dict[str, Any]]:
        """Per placement: ``SensorLink.stats()`` (packets, samples, loss, malformed, gaps,
        reconnects, effective rate, latency, ``battery_pct``: percent or None when unknown)."""
        return {p: link.stats() for p, link in self.links.items()}

    def session_time(self) -> float:
        """Seconds on the session clock since streaming started (0 before)."""
        return 0.0 if self.t0_s is None else self.clock() - self.t0_s

    def stream_time(self) -> float:
        """Session time of the newest sample handed on by any sensor (0 before). Lags
        ``session_time`` when processing cannot keep up (a simulated wearable sped up beyond
        what the pipeline processes in real time)."""
        times = [link.last_t_s for link in self.links.values() if link.last_t_s is not None]
        return max(times, default=0.0)


def sim_source(
    world: SimWorld,
    placements: dict[str, str] | None = None,
    *,
    profile: str | None = None,
    policy: ReconnectPolicy | None = None,
    scan_timeout_s: float = 5.0,
    battery_interval_s: float = BATTERY_INTERVAL_S,
) -> BleSource:
    """A ``BleSource`` on the simulated backend of ``world`` (``sim.SimWorld``).

    ``placements``: placement -> device name or address; None: every device of the world at
    its own placement. Scan timeouts and ``battery_interval_s`` are host seconds.
    """
    if placements is None:
        placements = {d.placement: d.address for d in world.devices.values()}
    targets = [SensorTarget(p, dev, profile) for p, dev in placements.items()]
    return BleSource(
        targets,
        backend=sim_backend(world),
        policy=policy,
        clock=world.clock.now,
        scan_timeout_s=scan_timeout_s,
        battery_interval_s=battery_interval_s,
    )
