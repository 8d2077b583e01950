"""A wearable's own calibration: its accelerometer's offsets, scale factors and axis
misalignment and its gyroscope's scale factors, misalignment and bias, measured once per device
with the Ferraris procedure and computed by ``imucal`` (Ferraris et al. 1995; imucal's
``FerrarisCalibration``).

The procedure (README, "Device calibration"): the wearable sits square in a box; the box rests
still on a table on each of its six faces for about 4 s (the sensor's +x, -x, +y, -y, +z and -z
axis up in turn), and on one face per axis it is turned once round on the table, clockwise seen
from above, and put back against the same edge. The six holds give the accelerometer's offset
and scale (gravity read as +g and -g on each axis) and the gyro's bias; the three full turns the
gyro's scale (360 deg known).

Why it matters here: over a session's 45-90 deg turns a 1 % gyro scale error and the
accelerometer's 1-2 % scale errors are a degree or more of lumbar angle, and a session's few
postures cannot tell a scale error from an offset (docs/accuracy.md, "The two-sensor hip
thrust's worst session"). Measured once on a table, they can.

``scan`` finds the holds and turns in a recording of the procedure as it grows (no
annotation), ``find_sections`` asks for all of them; ``measure`` computes the calibration (the
misalignment measured, applied only on request: ``measure``'s doc); ``apply_to_recording``
applies it to a session's raw samples before anything else reads them and says so in the
recording's meta, refusing a calibration of another wearable (``check_devices``). Imports core
types, numpy, imucal (inside the functions that need it: pandas is slow to import) and
``stillness``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from imu_monitor.errors import ImuMonitorError
from imu_monitor.model import GRAVITY_M_S2, Recording, SensorInfo, SensorSeries
from imu_monitor.processing.stillness import find_still_periods

FACES: tuple[str, ...] = ("x_p", "x_a", "y_p", "y_a", "z_p", "z_a")
"""imucal's names of the six holds: ``x_p`` has the sensor's +x axis up (its accelerometer reads
+g on x), ``x_a`` the -x axis."""
HOLD_MIN_S = 1.5
"""Shortest hold taken (s); 0.25 s at either end of it is left out (the box settling)."""
HOLD_EDGE_S = 0.25
HOLD_MAX_GYRO_DEG_S = 2.0
"""A hold on a table: the gyro within 2 deg/s of its mean (a person holding a wearable moves it
by several deg/s; stillness.MAX_GYRO_DEV_DEG_S allows 6 for a body). Not 1: a gyro read in
whole deg/s (the Polar Verity Sense without a conversion factor in its start reply) steps by
1 deg/s on two axes at once, and 1 found 4 of its 12 holds."""
HOLD_MAX_ACC_DEV_M_S2 = 0.15
"""... and the smoothed acceleration within 0.15 m/s^2 (0.9 deg of tilt) of its mean."""
FACE_MIN_FRACTION = 0.9
"""A hold counts as a face when one axis carries at least this fraction of the gravity read
(within 25 deg of straight up or down)."""
FACE_G_RANGE = (0.7, 1.3)
"""... and when it reads gravity as 0.7-1.3 g: an untrimmed accelerometer's offset can reach
200 mg on an axis (``acc_offset.WIDE_OFFSET_M_S2``), and its sensitivity be 3 % off; with 0.8-1.2
a simulated thigh sensor 190 mg off on y never showed its -y face (0.79 g)."""
TURN_MIN_DEG = 300.0
"""A movement between two holds on the same face is a turn when the gyro says it turned at least
this far about that face's axis (a full turn is 360)."""
MAX_TURN_HOLE_S = 0.25
"""Longest stretch without samples a turn may have: the gyro is integrated over the turn, and a
hole longer than this (lost notifications) can hide too much of it to interpolate."""
MAX_TURN_LOST = 0.10
"""... and the largest share of a turn's time its holes (gaps over 1.5 sample periods) may take
together: the turn's angle is interpolated across them."""
TURN_WITHIN = 0.05
"""A turn whose angle reads more than this share off a full turn is not counted: a gyro that far
off its scale is broken, and such a reading means samples lost or mistimed (a simulated link
that could not keep up read 314-425 deg)."""
CAL_VERSION = 1
"""What ``apply_to_recording`` writes into ``meta["device_calibration"]``; bumped if it changes."""


