"""OpenSim / OpenSense export: orientation ``.sto`` files for the IMU placer and IMU inverse
kinematics.

Two files in the output folder:

- ``<name>_orientations.sto``: one row per sacrum sample, one column per segment;
- ``<name>_calibration.sto``: one row, the mean orientation over the still capture the IMU
  placer should calibrate from (the standing capture when the session has one: OpenSim models'
  default pose is standing; else the exercise's start-posture capture, and then the model's
  default pose must be set to that posture).

Format (as opensim-core's ``DelimFileAdapter``/``STOFileAdapter`` read it, and as its
OpenSense example files are written): ``key=value`` header lines ``DataRate``,
``DataType=Quaternion``, ``version=3``, ``OpenSimVersion``, then ``endheader``; a tab-separated
label line starting with ``time``; each cell ``w,x,y,z``. Column names are ``<body>_imu`` where
``<body>`` is a body of the model (what ``IMUPlacer`` looks for): sacrum -> ``pelvis_imu``,
upper lumbar -> ``torso_imu``, thigh -> ``femur_r_imu`` (``femur_l_imu`` for a left side).

Frames. Each quaternion is the orientation of the segment's anatomical frame in the ISB
convention (Wu et al. 2002: X anterior, Y superior, Z to the right) relative to a ground frame
with OpenSim's axes (Y up). The segment frame comes from this program's calibration (the
sensor-to-segment rotation of each sensor), so every column is rigidly fixed to its sensor as
OpenSense requires, and a standing subject gives (nearly) the identity. Hence, in the IMU
placer: ``sensor_to_opensim_rotations = (0, 0, 0)`` (its default: the data is Y-up already; data
written Z-up, such as Xsens', needs ``(-pi/2, 0, 0)``), ``base_imu_label = pelvis_imu`` and
``base_heading_axis = x`` (the pelvis frame's X axis points forward).

Heading: 6D fusion has no magnetometer, so each sensor's heading is arbitrary. So that the
segments agree, each non-sacrum sensor is turned about the vertical so that, over the
calibration capture, its segment's left-right axis has the pelvis' heading; afterwards they
drift apart by the gyroscopes' residual heading drift (a few degrees per hour).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from imu_monitor.model import Recording
from imu_monitor.processing.analysis import Analysis
from imu_monitor.storage.exports.tables import (
    ExportTable,
    capture_window,
    export_table,
    prepare_dir,
    write_private,
)
from imu_monitor.storage.exports.text import format_table

OPENSIM_VERSION = "4.5"
"""The ``OpenSimVersion`` header value (informative: OpenSim's reader keeps it as metadata)."""
QUAT_DECIMALS = 9
TIME_DECIMALS = 6
BODIES = {"sacrum": "pelvis_imu", "upper_lumbar": "torso_imu", "thigh": "femur_{side}_imu"}

# v_opensim = A v_earth: earth (x, y left, z up) -> OpenSim ground (X, Y up, Z = -y), and the
# same matrix takes this program's segment axes (x anterior, y left, z superior) to ISB axes.
_A = Rotation.from_matrix([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


def column_name(placement: str, side: str = "r") -> str:
    return BODIES[placement].format(side=side)


def working_side(rec: Recording) -> str:
    """``l`` when the session's markers say the left side worked, else ``r``."""
    sides = [str(m.data["side"]).lower() for m in rec.markers if m.data.get("side")]
    return "l" if sides and all(s.startswith("l") for s in sides) else "r"


def _qmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton products of (n, 4) or (4,) w,x,y,z quaternions (scipy's composition of
    rotation arrays is several times slower on long series)."""
    aw, ax, ay, az = np.moveaxis(np.asarray(a, dtype=np.float64), -1, 0)
    bw, bx, by, bz = np.moveaxis(np.asarray(b, dtype=np.float64), -1, 0)
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=-1,
    )


def _conj(q: np.ndarray) -> np.ndarray:
    return np.asarray(q, dtype=np.float64) * [1.0, -1.0, -1.0, -1.0]


def _rotate(q: np.ndarray, v: list[float]) -> np.ndarray:
    """Vector ``v`` rotated by each quaternion of ``q`` (n, 4)."""
    return _qmul(_qmul(q, np.array([0.0, *v])), _conj(q))[:, 1:]


def _as_rotation(q_wxyz: np.ndarray) -> tuple[Rotation, np.ndarray]:
    q = np.asarray(q_wxyz, dtype=np.float64).reshape(-1, 4)
    ok = np.isfinite(q).all(axis=1) & (np.abs(q).sum(axis=1) > 0)
    safe = np.where(ok[:, None], q, [1.0, 0.0, 0.0, 0.0])
    return Rotation.from_quat(safe, scalar_first=True), ok


def _wxyz(r: Rotation) -> np.ndarray:
    return _positive(r.as_quat(scalar_first=True).reshape(-1, 4))


def _positive(q: np.ndarray) -> np.ndarray:
    """The one of q and -q (the same rotation) whose scalar part is >= 0."""
    return np.where(q[:, :1] < 0, -q, q)


def segment_orientations(
    table: ExportTable, an: Analysis, window: tuple[float, float]
) -> dict[str, np.ndarray]:
    """Per placement, (n, 4) w,x,y,z: the segment's ISB frame in OpenSim ground axes, headings
    aligned on the pelvis over ``window`` (session seconds); NaN rows where a sensor had no
    data."""
    t = table.t_s
    in_win = (t >= window[0]) & (t <= window[1])
    if not in_win.any():
        in_win = np.zeros(t.shape, dtype=bool)
        in_win[0] = True
    a = _wxyz(_A)[0]
    world_seg: dict[str, np.ndarray] = {}
    valid: dict[str, np.ndarray] = {}
    heading: dict[str, float] = {}
    for p in table.placements:
        q_ws = np.asarray(an.quats[p], dtype=np.float64)
        ok = np.isfinite(q_ws).all(axis=1)
        q_ss = np.asarray(an.calibration.sensors[p].q_segment_sensor, dtype=np.float64)
        q = _qmul(q_ws, _conj(q_ss / np.linalg.norm(q_ss)))
        world_seg[p], valid[p] = q, ok
        use = in_win & ok
        left = _rotate(q[use], [0.0, 1.0, 0.0]) if use.any() else np.array([[0.0, 1.0, 0.0]])
        m = np.mean(left, axis=0)
        heading[p] = float(np.arctan2(m[1], m[0]))
    out: dict[str, np.ndarray] = {}
    for p in table.placements:
        half = 0.5 * (heading["sacrum"] - heading[p])
        turn = np.array([np.cos(half), 0.0, 0.0, np.sin(half)])
        q = _qmul(_qmul(a, turn), _qmul(world_seg[p], _conj(a)))
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        q = _positive(q)
        q[~valid[p]] = np.nan
        out[p] = q
    return out


def _mean_row(q: np.ndarray, rows: np.ndarray) -> np.ndarray:
    use = rows & np.isfinite(q).all(axis=1)
    if not use.any():
        return np.full(4, np.nan)
    r, _ = _as_rotation(q[use])
    return _wxyz(r.mean())[0]


def _sto(rate_hz: float, names: list[str], t: np.ndarray, quats: list[np.ndarray]) -> bytes:
    head = (
        f"DataRate={rate_hz:.6f}\nDataType=Quaternion\nversion=3\n"
        f"OpenSimVersion={OPENSIM_VERSION}\nendheader\n" + "\t".join(["time", *names]) + "\n"
    )
    data = np.column_stack([t, *quats])
    seps = ["\t"] + ([",", ",", ",", "\t"] * len(quats))
    body = format_table(
        data,
        [TIME_DECIMALS] + [QUAT_DECIMALS] * 4 * len(quats),
        sep=seps[:-1] + ["\n"],
        missing="nan",
    )
    return head.encode() + body


def write_opensim(
    rec: Recording,
    an: Analysis,
    out_dir: str | Path,
    *,
    name: str | None = None,
    force: bool = False,
) -> tuple[list[Path], str]:
    """Write the two files (module doc); returns them and what the calibration row is from."""
    base = name or "imu"
    files = [f"{base}_orientations.sto", f"{base}_calibration.sto"]
    d = prepare_dir(out_dir, files, force)
    table = export_table(rec, an)
    t0, t1, what = capture_window(rec, an)
    quats = segment_orientations(table, an, (t0, t1))
    side = working_side(rec)
    names = [column_name(p, side) for p in table.placements]
    t = table.latency_s()
    cols = [quats[p] for p in table.placements]
    write_private(d / files[0], _sto(table.rate_hz, names, t, cols))
    rows = (table.t_s >= t0) & (table.t_s <= t1)
    cal = [_mean_row(q, rows)[None, :] for q in cols]
    write_private(
        d / files[1], _sto(table.rate_hz, names, np.array([max(0.0, t0 - table.t0_s)]), cal)
    )
    return [d / f for f in files], what
