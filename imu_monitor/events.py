"""Monitor events: what sinks (dashboard, sound, wearable alert, recorder, console) consume.

Every event has ``t_s`` (session time of the sample that caused it) and ``to_dict()`` with a
``type`` key, which is how events are written to recordings and printed as JSON lines.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from typing import Any, ClassVar


class Direction(StrEnum):
    """Which way the lumbar spine left neutral: flexion (rounding, +) or extension (arching, -)."""

    FLEXION = "flexion"
    EXTENSION = "extension"


class Phase(StrEnum):
    """Phase of a rep as the monitor tracks it online."""

    REST = "rest"
    CONCENTRIC = "concentric"
    HOLD = "hold"
    ECCENTRIC = "eccentric"


class MonitorState(StrEnum):
    """What the status panel shows: ``moving`` only in lockout mode (hips moving, not judged)."""

    NEUTRAL = "neutral"
    WARNING = "warning"
    ALARM = "alarm"
    MOVING = "moving"


class MonitorMode(StrEnum):
    """``continuous``: judged at every sample (a trunk-supported exercise, or two sensors);
    ``lockout``: one sensor in a hip thrust / bridge, judged only at a held lockout."""

    CONTINUOUS = "continuous"
    LOCKOUT = "lockout"


DIRECTIONS: tuple[str, ...] = tuple(Direction)
PHASES: tuple[str, ...] = tuple(Phase)


@dataclass
class Event:
    type: ClassVar[str] = "event"
    t_s: float

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["type"] = self.type
        return d


@dataclass
class AlarmStarted(Event):
    """The lumbar angle stayed beyond a limit for the dwell time."""

    type: ClassVar[str] = "alarm_started"
    direction: str  # "flexion" | "extension"
    angle_deg: float  # lumbar angle when the alarm fired
    limit_deg: float  # the limit crossed (signed: extension limits are negative)
    phase: str  # rep phase when it fired (PHASES)
    rep: int | None  # index of the rep in progress, or None between reps
    t_crossed_s: float = 0.0  # when the angle first went beyond the limit


@dataclass
class AlarmEnded(Event):
    type: ClassVar[str] = "alarm_ended"
    direction: str
    peak_deg: float  # the most extreme angle during the alarm (signed)
    duration_s: float
    rep: int | None


@dataclass
class RepStarted(Event):
    type: ClassVar[str] = "rep_started"
    index: int


APPROXIMATE_TEMPO_NOTE = (
    "tempo approximate: without a sensor on the moving segment the rep is timed from the "
    "pelvis, which this rep's lumbar fault moved too (start, end and total are right); a thigh "
    "sensor (back kick) or an upper-lumbar sensor (hip thrust, bridge) gives the exact split"
)


@dataclass
class RepEnded(Event):
    """A finished rep with its tempo and lumbar excursion."""

    type: ClassVar[str] = "rep_ended"
    index: int
    t_start_s: float
    t_top_s: float
    t_hold_end_s: float
    concentric_s: float
    hold_s: float
    eccentric_s: float
    peak_flexion_deg: float  # max lumbar angle during the rep (>= 0 side)
    peak_extension_deg: float  # magnitude of the most negative lumbar angle (>= 0)
    alarmed: bool
    too_fast: bool
    judged: str = "continuous"  # "continuous" or "lockout" (one-sensor hip thrust)
    tempo_approximate: bool = False
    """The phase split may be off (by up to ~0.7 s in a back kick, ~2 s in a hip thrust): the
    rep was timed from the pelvis (no thigh sensor in a back kick: its turn; one sensor in a hip
    thrust / bridge: its tilt) and this rep's lumbar fault moved the same pelvis (the start,
    end and total duration stay right). A sensor on the moving segment removes it."""

    @property
    def t_end_s(self) -> float:
        return self.t_s

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        d["t_end_s"] = self.t_s
        d["duration_s"] = self.t_s - self.t_start_s
        return d


@dataclass
class AlarmRecord:
    """One alarm, from the monitor to every sink: open while ``t_end_s`` is None.

    ``peak_deg``: the most extreme lumbar angle so far (signed: flexion +, extension -);
    ``t_crossed_s``: when the angle first went beyond the limit (the alarm fires a dwell later,
    at ``t_start_s``); ``rep``: index of the rep in progress, None between reps.
    """

    t_start_s: float
    direction: Direction
    peak_deg: float
    phase: Phase
    rep: int | None
    t_crossed_s: float
    t_end_s: float | None = None
    duration_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The keys ``analyze --json`` prints."""
        return {
            "t_start_s": self.t_start_s,
            "t_end_s": self.t_end_s,
            "direction": str(self.direction),
            "peak_deg": self.peak_deg,
            "duration_s": self.duration_s,
            "phase": str(self.phase),
            "rep": self.rep,
        }


