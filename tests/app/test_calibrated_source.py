"""``DeviceCalibratedSource``: the chunks of a sensor with a device calibration reach every
listener calibrated; the others, gaps and status pass as they were."""

from __future__ import annotations

import numpy as np

from imu_monitor.app.calibrated_source import DeviceCalibratedSource
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