@dataclass
class Turn:
    """A full turn about ``axis`` (``x``, ``y``, ``z``) between sample indices (of the uniform
    grid) ``start`` and ``stop``; ``angle_deg``: the gyro's angle about the axis (bias removed)."""

    axis: str
    start: int
    stop: int
    angle_deg: float


@dataclass
class Sections:
    """A procedure found in one sensor's samples, on a uniform grid at ``rate_hz``: the holds per
    face (index ranges), one turn per axis, and the direction the turns went (-1 clockwise about
    the axis, as imucal's default expects, or +1)."""

    rate_hz: float
    acc: np.ndarray
    gyr_deg_s: np.ndarray
    turns: dict[str, Turn] = field(default_factory=dict)
    direction: float = -1.0
    still: list[tuple[str | None, int, int]] = field(default_factory=list)
    """Every still hold in time order: its face (None: no axis up) and index range."""
    gyro_step_deg_s: float = 0.0
    """The gyro's resolution as the samples show it (``gyro_step_deg_s``)."""

    @property
    def holds(self) -> dict[str, list[tuple[int, int]]]:
        """The still holds per face, in time order (index ranges)."""
        out: dict[str, list[tuple[int, int]]] = {}
        for face, a, b in self.still:
            if face is not None:
                out.setdefault(face, []).append((a, b))
        return out


def _uniform(series: SensorSeries, what: str) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """The samples on a uniform grid at their median rate (linear over lost samples): imucal
    integrates a turn as the sum of its samples over the rate."""
    ok = np.isfinite(series.t_s) & np.isfinite(series.acc_m_s2).all(1)
    ok &= np.isfinite(series.gyr_rad_s).all(1)
    t, acc, gyr = series.t_s[ok], series.acc_m_s2[ok], series.gyr_rad_s[ok]
    if len(t) < 100:
        raise ImuMonitorError(f"{what}: {len(t)} samples are too few for a device calibration")
    dt = float(np.median(np.diff(t)))
    if not dt > 0:
        raise ImuMonitorError(f"{what}: the sample times do not increase")
    grid = t[0] + np.arange(int(math.floor((t[-1] - t[0]) / dt)) + 1) * dt

    def resample(x: np.ndarray) -> np.ndarray:
        return np.stack([np.interp(grid, t, x[:, k]) for k in range(3)], axis=1)

    return 1.0 / dt, grid, resample(acc), np.degrees(resample(gyr))


def gyro_step_deg_s(gyr_rad_s: np.ndarray) -> float:
    """The gyro's resolution as its readings show it (deg/s): the 5th percentile of the
    non-zero changes from one sample to the next on any axis (a few thousandths of a deg/s for
    a gyro whose noise spans many steps; 1 for one read in whole deg/s)."""
    steps = np.abs(np.diff(np.degrees(gyr_rad_s), axis=0)).ravel()
    steps = steps[steps > 1e-9]
    return float(np.percentile(steps, 5)) if len(steps) else 0.0


def _face(mean_acc: np.ndarray) -> str | None:
    norm = float(np.linalg.norm(mean_acc))
    k = int(np.argmax(np.abs(mean_acc)))
    if not FACE_G_RANGE[0] * GRAVITY_M_S2 < norm < FACE_G_RANGE[1] * GRAVITY_M_S2:
        return None
    if abs(mean_acc[k]) < FACE_MIN_FRACTION * norm:
        return None
    return "xyz"[k] + ("_p" if mean_acc[k] > 0 else "_a")