@dataclass
class RecordingFailed(Event):
    """Writing the session's recording failed (a full disk, a file size limit, a removed drive):
    the recording stopped there (the file ends on its last complete record) and the monitoring
    goes on. ``t_s``: the latest sample time when it failed; ``file``: the recording;
    ``reason``: what failed and what to do."""

    type: ClassVar[str] = "recording_failed"
    file: str
    reason: str

    def notice(self) -> str:
        """The line a console or a dashboard shows."""
        where = "" if self.file in self.reason else f"{self.file}: "
        return (
            f"RECORDING STOPPED: {where}{self.reason} (the file ends at its last complete "
            "record; the monitoring and its alarms go on)"
        )


@dataclass
class AccOffsetApplied(Event):
    """The live monitor measured the sensors' accelerometer offsets from its calibration's
    stand-to-start turn and the session's first reps, and takes them off from here on
    (``pipeline.Pipeline``, ``live_acc_offset``). ``t_s``: when; ``offsets_mg``: per placement,
    the offset taken off (x, y, z, milli-g; only the sensors it was applied to); ``reps``: the
    reps it was measured over (0: the calibration's turn alone)."""

    type: ClassVar[str] = "acc_offset_applied"
    offsets_mg: dict[str, list[float]]
    reps: int

    def notice(self) -> str:
        """The line a console or a dashboard shows."""
        parts = ", ".join(
            f"{p.replace('_', ' ')} {math.hypot(*v):.0f} mg" for p, v in self.offsets_mg.items()
        )
        return (
            f"accelerometer offset measured over {self.measured_over} and taken off from "
            f"here: {parts}"
        )

    @property
    def measured_over(self) -> str:
        """What the offsets were measured over, in words (this notice, the calibration's
        note)."""
        return f"the first {self.reps} reps" if self.reps else "the calibration's turn"


@dataclass
class StartPostureHeld(Event):
    """With a calibration from an earlier session, the person held the calibration posture
    (``processing.start_gate``): judging starts at ``t_s``."""

    type: ClassVar[str] = "start_posture_held"

    def notice(self) -> str:
        """The line a console or a dashboard shows."""
        return "calibration posture held: judging from here (saved calibration)"


@dataclass
class StartPostureElsewhere(Event):
    """With a calibration from an earlier session, the person has held still, but not in its
    posture (``processing.start_gate``): ``off_deg`` (pitch, roll) from the saved neutral."""

    type: ClassVar[str] = "start_posture_elsewhere"
    off_deg: tuple[float, float]

    def notice(self) -> str:
        """The line a console or a dashboard shows."""
        pitch, roll = self.off_deg
        return (
            f"still waiting for the calibration posture: the posture held is {pitch:+.0f} deg "
            f"of pitch and {roll:+.0f} deg of roll from the saved neutral; if the sensors are "
            "strapped on differently, calibrate again"
        )


@dataclass
class ClockOffsetApplied(Event):
    """The live monitor measured how far one wearable's clock is off the sacrum's (their
    movements matched, ``live_clock_offset``) and joins its samples to the sacrum's by that much
    from here on. ``t_s``: when; ``sensor``: whose samples are moved; ``offset_ms``: how much
    later they were stamped than the sacrum's (0: the times as stamped again); ``correlation``:
    how well the two sensors' turning matched at that offset; ``reps``: the reps it was measured
    over (0: the move into the start posture)."""

    type: ClassVar[str] = "clock_offset_applied"
    sensor: str
    offset_ms: float
    correlation: float
    reps: int

    def notice(self) -> str:
        """The line a console or a dashboard shows."""
        who = self.sensor.replace("_", " ")
        over = f"the first {self.reps} reps"
        if self.reps <= 1:
            over = "the first rep" if self.reps else "the move into the start posture"
        if self.offset_ms == 0.0:
            return (
                f"{who} wearable's clock measured again over {over}: too close to the sacrum's "
                "to take off, its times are used as stamped from here"
            )
        way = "late" if self.offset_ms > 0 else "early"
        return (
            f"{who} wearable's clock is {abs(self.offset_ms):.0f} ms {way} against the sacrum's "
            f"(measured over {over}): taken off from here"
        )


EVENT_TYPES: dict[str, type[Event]] = {
    c.type: c
    for c in (
        AlarmStarted,
        AlarmEnded,
        RepStarted,
        RepEnded,
        RecordingFailed,
        AccOffsetApplied,
        ClockOffsetApplied,
        StartPostureHeld,
        StartPostureElsewhere,
    )
}


def event_from_dict(d: dict[str, Any]) -> Event:
    """Rebuild an event from ``to_dict`` output (extra keys are ignored)."""
    cls = EVENT_TYPES[d["type"]]
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in d.items() if k in names})


NOTICE_EVENTS = (
    RecordingFailed,
    AccOffsetApplied,
    ClockOffsetApplied,
    StartPostureHeld,
    StartPostureElsewhere,
)
"""The events a console or a dashboard shows as a line of text (their ``notice()``)."""
