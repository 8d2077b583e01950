"""The link's conversation with a wearable (``sources.start_sequence``) against simulated devices
that answer as the vendors' firmware does (``sources.sim.protocols``): replies awaited and checked,
values captured, variants probed, the MTU checked; each failure names the device and the step."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from imu_monitor.devices.profiles import PROFILE_DIR
from imu_monitor.errors import DeviceVariantError, MtuTooSmallError, ProfileReplyError
from imu_monitor.model import GRAVITY_M_S2
from imu_monitor.sources.ble import BleSource, ReconnectPolicy, sim_source
from imu_monitor.sources.sim import SimDevice, SimWorld, make_world, protocols

FAST = ReconnectPolicy(initial_delay_s=0.002, max_delay_s=0.05, scan_timeout_s=2.0)
ACC_52HZ = "02 02 00 01 34 00 01 01 10 00 02 01 08 00 04 01 03"


def polar_world(**device_options) -> SimWorld:
    return make_world(profile="polar_verity_sense", speed=20, reps=1, faulty=0, **device_options)


def profile_copy(tmp_path: Path, name: str, *edits: tuple[str, str]) -> str:
    text = (PROFILE_DIR / f"{name}.toml").read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / f"{name}_edited.toml"
    path.write_text(text)
    return str(path)


def stream(src: BleSource, sim_s: float, dev: SimDevice | None = None) -> list:
    """Chunks until ``dev`` has streamed ``sim_s`` device seconds (all it sent by then has
    arrived, however late the host ran the BLE loop), or with no ``dev`` until ``sim_s`` seconds
    of session time have passed (for a device that is not expected to stream)."""
    chunks: list = []
    src.start(chunks.append, lambda g: None, lambda status: None)
    deadline = time.monotonic() + 30.0
    while (dev.streamed_s if dev is not None else src.session_time()) < sim_s:
        assert time.monotonic() < deadline, "the simulated stream did not advance"
        time.sleep(0.005)
    return chunks


def test_polar_steps_wait_for_each_reply_and_the_stream_flows():
    world = polar_world()
    src = sim_source(world, policy=FAST)
    chunks = stream(src, 2.0, next(iter(world.devices.values())))
    link = src.links["sacrum"]
    src.stop()
    replies = [r.reply for r in link.steps]
    assert replies == [bytes.fromhex("f0 02 02 00 00"), bytes.fromhex("f0 02 05 00 00")]
    assert [r.captured for r in link.steps] == [{"acc_factor": 1.0}, {"gyr_factor": 1.0}]
    assert sum(len(c.t_s) for c in chunks) > 52  # acc and gyro paired into samples


def test_the_conversion_factor_in_a_polar_reply_scales_the_data():
    """The simulated Verity reports factor 0.5 (setting id 5) and sends raw values 2x larger:
    only a link that takes the factor from the reply reads gravity right."""
    world = polar_world(protocol_options={"factor": 0.5})
    dev = next(iter(world.devices.values()))
    dev.pose = "flat"
    src = sim_source(world, policy=FAST)
    chunks = stream(src, 2.0, dev)
    link = src.links["sacrum"]
    src.stop()
    assert link.steps[0].reply[5:7] == bytes([5, 1])
    assert link.steps[0].captured == {"acc_factor": 0.5}
    acc = np.concatenate([c.acc_m_s2 for c in chunks])
    assert abs(np.linalg.norm(acc[len(acc) // 2 :].mean(axis=0)) - GRAVITY_M_S2) < 0.2


def test_a_refused_start_names_the_device_the_step_and_the_vendor_status(tmp_path):
    prof = profile_copy(
        tmp_path, "polar_verity_sense", (ACC_52HZ, ACC_52HZ.replace("34 00", "c8 00", 1))
    )
    world = polar_world()
    dev = next(iter(world.devices.values()))
    src = sim_source(world, profile=prof, policy=FAST)
    with pytest.raises(ProfileReplyError) as e:
        src.start(lambda c: None, lambda g: None, lambda status: None)
    msg = str(e.value)
    assert dev.name in msg and "start step 1" in msg and "ERROR_INVALID_SAMPLE_RATE" in msg
    assert e.value.step == 0 and e.value.status == 8
    assert dev.stats.streams == 0
    assert not src.thread_alive


def test_a_profile_that_ignores_the_replies_starts_nothing_and_says_nothing(tmp_path):
    """Without [start.reply] the same wrong request passes unnoticed, and no data ever comes:
    the simulated device refuses it as the real one does."""
    text = (PROFILE_DIR / "polar_verity_sense.toml").read_text()
    kept, skip = [], False
    for line in text.splitlines():
        if line.startswith("[start.reply]"):
            skip = True
            continue
        if skip and (line.startswith("[") or not line.strip()):
            skip = False
        if not skip:
            kept.append(line)
    path = tmp_path / "polar_no_replies.toml"
    text = "\n".join(kept).replace(ACC_52HZ, ACC_52HZ.replace("34 00", "c8 00", 1))
    text = text.replace(', scale_by = "acc_factor"', "").replace(', scale_by = "gyr_factor"', "")
    path.write_text(text)
    world = polar_world()
    dev = next(iter(world.devices.values()))
    src = sim_source(world, profile=str(path), policy=FAST)
    chunks = stream(src, 2.0)
    src.stop()
    assert chunks == [] and dev.stats.streams == 0
    assert src.links["sacrum"].steps[0].reply is None


def test_no_reply_in_time_names_the_step(tmp_path):
    prof = profile_copy(tmp_path, "polar_verity_sense", ("timeout_s = 10.0", "timeout_s = 0.2"))
    world = polar_world(protocol_options={"answers": False})
    dev = next(iter(world.devices.values()))
    src = sim_source(world, profile=prof, policy=FAST)
    with pytest.raises(ProfileReplyError, match=r"no reply to start step 1 .* within 0\.2 s") as e:
        src.start(lambda c: None, lambda g: None, lambda status: None)
    assert dev.name in str(e.value)


def test_an_mtu_below_the_profile_minimum_is_refused_naming_both():
    world = make_world(profile="movesense_imu6", speed=20, reps=1, faulty=0, mtu=100)
    dev = next(iter(world.devices.values()))
    src = sim_source(world, policy=FAST)
    with pytest.raises(MtuTooSmallError) as e:
        src.open()
    assert dev.name in str(e.value) and e.value.mtu == 100 and e.value.min_mtu == 161


@pytest.mark.parametrize(("chip", "reply"), [("bmi160", "13 80 00 01"), ("bmi270", "13 80 01 00")])
def test_the_metamotion_probe_picks_the_chip_and_it_streams(chip, reply):
    world = make_world(
        profile="metamotion", speed=20, reps=1, faulty=0, protocol_options={"chip": chip}
    )
    src = sim_source(world, policy=FAST)
    chunks = stream(src, 2.0, next(iter(world.devices.values())))
    link = src.links["sacrum"]
    src.stop()
    assert link.steps[0].index is None and link.steps[0].reply == bytes.fromhex(reply)
    assert link.profile.variant == chip
    assert sum(len(c.t_s) for c in chunks) > 100  # acc and gyro both arrive and pair


def test_an_unknown_chip_is_refused_naming_what_was_found(monkeypatch):
    monkeypatch.setitem(protocols.METAWEAR_INFO, "bmi999", {0x13: b"\x07\x00"})
    world = make_world(
        profile="metamotion", speed=20, reps=1, faulty=0, protocol_options={"chip": "bmi999"}
    )
    src = sim_source(world, policy=FAST)
    with pytest.raises(DeviceVariantError, match="gyro module implementation is 7"):
        src.start(lambda c: None, lambda g: None, lambda status: None)
