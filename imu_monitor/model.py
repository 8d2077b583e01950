"""The data model every stage shares: sample chunks, whole sensor series, recordings.

Units are SI everywhere inside the program: time in seconds, acceleration in m/s^2 (specific
force: a sensor at rest reads +9.81 m/s^2 along the axis pointing *up*), angular rate in rad/s.
Degrees appear only in angle outputs people read (names end in ``_deg``).

Sensors are named by their placement on the body (see ``PLACEMENTS``); a session has at most one
sensor per placement.

Segment frame (used by calibration and angles), for every segment (pelvis/sacrum, upper lumbar,
thigh): x anterior, y to the subject's left, z superior (towards the head). Right-handed.
Sign convention: the *pitch* of a segment is its rotation about its own y (left) axis, positive
when the superior end tilts anteriorly. Lumbar flexion (rounding the lower back) is positive:
``lumbar_flexion = pitch(upper_lumbar) - pitch(sacrum)``; with one sensor the upper segment is
taken to stay at its calibrated neutral, so ``lumbar_flexion = -delta pitch(sacrum)``.
Hip flexion is positive: ``hip_flexion = pitch(sacrum) - pitch(thigh)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from imu_monitor.errors import ImuMonitorError

GRAVITY_M_S2 = 9.80665

PLACEMENTS: tuple[str, ...] = ("sacrum", "upper_lumbar", "thigh")
"""Where a sensor can sit. ``sacrum`` (S1/S2 or L5) is always present; ``upper_lumbar`` is
T12/L1; ``thigh`` is the lateral/anterior mid-thigh of the working leg."""

SENSOR_SETS: dict[int, tuple[str, ...]] = {
    1: ("sacrum",),
    2: ("sacrum", "upper_lumbar"),
    3: ("sacrum", "upper_lumbar", "thigh"),
}
"""The sensor sets the CLI's ``--sensors {1,2,3}`` stands for."""


def check_placement(name: str) -> str:
    """Return ``name`` if it is a known placement, else raise with the list of known ones."""
    if name not in PLACEMENTS:
        raise ImuMonitorError(
            f"unknown sensor placement {name!r}; known placements: {', '.join(PLACEMENTS)}"
        )
    return name


@dataclass
class SampleChunk:
    """Consecutive samples of one sensor, as a source delivers them.

    ``t_s``: shape (n,), float64, seconds on the session clock (monotonic; the first sample of a
    session is near 0). ``acc_m_s2``, ``gyr_rad_s``: shape (n, 3), float64, in the sensor frame.
    ``seq``: shape (n,), int64, the firmware's sample counter unwrapped, or None when the
    firmware sends none. ``t_received_s``: when the host received the chunk (perf_counter clock),
    for latency statistics; None for recorded or batch data.
    """

    sensor: str
    t_s: np.ndarray
    acc_m_s2: np.ndarray
    gyr_rad_s: np.ndarray
    seq: np.ndarray | None = None
    t_received_s: float | None = None

    def __len__(self) -> int:
        return int(self.t_s.shape[0])


