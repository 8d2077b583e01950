"""The parameters of a simulated session."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from imu_monitor.errors import SimulationError
from imu_monitor.exercises import Exercise, get_exercise
from imu_monitor.model import FAULTS, SENSOR_SETS
from imu_monitor.simulator import human, motion
from imu_monitor.simulator.human import HumanFeatures
from imu_monitor.simulator.sensors import ACC_OFFSET_SD_M_S2, GYRO_SCALE_RANGE
from imu_monitor.simulator.truth import PHASE_ONSET_FRACTION

MOTIONS: tuple[str, ...] = ("human", "ramps")
TEMPO_FAULTS: tuple[str, ...] = ("hold_short", "down_short", "up_long")
"""Tempo deviations a session of sets can carry (``SimulationConfig.tempo_faulty``): a hold
well short of the target, a lowering dropped well under the target, a slow grinding rise."""
MARKER_SETS: tuple[str, ...] = ("all", "set", "none")
KICK_TURN_LIMITS_DEG: tuple[float, float] = (0.5, 15.0)
"""The range ``SimulationConfig.kick_turn_deg`` may take (deg)."""
MAX_DEPTH_SPREAD = 0.4
"""The largest ``SimulationConfig.depth_spread`` (reps from 0.6 to 1.4 of the depth)."""
MAX_CLOCK_OFFSET_MS = 500.0
"""The largest ``SimulationConfig.clock_offset_ms`` either way (``clock_offset.MAX_LAG_S``: the
largest offset the program looks for)."""
SENSOR_FEATURES: tuple[str, ...] = (
    "skin_motion",
    "acc_errors",
    "gyro_scale",
    "gyro_drift",
    "burst_loss",
)
"""The switches of the human model's sensor errors (``HumanFeatures`` has the motion ones)."""


def _range(name: str, value: tuple[float, float], limits: tuple[float, float], unit: str):
    """``value`` as ``(lo, hi)``; a ``SimulationError`` naming ``name`` unless it is a range
    FROM <= TO within ``limits``."""
    lo, hi = (float(x) for x in value)
    if not (math.isfinite(hi) and limits[0] <= lo <= hi <= limits[1]):
        raise SimulationError(
            f"{name} must be a range FROM <= TO within {limits[0]:g}-{limits[1]:g} {unit} "
            f"(got {lo:g}-{hi:g})"
        )
    return lo, hi


