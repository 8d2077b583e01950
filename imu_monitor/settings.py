"""User settings: exercise, per-exercise limits and tempo, sound, remembered between runs.

Stored as JSON per user in the platform's config directory
(``platformdirs.user_config_dir("imu-monitor")/settings/<user>.json``; the directory is injectable
for tests) plus ``last_user`` naming whose settings the next start opens. ``Settings`` and
``SettingsStore`` do not import Qt; ``SettingsDialog`` is the editor.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from imu_monitor.errors import SettingsError
from imu_monitor.exercises import EXERCISES, Exercise, get_exercise

log = logging.getLogger(__name__)


@dataclass
class ExerciseSettings:
    """Per exercise overrides; None keeps the exercise's default (``exercises.EXERCISES``)."""

    flexion_deg: float | None = None
    extension_deg: float | None = None
    dwell_s: float | None = None
    up_s: float | None = None
    hold_s: float | None = None
    down_s: float | None = None
    set_pause_s: float | None = None
    tempo_tolerance_s: float | None = None
    drift_warning_fraction: float | None = None


SET_RULE_FIELDS = {
    "set_pause_s": "pause_s",
    "tempo_tolerance_s": "tempo_tolerance_s",
    "drift_warning_fraction": "drift_warning_fraction",
}
"""``ExerciseSettings`` field -> ``exercises.SetRules`` field."""


@dataclass(frozen=True)
class LimitOverrides:
    """Limits given for one run (``--flexion-limit``, ``--extension-limit``, ``--dwell``);
    None keeps the value underneath. The one place limits are laid over an exercise."""

    flexion_deg: float | None = None
    extension_deg: float | None = None
    dwell_s: float | None = None

    def changes(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items() if v is not None}

    def apply(self, exercise: Exercise) -> Exercise:
        """``exercise`` with these limits."""
        changes = self.changes()
        return exercise.with_limits(**changes) if changes else exercise

    def onto(self, settings: Settings, exercise: str | None = None) -> Settings:
        """``settings`` with these limits set for ``exercise`` (default: its current one)."""
        o = settings.overrides(exercise)
        for name, value in self.changes().items():
            setattr(o, name, value)
        return settings


@dataclass
class Settings:
    user: str = "default"
    exercise: str = "back-kick"
    sound_on: bool = True
    tempo_cue: bool = False
    """A short tick at each phase change the target tempo asks for (``ui.tempo_cue``)."""
    per_exercise: dict[str, ExerciseSettings] = field(default_factory=dict)
    device_cal_folder: str = ""
    """The folder ``imu-monitor device-cal measure`` wrote (``<sensor>.json``): the dashboard
    calibrates the wearables it connects with it (``app.calibrated_source.settings_calibrated``);
    "" for none. ``live --device-cal`` takes its place for a run."""

    def overrides(self, exercise: str | None = None) -> ExerciseSettings:
        name = exercise or self.exercise
        return self.per_exercise.setdefault(name, ExerciseSettings())

    def resolved_exercise(self, exercise: str | None = None) -> Exercise:
        """The exercise with this user's limits and tempo target applied."""
        ex = get_exercise(exercise or self.exercise)
        o = self.overrides(ex.name)
        ex = LimitOverrides(o.flexion_deg, o.extension_deg, o.dwell_s).apply(ex)
        up = _pick(o.up_s, ex.tempo.up_s)
        hold = _pick(o.hold_s, ex.tempo.hold_s)
        down = _pick(o.down_s, ex.tempo.down_s)
        # a rep shorter than the default's fraction of its target is too fast
        ex = ex.with_tempo(up, hold, down)
        rules = {r: getattr(o, f) for f, r in SET_RULE_FIELDS.items() if getattr(o, f) is not None}
        return ex.with_set_rules(**rules) if rules else ex

    def to_dict(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "exercise": self.exercise,
            "sound_on": self.sound_on,
            "tempo_cue": self.tempo_cue,
            "device_cal_folder": self.device_cal_folder,
            "per_exercise": {
                k: {kk: vv for kk, vv in asdict(v).items() if vv is not None}
                for k, v in self.per_exercise.items()
            },
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, source: str = "settings") -> Settings:
        try:
            s = cls(
                user=str(d.get("user", "default")),
                exercise=str(d.get("exercise", "back-kick")),
                sound_on=bool(d.get("sound_on", True)),
                tempo_cue=bool(d.get("tempo_cue", False)),
                device_cal_folder=str(d.get("device_cal_folder") or ""),
            )
            for name, o in dict(d.get("per_exercise") or {}).items():
                if name not in EXERCISES:
                    log.warning("%s: unknown exercise %r ignored", source, name)
                    continue
                s.per_exercise[name] = ExerciseSettings(
                    **{k: float(v) for k, v in o.items() if k in ExerciseSettings.__annotations__}
                )
        except (TypeError, ValueError) as e:
            raise SettingsError(f"{source}: invalid value ({e}); fix or delete the file") from e
        if s.exercise not in EXERCISES:
            raise SettingsError(
                f"{source}: unknown exercise {s.exercise!r}; known: {', '.join(EXERCISES)}"
            )
        for name, o in s.per_exercise.items():
            for k, v in asdict(o).items():
                if v is not None and not v > 0:
                    raise SettingsError(f"{source}: {name}.{k} must be positive, got {v}")
            f = o.drift_warning_fraction
            if f is not None and not f <= 1:
                raise SettingsError(
                    f"{source}: {name}.drift_warning_fraction must be at most 1 (a fraction of "
                    f"the limit), got {f}"
                )
        return s


def _pick(value: float | None, default: float) -> float:
    return float(default if value is None else value)
