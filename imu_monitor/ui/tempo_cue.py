"""The tempo cue: a short tick at each phase change the target tempo asks for.

When a rep starts (``RepStarted``), the cue ticks "up" at once, "hold" when the target's up
phase is over and "down" when its hold is over, so a trainee on all fours can follow 2-2-2
without a screen. The rep is detected a little after it began (``late_s``: how far the
stream is past the rep's start when the event is handled); the ticks are timed from the rep's
start, and one whose time has gone by is skipped. A new rep starts the cue over; a rep that
ends early stops it. Ticks play on the computer's sound (``AlarmSound.play_cue``) and, where
the wearable's firmware profile has a ``tick`` alert, on the wearable (the window passes both
in ``play``). Timed with Qt single-shot timers in the GUI thread (the wall clock: the cue
follows a live session or a real-time replay).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from imu_monitor.exercises import Tempo

CUE_PHASES = ("up", "hold", "down")
LATE_TOLERANCE_S = 0.15
"""A tick this little past its time still plays (at once)."""


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

    def rep_started(self, tempo: Tempo, late_s: float = 0.0) -> None:
        """A rep started ``late_s`` ago: (re)start its ticks (nothing while disabled)."""
        self.cancel()
        if not self.enabled:
            return
        for delay_s, phase in cue_schedule(tempo, late_s):
            self._timers[phase].start(int(round(delay_s * 1000.0)))

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
