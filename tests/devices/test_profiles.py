"""Firmware profiles: loading, validation errors (file + dotted field), matching."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from imu_monitor.devices.profiles import (
    PROFILE_DIR,
    Write,
    list_profiles,
    load_profile,
    match_profile,
)
from imu_monitor.errors import ImuMonitorError, ProfileError
from imu_monitor.model import GRAVITY_M_S2

EXPECTED = {
    "thingy52",
    "witmotion_wt901ble",
    "movesense_imu6",
    "metamotion",
    "arduino_nano33_sj",
    "polar_verity_sense",
    "diy_imu",
}


def test_all_profiles_load_and_are_consistent():
    profiles = {p.name: p for p in list_profiles()}
    assert set(profiles) == EXPECTED
    for name, p in profiles.items():
        assert p.path == PROFILE_DIR / f"{name}.toml"
        assert p.rate_hz > 0
        assert p.notify_uuids
        for pk in p.packets:
            assert pk.char_uuid in p.notify_uuids
        if p.alerts:
            assert (
                {"flexion", "extension", "off"}
                <= set(p.alerts)
                <= {"flexion", "extension", "off", "tick"}
            )
            # flexion and extension must be told apart on the device
            assert p.alerts["flexion"] != p.alerts["extension"]
        for w in (*p.start_writes, *p.stop_writes):
            assert isinstance(w, Write) and isinstance(w.data, bytes) and w.data


def test_specific_profile_facts():
    diy = load_profile("diy_imu")
    assert diy.has_counter and diy.has_timestamp
    assert diy.start_writes[0].data == bytes.fromhex("01c80008")
    assert diy.rate_hz == 200.0
    thingy = load_profile("thingy52")
    assert not thingy.has_counter and not thingy.has_timestamp
    assert thingy.samples_per_notification == 1
    # acc Q6.10 g: 1024 LSB per g
    acc = next(f for f in thingy.packets[0].fields if f.name == "acc")
    assert acc.scale * 1024 == pytest.approx(GRAVITY_M_S2)
    wit = load_profile("witmotion_wt901ble")
    assert wit.notify_uuids == ("0000ffe4-0000-1000-8000-00805f9a34fb",)  # ...9a34fb, not 9b34fb
    move = load_profile("movesense_imu6")
    assert b"/Meas/IMU6/104" in move.start_writes[0].data
    assert move.samples_per_notification is None  # derived from the length
    assert load_profile("metamotion").alerts["flexion"][0].data[:2] == b"\x08\x01"
    assert load_profile("arduino_nano33_sj").start_writes == ()
    assert load_profile("polar_verity_sense").alerts == {}


def test_load_by_path_and_unknown_name(tmp_path):
    p = load_profile(PROFILE_DIR / "diy_imu.toml")
    assert p.name == "diy_imu"
    with pytest.raises(ProfileError, match="known profiles: .*diy_imu"):
        load_profile("no_such_device")
    with pytest.raises(ProfileError, match="does not exist"):
        load_profile(tmp_path / "missing.toml")
    assert issubclass(ProfileError, ImuMonitorError)


def _broken(tmp_path: Path, old: str, new: str, name: str = "diy_imu") -> Path:
    text = (PROFILE_DIR / f"{name}.toml").read_text()
    assert old in text, old
    path = tmp_path / f"{name}.toml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "field", "expected"),
    [
        ("schema = 1", "schema = 7", "schema", "1"),
        ("hz = 200.0", "hz = -5", "rate.hz", "positive"),
        ("hz = 200.0", "hz_typo = 200.0", "rate.hz", "number"),
        ('unit = "g"', 'unit = "furlongs"', "packet[0].record[0].unit", "one of"),
        ('unit = "deg/s"', 'unit = "g"', "packet[0].record[1].unit", "gyr"),
        (
            'type = "i16", unit = "g"',
            'type = "int16", unit = "g"',
            "packet[0].record[0].type",
            "one of",
        ),
        ('hex = "01 c8 00 08"', 'hex = "zz"', "start[0].hex", "hex bytes"),
        ("response = true", 'response = "yes"', "start[0].response", "true or false"),
        ("data_offset = 8", 'data_offset = "8"', "packet[0].data_offset", "integer"),
        ('notify = ["6c756d62-0002', 'notify = ["not-a-uuid', "gatt.notify[0]", "128-bit UUID"),
        ('per = "sample"', 'per = "frame"', "packet[0].counter.per", "one of"),
        ('source = "timestamp"', 'source = "sundial"', "timing.source", "one of"),
        (
            'name_pattern = "^(LumbarIMU',
            'name_pattern = "((LumbarIMU',
            "match.name_pattern",
            "regular",
        ),
        ("flexion = [", "flexionx = [", "alerts.flexionx", "only keys"),
        # absurd values: finite and positive, yet no device has them
        ("hz = 200.0", "hz = 1e308", "rate.hz", "5000"),
        ("hz = 200.0", "hz = 1e-300", "rate.hz", "5000"),
        (
            "lsb_per_unit = 2048.0",
            "lsb_per_unit = 1e-308",
            "packet[0].record[0].lsb_per_unit",
            "1e-06",
        ),
        ("units_s = 1e-6", "units_s = 1e300", "packet[0].timestamp.units_s", "1e-09"),
        ("max_samples = 19", "max_samples = 4096", "packet[0].max_samples", "8192 bytes"),
        (
            'name_pattern = "^(LumbarIMU',
            'name_pattern = "^(a+)+$" #',
            "match.name_pattern",
            "bounded",
        ),
        (
            'name_pattern = "^(LumbarIMU',
            'name_pattern = "(a|aa)+" #',
            "match.name_pattern",
            "bounded",
        ),
        (
            'name_pattern = "^(LumbarIMU',
            'name_pattern = "a*b*c*" #',
            "match.name_pattern",
            "bounded",
        ),
        (
            'name_pattern = "^(LumbarIMU',
            'name_pattern = "(?=x)" #',
            "match.name_pattern",
            "bounded",
        ),
    ],
)
def test_validation_errors_name_file_and_field(tmp_path, old, new, field, expected):
    path = _broken(tmp_path, old, new)
    with pytest.raises(ProfileError) as ei:
        load_profile(path)
    msg = str(ei.value)
    assert str(path) in msg
    assert f"'{field}'" in msg
    assert re.search(expected, msg), msg


def test_validation_missing_required_and_cross_checks(tmp_path):
    # a packet on a characteristic that is not subscribed
    path = _broken(
        tmp_path,
        'char = "6c756d62-0002-4a1f-9c3e-0b5a8d2f7e10"\nmatch',
        'char = "6c756d62-0009-4a1f-9c3e-0b5a8d2f7e10"\nmatch',
    )
    with pytest.raises(ProfileError, match=r"'packet\[0\]\.char'.*gatt\.notify"):
        load_profile(path)
    # the timing source needs a field the packet lacks
    path = _broken(
        tmp_path, 'timestamp = { offset = 4, type = "u32", units_s = 1e-6, sample = "first" }\n', ""
    )
    with pytest.raises(ProfileError, match=r"'packet\[0\]\.timestamp'.*present"):
        load_profile(path)
    # only acc: no gyro anywhere
    path = _broken(
        tmp_path, '  { name = "gyr", type = "i16", unit = "deg/s", lsb_per_unit = 16.4 },', ""
    )
    with pytest.raises(ProfileError, match=r"'packet'.*'acc' and 'gyr'"):
        load_profile(path)
    # a missing table
    text = (PROFILE_DIR / "diy_imu.toml").read_text()
    data = tomllib.loads(text)
    assert "gatt" in data
    path = tmp_path / "nogatt.toml"
    path.write_text(text.replace("[gatt]", "[gatt_renamed]"))
    with pytest.raises(ProfileError, match=r"'gatt'.*missing"):
        load_profile(path)
    # not TOML at all
    bad = tmp_path / "bad.toml"
    bad.write_text("schema = = 1")
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_profile(bad)
    # axes must be a signed permutation
    path = _broken(
        tmp_path,
        '{ name = "acc", type = "i16", unit = "g", lsb_per_unit = 2048.0 }',
        '{ name = "acc", type = "i16", unit = "g", lsb_per_unit = 2048.0, axes = ["x", "x", "z"] }',
    )
    with pytest.raises(ProfileError, match=r"'packet\[0\]\.record\[0\]\.axes'"):
        load_profile(path)


def test_axes_mapping_is_applied(tmp_path):
    from imu_monitor.devices.decode import Decoder

    path = _broken(
        tmp_path,
        '{ name = "acc", type = "i16", unit = "g", lsb_per_unit = 2048.0 }',
        '{ name = "acc", type = "i16", unit = "g", lsb_per_unit = 2048.0, '
        'axes = ["y", "-x", "z"] }',
    )
    prof = load_profile(path)
    import struct

    pkt = struct.pack("<BBHI6h", 0xA5, 1, 0, 0, 2048, 0, 0, 0, 0, 0)
    chunk = Decoder(prof, "sacrum").feed(prof.notify_uuids[0], pkt, 0.0)
    # raw x (1 g) lands on sensor +y
    assert chunk.acc_m_s2[0] == pytest.approx([0.0, GRAVITY_M_S2, 0.0])


def test_match_profile_by_service_and_name():
    assert match_profile("whatever", ["6C756D62-0001-4A1F-9C3E-0B5A8D2F7E10"]).name == "diy_imu"
    assert match_profile(None, ["0000ffe5-0000-1000-8000-00805f9a34fb"]).name == (
        "witmotion_wt901ble"
    )
    assert match_profile("Thingy", []).name == "thingy52"
    assert match_profile("Movesense 2233", []).name == "movesense_imu6"
    assert match_profile("BLESense - 1a2b", []).name == "arduino_nano33_sj"
    assert match_profile("Polar Sense B5C3A821", []).name == "polar_verity_sense"
    assert match_profile("MetaWear", []).name == "metamotion"
    assert match_profile("LumbarIMU-01", []).name == "diy_imu"
    # a service match wins over a name match
    assert match_profile("Thingy", ["34802252-7185-4d5d-b431-630e7050e8f0"]).name == (
        "movesense_imu6"
    )
    # the Bluetooth base ...9b34fb does not stand for WitMotion's ...9a34fb
    assert match_profile(None, ["0000ffe5-0000-1000-8000-00805f9b34fb"]) is None
    assert match_profile("Kettle", ["180f"]) is None
    assert load_profile("thingy52").matches("Thingy", [])
    assert not load_profile("thingy52").matches("Polar Sense", [])


def test_vendor_profiles_cite_sources_with_commits_and_list_what_is_unverified():
    for p in list_profiles():
        if p.name == "diy_imu":  # this project's own reference layout (README), no vendor
            continue
        assert p.sources and p.unverified, p.name
        for s in p.sources:
            # owner/repo@<40-hex commit>:path, or a vendor document / issue thread named
            assert re.search(r"@[0-9a-f]{40}:|datasheet|issues? #\d+", s), (p.name, s)


@pytest.mark.parametrize(
    "pattern", ["^Thingy", "^(LumbarIMU|imu-monitor)", "^BLE ?Sense", r"^WT\d{1,4}.*", "(?i)^polar"]
)
def test_plain_name_patterns_are_accepted(tmp_path, pattern):
    path = _broken(tmp_path, 'name_pattern = "^(LumbarIMU', f"name_pattern = '{pattern}' #")
    assert load_profile(path).name_pattern == pattern


def test_names_are_matched_cut_to_the_ble_maximum_of_248(tmp_path):
    """A name pattern sees at most 248 characters of an advertised name (BLE's longest device
    name), so a long name cannot make matching slow."""
    path = _broken(tmp_path, 'name_pattern = "^(LumbarIMU', 'name_pattern = "^a+b" #')
    prof = load_profile(path)
    assert prof.matches("a" * 246 + "b", [])
    assert not prof.matches("a" * 248 + "b", [])


def test_a_tick_alert_is_optional_and_alone_is_allowed(tmp_path):
    """The tempo cue's ``tick`` may come with the alarm alerts or alone; nothing else may."""
    text = (PROFILE_DIR / "diy_imu.toml").read_text()
    start = text.index("[alerts]")
    end = text.index("[timing]")
    tick_only = (
        text[:start]
        + "[alerts]\n"
        + next(ln for ln in text[start:end].splitlines() if ln.startswith("tick"))
        + "\n\n"
        + text[end:]
    )
    path = tmp_path / "tick_only.toml"
    path.write_text(tick_only.replace('name = "diy_imu"', 'name = "tick_only"'))
    p = load_profile(str(path))
    assert set(p.alerts) == {"tick"}
    path.write_text(tick_only.replace("tick =", "beep ="))
    with pytest.raises(ProfileError, match="'tick'"):
        load_profile(str(path))
    assert "tick" in load_profile("diy_imu").alerts