@dataclass
class SimulationConfig:
    """Parameters of a simulated session (all of them are stored in the recording's meta).

    ``motion`` chooses the model: ``"human"`` (the default) moves like a person (``human``,
    ``skin``, ``sensors.HumanSensorErrors``; each feature has its switch below, all on by
    default) and its truth is defined independently of the monitor (``truth``); ``"ramps"`` is the
    original model (trapezoidal ramps, rigid sensors, tangent-method phase truth), unchanged: the
    switches below have no effect on it, except ``markers``.
    """

    exercise: str = "back-kick"
    reps: int = 10
    faulty: int = 0
    """How many of the reps are faulty (0..reps); which ones is drawn from the seed."""
    sensors: int = 1
    """1, 2 or 3: the placement set ``model.SENSOR_SETS[sensors]``."""
    seed: int = 0
    rate_hz: float = 200.0
    gyro_bias_max_deg_s: float = 2.0
    mounting_max_deg: float = 25.0
    jitter_s: float = 0.0003
    """Standard deviation of the true sample-time jitter (s)."""
    drop_fraction: float = 0.005
    """Fraction of samples dropped (removed from the output; visible as ``seq`` gaps)."""
    fault_types: tuple[str, ...] | None = None
    """Faults cycled through the faulty reps in order; None: the exercise's default cycle."""
    gyro_noise_deg_s: float = 0.1
    """Gyro white noise, rms per sample (deg/s)."""
    acc_noise_m_s2: float = 0.02
    """Accelerometer white noise, rms per sample (m/s^2)."""
    clock_offset_ms: float = 0.0
    """The upper-lumbar wearable's samples are stamped this much late against the sacrum's (ms;
    negative: early), as when its clock was put on the session's from a first notification that
    came a connection interval or two after the sacrum's (7.5-50 ms); the truth stays on the
    sacrum's clock. Needs an upper-lumbar sensor (``sensors`` 2 or 3); at most
    ``MAX_CLOCK_OFFSET_MS`` either way."""
    rest_variation_deg: float = 0.0
    """How differently the pelvis rests around each rep: turned about its x and z axes by up to
    this (uniform, degrees) from the calibration posture; 0: every rep starts from it exactly.
    Human model: replaces the +-0.5 deg range of ``rest_postures`` when > 0."""
    motion: str = "human"
    """``"human"`` or ``"ramps"`` (see above)."""
    minimum_jerk: bool = True
    """Human model: movements with bell-shaped (minimum-jerk) velocity; off: trapezoidal."""
    rep_variation: bool = True
    """Human model: reps vary +-15 % in depth and +-20 % in each phase's duration."""
    pelvis_motion: bool = True
    """Human model: the pelvis rolls, turns, shifts (10-30 mm) and tilts 1-3 deg with each rep
    even in good form, leading the leg by 50-200 ms."""
    rest_postures: bool = True
    """Human model: rest postures differ by a few tenths of a degree (+-0.5 deg turn, +-0.4 deg
    lumbar)."""
    breathing: bool = True
    """Human model: 12-20 breaths/min move the thorax 0.2-0.5 deg and the pelvis 0.05-0.15 deg."""
    skin_motion: bool = True
    """Human model: sensors on skin turn 0.3-1.2 deg (thigh 1-3 deg) with the hip and wobble at
    5-12 Hz with acceleration (``skin``)."""
    acc_errors: bool = True
    """Human model: accelerometer offsets (sd ``acc_offset_sd_m_s2`` per axis) and 1-2 % scale
    errors."""
    acc_offset_sd_m_s2: float = ACC_OFFSET_SD_M_S2
    """Human model: the accelerometer offsets' standard deviation per axis (m/s^2; 15 mg, a
    factory-trimmed part; untrimmed consumer parts 40-80 mg)."""
    gyro_scale: bool = True
    """Human model: gyro sensitivity errors of ``gyro_scale_range`` per axis."""
    gyro_scale_range: tuple[float, float] = GYRO_SCALE_RANGE
    """Human model: the gyro's sensitivity error per axis is drawn from this range (a fraction,
    random sign; 0.005-0.015: 0.5-1.5 %). A real NilsPod measured with the Ferraris procedure
    read +2.8, -1.8 and -0.2 % (README, "Device calibration")."""
    gyro_drift: bool = True
    """Human model: gyro bias warm-up drift (0.05-0.3 deg/s, 30-120 s) and wander (+-0.03 deg/s)."""
    burst_loss: bool = True
    """Human model: ``drop_fraction`` of the samples lost in bursts of 4-8 (lost notifications)
    instead of singles and short runs."""
    tempo_scale: float = 1.0
    """Human model: the person is this many times slower than the exercise's tempo (each phase
    of a rep lasts ``tempo_scale`` x the target, before the +-20 % of ``rep_variation``; a
    too-fast rep keeps its own duration); the monitor still has the exercise's target. Sessions
    without sets only."""
    rep_rest_s: tuple[float, float] = human.REST_S
    """Human model: the range (s) each rest at the bottom between reps is drawn from (with
    ``rep_variation``); (0.25, 0.5): touch-and-go reps. At least ``human.MIN_REST_S``."""
    kick_turn_deg: tuple[float, float] = human.BACK_KICK_TURN_DEG
    """Human model, back kick: the range (deg) each kick's turn of the pelvis about its long axis
    is drawn from (with ``pelvis_motion``); (1.5, 3): a person who keeps the pelvis nearly
    square. Within ``KICK_TURN_LIMITS_DEG``."""
    depth_spread: float = human.DEPTH_SPREAD
    """Human model: each rep's range of motion is scaled by 1 +- this (uniform, with
    ``rep_variation``); 0.25: reps from 0.75 to 1.25 of the exercise's depth. At most
    ``MAX_DEPTH_SPREAD``."""
    markers: str = "all"
    """Which markers the recording carries: ``all``; ``set`` (set start/end, no calibration
    markers); ``none`` (as an imported file)."""
    phase_onset_fraction: float = PHASE_ONSET_FRACTION
    """Human model: the phase-boundary threshold of the truth, a fraction of each movement's peak
    speed of the driving coordinate (``truth``)."""
    sets: int = 1
    """Human model: how many sets of ``reps`` reps each, a rest of about ``set_rest_s`` apart.
    A session with more than one set, or with ``tempo_faulty`` or ``drift_reps``, is a *session
    of sets* (``human`` module docstring): its good reps keep the target tempo as the truth
    times it."""
    set_rest_s: float = 45.0
    """Rest between sets (s; each drawn within +-25 % of it)."""
    tempo_faulty: int = 0
    """How many reps (of all sets) break the target tempo (``tempo_faults`` cycled); drawn
    among the reps without another fault or drift."""
    tempo_faults: tuple[str, ...] = TEMPO_FAULTS
    drift_reps: int = 0
    """Form drift: the last ``drift_reps`` reps of the last set arch the lower back further and
    further, from 30 % to 90 % of the extension limit (``set_plan``); the lumbar faults
    (``faulty``) then go to the other sets (with one set, to the other reps)."""

    @property
    def of_sets(self) -> bool:
        """A session of sets (``sets``)."""
        return self.sets > 1 or self.tempo_faulty > 0 or self.drift_reps > 0

    @property
    def total_reps(self) -> int:
        return int(self.reps) * int(self.sets)

    @property
    def fault_free_reps(self) -> int:
        """The last reps, which get no fault (``faulty``): with form drift, the last set's (or
        with one set, the drifting ones), else none."""
        if not self.drift_reps:
            return 0
        return int(self.reps) if self.sets > 1 else int(self.drift_reps)

    def validate(self) -> Exercise:
        """Check every field; return the exercise. Raises ``SimulationError`` naming the field."""
        exercise = get_exercise(self.exercise)
        if int(self.reps) < 1:
            raise SimulationError(f"reps must be at least 1 (got {self.reps})")
        if int(self.sets) < 1:
            raise SimulationError(f"sets must be at least 1 (got {self.sets})")
        if not 0 <= int(self.faulty) <= self.total_reps:
            raise SimulationError(
                f"faulty must be between 0 and reps x sets={self.total_reps} (got {self.faulty})"
            )
        if not 0 <= int(self.drift_reps) <= int(self.reps):
            raise SimulationError(
                f"drift_reps must be between 0 and the reps of a set ({self.reps}; "
                f"got {self.drift_reps})"
            )
        free = self.total_reps - int(self.faulty) - int(self.drift_reps)
        if not 0 <= int(self.tempo_faulty) <= max(free, 0):
            raise SimulationError(
                f"tempo_faulty must be between 0 and the reps without another fault or drift "
                f"({max(free, 0)}; got {self.tempo_faulty})"
            )
        if int(self.faulty) > self.total_reps - self.fault_free_reps:
            raise SimulationError(
                f"faulty={self.faulty} leaves no room for drift_reps={self.drift_reps}: the "
                "drifting set carries no lumbar fault"
            )
        unknown_tempo = [f for f in self.tempo_faults if f not in TEMPO_FAULTS]
        if unknown_tempo or (self.tempo_faulty and not self.tempo_faults):
            raise SimulationError(
                f"tempo_faults {list(self.tempo_faults)!r} must be a non-empty list of: "
                f"{', '.join(TEMPO_FAULTS)}"
            )
        if not (math.isfinite(self.set_rest_s) and self.set_rest_s >= 5.0):
            raise SimulationError(f"set_rest_s must be at least 5 s (got {self.set_rest_s})")
        if self.of_sets and self.motion != "human":
            raise SimulationError(
                "sets, tempo_faulty and drift_reps need the human motion model (motion='human')"
            )
        _range("gyro_scale_range", self.gyro_scale_range, (0.0, 0.1), "(a fraction)")
        lo, hi = _range("rep_rest_s", self.rep_rest_s, (human.MIN_REST_S, 60.0), "s")
        if (lo, hi) != human.REST_S and self.motion != "human":
            raise SimulationError("rep_rest_s needs the human motion model (motion='human')")
        if not (math.isfinite(self.depth_spread) and 0.0 <= self.depth_spread <= MAX_DEPTH_SPREAD):
            raise SimulationError(
                f"depth_spread must be between 0 and {MAX_DEPTH_SPREAD:g} (got {self.depth_spread})"
            )
        if self.depth_spread != human.DEPTH_SPREAD and self.motion != "human":
            raise SimulationError("depth_spread needs the human motion model (motion='human')")
        lo, hi = _range("kick_turn_deg", self.kick_turn_deg, KICK_TURN_LIMITS_DEG, "deg")
        if (lo, hi) != human.BACK_KICK_TURN_DEG and (
            self.motion != "human" or self.exercise != "back-kick"
        ):
            raise SimulationError(
                "kick_turn_deg needs the back kick and the human motion model "
                "(exercise='back-kick', motion='human')"
            )
        if not (math.isfinite(self.tempo_scale) and 0.4 <= self.tempo_scale <= 3.0):
            raise SimulationError(f"tempo_scale must be between 0.4 and 3 (got {self.tempo_scale})")
        if self.tempo_scale != 1.0 and (self.of_sets or self.motion != "human"):
            raise SimulationError(
                "tempo_scale needs the human motion model and a session without sets "
                "(a session of sets times its good reps at the target tempo)"
            )
        if not isinstance(self.seed, int | np.integer) or self.seed < 0:
            raise SimulationError(f"seed must be an integer >= 0 (got {self.seed!r})")
        if self.sensors not in SENSOR_SETS:
            raise SimulationError(
                f"sensors must be one of {', '.join(map(str, SENSOR_SETS))} (got {self.sensors})"
            )
        if not (math.isfinite(self.rate_hz) and 10.0 <= self.rate_hz <= 2000.0):
            raise SimulationError(f"rate_hz must be between 10 and 2000 Hz (got {self.rate_hz})")
        if not (math.isfinite(self.acc_offset_sd_m_s2) and 0.0 <= self.acc_offset_sd_m_s2 <= 2.0):
            raise SimulationError(
                f"acc_offset_sd_m_s2 must be between 0 and 2 m/s^2 (got {self.acc_offset_sd_m_s2})"
            )
        if not (
            math.isfinite(self.clock_offset_ms) and abs(self.clock_offset_ms) <= MAX_CLOCK_OFFSET_MS
        ):
            raise SimulationError(
                f"clock_offset_ms must be between -{MAX_CLOCK_OFFSET_MS:g} and "
                f"{MAX_CLOCK_OFFSET_MS:g} ms (got {self.clock_offset_ms})"
            )
        if self.clock_offset_ms and "upper_lumbar" not in SENSOR_SETS[self.sensors]:
            raise SimulationError(
                "clock_offset_ms needs an upper-lumbar sensor (sensors 2 or 3): it is that "
                "wearable's clock against the sacrum's"
            )
        if not 0.0 <= self.drop_fraction <= 0.5:
            raise SimulationError(
                f"drop_fraction must be between 0 and 0.5 (got {self.drop_fraction})"
            )
        for name in (
            "gyro_bias_max_deg_s",
            "mounting_max_deg",
            "jitter_s",
            "gyro_noise_deg_s",
            "acc_noise_m_s2",
            "rest_variation_deg",
        ):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.0):
                raise SimulationError(f"{name} must be a finite value >= 0 (got {value})")
        if self.motion not in MOTIONS:
            raise SimulationError(
                f"motion must be one of {', '.join(MOTIONS)} (got {self.motion!r})"
            )
        if self.markers not in MARKER_SETS:
            raise SimulationError(
                f"markers must be one of {', '.join(MARKER_SETS)} (got {self.markers!r})"
            )
        for name in (*HumanFeatures.names(), *SENSOR_FEATURES):
            if not isinstance(getattr(self, name), bool):
                raise SimulationError(f"{name} must be true or false (got {getattr(self, name)!r})")
        if not 0.01 <= self.phase_onset_fraction <= 0.3:
            raise SimulationError(
                f"phase_onset_fraction must be between 0.01 and 0.3 "
                f"(got {self.phase_onset_fraction})"
            )
        if self.mounting_max_deg > 180.0:
            raise SimulationError(f"mounting_max_deg must be <= 180 (got {self.mounting_max_deg})")
        faults = self.resolved_fault_types()
        unknown = [f for f in faults if f not in FAULTS]
        if unknown or (self.faulty and not faults):
            raise SimulationError(
                f"fault_types {list(faults)!r} must be a non-empty list of: {', '.join(FAULTS)}"
            )
        return exercise

    def resolved_fault_types(self) -> tuple[str, ...]:
        if self.fault_types is not None:
            return tuple(self.fault_types)
        style = motion.MOTION_STYLES.get(self.exercise)
        return style.default_faults if style else ()

    def human_features(self) -> HumanFeatures:
        return HumanFeatures(**{n: getattr(self, n) for n in HumanFeatures.names()})
