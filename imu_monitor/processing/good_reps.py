"""Good reps: one finished rep judged against the limits and the target tempo.

A rep is *good* when

- the lumbar angle stayed within the limits: no alarm overlapped the rep (the alarm's own rule:
  beyond a limit for the dwell time; in lockout mode only extension at a held lockout), and
- its tempo was the target's: the concentric (up) and eccentric (down) phases within
  ``SetRules.tempo_tolerance_s`` of the target, the hold not shorter than its target (a longer
  hold is no fault). A rep whose phase split is approximate (``RepEnded.tempo_approximate``:
  timed from the pelvis, which the rep's own lumbar excursion moved) is not judged on tempo,
  only on the limits: its split may be off by more than the tolerance (its total is right).

The reasons a rep did not count are short strings a trainee reads ("hold 1.2 s < 2 s",
"extension 14.2° > 9° limit"). A rep's *excursion* is its peak flexion or peak extension,
whichever is the larger fraction of its own limit (lockout mode: extension only, flexion is not
judged). ``sets`` groups the judged reps into sets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from imu_monitor.errors import MonitorError
from imu_monitor.events import Direction, MonitorMode, RepEnded
from imu_monitor.exercises import Limits, SetRules, Tempo

TEMPO_PHASES = ("up", "hold", "down")
"""The tempo phases as the target names them (concentric, hold, eccentric)."""

FAULT_CODES = (
    "flexion",
    "extension",
    "up_short",
    "up_long",
    "hold_short",
    "down_short",
    "down_long",
)
"""Why a rep did not count, as codes (``RepJudgement.faults``)."""


def check_set_rules(rules: SetRules) -> SetRules:
    """Raise ``MonitorError`` naming the field if the rules cannot work."""
    for name, what in rules.problems():
        raise MonitorError(f"SetRules.{name} {what}")
    return rules


def _num(x: float) -> str:
    """A target as people write it: 2, 0.5, 1.25."""
    return f"{x:g}"


def beside(value: float, bound: float) -> str:
    """``value`` to 0.1, or to 0.01 where 0.1 would read as the bound itself."""
    text = f"{value:.1f}"
    return f"{value:.2f}" if float(text) == round(bound, 1) else text


@dataclass(frozen=True)
class RepJudgement:
    """One finished rep judged against the limits and the target tempo.

    ``index``: the rep (0-based, as ``RepEnded.index``); ``set_index``: its set (0-based).
    ``faults``: codes from ``FAULT_CODES``; ``reasons``: the same as short human strings.
    ``excursion_deg``: the rep's lumbar excursion (module docstring), ``excursion_direction``
    which way; ``excursion_fraction``: as a fraction of that direction's limit.
    """

    index: int
    set_index: int
    t_start_s: float
    t_end_s: float
    good: bool
    faults: tuple[str, ...]
    reasons: tuple[str, ...]
    up_s: float
    hold_s: float
    down_s: float
    peak_flexion_deg: float
    peak_extension_deg: float
    excursion_deg: float
    excursion_direction: str
    excursion_fraction: float
    tempo_approximate: bool = False

    @property
    def reason(self) -> str:
        """Every reason in one line ('' for a good rep)."""
        return "; ".join(self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "set": self.set_index,
            "t_start_s": self.t_start_s,
            "t_end_s": self.t_end_s,
            "good": self.good,
            "faults": list(self.faults),
            "reasons": list(self.reasons),
            "up_s": self.up_s,
            "hold_s": self.hold_s,
            "down_s": self.down_s,
            "peak_flexion_deg": self.peak_flexion_deg,
            "peak_extension_deg": self.peak_extension_deg,
            "excursion_deg": self.excursion_deg,
            "excursion_direction": self.excursion_direction,
            "excursion_fraction": self.excursion_fraction,
            "tempo_approximate": self.tempo_approximate,
        }


def phase_verdict(phase: str, value_s: float, target_s: float, tolerance_s: float) -> str:
    """``ok``, ``short`` or ``long`` for one phase (``up``, ``hold`` or ``down``, see
    ``TEMPO_PHASES``) against its target: up and down within ``tolerance_s`` of it, the hold
    not shorter (a longer hold is never a fault). The phase is judged as every output shows it,
    to 0.01 s: a hold of 1.996 s reads "2.00" and counts as 2 s (the timing itself is good to a
    few hundredths at best)."""
    value = round(value_s, 2)
    if phase == "hold":
        return "short" if value < target_s else "ok"
    if value < target_s - tolerance_s:
        return "short"
    return "long" if value > target_s + tolerance_s else "ok"


def phase_verdicts(
    up_s: float, hold_s: float, down_s: float, tempo: Tempo, tolerance_s: float
) -> tuple[str, str, str]:
    """``phase_verdict`` of a rep's up, hold and down against the target tempo."""
    return (
        phase_verdict("up", up_s, tempo.up_s, tolerance_s),
        phase_verdict("hold", hold_s, tempo.hold_s, tolerance_s),
        phase_verdict("down", down_s, tempo.down_s, tolerance_s),
    )


