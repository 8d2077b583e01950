"""What every data source implements: ``Source``, and the callbacks it calls.

A source (BLE wearables through bleak, the simulated wearable, a replayed recording) starts its
own thread and calls back with sample chunks (SI units, see ``model``), gaps and status changes.
Downstream code cannot tell live from simulated from replayed data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from imu_monitor.model import Gap, SampleChunk, SensorInfo

ChunkCallback = Callable[[SampleChunk], None]
GapCallback = Callable[[Gap], None]
StatusCallback = Callable[[str, dict[str, Any]], None]


class Source(Protocol):
    """What every data source implements."""

    sensors: dict[str, SensorInfo]

    def start(
        self, on_chunk: ChunkCallback, on_gap: GapCallback, on_status: StatusCallback
    ) -> None:
        """Start streaming in the source's own thread; returns at once."""

    def stop(self) -> None:
        """Stop streaming and join the thread (an intentional stop, not a dropped link)."""

    def alert(self, direction: str) -> None:
        """Raise the wearable's own alert (sound, LED, vibration) if it has one; never blocks."""
