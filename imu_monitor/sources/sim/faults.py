"""Faults a simulated wearable injects, and what it counts of what it sent."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from imu_monitor.devices.profiles import Profile
from imu_monitor.sources.sim.gatt import samples_in


@dataclass
class SimFaults:
    """Faults a simulated device injects. Times are device seconds (the person's time: 0 when
    the first device of the person starts streaming).

    ``drop_fraction``: notifications lost in the air. ``link_loss_at_s``: device times at which
    the link drops; the device is then gone for ``link_down_s`` before it advertises again.
    ``link_loss_after_s``: seconds of streaming after which the link drops, one per stream:
    the i-th stream (first connection, then each reconnection) drops after
    ``link_loss_after_s[i]`` seconds, however long the reconnection before it took.
    ``garbage_fraction``: notifications replaced by random bytes of the same length;
    ``short_fraction``: notifications truncated. ``burst_every_s``: every this many seconds the
    next ``burst_hold_s`` of notifications are held back and sent together.
    ``hold_after_reconnect_s``: after each reconnection (not the first connection), the first
    this many seconds of notifications are held back and then sent together (a link that comes
    back congested, so the first notifications the client sees are late).
    ``hold_first_s``: the same at the first connection: the client anchors the device's clock
    on a late first notification, and all its samples sit that much late on the session clock
    against another wearable's (``processing.live_clock_offset`` measures and takes it off).
    ``reboot_on_link_loss``: the device restarts with its link: after a link loss its sample
    counter and clock start again from 0 (the person's motion goes on).
    ``battery_read_fails``: every read of the battery characteristic fails (a GATT error).
    ``seed``: for the random choices.
    """

    drop_fraction: float = 0.0
    link_loss_at_s: tuple[float, ...] = ()
    link_loss_after_s: tuple[float, ...] = ()
    link_down_s: float = 1.0
    garbage_fraction: float = 0.0
    short_fraction: float = 0.0
    burst_every_s: float | None = None
    burst_hold_s: float = 0.1
    hold_after_reconnect_s: float = 0.0
    hold_first_s: float = 0.0
    reboot_on_link_loss: bool = False
    battery_read_fails: bool = False
    seed: int = 0


@dataclass
class SimDeviceStats:
    """What a simulated device did (for tests to compare with what the client saw)."""

    notifications: int = 0
    """Notifications sent into the air (including dropped and corrupted ones)."""
    samples_sent: int = 0
    """Samples in notifications that arrived intact."""
    dropped: int = 0
    garbage: int = 0
    short: int = 0
    link_losses: int = 0
    connections: int = 0
    streams: int = 0


class FaultInjector:
    """Applies ``faults`` to a device's outgoing data notifications, counting in ``stats``."""

    def __init__(self, faults: SimFaults, stats: SimDeviceStats, rng: np.random.Generator) -> None:
        self.faults = faults
        self.stats = stats
        self._rng = rng
        self._first_part_bytes = 0  # a split packet's first part, sent intact
        self._losses = sorted(faults.link_loss_at_s)
        self._drop_at_s = math.inf  # this stream's link_loss_after_s

    def stream_started(self, t_s: float, streams: int) -> None:
        """Stream number ``streams`` (1: the first) starts at device time ``t_s``."""
        after = self.faults.link_loss_after_s
        self._drop_at_s = t_s + after[streams - 1] if streams <= len(after) else math.inf

    def link_lost(self, t_s: float) -> bool:
        """Whether the link drops before the notification of device time ``t_s``."""
        if self._losses and t_s >= self._losses[0]:
            self._losses.pop(0)
            return True
        if t_s >= self._drop_at_s:
            self._drop_at_s = math.inf
            return True
        return False

    def apply(self, payload: bytes, firmware: Profile) -> bytes | None:
        """The notification as it arrives: None (dropped), garbage, truncated or intact."""
        f = self.faults
        self.stats.notifications += 1
        r = self._rng.random(3)
        if r[0] < f.drop_fraction or r[1] < f.garbage_fraction or r[2] < f.short_fraction:
            self._first_part_bytes = 0
        if r[0] < f.drop_fraction:
            self.stats.dropped += 1
            return None
        if r[1] < f.garbage_fraction:
            self.stats.garbage += 1
            return self._rng.integers(0, 256, len(payload), dtype=np.uint8).tobytes()
        if r[2] < f.short_fraction and len(payload) > 1:
            self.stats.short += 1
            return payload[: int(self._rng.integers(1, len(payload)))]
        self.stats.samples_sent += samples_in(firmware, payload, self._first_part_bytes)
        self._first_part_bytes = 0
        for c in firmware.continuation:
            if payload.startswith(c.first) and len(payload) == c.split_length:
                self._first_part_bytes = len(payload)
        return payload

    def in_burst(self, t_s: float) -> bool:
        """Whether a notification sent at device time ``t_s`` is held back in a burst."""
        every = self.faults.burst_every_s
        if not every:
            return False
        return (t_s % every) < self.faults.burst_hold_s
