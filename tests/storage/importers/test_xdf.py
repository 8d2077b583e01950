"""The XDF importer on files written from the XDF specification (``xdf_writer``): streams chosen
by name or type, one stream or an acc and a gyro stream per sensor, units from the channels'
meta-data, the imu-monitor markers stream's session clock and user markers, and a message naming
the stream and channel for whatever cannot be used. LabRecorder's own files: tests/cli."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from imu_monitor.errors import ImportFileError
from imu_monitor.model import GRAVITY_M_S2
from imu_monitor.storage.importers import import_file
from imu_monitor.storage.importers.xdf import import_xdf
from tests.storage.importers.xdf_writer import Stream, write_xdf

N = 500
RATE = 100.0
T0 = 8123.25  # an LSL clock (seconds since boot)


def _signals(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = T0 + np.arange(N) / RATE + rng.normal(0, 1e-4, N)  # a device clock's jitter
    acc = rng.normal(0, 1, (N, 3)) + [0, 0, 9.8]
    gyr = rng.normal(0, 0.2, (N, 3))
    return t, acc, gyr


def _six(name="Shimmer IMU", kind="IMU", units=("g", "deg/s"), t=None, acc=None, gyr=None):
    if t is None:
        t, acc, gyr = _signals()
    au, gu = units
    chans = [(f"acc_{a}", au, "Accelerometer") for a in "xyz"]
    chans += [(f"gyro_{a}", gu, "Gyroscope") for a in "xyz"]
    return Stream(name, kind, RATE, chans, t, np.hstack([acc, gyr]))


def _own(placement: str, t, acc, gyr) -> list[Stream]:
    """The acc and gyro streams ``imu-monitor --lsl`` sends for one sensor."""
    extra = {"placement": placement}
    return [
        Stream(f"imu-monitor {placement} {k}", k.upper() if k == "acc" else "GYRO", 200.0,
               [(f"{placement}_{k}_{a}", u, k.upper()) for a in "xyz"], t, v, desc_extra=extra)
        for k, u, v in (("acc", "m/s^2", acc), ("gyro", "rad/s", gyr))
    ]  # fmt: skip


def test_one_stream_chosen_by_type_in_g_and_deg_per_s(tmp_path):
    t, acc, gyr = _signals()
    path = write_xdf(tmp_path / "a.xdf", [_six(t=t, acc=acc / GRAVITY_M_S2, gyr=np.degrees(gyr))])
    rec = import_file(path, "xdf", streams={"sacrum": "IMU"})
    s = rec.series["sacrum"]
    np.testing.assert_allclose(s.acc_m_s2, acc, rtol=1e-12)
    np.testing.assert_allclose(s.gyr_rad_s, gyr, rtol=1e-12)
    np.testing.assert_allclose(s.t_s, t - t[0], atol=1e-9)  # the LSL clock shifted to 0
    assert rec.sensors["sacrum"].rate_hz == RATE
    assert rec.meta["import"]["units"] == {"acc": ("g", "stream meta-data"),
                                           "gyr": ("deg/s", "stream meta-data")}  # fmt: skip
    assert rec.meta["import"]["time_offset_s"] == pytest.approx(t[0])


def test_acc_and_gyro_streams_by_name_for_two_sensors(tmp_path):
    t, acc, gyr = _signals(1)
    streams = [*_own("sacrum", t, acc, gyr), *_own("thigh", t, -acc, -gyr)]
    streams.append(Stream("EEG", "EEG", 250.0, [("Cz", "microvolts", "EEG")], t, acc[:, :1]))
    path = write_xdf(tmp_path / "b.xdf", streams)
    rec = import_xdf(
        path,
        streams={
            "thigh": "imu-monitor thigh acc,imu-monitor thigh gyro",
            "sacrum": "imu-monitor sacrum gyro,imu-monitor sacrum acc",
        },
        exercise="hip-thrust",
    )
    assert list(rec.series) == ["sacrum", "thigh"]
    np.testing.assert_array_equal(rec.series["thigh"].acc_m_s2, -acc)
    np.testing.assert_array_equal(rec.series["sacrum"].gyr_rad_s, gyr)
    assert rec.exercise == "hip-thrust"


def test_own_streams_found_without_a_choice_and_session_times_restored(tmp_path):
    t_session = np.arange(N) / 200.0 + 0.005
    offset = 5000.0
    _, acc, gyr = _signals(2)
    marks = [
        {"type": "session_clock", "t_s": t_session[0], "lsl_minus_session_s": offset},
        {"type": "marker", "t_s": 0.2, "kind": "calibration_standing", "t_end_s": 1.5,
         "data": {"posture": "standing"}},
        {"type": "rep_ended", "t_s": 2.0, "index": 0},
        {"type": "marker", "t_s": 2.1, "kind": "note", "t_end_s": None, "data": {"text": "a"}},
    ]  # fmt: skip
    streams = [
        *_own("sacrum", t_session + offset, acc, gyr),
        Stream("imu-monitor markers", "Markers", 0.0, [("marker", None, "Marker")],
               np.array([m["t_s"] + offset for m in marks]),
               [json.dumps(m) for m in marks], fmt="string"),
    ]  # fmt: skip
    rec = import_xdf(write_xdf(tmp_path / "c.xdf", streams))
    np.testing.assert_allclose(rec.series["sacrum"].t_s, t_session, atol=1e-9)
    assert [(m.kind, m.t_s, m.t_end_s) for m in rec.markers] == [
        ("calibration_standing", 0.2, 1.5), ("note", 2.1, None)]  # fmt: skip
    assert rec.meta["import"]["time_offset_s"] == 0.0


def _error(tmp_path, in_file, **kw) -> str:
    with pytest.raises(ImportFileError) as e:
        import_xdf(write_xdf(tmp_path / "bad.xdf", in_file), **kw)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(str(tmp_path / "bad.xdf"))
    return msg


def test_a_channel_of_unknown_unit_is_named(tmp_path):
    mag = _six()
    mag.channels[4] = ("gyro_y", "uT", "Magnetometer")
    msg = _error(tmp_path, [mag], streams={"sacrum": "Shimmer IMU"})
    assert "stream 'Shimmer IMU' channel 'gyro_y' has unit 'uT'" in msg


def test_a_channel_without_unit_is_named(tmp_path):
    s = _six()
    s.channels[0] = ("acc_x", None, "Accelerometer")
    msg = _error(tmp_path, [s], streams={"sacrum": "IMU"})
    assert "stream 'Shimmer IMU' channel 'acc_x' has no unit" in msg


def test_a_stream_without_channel_meta_data_is_refused(tmp_path):
    s = _six()
    s.channels = [(None, None, None)] * 6
    msg = _error(tmp_path, [s], streams={"sacrum": "IMU"})
    assert "describes 0 of its 6 channels" in msg


def test_choices_that_match_nothing_or_several_list_the_streams(tmp_path):
    streams = [_six("A"), _six("B")]
    assert "no stream named or of type 'C'" in _error(tmp_path, streams, streams={"sacrum": "C"})
    msg = _error(tmp_path, streams, streams={"sacrum": "IMU"})
    assert "2 streams match 'IMU'" in msg and "'A' (type IMU, 6 ch)" in msg


def test_an_acc_stream_alone_asks_for_the_gyro_stream(tmp_path):
    t, acc, gyr = _signals()
    choice = {"sacrum": "imu-monitor sacrum acc"}
    msg = _error(tmp_path, _own("sacrum", t, acc, gyr), streams=choice)
    assert "no gyroscope channels" in msg and "--stream sacrum=ACC_STREAM,GYRO_STREAM" in msg


def test_acc_and_gyro_streams_must_share_their_times(tmp_path):
    t, acc, gyr = _signals()
    acc_s, gyr_s = _own("sacrum", t, acc, gyr)
    gyr_s.times = t + 0.02
    msg = _error(tmp_path, [acc_s, gyr_s])
    assert "do not have the same time stamps" in msg


def test_without_a_choice_and_no_own_streams_the_file_streams_are_listed(tmp_path):
    msg = _error(tmp_path, [_six()])
    assert "--stream PLACEMENT=NAME" in msg and "'Shimmer IMU' (type IMU, 6 ch)" in msg


def test_a_sacrum_stream_is_needed(tmp_path):
    assert "no sacrum stream" in _error(tmp_path, [_six()], streams={"thigh": "IMU"})


def test_not_an_xdf_file(tmp_path):
    path = tmp_path / "bad.xdf"
    path.write_bytes(b"t,ax\n0,1\n")
    with pytest.raises(ImportFileError, match="not a readable XDF file"):
        import_xdf(path, streams={"sacrum": "IMU"})


def test_an_irregular_stream_gets_its_rate_from_the_times(tmp_path):
    s = _six()
    s.rate = 0.0
    rec = import_xdf(write_xdf(tmp_path / "d.xdf", [s]), streams={"sacrum": "IMU"})
    assert math.isclose(rec.sensors["sacrum"].rate_hz, RATE, rel_tol=0.01)
