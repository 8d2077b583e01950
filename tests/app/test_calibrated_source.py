"""``DeviceCalibratedSource``: the chunks of a sensor with a device calibration reach every
listener calibrated; the others, gaps and status pass as they were."""

from __future__ import annotations

import numpy as np

from imu_monitor.app.calibrated_source import DeviceCalibratedSource, device_cal_advice
from imu_monitor.model import SampleChunk
from imu_monitor.processing.device_cal import measure
from imu_monitor.simulator.config import SimulationConfig
from imu_monitor.simulator.procedure import simulate_procedure


class _Source:
    sensors = {"sacrum": None, "upper_lumbar": None}
    kind = "sim"

    def __init__(self, chunks: list[SampleChunk]) -> None:
        self.chunks = chunks

    def start(self, on_chunk, on_gap, on_status) -> None:
        for c in self.chunks:
            on_chunk(c)
        on_gap("gap")
        on_status("status")


def test_chunks_of_calibrated_sensors_are_calibrated_on_their_way_out() -> None:
    proc = simulate_procedure(SimulationConfig(sensors=2, seed=1))
    cal = measure(proc.series["sacrum"], what="s", about={})
    s = proc.series["sacrum"]
    chunk = {
        p: SampleChunk(p, s.t_s[:8], s.acc_m_s2[:8], s.gyr_rad_s[:8])
        for p in ("sacrum", "upper_lumbar")
    }
    source = DeviceCalibratedSource(_Source(list(chunk.values())), {"sacrum": (cal, "c.json")})
    got, other = [], []
    source.start(got.append, other.append, other.append)
    acc, gyr = cal.apply(s.acc_m_s2[:8], s.gyr_rad_s[:8])
    np.testing.assert_allclose(got[0].acc_m_s2, acc)
    np.testing.assert_allclose(got[0].gyr_rad_s, gyr)
    assert not np.allclose(got[0].acc_m_s2, s.acc_m_s2[:8])
    assert got[1] is chunk["upper_lumbar"]
    assert other == ["gap", "status"]
    assert source.kind == "sim" and source.sensors is _Source.sensors
    assert source.device_calibration["sacrum"]["source"] == "c.json"


def test_a_replay_says_what_its_recording_carries() -> None:
    """The dashboard's header reads ``device_calibration`` off its source, live or replayed."""
    from dataclasses import replace

    from imu_monitor.simulator.generate import simulate_session
    from imu_monitor.sources.replay import ReplaySource, ReplayThreadSource

    rec = simulate_session(SimulationConfig(reps=1, seed=1))
    assert ReplayThreadSource(ReplaySource(rec)).device_calibration is None
    said = {"sacrum": {"source": "cal/sacrum.json"}}
    carried = replace(rec, meta={**rec.meta, "device_calibration": said})
    assert ReplayThreadSource(ReplaySource(carried)).device_calibration == said


def test_the_settings_folder_applies_what_fits_and_says_what_does_not(tmp_path) -> None:
    """The dashboard's remembered folder (``Settings.device_cal_folder``): a file measured on the
    wearable in use is applied; another wearable's, an unreadable file or a missing folder is
    left out with a note, and the session goes on (``--device-cal`` refuses them whole)."""
    from imu_monitor.app.calibrated_source import settings_calibrated
    from imu_monitor.model import SensorInfo

    proc = simulate_procedure(SimulationConfig(sensors=2, seed=1))
    for p, device in (("sacrum", "IMU-A"), ("upper_lumbar", "IMU-B")):
        cal = measure(proc.series[p], what=p, about={"device": device})
        (tmp_path / f"{p}.json").write_text(cal.to_json())
    source = _Source([])
    source.sensors = {
        "sacrum": SensorInfo("sacrum", "diy_imu", "IMU-A"),
        "upper_lumbar": SensorInfo("upper_lumbar", "diy_imu", "IMU-C"),
    }
    got, notes = settings_calibrated(source, str(tmp_path))
    assert isinstance(got, DeviceCalibratedSource) and got.from_settings
    assert list(got.device_calibration) == ["sacrum"]
    assert len(notes) == 1 and "measured on IMU-B, but the upper_lumbar is IMU-C" in notes[0]
    assert "(upper_lumbar not device-calibrated)" in notes[0]

    (tmp_path / "sacrum.json").write_text("{not json")
    got, notes = settings_calibrated(source, str(tmp_path))
    assert got is source and len(notes) == 2
    assert "not a device calibration" in notes[0] and "sacrum.json" in notes[0]

    assert settings_calibrated(source, "") == (source, [])
    got, notes = settings_calibrated(source, str(tmp_path / "gone"))
    assert got is source and notes == [
        f"device calibration folder {tmp_path / 'gone'}: no such folder; the samples are not "
        "device-calibrated"
    ]
    source.sensors = {"thigh": SensorInfo("thigh", "diy_imu", "IMU-D")}
    got, notes = settings_calibrated(source, str(tmp_path))
    assert got is source and "none of thigh.json is in it" in notes[0]


def test_advice_to_device_calibrate_where_the_trunk_turns_with_two_raw_wearables() -> None:
    both = {"sacrum": None, "upper_lumbar": None}
    line, why = device_cal_advice(both, {}, trunk_turns=True)
    assert line.startswith("Not device-calibrated: sacrum, upper lumbar (a degree or two off")
    assert line.endswith("Devices… > Device calibration…") and "six faces, three turns" in why
    one_raw, _ = device_cal_advice(both, {"sacrum": {}}, trunk_turns=True)
    assert one_raw.startswith("Not device-calibrated: upper lumbar (")
    assert device_cal_advice(both, {"sacrum": {}, "upper_lumbar": {}}, trunk_turns=True) is None
    assert device_cal_advice(both, {}, trunk_turns=False) is None  # a back kick: supported
    assert device_cal_advice({"sacrum": None}, {}, trunk_turns=True) is None  # at lockout only