def judge_rep(
    rep: RepEnded,
    set_index: int,
    tempo: Tempo,
    limits: Limits,
    rules: SetRules,
    mode: MonitorMode | str = MonitorMode.CONTINUOUS,
    alarm_directions: Iterable[str] = (),
) -> RepJudgement:
    """Judge one rep (module docstring). ``alarm_directions``: which ways the alarms that
    overlapped it went; an alarmed rep without one is put down to its larger excursion."""
    lockout = MonitorMode(mode) == MonitorMode.LOCKOUT
    pf = 0.0 if lockout else float(rep.peak_flexion_deg)
    pe = float(rep.peak_extension_deg)
    ff, fe = pf / limits.flexion_deg, pe / limits.extension_deg
    if ff > fe:
        exc, exc_dir, exc_frac = pf, Direction.FLEXION, ff
    else:
        exc, exc_dir, exc_frac = pe, Direction.EXTENSION, fe
    faults: list[str] = []
    reasons: list[str] = []
    dirs = set(alarm_directions)
    if rep.alarmed and not dirs:
        dirs = {str(exc_dir)}
    for d in (Direction.FLEXION, Direction.EXTENSION):
        if d in dirs:
            peak, lim = (pf, limits.flexion_deg) if d == "flexion" else (pe, limits.extension_deg)
            faults.append(str(d))
            reasons.append(f"{d} {peak:.1f}° > {_num(lim)}° limit")
    up, hold = rep.concentric_s, rep.hold_s
    down = rep.eccentric_s
    if not rep.tempo_approximate:
        tol = rules.tempo_tolerance_s
        verdicts = phase_verdicts(up, hold, down, tempo, tol)
        phases = (("up", up, tempo.up_s, tol), ("hold", hold, tempo.hold_s, 0.0))
        phases += (("down", down, tempo.down_s, tol),)
        for (name, value, target, margin), verdict in zip(phases, verdicts, strict=True):
            if verdict == "short":
                bound = target - margin
                faults.append(f"{name}_short")
                reasons.append(f"{name} {beside(value, bound)} s < {_num(bound)} s")
            elif verdict == "long":
                bound = target + margin
                faults.append(f"{name}_long")
                reasons.append(f"{name} {beside(value, bound)} s > {_num(bound)} s")
    return RepJudgement(
        index=rep.index,
        set_index=set_index,
        t_start_s=rep.t_start_s,
        t_end_s=rep.t_s,
        good=not faults,
        faults=tuple(faults),
        reasons=tuple(reasons),
        up_s=up,
        hold_s=hold,
        down_s=down,
        peak_flexion_deg=pf,
        peak_extension_deg=pe,
        excursion_deg=exc,
        excursion_direction=str(exc_dir),
        excursion_fraction=exc_frac,
        tempo_approximate=rep.tempo_approximate,
    )