@dataclass
class SensorInfo:
    """What is known about one sensor of a session."""

    placement: str
    profile: str = "sim"
    """Firmware profile name (``firmware_profiles/<name>.toml``), or ``sim`` / ``import``."""
    device: str = ""
    """Device name or address, as found by the scan; empty for simulated or imported data."""
    rate_hz: float = 200.0
    """Nominal sample rate."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "placement": self.placement,
            "profile": self.profile,
            "device": self.device,
            "rate_hz": float(self.rate_hz),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SensorInfo:
        return cls(
            placement=str(d["placement"]),
            profile=str(d.get("profile", "sim")),
            device=str(d.get("device", "")),
            rate_hz=float(d.get("rate_hz", 200.0)),
        )


@dataclass
class SensorSeries:
    """All samples of one sensor in a recording (same fields and units as ``SampleChunk``)."""

    t_s: np.ndarray
    acc_m_s2: np.ndarray
    gyr_rad_s: np.ndarray
    seq: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    @classmethod
    def empty(cls) -> SensorSeries:
        return cls(np.zeros(0), np.zeros((0, 3)), np.zeros((0, 3)), None)

    @classmethod
    def concat(cls, chunks: list[SampleChunk]) -> SensorSeries:
        """Join chunks of one sensor in order."""
        if not chunks:
            return cls.empty()
        seqs = [c.seq for c in chunks]
        seq = None if any(s is None for s in seqs) else np.concatenate(seqs).astype(np.int64)
        return cls(
            np.concatenate([c.t_s for c in chunks]).astype(np.float64),
            np.concatenate([c.acc_m_s2 for c in chunks]).astype(np.float64),
            np.concatenate([c.gyr_rad_s for c in chunks]).astype(np.float64),
            seq,
        )

    def chunk(self, sensor: str, start: int, stop: int) -> SampleChunk:
        """Samples ``start:stop`` as a ``SampleChunk`` (for replay and chunked processing)."""
        return SampleChunk(
            sensor,
            self.t_s[start:stop],
            self.acc_m_s2[start:stop],
            self.gyr_rad_s[start:stop],
            None if self.seq is None else self.seq[start:stop],
        )


@dataclass
class Marker:
    """An annotation on the session timeline.

    ``kind`` examples: ``calibration_standing`` and ``calibration_start`` (a still posture used by
    calibration, from ``t_s`` to ``t_end_s``), ``set_start``, ``set_end``, ``note``.
    ``data`` holds free key/values (exercise, load_kg, side, text).
    """

    t_s: float
    kind: str
    t_end_s: float | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"t_s": self.t_s, "kind": self.kind, "t_end_s": self.t_end_s, "data": self.data}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Marker:
        return cls(
            float(d["t_s"]),
            str(d["kind"]),
            None if d.get("t_end_s") is None else float(d["t_end_s"]),
            dict(d.get("data") or {}),
        )


@dataclass
class Gap:
    """A stretch with no data from one sensor (link lost, packets dropped)."""

    sensor: str
    t_start_s: float
    t_end_s: float
    reason: str = "link_lost"
    samples_lost: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "sensor": self.sensor,
            "t_start_s": self.t_start_s,
            "t_end_s": self.t_end_s,
            "reason": self.reason,
            "samples_lost": self.samples_lost,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Gap:
        return cls(
            str(d["sensor"]),
            float(d["t_start_s"]),
            float(d["t_end_s"]),
            str(d.get("reason", "link_lost")),
            None if d.get("samples_lost") is None else int(d["samples_lost"]),
        )


@dataclass
class TruthRep:
    """One simulated repetition, as the motion program made it.

    Phase boundaries: the rep starts when the movement leaves the start position (``t_start_s``),
    reaches the top (``t_top_s``, end of the concentric phase), leaves the top (``t_hold_end_s``,
    end of the hold) and is back in the start position (``t_end_s``). In the human-motion model
    (the default) the boundaries are movement onset and offset: where the working segment's speed
    crosses a fraction (5 %) of that movement's peak (``simulator.truth``); in the old ramp model
    they are where the programmed steady-speed part of each phase, extended, meets the rest level
    (the tangent method).
    ``fault``: None for a good rep, else one of ``FAULTS``.
    A session of sets (``simulator.config.SimulationConfig.sets``): ``set_index`` (0-based), the
    programmed ``tempo_fault`` (``simulator.config.TEMPO_FAULTS``) and ``drift_fraction`` (the
    programmed arch of a drifting rep, a fraction of the extension limit); whether a rep counts
    is judged from the truth itself (``simulator.set_truth``).
    """

    index: int
    t_start_s: float
    t_top_s: float
    t_hold_end_s: float
    t_end_s: float
    fault: str | None = None
    peak_flexion_deg: float = 0.0
    peak_extension_deg: float = 0.0
    set_index: int = 0
    tempo_fault: str | None = None
    drift_fraction: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "t_start_s": self.t_start_s,
            "t_top_s": self.t_top_s,
            "t_hold_end_s": self.t_hold_end_s,
            "t_end_s": self.t_end_s,
            "fault": self.fault,
            "faulty": self.fault is not None,
            "peak_flexion_deg": self.peak_flexion_deg,
            "peak_extension_deg": self.peak_extension_deg,
            "set_index": self.set_index,
            "tempo_fault": self.tempo_fault,
            "drift_fraction": self.drift_fraction,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TruthRep:
        return cls(
            int(d["index"]),
            float(d["t_start_s"]),
            float(d["t_top_s"]),
            float(d["t_hold_end_s"]),
            float(d["t_end_s"]),
            d.get("fault"),
            float(d.get("peak_flexion_deg", 0.0)),
            float(d.get("peak_extension_deg", 0.0)),
            int(d.get("set_index", 0)),
            d.get("tempo_fault"),
            None if d.get("drift_fraction") is None else float(d["drift_fraction"]),
        )


FAULTS: tuple[str, ...] = ("extension", "flexion", "rocking", "too_fast")
"""Simulated faults: lumbar pushed into extension at the top, lumbar flexion at the top,
flexing and extending back and forth through the rep, and a rep that is too fast (swinging).
The first three are lumbar faults the alarm must catch; ``too_fast`` is a tempo fault."""

LUMBAR_FAULTS: tuple[str, ...] = ("extension", "flexion", "rocking")


@dataclass
class Truth:
    """Ground truth of a simulated session, sampled on its own uniform time base ``t_s``.

    ``lumbar_flexion_deg``: true lumbar flexion relative to the neutral of the calibration posture
    (flexion positive). ``lumbar_lateral_deg``: true lateral bend (left positive).
    ``hip_flexion_deg``: true hip flexion of the working leg, or None: the anatomical angle, sacrum
    pitch minus thigh pitch (about 90 deg on all fours with the thigh vertical), whereas the
    estimate (``AngleSet.hip_flexion_deg``) is relative to the calibrated neutral.
    ``segment_pitch_deg``: per placement, the true pitch of the segment in the world (see module
    docstring), for checking orientation and calibration stage by stage.
    """

    t_s: np.ndarray
    lumbar_flexion_deg: np.ndarray
    lumbar_lateral_deg: np.ndarray
    hip_flexion_deg: np.ndarray | None
    reps: list[TruthRep]
    segment_pitch_deg: dict[str, np.ndarray] = field(default_factory=dict)
    mounting_quat: dict[str, list[float]] = field(default_factory=dict)
    """Per placement, the true sensor-to-segment rotation as a (w, x, y, z) quaternion."""
    gyro_bias_rad_s: dict[str, list[float]] = field(default_factory=dict)
    skin_error_deg: np.ndarray | None = None
    """What the skin motion alone (the human model's soft-tissue artefact) puts into the scored
    angle (deg, on ``t_s``): the angle that perfect sensors on the skin would read less the
    bones', relative to the calibration posture; the lumbar joint angle with an upper-lumbar
    sensor, else the sacrum's own tilt. No method using the sensors can remove it: a session
    reads under its RMS only where other errors happen to oppose it. None without skin motion."""

    def lumbar_at(self, t_s: np.ndarray) -> np.ndarray:
        """True lumbar flexion (deg) interpolated at times ``t_s``."""
        return np.interp(t_s, self.t_s, self.lumbar_flexion_deg)


@dataclass
class Recording:
    """A whole session in memory: what a recording file holds.

    ``meta`` keys written by this program: ``format_version``, ``created_utc``, ``exercise``,
    ``source`` (``sim``, ``ble``, ``import:<format>``), ``app_version``, ``user``, and for simulated
    sessions ``simulation`` (the simulator's parameters, enough to regenerate it).
    ``calibration``: the calibration in force while recording (``calibration.Calibration.to_dict``).
    ``events``: monitor events as dicts (``events.Event.to_dict``).
    """

    meta: dict[str, Any]
    sensors: dict[str, SensorInfo]
    series: dict[str, SensorSeries]
    markers: list[Marker] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    calibration: dict[str, Any] | None = None
    truth: Truth | None = None

    @property
    def exercise(self) -> str:
        return str(self.meta.get("exercise", "back-kick"))

    @property
    def duration_s(self) -> float:
        span = self.time_span()
        return 0.0 if span is None else span[1] - span[0]

    def time_span(self) -> tuple[float, float] | None:
        """The first and the last sample time over every sensor (s); None without samples."""
        filled = [s for s in self.series.values() if len(s)]
        if not filled:
            return None
        return min(float(s.t_s[0]) for s in filled), max(float(s.t_s[-1]) for s in filled)

    def markers_of(self, kind: str) -> list[Marker]:
        return [m for m in self.markers if m.kind == kind]
