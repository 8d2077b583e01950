"""Console output of the streaming commands (``live --headless``, ``replay --headless``, ``scan``):
one line per event for people, or with ``--json`` one JSON object per line, the last one the
summary (``{"type": "summary", ...}``).

Numbers are shown as users read them (``common.for_user``): reps and alarms from 1, extension
negative. ``Output`` is written from the source's thread and the main thread alike; when the
reader of stdout goes away (``... | head -1``) it stops writing and sets ``closed``, which the
command's main loop watches to end quietly.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any, TextIO

from imu_monitor.cli.common import for_user, json_line
from imu_monitor.events import (
    NOTICE_EVENTS,
    AlarmEnded,
    AlarmStarted,
    Event,
    RepEnded,
    RepStarted,
)
from imu_monitor.model import Marker
from imu_monitor.processing.good_reps import RepJudgement


def format_event(ev: Event, judgement: RepJudgement | None = None) -> str:
    """A short human line for an event; a finished rep with its ``judgement`` (good, or why it
    does not count, as ``analyze`` says it) when there is one."""
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
        if judgement is not None and judgement.index == ev.index and not ev.alarmed:
            verdict = "good" if judgement.good else f"not counted: {judgement.reason}"
            fast = ""
        about = "~" if ev.tempo_approximate else ""  # see RepEnded.tempo_approximate
        return (
            f"{ev.t_s:8.2f} s  rep {ev.index + 1} done: {about}{ev.concentric_s:.1f} s up / "
            f"{about}{ev.hold_s:.1f} s hold / {about}{ev.eccentric_s:.1f} s down, lumbar "
            f"{ev.peak_flexion_deg:+.1f}° / {-abs(ev.peak_extension_deg):+.1f}°: "
            f"{verdict}{fast}"
        )
    if isinstance(ev, NOTICE_EVENTS):
        return f"{ev.t_s:8.2f} s  {ev.notice()}"
    return f"{ev.t_s:8.2f} s  {ev.type}"


def marker_dict(m: Marker) -> dict[str, Any]:
    """A marker as ``analyze --json`` and ``replay --json`` show it."""
    return {"t_s": m.t_s, "t_end_s": m.t_end_s, "kind": m.kind, **dict(m.data)}


def format_marker(m: Marker) -> str:
    span = "" if m.t_end_s is None else f" until {m.t_end_s:.2f} s"
    extra = ", ".join(f"{k} {v}" for k, v in m.data.items())
    return f"{m.t_s:8.2f} s  marker {m.kind}{span}{': ' + extra if extra else ''}"


class Output:
    """Thread-safe stdout of a streaming command: text lines or JSON lines."""

    def __init__(self, as_json: bool = False, stream: TextIO | None = None) -> None:
        self.as_json = as_json
        self.stream = stream if stream is not None else sys.stdout
        self.closed = threading.Event()
        """Set when the reader of stdout went away; nothing more is written."""
        self._lock = threading.Lock()

    def write(self, line: str) -> None:
        if self.closed.is_set():
            return
        with self._lock:
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            except BrokenPipeError:
                self.closed.set()
            except ValueError:  # the stream was closed under us
                self.closed.set()

    def text(self, line: str) -> None:
        """A line for people only (not in JSON output)."""
        if not self.as_json:
            self.write(line)

    def record(self, kind: str, message: str, /, **data: Any) -> None:
        """``message`` for people; with --json ``{"type": kind, **data}`` (numbers as users
        read them)."""
        self.write(json_line({"type": kind, **for_user(data)}) if self.as_json else message)

    def event(self, ev: Event, judgement: RepJudgement | None = None) -> None:
        """An event; a finished rep with its ``judgement`` when there is one (its ``good`` and
        ``reasons`` join the JSON line)."""
        if self.as_json:
            d = ev.to_dict()
            if judgement is not None and isinstance(ev, RepEnded) and judgement.index == ev.index:
                d |= {"good": judgement.good, "reasons": list(judgement.reasons)}
            self.write(json_line(for_user(d)))
        else:
            self.write(format_event(ev, judgement))


class EventPrinter:
    """A pipeline listener that prints events as they happen (RepStarted only in JSON or when
    asked for)."""

    def __init__(
        self,
        as_json: bool = False,
        stream: TextIO | None = None,
        rep_started: bool = False,
        output: Output | None = None,
        judged: Callable[[], RepJudgement | None] | None = None,
    ) -> None:
        self.output = output if output is not None else Output(as_json, stream)
        self.rep_started = rep_started
        self.judged = judged
        """The latest rep's judgement (``SetTracker.last``: the pipeline judges a rep before its
        listeners hear of it)."""

    def __call__(self, ev: Event) -> None:
        if isinstance(ev, RepStarted) and not (self.rep_started or self.output.as_json):
            return
        judgement = self.judged() if self.judged is not None and isinstance(ev, RepEnded) else None
        self.output.event(ev, judgement)
