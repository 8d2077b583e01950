"""The tempo cue: a short tick at each phase change the target tempo asks for.

When a rep starts (``RepStarted``), the cue ticks "up" at once, "hold" when the target's up
phase is over and "down" when its hold is over, so a trainee on all fours can follow 2-2-2
without a screen. The rep is detected a little after it began (``late_s``: how far the
stream is past the rep's start when the event is handled); the ticks are timed from the rep's
start, and one whose time has gone by is skipped. A new rep starts the cue over; a rep that
ends early stops it. Ticks play on the computer's sound (``AlarmSound.play_cue``) and, where
the wearable's firmware profile has a ``tick`` alert, on the wearable (the window passes both
in ``play``). Timed with Qt single-shot timers in the GUI thread on the wall clock, at the
stream's own pace: a replay at 4x or a simulated wearable at a time factor ticks 4x sooner
(``StreamClock``: stream seconds per wall second, measured from the frames); a stream going
faster than ``MAX_CUE_SPEED`` (a replay as fast as possible) is not cued.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from imu_monitor.exercises import Tempo

CUE_PHASES = ("up", "hold", "down")
LATE_TOLERANCE_S = 0.15
"""A tick this little past its time still plays (at once)."""
CLOCK_WINDOW_S = 2.0
"""The stream's pace is measured over the last this-many wall seconds of frames ..."""
MIN_CLOCK_SPAN_S = 0.5
"""... once they span at least this long (before: real time assumed)."""
MAX_CUE_SPEED = 16.0
"""A stream faster than this many times real time gets no ticks (they could not be told
apart)."""


class StreamClock:
    """The stream's pace: stream seconds per wall second over the last ``CLOCK_WINDOW_S``
    (``note(wall_s, stream_s)`` once a frame). 1 until the frames span ``MIN_CLOCK_SPAN_S``;
    0 while the stream stands still (a paused replay)."""

    def __init__(self) -> None:
        self._marks: deque[tuple[float, float]] = deque()

    def note(self, wall_s: float, stream_s: float) -> None:
        if stream_s == stream_s:  # (NaN before the first sample)
            self._marks.append((wall_s, stream_s))
        while self._marks and wall_s - self._marks[0][0] > CLOCK_WINDOW_S:
            self._marks.popleft()

    @property
    def speed(self) -> float:
        if len(self._marks) < 2:
            return 1.0
        (w0, s0), (w1, s1) = self._marks[0], self._marks[-1]
        if w1 - w0 < MIN_CLOCK_SPAN_S:
            return 1.0
        return max(0.0, (s1 - s0) / (w1 - w0))


def cue_schedule(tempo: Tempo, late_s: float = 0.0) -> list[tuple[float, str]]:
    """(delay s from now, phase) of a rep's ticks, the rep having started ``late_s`` ago: "up"
    at once while the target's up phase lasts (the rep is always detected a little into it),
    "hold" and "down" at their times, a tick already past (by more than
    ``LATE_TOLERANCE_S``) skipped."""
    late = max(0.0, late_s)
    out = [(0.0, "up")] if late < tempo.up_s else []
    for t, phase in ((tempo.up_s, "hold"), (tempo.up_s + tempo.hold_s, "down")):
        if t - late >= -LATE_TOLERANCE_S:
            out.append((max(0.0, t - late), phase))
    return out


def tempo_cue_notice(sound_problem: str | None, wearable_tick: bool) -> str:
    """Where the tempo cue's ticks go, in one line."""
    wearable = "the wearable" if wearable_tick else ""
    if sound_problem is None:
        where = "the computer's sound" + (" and " + wearable if wearable else "")
        return f"tempo cue on: a tick at up, hold and down on {where}"
    if wearable:
        return f"tempo cue on: ticks on the wearable only (no computer sound: {sound_problem})"
    return (
        f"tempo cue on, but nothing can play it: no computer sound ({sound_problem}) and the "
        "wearable's firmware profile has no tick"
    )


class TempoCue(QObject):
    """Plays the ticks of each rep (``play(phase)``); ``ticked(phase)`` after each."""

    ticked = Signal(str)

    def __init__(self, play: Callable[[str], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._play = play
        self.enabled = False
        self._timers: dict[str, QTimer] = {}
        for phase in CUE_PHASES:  # one timer per phase, made once (restarted for each rep)
            timer = QTimer(self)
            timer.setSingleShot(True)
            timer.setTimerType(Qt.TimerType.PreciseTimer)
            timer.timeout.connect(lambda phase=phase: self._tick(phase))
            self._timers[phase] = timer

    def rep_started(self, tempo: Tempo, late_s: float = 0.0, speed: float = 1.0) -> None:
        """A rep started ``late_s`` stream seconds ago: (re)start its ticks (nothing while
        disabled). ``speed``: stream seconds per wall second (``StreamClock``); nothing at a
        standstill or above ``MAX_CUE_SPEED``."""
        self.cancel()
        if not self.enabled or not 0.0 < speed <= MAX_CUE_SPEED:
            return
        for delay_s, phase in cue_schedule(tempo, late_s):
            self._timers[phase].start(int(round(delay_s / speed * 1000.0)))

    def cancel(self) -> None:
        """Stop the ticks still to come (the rep ended, the cue was turned off)."""
        for timer in self._timers.values():
            timer.stop()

    @property
    def pending(self) -> int:
        return sum(t.isActive() for t in self._timers.values())

    def _tick(self, phase: str) -> None:
        self._play(phase)
        self.ticked.emit(phase)
