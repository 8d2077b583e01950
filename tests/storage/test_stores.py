import json
import os
import stat

import pytest

from imu_monitor.errors import CalibrationFileError, SettingsError
from imu_monitor.settings import Settings
from imu_monitor.storage.stores import CalibrationStore, SettingsStore, safe_name, write_private


def _mode(p):
    return stat.S_IMODE(p.stat().st_mode)


def test_settings_are_owner_only(tmp_path):
    store = SettingsStore(tmp_path / "cfg")
    path = store.save(Settings(user="Ann Lee"))
    assert path.name == "Ann_Lee.json"
    assert _mode(path) == 0o600 and _mode(store.directory / "last_user") == 0o600
    assert _mode(path.parent) == 0o700
    assert store.load().user == "Ann Lee"


def test_write_private_replaces_a_world_readable_file(tmp_path):
    p = tmp_path / "d" / "f.json"
    p.parent.mkdir()
    p.write_text("old")
    p.chmod(0o644)
    write_private(p, "new")
    assert p.read_text() == "new" and _mode(p) == 0o600
    assert not (tmp_path / "d" / "f.json.tmp").exists()


def test_safe_name_keeps_one_path_component():
    assert safe_name("../../etc/passwd") == "etc_passwd"
    assert safe_name("") == "default"


# ------------------------------------------------------------------ damaged or hostile files

SETTINGS_BAD = {
    "not_utf8": b'{"user": "Ann", "exercise": "back\xff"}',
    "not_json": b"user = Ann",
    "truncated": b'{"user": "Ann", "exer',
    "a_list": b"[1, 2, 3]",
    "deep": b"[" * 100_000 + b"]" * 100_000,
    "sound_on_string": b'{"sound_on": "no"}',
    "per_exercise_list": b'{"per_exercise": [1, 2]}',
    "limit_string": b'{"per_exercise": {"back-kick": {"flexion_deg": "ten"}}}',
    "limit_nan": b'{"per_exercise": {"back-kick": {"flexion_deg": NaN}}}',
    "over_1_mib": b'{"user": "' + b"x" * (1 << 20) + b'"}',
}


@pytest.mark.parametrize("case", list(SETTINGS_BAD))
def test_a_bad_settings_file_gives_one_error_naming_it(tmp_path, case):
    store = SettingsStore(tmp_path / "cfg")
    path = store.path("ann")
    path.parent.mkdir(parents=True)
    path.write_bytes(SETTINGS_BAD[case])
    with pytest.raises(SettingsError) as ei:
        store.load("ann")
    msg = str(ei.value)
    assert str(path) in msg and "fix or delete it" in msg
    assert ei.value.path == str(path)
    assert len(msg) < 400  # one line, not the file's contents


def _cal_dict():
    return {
        "exercise": "back-kick",
        "user": "ann",
        "created_utc": "2026-01-01T00:00:00Z",
        "method": "gravity-two-postures",
        "sensors": {
            "sacrum": {
                "q_segment_sensor": [1.0, 0.0, 0.0, 0.0],
                "neutral_pitch_deg": 2.0,
                "neutral_roll_deg": -1.0,
                "method": "gravity-two-postures",
            }
        },
    }


def _cal_bytes(**change) -> bytes:
    d = _cal_dict()
    sensor = d["sensors"]["sacrum"]
    for k, v in change.items():
        (sensor if k in sensor else d)[k] = v
    return json.dumps(d).encode()


CAL_BAD = {
    "not_utf8": _cal_bytes().replace(b"ann", b"\xe4nn"),
    "not_json": b"\x00" * 64,
    "a_string": b'"calibration"',
    "sensors_list": _cal_bytes(sensors=[1, 2]),
    "q_strings": _cal_bytes(q_segment_sensor=["a", "b", "c", "d"]),
    "q_nan": _cal_bytes().replace(b"[1.0, 0.0, 0.0, 0.0]", b"[NaN, 0.0, 0.0, 0.0]"),
    "q_zero": _cal_bytes(q_segment_sensor=[0.0, 0.0, 0.0, 0.0]),
    "pitch_inf": _cal_bytes().replace(b"2.0", b"Infinity"),
    "valid_from_nan": _cal_bytes().replace(b'"exercise"', b'"valid_from_s": NaN, "exercise"'),
    "missing_sensors": json.dumps({"exercise": "back-kick"}).encode(),
}


@pytest.mark.parametrize("case", list(CAL_BAD))
def test_a_bad_calibration_file_gives_one_error_naming_it(tmp_path, case):
    store = CalibrationStore(tmp_path / "cal")
    path = store.path("ann", "back-kick")
    path.parent.mkdir(parents=True)
    path.write_bytes(CAL_BAD[case])
    with pytest.raises(CalibrationFileError) as ei:
        store.load("ann", "back-kick")
    msg = str(ei.value)
    assert str(path) in msg and "calibrate again" in msg
    assert ei.value.path == str(path)


def test_a_calibration_path_that_is_a_directory_or_pipe_is_refused(tmp_path):
    store = CalibrationStore(tmp_path / "cal")
    path = store.path("ann", "back-kick")
    path.mkdir(parents=True)
    with pytest.raises(CalibrationFileError, match="not a regular file"):
        store.load("ann", "back-kick")
    if hasattr(os, "mkfifo"):
        path.rmdir()
        os.mkfifo(path)  # reading a pipe with no writer would block forever
        with pytest.raises(CalibrationFileError, match="not a regular file"):
            store.load("ann", "back-kick")


def test_a_good_calibration_still_loads(tmp_path):
    store = CalibrationStore(tmp_path / "cal")
    path = store.path("ann", "back-kick")
    path.parent.mkdir(parents=True)
    path.write_bytes(_cal_bytes())
    cal = store.load("ann", "back-kick")
    assert cal.sensors["sacrum"].neutral_pitch_deg == 2.0


def test_users_with_saved_settings(tmp_path):
    store = SettingsStore(tmp_path)
    assert store.users() == []
    store.save(Settings(user="Ann Lee"))
    store.save(Settings(user="bo"))
    (store.directory / "broken.json").write_text("{not json")
    assert store.users() == ["Ann Lee", "bo", "broken"]
    assert store.has("Ann Lee") and not store.has("cy")