def _holes_in(t: np.ndarray, t0: float, t1: float, rate_hz: float) -> tuple[float, float]:
    """The longest stretch without samples between ``t0`` and ``t1`` (s), and the share of that
    time spent in stretches longer than 1.5 sample periods."""
    inside = t[(t >= t0) & (t <= t1)]
    steps = np.diff(np.concatenate([[t0], inside, [t1]]))
    holes = steps[steps > 1.5 / rate_hz]
    return float(np.max(steps)), float(holes.sum() / max(t1 - t0, 1e-9))


def scan(series: SensorSeries, what: str) -> Sections:
    """The holds and full turns found so far in one sensor's samples (``device-cal record``
    shows them as they come); ``find_sections`` asks for all of them."""
    rate, grid, acc, gyr = _uniform(series, what)
    alone = Recording(meta={}, sensors={}, series={"s": series})
    periods = find_still_periods(
        alone,
        min_duration_s=HOLD_MIN_S,
        max_gyro_deg_s=HOLD_MAX_GYRO_DEG_S,
        max_acc_dev_m_s2=HOLD_MAX_ACC_DEV_M_S2,
    )
    found = Sections(rate, acc, gyr, gyro_step_deg_s=gyro_step_deg_s(series.gyr_rad_s))
    for t0, t1 in periods:
        a = int(np.searchsorted(grid, t0 + HOLD_EDGE_S))
        b = int(np.searchsorted(grid, t1 - HOLD_EDGE_S))
        if b - a < 10:
            continue
        face = _face(acc[a:b].mean(axis=0))
        found.still.append((face, a, b))
    for (face0, a0, b0), (face1, a1, b1) in zip(found.still, found.still[1:], strict=False):
        if face0 is None or face0 != face1:
            continue
        k = "xyz".index(face0[0])
        bias = np.concatenate([gyr[a0:b0, k], gyr[a1:b1, k]]).mean()
        angle = float(np.sum(gyr[b0:a1, k] - bias) / rate)
        if abs(angle) < TURN_MIN_DEG:
            continue
        longest, lost = _holes_in(series.t_s, float(grid[b0]), float(grid[a1]), rate)
        if longest > MAX_TURN_HOLE_S or lost > MAX_TURN_LOST:
            continue
        if abs(abs(angle) - 360.0) > TURN_WITHIN * 360.0:
            continue
        best = found.turns.get(face0[0])
        if best is None or abs(abs(angle) - 360.0) < abs(abs(best.angle_deg) - 360.0):
            found.turns[face0[0]] = Turn(face0[0], b0, a1, angle)
    return found


def find_sections(series: SensorSeries, what: str) -> Sections:
    """Find the six holds and three turns of the procedure in one sensor's samples. ``what``
    names the file and sensor in the error that says what is missing and what to do."""
    found = scan(series, what)
    holds = found.holds
    missing = [f for f in FACES if f not in holds]
    if missing:
        names = ", ".join(_axis_words(f) for f in missing)
        raise ImuMonitorError(
            f"{what}: no still hold with {names} was found ({len(found.still)} still holds in "
            "all). Record the procedure again: rest the box still on each of its six faces for "
            "4 s (README, 'Device calibration')"
        )
    missing = [a for a in "xyz" if a not in found.turns]
    if missing:
        raise ImuMonitorError(
            f"{what}: no full turn about the sensor's {' and '.join(missing)} axis was found. "
            "With that axis up, hold the box still, turn it once round on the table (clockwise "
            "seen from above) and hold it still again. A turn does not count that lost more "
            f"than {MAX_TURN_HOLE_S:g} s of samples at once or {MAX_TURN_LOST:.0%} of them in "
            f"all, or that read more than {TURN_WITHIN:.0%} off a full turn"
        )
    signs = {a: math.copysign(1.0, t.angle_deg) for a, t in found.turns.items()}
    if len(set(signs.values())) > 1:
        said = ", ".join(f"{a}: {found.turns[a].angle_deg:+.0f} deg" for a in "xyz")
        raise ImuMonitorError(
            f"{what}: the turns went different ways about the sensor's axes ({said}). Turn the "
            "box clockwise seen from above each time, with the +x, +y and +z axis up"
        )
    found.direction = signs["x"]
    return found


