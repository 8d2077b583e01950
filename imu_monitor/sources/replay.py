"""Replay a recording as a live source: chunks of samples, paced in (scaled) real time.

Each sensor's samples are cut into chunks of about ``chunk_s`` (like BLE notifications) and all
sensors' chunks are merged in the order their last sample was taken, which is when a live
sensor's notification would arrive. Chunks carry the recorded ``t_s`` and ``seq``, so downstream
code cannot tell replay from a live sensor. Gaps recorded in the file are passed to ``on_gap``
when replay reaches their start.

Positions (``position_s``, ``seek``) are seconds from the first sample of the recording,
in [0, ``duration_s``]. Times in the chunks stay on the recording's own clock.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from imu_monitor.errors import ImuMonitorError
from imu_monitor.model import Gap, Recording, SampleChunk
from imu_monitor.sources.base import (
    ChunkCallback,
    GapCallback,
    SourceState,
    SourceStatus,
    StatusCallback,
)

log = logging.getLogger(__name__)

MAX_SLEEP_S = 0.05
"""Longest single sleep while pacing, so pause/seek/speed changes take effect quickly."""


class ReplaySource:
    """A recording played back as a stream of ``SampleChunk``.

    ``speed``: 1.0 real time, 4.0 four times faster, None or ``math.inf`` as fast as possible.
    ``loop``: start over at the end. ``clock``/``sleep``: seconds clock and sleep function
    (inject fakes in tests). ``on_gap(gap)``: called (in the replay thread) when replay reaches
    a recorded gap. ``on_jump(position_s)``: called before the first chunk after a seek or a
    loop restart, so consumers can reset filters (times jump there).

    Thread-safe: ``pause``, ``resume``, ``seek``, ``seek_rep`` and ``speed`` may be used from
    another thread (the UI) while ``chunks()`` runs in a worker thread.
    """

    def __init__(
        self,
        rec: Recording,
        *,
        speed: float | None = 1.0,
        loop: bool = False,
        chunk_s: float = 0.04,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        on_gap: Callable[[Gap], None] | None = None,
        on_jump: Callable[[float], None] | None = None,
    ) -> None:
        if chunk_s <= 0:
            raise ImuMonitorError(f"replay chunk length must be positive, got {chunk_s} s")
        self.rec = rec
        self.loop = loop
        self.chunk_s = float(chunk_s)
        self.on_gap = on_gap
        self.on_jump = on_jump
        self._clock = clock
        self._sleep = sleep
        self._names = [n for n, s in rec.series.items() if len(s)]
        starts = [rec.series[n].t_s[0] for n in self._names]
        ends = [rec.series[n].t_s[-1] for n in self._names]
        self.t0_s = float(min(starts)) if starts else 0.0
        """Recording time of position 0 (the first sample of any sensor)."""
        self.duration_s = float(max(ends) - self.t0_s) if ends else 0.0
        self._gaps = sorted(rec.gaps, key=lambda g: g.t_start_s)
        self._gap_pos = np.array([g.t_start_s - self.t0_s for g in self._gaps])
        self._per_chunk = {}
        for n in self._names:
            rate = rec.sensors[n].rate_hz if n in rec.sensors else 0.0
            t = rec.series[n].t_s
            if len(t) > 1 and not rate > 0:
                rate = 1.0 / float(np.median(np.diff(t)))
            self._per_chunk[n] = max(1, round(self.chunk_s * rate)) if rate > 0 else 1
        self._cond = threading.Condition()
        self._speed = self._check_speed(speed)
        self._paused = False
        self.notice: str | None = None
        """The last notice (e.g. a seek clamped to the recording), also logged."""
        self.loops = 0
        """How many times replay started over (loop mode)."""
        self._position_s = 0.0
        self._set_cursors(0.0)
        self._anchor_wall = None
        self._anchor_pos = 0.0
        self._jumped = False

    # -- control (any thread) --------------------------------------------------------------

    @staticmethod
    def _check_speed(speed: float | None) -> float:
        if speed is None:
            return math.inf
        speed = float(speed)
        if not speed > 0:
            raise ImuMonitorError(f"replay speed must be positive (or None for max), got {speed}")
        return speed

    @property
    def speed(self) -> float | None:
        """Replay speed factor; None means as fast as possible."""
        return None if math.isinf(self._speed) else self._speed

    @speed.setter
    def speed(self, value: float | None) -> None:
        with self._cond:
            self._speed = self._check_speed(value)
            self._reanchor()
            self._cond.notify_all()

    @property
    def position_s(self) -> float:
        """Seconds from the start of the recording of the last sample delivered (or seek)."""
        with self._cond:
            return self._position_s

    @property
    def paused(self) -> bool:
        with self._cond:
            return self._paused

    def pause(self) -> None:
        with self._cond:
            self._paused = True
            self._cond.notify_all()

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._reanchor()
            self._cond.notify_all()

    def seek(self, t_s: float) -> float:
        """Continue from position ``t_s`` (s from the start); returns the position used.

        Positions outside [0, duration] are clamped, with a notice in ``self.notice`` and the log.
        """
        t = float(t_s)
        notice = None
        if not t <= self.duration_s:  # also catches NaN
            notice = f"seek past the end: clamped to {self.duration_s:.3f} s"
            t = self.duration_s
        elif t < 0.0:
            notice = "seek before the start: clamped to 0.000 s"
            t = 0.0
        with self._cond:
            self.notice = notice
            self._set_cursors(t)
            self._position_s = t
            self._reanchor()
            self._jumped = True
            self._cond.notify_all()
        if notice:
            log.info("replay: %s", notice)
        return t

    def seek_rep(self, index: int, rep_starts: Sequence[float]) -> float:
        """Seek to the start of rep ``index``; ``rep_starts``: rep start times on the recording
        clock (e.g. ``TruthRep.t_start_s`` or ``RepEnded.t_start_s``). Returns the position."""
        if not 0 <= index < len(rep_starts):
            raise ImuMonitorError(
                f"no rep {index}: this recording has {len(rep_starts)} reps "
                f"(indices 0..{len(rep_starts) - 1})"
            )
        return self.seek(float(rep_starts[index]) - self.t0_s)

    # -- the stream (worker thread) --------------------------------------------------------

    def chunks(self) -> Iterator[SampleChunk]:
        """Yield the recording's chunks in time order, honouring speed, pause, seek and loop.

        Ends at the end of the recording unless ``loop``.
        """
        with self._cond:
            self._reanchor()
        while True:
            with self._cond:
                while self._paused:
                    self._cond.wait()
                item = self._next_locked()
                if item is None:
                    rest = self._gaps[self._gap_cursor :]
                    self._gap_cursor = len(self._gaps)
                else:
                    rest = []
            for g in rest:
                if self.on_gap is not None:
                    self.on_gap(g)
            with self._cond:
                if item is None:
                    if not self.loop or not self._names:
                        return
                    self.loops += 1
                    self._set_cursors(0.0)
                    self._position_s = 0.0
                    self._reanchor()
                    self._jumped = True
                    continue
                pos, name, i, j = item
                jumped, self._jumped = self._jumped, False
                jump_pos = self._position_s
                gaps = self._due_gaps_locked(pos)
            if jumped and self.on_jump is not None:
                self.on_jump(jump_pos)
            if not self._wait_until(pos):
                continue  # seek, pause or speed change while waiting: re-plan
            with self._cond:
                if self._jumped or self._paused:
                    continue
                self._cursor[name] = j
                self._gap_cursor += len(gaps)
                self._position_s = pos
            for g in gaps:
                if self.on_gap is not None:
                    self.on_gap(g)
            yield self.rec.series[name].chunk(name, i, j)

    # -- internals (call with the lock held unless noted) ----------------------------------

    def _set_cursors(self, pos: float) -> None:
        t = self.t0_s + pos
        self._cursor = {
            n: int(np.searchsorted(self.rec.series[n].t_s, t, side="left")) for n in self._names
        }
        self._gap_cursor = int(np.searchsorted(self._gap_pos, pos, side="left"))

    def _reanchor(self) -> None:
        self._anchor_wall = self._clock()
        self._anchor_pos = self._position_s

    def _next_locked(self) -> tuple[float, str, int, int] | None:
        """The next chunk: (position of its last sample, sensor, start, stop), or None at end."""
        best = None
        for n in self._names:
            i = self._cursor[n]
            t = self.rec.series[n].t_s
            if i >= len(t):
                continue
            j = min(i + self._per_chunk[n], len(t))
            # Do not bundle samples across a hole in the data: cut where time jumps.
            k = int(np.searchsorted(t[i:j], t[i] + self.chunk_s * 1.5, side="left"))
            j = i + max(1, k)
            pos = float(t[j - 1]) - self.t0_s
            if best is None or pos < best[0]:
                best = (pos, n, i, j)
        return best

    def _due_gaps_locked(self, pos: float) -> list[Gap]:
        k = self._gap_cursor
        out = []
        while k < len(self._gaps) and self._gap_pos[k] <= pos:
            out.append(self._gaps[k])
            k += 1
        return out

    def _wait_until(self, pos: float) -> bool:
        """Sleep (without the lock) until ``pos`` is due; False if the plan changed meanwhile."""
        while True:
            with self._cond:
                if self._jumped or self._paused:
                    return False
                if math.isinf(self._speed):
                    return True
                due = self._anchor_wall + (pos - self._anchor_pos) / self._speed
            remaining = due - self._clock()
            if remaining <= 0:
                return True
            self._sleep(min(remaining, MAX_SLEEP_S))


class ReplayThreadSource:
    """Adapts ``ReplaySource`` (a blocking chunk generator) to ``sources.base.Source``."""

    def __init__(self, replay: ReplaySource) -> None:
        self.replay = replay
        self.sensors = dict(replay.rec.sensors)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.finished = threading.Event()

    @property
    def device_calibration(self) -> dict | None:
        """The device calibrations the recording's samples carry (``meta``), as a live
        ``DeviceCalibratedSource`` says its own."""
        return self.replay.rec.meta.get("device_calibration")

    def start(
        self, on_chunk: ChunkCallback, on_gap: GapCallback, on_status: StatusCallback
    ) -> None:
        self.replay.on_gap = on_gap
        self.replay.on_jump = lambda pos: on_status(SourceStatus(SourceState.JUMP, position_s=pos))

        def run() -> None:
            on_status(SourceStatus(SourceState.REPLAYING, duration_s=self.replay.duration_s))
            try:
                for chunk in self.replay.chunks():
                    if self._stop.is_set():
                        break
                    on_chunk(chunk)
            finally:
                self.finished.set()
                on_status(SourceStatus(SourceState.FINISHED))

        self._thread = threading.Thread(target=run, name="replay", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.replay.loop = False
        if self.replay.paused:
            self.replay.resume()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def alert(self, direction: str) -> None:
        """A recording has no wearable to alert."""
