"""Console output of events for headless live mode and replay: one line per event, or JSON lines."""

from __future__ import annotations

import json
import sys
from typing import TextIO

from imu_monitor.events import (
    AlarmEnded,
    AlarmStarted,
    Event,
    RecordingFailed,
    RepEnded,
    RepStarted,
)


def format_event(ev: Event) -> str:
    """A short human line for an event."""
    if isinstance(ev, AlarmStarted):
        rep = "" if ev.rep is None else f" rep {ev.rep + 1}"
        return (
            f"{ev.t_s:8.2f} s  ALARM {ev.direction.upper()}: {ev.angle_deg:+.1f}° "
            f"(limit {ev.limit_deg:+.1f}°, {ev.phase}{rep})"
        )
    if isinstance(ev, AlarmEnded):
        return (
            f"{ev.t_s:8.2f} s  back to neutral after {ev.duration_s:.2f} s "
            f"(peak {ev.peak_deg:+.1f}°)"
        )
    if isinstance(ev, RepStarted):
        return f"{ev.t_s:8.2f} s  rep {ev.index + 1} started"
    if isinstance(ev, RepEnded):
        verdict = "ALARM" if ev.alarmed else "ok"
        fast = ", too fast" if ev.too_fast else ""
        about = "~" if ev.tempo_approximate else ""  # see RepEnded.tempo_approximate
        return (
            f"{ev.t_s:8.2f} s  rep {ev.index + 1} done: {about}{ev.concentric_s:.1f} s up / "
            f"{about}{ev.hold_s:.1f} s hold / {about}{ev.eccentric_s:.1f} s down, lumbar "
            f"+{ev.peak_flexion_deg:.1f}° / -{ev.peak_extension_deg:.1f}°: {verdict}{fast}"
        )
    if isinstance(ev, RecordingFailed):
        return f"{ev.t_s:8.2f} s  {ev.notice()}"
    return f"{ev.t_s:8.2f} s  {ev.type}"


class EventPrinter:
    """A pipeline listener that prints events as they happen (thread-safe enough: one write per
    event, flushed)."""

    def __init__(
        self, as_json: bool = False, stream: TextIO | None = None, rep_started: bool = False
    ) -> None:
        self.as_json = as_json
        self.stream = stream or sys.stdout
        self.rep_started = rep_started

    def __call__(self, ev: Event) -> None:
        if isinstance(ev, RepStarted) and not (self.rep_started or self.as_json):
            return
        line = json.dumps(ev.to_dict()) if self.as_json else format_event(ev)
        self.stream.write(line + "\n")
        self.stream.flush()
