"""Start-step replies, variant probes and MTU checks (devices.replies): vendor reply bytes in,
captured values or an error naming the vendor's status out. Sources: firmware_profiles/*.toml."""

from __future__ import annotations

import struct
import tomllib

import pytest

from imu_monitor.devices.profiles import PROFILE_DIR, load_profile, parse_profile
from imu_monitor.devices.replies import (
    check_mtu,
    check_reply,
    reply_matches,
    reply_timeout_error,
    select_variant,
)
from imu_monitor.errors import (
    DeviceVariantError,
    MtuTooSmallError,
    ProfileError,
    ProfileReplyError,
)


def test_polar_start_reply_without_factor_gives_the_sdk_default():
    prof = load_profile("polar_verity_sense")
    reply = bytes.fromhex("f0 02 02 00 00")  # real Verity reply (polar-ble-sdk #331, #443)
    assert reply_matches(prof.start_steps[0].reply, prof.notify_uuids[0], reply)
    assert not reply_matches(prof.start_steps[1].reply, prof.notify_uuids[0], reply)
    assert check_reply(prof, 0, reply) == {"acc_factor": 1.0}


def test_polar_start_reply_with_factor_is_captured():
    prof = load_profile("polar_verity_sense")
    # PmdSetting layout: [id 5 FACTOR][count 1][float32]; after a RANGE entry [2][1][u16]
    params = bytes((2, 1, 8, 0)) + bytes((5, 1)) + struct.pack("<f", 2.44e-4)
    got = check_reply(prof, 1, bytes.fromhex("f0 02 05 00 00") + params)
    assert got["gyr_factor"] == pytest.approx(2.44e-4)


@pytest.mark.parametrize(
    "status, name",
    [(5, "ERROR_INVALID_PARAMETER"), (6, "ERROR_ALREADY_IN_STATE"), (10, "ERROR_INVALID_MTU")],
)
def test_polar_error_status_is_named(status, name):
    prof = load_profile("polar_verity_sense")
    with pytest.raises(ProfileReplyError) as e:
        check_reply(prof, 0, bytes((0xF0, 0x02, 0x02, status)), device="Polar Sense 1234")
    assert e.value.status == status and e.value.status_name == name
    assert name in str(e.value) and "Polar Sense 1234" in str(e.value)
    assert "start step 1" in str(e.value) and "\n" not in str(e.value)


def test_polar_malformed_replies_are_errors_not_crashes():
    prof = load_profile("polar_verity_sense")
    with pytest.raises(ProfileReplyError, match="too short"):
        check_reply(prof, 0, bytes.fromhex("f0 02 02"))
    with pytest.raises(ProfileReplyError, match="malformed"):  # a setting runs past the end
        check_reply(prof, 0, bytes.fromhex("f0 02 02 00 00 05 01 00 00"))
    with pytest.raises(ProfileReplyError, match="unusable"):  # factor 0
        check_reply(prof, 0, bytes.fromhex("f0 02 02 00 00 05 01 00 00 00 00"))
    err = reply_timeout_error(prof, 1, device="dev")
    assert "no reply to start step 2" in str(err) and err.step == 1


# mbientlab/MetaWear-SDK-Cpp @ f67699e5 test/common.py: gyro module-info replies
@pytest.mark.parametrize("reply, chip", [("13 80 00 01", "bmi160"), ("13 80 01 00", "bmi270")])
def test_metamotion_probe_picks_the_chip(reply, chip):
    prof = load_profile("metamotion")
    assert prof.probe is not None and prof.probe.write.data == bytes.fromhex("13 80")
    assert reply_matches(prof.probe.write.reply, prof.notify_uuids[0], bytes.fromhex(reply))
    got = select_variant(prof, bytes.fromhex(reply))
    assert got.variant == chip
    gyr = next(p for p in got.packets if p.name == "gyr")
    assert gyr.match[0][1] == bytes.fromhex("13 05" if chip == "bmi160" else "13 04")
    acc_cfg = got.start_steps[0].data  # acc range code: BMI160 5, BMI270 1 (both +-4 g)
    assert acc_cfg == bytes.fromhex("03 03 28 05" if chip == "bmi160" else "03 03 a8 01")


def test_metamotion_unknown_or_absent_gyro_is_refused_with_the_value_found():
    prof = load_profile("metamotion")
    with pytest.raises(DeviceVariantError) as e:
        select_variant(prof, bytes.fromhex("13 80 07 00"), device="MetaWear")
    assert e.value.value == 7 and "is 7" in str(e.value) and "bmi160" in str(e.value)
    with pytest.raises(DeviceVariantError, match="reports no gyro module"):
        select_variant(prof, bytes.fromhex("13 80"))  # an absent module answers 2 bytes


def test_min_mtu_is_checked():
    prof = load_profile("movesense_imu6")
    assert prof.min_mtu == 161
    with pytest.raises(MtuTooSmallError) as e:
        check_mtu(prof, 23, device="Movesense 1")
    assert e.value.mtu == 23 and "161" in str(e.value)
    check_mtu(prof, 185)
    check_mtu(load_profile("thingy52"), 23)  # 18-byte packets fit the default MTU


WIT_NOTIFY = "0000ffe4-0000-1000-8000-00805f9a34fb"


def _witmotion_data():
    with open(PROFILE_DIR / "witmotion_wt901ble.toml", "rb") as f:
        return tomllib.load(f)


@pytest.mark.parametrize(
    "edit, field",
    [
        (lambda d: d["start"][0].update(delay_s=-1), "start[0].delay_s"),
        (lambda d: d["framing"][0].update(sync="66"), "packet[0].match"),
        (lambda d: d["start"][0].update(reply={"char": WIT_NOTIFY, "timeout_s": 1}), "match"),
        (lambda d: d["gatt"].update(min_mtu=20), "gatt.min_mtu"),
        (lambda d: d["packet"][0]["record"][1].update(scale_by="nope"), "scale_by"),
        (lambda d: d.update(probe={"what": "x", "value": {"offset": 0, "type": "u8"}}), "variant"),
    ],
)
def test_new_schema_fields_are_validated(edit, field):
    data = _witmotion_data()
    edit(data)
    with pytest.raises(ProfileError) as e:
        parse_profile(data, PROFILE_DIR / "witmotion_wt901ble.toml")
    assert field in str(e.value) and "witmotion_wt901ble.toml" in str(e.value)
