"""OpenSense .sto export, read back with a small parser written here (OpenSim's own Python
package is not on PyPI for this Python): the header OpenSim's reader needs, the segments'
inclinations against the simulator's truth, headings aligned at calibration, and the one-row
calibration file."""

from __future__ import annotations

import stat

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from imu_monitor.errors import ImuMonitorError
from imu_monitor.model import Marker
from imu_monitor.storage.exports.opensim import write_opensim


def read_sto(path):
    """Header key=values up to ``endheader``, the labels line, then rows of ``w,x,y,z`` cells."""
    lines = path.read_text(encoding="ascii").splitlines()
    end = lines.index("endheader")
    header = dict(line.split("=", 1) for line in lines[:end])
    labels = lines[end + 1].split("\t")
    time, quats = [], {name: [] for name in labels[1:]}
    for line in lines[end + 2 :]:
        cells = line.split("\t")
        time.append(float(cells[0]))
        for name, cell in zip(labels[1:], cells[1:], strict=True):
            quats[name].append([float(v) for v in cell.split(",")])
    return header, labels, np.array(time), {k: np.array(v) for k, v in quats.items()}


def _rot(q_wxyz):
    return Rotation.from_quat(q_wxyz, scalar_first=True)


def pitch_deg(q_wxyz):
    """Anterior tilt of a segment's superior (ISB Y) axis, from ground up (OpenSim Y) expressed
    in the segment: upright 0, on all fours +90; independent of the heading."""
    u = _rot(q_wxyz).inv().apply([0.0, 1.0, 0.0])
    return np.degrees(np.arctan2(-u[:, 0], u[:, 1]))


def heading_deg(q_wxyz):
    """Heading of the segment's right (ISB Z) axis in the horizontal plane of OpenSim ground."""
    z = _rot(q_wxyz).apply([0.0, 0.0, 1.0])
    return np.degrees(np.arctan2(z[:, 0], z[:, 2]))


@pytest.fixture(scope="module")
def exported(session, tmp_path_factory):
    rec, an = session
    d = tmp_path_factory.mktemp("opensim")
    files, what = write_opensim(rec, an, d)
    return files, what


def test_header_and_columns_as_opensense_reads_them(exported):
    (orient, cal), what = exported
    assert what == "calibration_standing"
    for f in (orient, cal):
        header, labels, _, _ = read_sto(f)
        assert header == {
            "DataRate": "200.000000",
            "DataType": "Quaternion",
            "version": "3",
            "OpenSimVersion": "4.5",
        }
        assert labels == ["time", "pelvis_imu", "torso_imu", "femur_r_imu"]
        assert stat.S_IMODE(f.stat().st_mode) == 0o600


def test_segment_inclination_matches_the_simulated_truth(session, exported):
    rec, an = session
    (orient, _), _ = exported
    _, _, t, quats = read_sto(orient)
    t_s = t + an.angles.t_s[0]
    assert np.allclose(t_s, an.angles.t_s, atol=1e-6)
    for name, placement in (
        ("pelvis_imu", "sacrum"),
        ("torso_imu", "upper_lumbar"),
        ("femur_r_imu", "thigh"),
    ):
        q = quats[name]
        assert np.allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-8)
        truth = np.interp(t_s, rec.truth.t_s, rec.truth.segment_pitch_deg[placement])
        err = pitch_deg(q) - truth
        # skin motion and the estimated sensor-to-segment rotation: a few degrees at most
        assert np.sqrt(np.mean(err**2)) < 2.0, name
        assert np.max(np.abs(err)) < 4.0, name
    # on all fours the pelvis is near horizontal, the thigh vertical (a real posture change)
    pose = (t_s > 6.0) & (t_s < 8.0)
    assert np.mean(pitch_deg(quats["pelvis_imu"][pose])) == pytest.approx(90.0, abs=5.0)
    assert np.mean(pitch_deg(quats["femur_r_imu"][pose])) == pytest.approx(0.0, abs=5.0)


def test_headings_agree_over_the_standing_capture(session, exported):
    _, an = session
    (orient, _), _ = exported
    _, _, t, quats = read_sto(orient)
    standing = (t + an.angles.t_s[0]) <= 2.7
    pelvis = heading_deg(quats["pelvis_imu"][standing])
    for name in ("torso_imu", "femur_r_imu"):
        diff = (heading_deg(quats[name][standing]) - pelvis + 180.0) % 360.0 - 180.0
        assert abs(np.mean(diff)) < 3.0, name


def test_calibration_file_is_one_row_the_mean_of_the_capture(session, exported):
    _, an = session
    (orient, cal), _ = exported
    _, _, t, quats = read_sto(orient)
    _, _, t_cal, cal_q = read_sto(cal)
    assert t_cal.shape == (1,) and t_cal[0] == pytest.approx(0.0 - an.angles.t_s[0], abs=1e-6)
    standing = (t + an.angles.t_s[0]) <= 2.7
    for name, q in cal_q.items():
        mean = _rot(quats[name][standing]).mean()
        assert (mean.inv() * _rot(q)).magnitude()[0] < 1e-4, name  # rad
        assert abs(pitch_deg(q)[0]) < 5.0  # standing: upright, as OpenSim's default pose


def test_left_side_and_refusals(session, tmp_path):
    rec, an = session
    rec2 = type(rec)(
        **{
            **rec.__dict__,
            "markers": [*rec.markers, Marker(9.0, "set_start", data={"side": "left"})],
        }
    )
    files, _ = write_opensim(rec2, an, tmp_path / "o", name="left")
    assert read_sto(files[0])[1][-1] == "femur_l_imu"
    assert files[0].name == "left_orientations.sto"
    with pytest.raises(ImuMonitorError, match="exist.*--force"):
        write_opensim(rec2, an, tmp_path / "o", name="left")
    with pytest.raises(ImuMonitorError, match=f"{tmp_path / 'x'}: folder does not exist"):
        write_opensim(rec, an, tmp_path / "x" / "y")
