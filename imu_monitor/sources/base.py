"""What every data source implements: ``Source``, and the callbacks it calls.

A source (BLE wearables through bleak, the simulated wearable, a replayed recording) starts its
own thread and calls back with sample chunks (SI units, see ``model``), gaps and status changes.
Downstream code cannot tell live from simulated from replayed data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, Protocol

from imu_monitor.model import Gap, SampleChunk, SensorInfo


class SourceState(StrEnum):
    """A source's (or one of its sensors') state changes."""

    CONNECTED = "connected"
    STREAMING = "streaming"
    BATTERY = "battery"
    """The battery level changed (``SourceStatus.battery_pct``)."""
    LINK_LOST = "link_lost"
    RECONNECTING = "reconnecting"
    RECONNECTED = "reconnected"
    FAILED = "failed"
    """Reconnecting gave up: the sensor streams no more (``message`` says why)."""
    STOPPED = "stopped"
    REPLAYING = "replaying"
    JUMP = "jump"
    """A replay was seeked or looped: times jump (``position_s``); not a link state."""
    FINISHED = "finished"


@dataclass(frozen=True)
class SourceStatus:
    """One status change of a source, from the source's thread to every listener.

    ``sensor``: the placement it is about ("" for the whole source, e.g. a replay);
    ``device``, ``address``, ``profile``: the wearable's; ``battery_pct``: the new level
    (state ``battery``) or None; ``attempt`` / ``delay_s``: the reconnection attempt about to
    be made and its wait (s); ``attempts``: how many it took (``reconnected``, ``failed``);
    ``duration_s``: a replay's length; ``position_s``: where a replay jumped to (s);
    ``message``: what to tell a person.
    """

    state: SourceState
    sensor: str = ""
    device: str = ""
    address: str = ""
    profile: str = ""
    battery_pct: int | None = None
    attempt: int | None = None
    delay_s: float | None = None
    attempts: int | None = None
    duration_s: float | None = None
    position_s: float | None = None
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The fields that are set, ``state`` as its string (JSON lines, console)."""
        d = {k: v for k, v in asdict(self).items() if v not in (None, "")}
        d["state"] = str(self.state)
        return d


ChunkCallback = Callable[[SampleChunk], None]
GapCallback = Callable[[Gap], None]
StatusCallback = Callable[[SourceStatus], None]


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