def still_to_do(found: Sections) -> list[str]:
    """What the procedure still lacks, in words (``device-cal record``)."""
    holds = found.holds
    return [_axis_words(f) for f in FACES if f not in holds] + [
        f"a turn about {a}" for a in "xyz" if a not in found.turns
    ]


def signed_axis(face: str) -> str:
    """The sensor axis a face has up, as people write it: ``x_p`` -> "+x", ``y_a`` -> "-y"."""
    return f"{'+' if face.endswith('_p') else '-'}{face[0]}"


def _axis_words(face: str) -> str:
    return f"the {signed_axis(face)} axis up"


@dataclass
class DeviceCalibration:
    """One wearable's calibration: imucal's ``FerrarisCalibrationInfo`` (``info``), what was
    measured with it (``figures``) and what it was measured on (``about``: device, sensor,
    procedure file); both are kept in the info's comment."""

    info: Any
    figures: dict[str, Any]
    about: dict[str, Any] = field(default_factory=dict)

    @property
    def device(self) -> str:
        """The wearable it was measured on (name or address as the scan found it); "" when not
        known (a simulated procedure, a file from elsewhere)."""
        return str(self.about.get("device") or "")

    def to_json(self) -> str:
        """imucal's own JSON (``CalibrationInfo.from_json`` reads it back); the figures are in
        its ``comment``."""
        return self.info.to_json()

    @classmethod
    def from_file(cls, path: str | Path) -> DeviceCalibration:
        from imucal import FerrarisCalibrationInfo  # pandas is slow to import; only here

        p = Path(path)
        try:
            info = FerrarisCalibrationInfo.from_json_file(p)
        except FileNotFoundError:
            raise ImuMonitorError(f"{p}: no such device calibration file") from None
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ImuMonitorError(
                f"{p}: not a device calibration (imucal Ferraris JSON) file ({e}); "
                "make one with: imu-monitor device-cal measure PROCEDURE.imr"
            ) from None
        if not isinstance(info, FerrarisCalibrationInfo):
            raise ImuMonitorError(f"{p}: a {info.CAL_TYPE} calibration, not a Ferraris one")
        try:
            comment = json.loads(info.comment or "{}")
        except ValueError:
            comment = {}
        if not isinstance(comment, dict):
            comment = {}
        figures = comment.pop("figures", {})
        return cls(info, figures if isinstance(figures, dict) else {}, comment)

    def apply(self, acc_m_s2: np.ndarray, gyr_rad_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated samples, in the program's units."""
        acc, gyr = self.info.calibrate(
            acc_m_s2, np.degrees(gyr_rad_s), self.info.from_acc_unit, self.info.from_gyr_unit
        )
        return acc, np.radians(gyr)


def measure(
    series: SensorSeries, *, what: str, about: dict[str, Any], misalignment: bool = False
) -> DeviceCalibration:
    """Compute a device calibration from a recording of the procedure (one sensor's samples).
    ``about`` (device, sensor, file, ...) goes into the calibration's comment beside the
    figures.

    The axes' misalignment is measured (``figures``) but applied only with ``misalignment``:
    imucal's rotation matrices take each hold's tilt and each turn's axis for the sensor's axes,
    so a box a little out of square or a table a little off level (0.5 deg) reads as a
    misalignment of the same size, different for the accelerometer and the gyro. The fusion
    then sees the two disagree over every turn: on the simulated two-sensor hip thrust (seeds
    0-19) the RMSE was 0.57 / 1.22 deg (mean / worst) without it and 0.65 / 1.38 with it
    (README, "Device calibration"). With a machined jig or a turntable, apply it."""
    from imucal import FerrarisCalibration
    from imucal.ferraris_calibration import FerrarisSignalRegions

    s = find_sections(series, what)

    holds = s.holds

    def held(face: str, x: np.ndarray) -> np.ndarray:
        return np.concatenate([x[a:b] for a, b in holds[face]])

    def turned(axis: str, x: np.ndarray) -> np.ndarray:
        return x[s.turns[axis].start : s.turns[axis].stop]

    regions = FerrarisSignalRegions(
        **{f"acc_{f}": held(f, s.acc) for f in FACES},
        **{f"gyr_{f}": held(f, s.gyr_deg_s) for f in FACES},
        **{f"acc_{a}_rot": turned(a, s.acc) for a in "xyz"},
        **{f"gyr_{a}_rot": turned(a, s.gyr_deg_s) for a in "xyz"},
    )
    cal = FerrarisCalibration(grav=GRAVITY_M_S2, expected_angle=360.0 * s.direction)
    try:
        info = cal.compute(regions, s.rate_hz, "m/s^2", "deg/s")
    except (np.linalg.LinAlgError, ValueError, FloatingPointError) as e:
        raise ImuMonitorError(
            f"{what}: the calibration cannot be computed from these holds and turns ({e}); "
            "check that every axis of the wearable responds (imu-monitor check-device) and "
            "record the procedure again"
        ) from None
    measured = {
        "acc_misalignment_deg": misalignment_deg(info.R_a),
        "gyro_misalignment_deg": misalignment_deg(info.R_g),
        "misalignment_applied": bool(misalignment),
    }
    if not misalignment:
        info.R_a, info.R_g = np.eye(3), np.eye(3)
    done = DeviceCalibration(info, {}, dict(about))
    done.figures = {**_figures(done, s), **measured}
    info.comment = json.dumps({**about, "figures": done.figures})
    return done


def misalignment_deg(R: np.ndarray) -> list[float]:
    """How far (deg) each of the sensor's axes lies from where a rotation-and-shear matrix
    ``R`` (imucal's ``R_a``, ``R_g``) puts it."""
    cols = R / np.linalg.norm(R, axis=0)
    return [float(np.degrees(np.arccos(np.clip(cols[k, k], -1.0, 1.0)))) for k in range(3)]


def _figures(cal: DeviceCalibration, s: Sections) -> dict[str, Any]:
    """What the calibration found, and how well the procedure fits it: the largest departure of
    a calibrated hold's gravity from g and of a calibrated turn from a full turn."""
    info = cal.info
    holds = s.holds
    worst_g = 0.0
    for face in FACES:
        for a, b in holds[face]:
            acc, _ = cal.apply(s.acc[a:b], np.radians(s.gyr_deg_s[a:b]))
            worst_g = max(worst_g, abs(float(np.linalg.norm(acc.mean(axis=0))) - GRAVITY_M_S2))
    worst_turn = 0.0
    for turn in s.turns.values():
        sl = slice(turn.start, turn.stop)
        _, gyr = cal.apply(s.acc[sl], np.radians(s.gyr_deg_s[sl]))
        angle = float(np.degrees(np.linalg.norm(gyr.sum(axis=0) / s.rate_hz)))
        worst_turn = max(worst_turn, abs(angle - 360.0))
    return {
        "acc_offset_mg": [float(v) / GRAVITY_M_S2 * 1000.0 for v in info.b_a],
        "acc_scale_error_pct": [(float(v) - 1.0) * 100.0 for v in np.diag(info.K_a)],
        "gyro_scale_error_pct": [(float(v) - 1.0) * 100.0 for v in np.diag(info.K_g)],
        "gyro_bias_deg_s": [float(v) for v in info.b_g],
        "holds_s": {f: round(sum(b - a for a, b in holds[f]) / s.rate_hz, 2) for f in FACES},
        "turns_deg": {a: round(t.angle_deg, 1) for a, t in s.turns.items()},
        "check_gravity_mg": worst_g / GRAVITY_M_S2 * 1000.0,
        "check_turn_deg": worst_turn,
        "gyro_step_deg_s": s.gyro_step_deg_s,
        "gyro_scale_uncertain_pct": _coarse_gyro_pct(s),
    }


def _coarse_gyro_pct(s: Sections) -> float:
    """How far off the gyro's scale may be from its resolution alone (%), at most: held still,
    a gyro read in steps coarser than its noise reads its bias up to half a step off (no noise
    to average the rounding out), and a turn integrates that over its length (a 6 s turn at
    1 deg/s steps: 0.8 %). A bound: where the noise spans a step or more (the simulated
    0.06 deg/s steps, bound 0.06 %) the rounding averages out and the real share is smaller."""
    longest_s = max((t.stop - t.start) / s.rate_hz for t in s.turns.values())
    return 0.5 * s.gyro_step_deg_s * longest_s / 360.0 * 100.0


def applied_meta(cals: dict[str, tuple[DeviceCalibration, str]]) -> dict[str, Any]:
    """What a recording keeps of the calibrations applied to its samples (sensor ->
    (calibration, where it came from)): ``meta["device_calibration"]``, enough to undo them."""
    return {
        sensor: {
            "version": CAL_VERSION,
            "method": "ferraris (imucal)",
            "source": source,
            "imucal": json.loads(cal.to_json()),
        }
        for sensor, (cal, source) in cals.items()
    }


def check_devices(
    cals: dict[str, tuple[DeviceCalibration, str]], sensors: dict[str, SensorInfo]
) -> None:
    """Refuse a calibration measured on another wearable than the one at its sensor's place
    (when both are known): a calibration belongs to a device."""
    for sensor, (cal, source) in cals.items():
        info = sensors.get(sensor)
        if cal.device and info is not None and info.device and info.device != cal.device:
            raise ImuMonitorError(
                f"{source} was measured on {cal.device}, but the {sensor} is {info.device}: "
                f"record the procedure with {info.device} (imu-monitor device-cal record), or "
                "give the calibration of the wearable you use"
            )


def apply_to_recording(rec: Recording, cals: dict[str, tuple[DeviceCalibration, str]]) -> Recording:
    """A copy of ``rec`` whose sensors in ``cals`` (sensor -> (calibration, where it came from))
    carry calibrated samples, with ``meta["device_calibration"]`` saying which. A sensor already
    calibrated is refused: applied twice, a calibration corrects what it already corrected. The
    neutral calibration recorded with the session is left out: it was made from the raw
    samples; the copy is calibrated afresh from its calibration markers (or guessed windows)."""
    check_devices(cals, rec.sensors)
    done = dict(rec.meta.get("device_calibration") or {})
    series = dict(rec.series)
    for sensor, (cal, _) in cals.items():
        if sensor not in rec.series:
            have = ", ".join(rec.series) or "none"
            raise ImuMonitorError(f"the recording has no {sensor} sensor (it has: {have})")
        if sensor in done:
            raise ImuMonitorError(
                f"the recording's {sensor} samples already carry a device calibration (from "
                f"{done[sensor].get('source', '?')}); apply it to the raw recording instead"
            )
        raw = rec.series[sensor]
        acc, gyr = cal.apply(raw.acc_m_s2, raw.gyr_rad_s)
        series[sensor] = SensorSeries(raw.t_s, acc, gyr, raw.seq)
    meta = {**rec.meta, "device_calibration": done | applied_meta(cals)}
    return Recording(
        meta=meta,
        sensors=dict(rec.sensors),
        series=series,
        markers=list(rec.markers),
        events=list(rec.events),
        gaps=list(rec.gaps),
        calibration=None,
        truth=rec.truth,
    )
