"""The exercises the monitor knows: default limits, tempo targets and calibration postures.

Numbers are starting defaults from ../shared/EXERCISES.md, meant to be tuned per person by a coach
(settings override them). Angles in degrees, times in seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from imu_monitor.errors import ImuMonitorError
from imu_monitor.events import MonitorMode


@dataclass(frozen=True)
class Limits:
    """Alarm limits relative to the calibrated neutral.

    ``flexion_deg`` / ``extension_deg``: positive magnitudes; the alarm condition is
    ``angle > flexion_deg`` or ``angle < -extension_deg``. ``dwell_s``: how long the angle must
    stay beyond a limit before the alarm starts. ``hysteresis_deg``: the angle must come back this
    far inside the limit before the alarm ends. ``warning_fraction``: the status shows *warning*
    beyond this fraction of a limit.
    """

    flexion_deg: float
    extension_deg: float
    dwell_s: float = 0.15
    hysteresis_deg: float = 1.5
    warning_fraction: float = 0.7


@dataclass(frozen=True)
class Tempo:
    """Target phase durations of one rep: concentric (up), hold at the top, eccentric (down)."""

    up_s: float
    hold_s: float
    down_s: float
    min_rep_s: float
    """A rep shorter than this (start to end) is flagged too fast."""


@dataclass(frozen=True)
class SetRules:
    """How reps are grouped into sets and judged good (a coach's settings; see
    ``processing.sets``).

    ``pause_s``: a rest longer than this (one rep's end to the next one's start) ends a set.
    ``tempo_tolerance_s``: the concentric (up) and eccentric (down) phase of a good rep are
    within this of the target; the hold is not shorter than its target. ``drift_warning_fraction``:
    form drift is flagged at the first rep of a set whose lumbar excursion passes this fraction
    of the limit.
    """

    pause_s: float = 20.0
    tempo_tolerance_s: float = 0.5
    drift_warning_fraction: float = 0.8

    def problems(self) -> list[tuple[str, str]]:
        """(field, what is wrong) for each value that cannot work; empty when all can."""
        out = []
        for name in ("pause_s", "tempo_tolerance_s"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                out.append((name, f"must be a number of seconds above 0, got {v}"))
        f = self.drift_warning_fraction
        if not (math.isfinite(f) and 0 < f <= 1):
            out.append(("drift_warning_fraction", f"must be above 0 and at most 1, got {f}"))
        return out


@dataclass(frozen=True)
class Exercise:
    name: str
    title: str
    limits: Limits
    tempo: Tempo
    start_pitch_deg: float
    """Nominal pitch of the pelvis (sacrum segment) in the calibration posture, relative to upright
    standing (pitch 0): +90 = trunk horizontal, back to the ceiling (on all fours); -90 = trunk
    horizontal, belly to the ceiling (hip thrust lockout)."""
    calibration_posture: str
    """What the user is told to hold still during neutral capture."""
    one_sensor_mode: MonitorMode
    """``continuous``: one sacrum sensor is judged all the time (the trunk is supported).
    ``lockout``: one sensor only sees lumbar extension beyond the neutral calibrated at lockout;
    flexion readings are hip movement and are not judged."""
    one_sensor_note: str
    thigh_start_pitch_deg: float
    """Nominal pitch of the thigh in the calibration posture (0 = vertical as in standing)."""
    sets: SetRules = SetRules()
    """Set pause, tempo tolerance and drift warning (coach's settings override them)."""

    @property
    def rests_in_calibration_posture(self) -> bool:
        """Between reps and sets the person rests in the posture the neutral is calibrated in
        (on all fours); not where the neutral is calibrated at the top (the lockout of a hip
        thrust or bridge, whose one-sensor mode is ``lockout``) and the rest is at the bottom."""
        return self.one_sensor_mode == MonitorMode.CONTINUOUS

    def up_in_segment(self, pitch_deg: float | None = None) -> np.ndarray:
        """World 'up' expressed in the pelvis segment frame for a posture of the given pitch."""
        p = math.radians(self.start_pitch_deg if pitch_deg is None else pitch_deg)
        return np.array([-math.sin(p), 0.0, math.cos(p)])

    def with_limits(self, **changes: float) -> Exercise:
        """A copy with some limit fields replaced (for settings and re-analysis)."""
        return replace(self, limits=replace(self.limits, **changes))

    def with_set_rules(self, **changes: float) -> Exercise:
        """A copy with some ``SetRules`` fields replaced."""
        return replace(self, sets=replace(self.sets, **changes))

    def with_tempo(self, up_s: float, hold_s: float, down_s: float) -> Exercise:
        """A copy with another tempo target; the too-fast threshold keeps its share of the
        rep's target duration."""
        t = self.tempo
        frac = t.min_rep_s / (t.up_s + t.hold_s + t.down_s)
        total = up_s + hold_s + down_s
        return replace(self, tempo=Tempo(up_s, hold_s, down_s, min_rep_s=frac * total))


EXERCISES: dict[str, Exercise] = {
    e.name: e
    for e in (
        Exercise(
            name="back-kick",
            title="Back kick (quadruped hip extension)",
            limits=Limits(flexion_deg=9.0, extension_deg=9.0, dwell_s=0.15),
            tempo=Tempo(up_s=1.5, hold_s=0.5, down_s=1.5, min_rep_s=1.5),
            start_pitch_deg=90.0,
            calibration_posture="on hands and knees, back flat, spine neutral",
            one_sensor_mode=MonitorMode.CONTINUOUS,
            one_sensor_note="One sacrum sensor: the trunk is supported, so any pitch change of "
            "the lower back is lumbar flexion or extension.",
            thigh_start_pitch_deg=0.0,
        ),
        Exercise(
            name="hip-thrust",
            title="Hip thrust (upper back on a bench)",
            limits=Limits(flexion_deg=10.0, extension_deg=6.0, dwell_s=0.15),
            tempo=Tempo(up_s=1.0, hold_s=2.0, down_s=2.0, min_rep_s=2.0),
            start_pitch_deg=-90.0,
            calibration_posture="at the top (lockout): trunk and thighs in line, glutes squeezed, "
            "slight posterior pelvic tilt, chin tucked",
            one_sensor_mode=MonitorMode.LOCKOUT,
            one_sensor_note="One sensor cannot tell lumbar from hip extension: only extension "
            "beyond the neutral calibrated at lockout is judged. Add an upper-lumbar sensor to "
            "judge the whole rep.",
            thigh_start_pitch_deg=-90.0,
        ),
        Exercise(
            name="glute-bridge",
            title="Glute bridge (from the floor)",
            limits=Limits(flexion_deg=10.0, extension_deg=6.0, dwell_s=0.15),
            tempo=Tempo(up_s=1.0, hold_s=2.0, down_s=2.0, min_rep_s=2.0),
            start_pitch_deg=-115.0,
            calibration_posture="at the top of the bridge: hips up, ribs down, glutes squeezed",
            one_sensor_mode=MonitorMode.LOCKOUT,
            one_sensor_note="One sensor cannot tell lumbar from hip extension: only extension "
            "beyond the neutral calibrated at the top is judged. Add an upper-lumbar sensor to "
            "judge the whole rep.",
            thigh_start_pitch_deg=-115.0,
        ),
    )
}


def get_exercise(name: str) -> Exercise:
    """Look an exercise up by its CLI name; an unknown name lists the known ones."""
    try:
        return EXERCISES[name]
    except KeyError:
        raise ImuMonitorError(
            f"unknown exercise {name!r}; known exercises: {', '.join(EXERCISES)}"
        ) from None
