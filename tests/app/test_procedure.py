"""The device calibration's procedure from a streaming source: what is found as it comes, the
recording it writes, and what is said when a part is missing."""

from __future__ import annotations

import pytest

from imu_monitor.app.procedure import (
    PARTS,
    ProcedureRecorder,
    measure_sensors,
    procedure_meta,
    write_calibrations,
)
from imu_monitor.errors import ImuMonitorError
from imu_monitor.model import Recording, SensorSeries
from imu_monitor.simulator.config import SimulationConfig
from imu_monitor.simulator.procedure import simulate_procedure
from imu_monitor.storage.recording import load_recording


class ChunkSource:
    """Hands its chunks over when ``push`` is called (the stream, one call at a time)."""

    def __init__(self, rec) -> None:
        self.sensors = dict(rec.sensors)
        self.rec = rec
        self.stopped = 0

    def start(self, on_chunk, on_gap, on_status) -> None:
        self.on_chunk = on_chunk

    def push(self, t0: float, t1: float) -> None:
        for name, s in self.rec.series.items():
            i, j = s.t_s.searchsorted([t0, t1])
            if j > i:
                self.on_chunk(s.chunk(name, int(i), int(j)))

    def stop(self) -> None:
        self.stopped += 1


@pytest.fixture(scope="module")
def procedure():
    return simulate_procedure(SimulationConfig(sensors=2, seed=3))


def test_parts_are_found_as_they_come_and_the_recording_keeps_every_sample(
    tmp_path, procedure
) -> None:
    source = ChunkSource(procedure)
    out = tmp_path / "proc.imr"
    recorder = ProcedureRecorder(source, out, procedure_meta("sim"))
    recorder.start(lambda status: None)
    assert recorder.check() == [] and recorder.todo["sacrum"] == ["everything"]
    end = float(procedure.series["sacrum"].t_s[-1]) + 1.0
    seen: list[tuple[str, str]] = []
    for t in range(-5, int(end) + 1, 5):  # (the first sample may be a little before 0)
        source.push(t, t + 5)
        seen += [(f.sensor, f.key) for f in recorder.check()]
        if t == 20:
            assert not recorder.complete and recorder.todo["sacrum"]
    assert recorder.complete
    assert sorted(seen) == sorted((s, k) for s in ("sacrum", "upper_lumbar") for k in PARTS)
    assert recorder.found["upper_lumbar"]["y_a"] == "-y up held"
    recorder.stop()
    recorder.stop()  # idempotent
    assert source.stopped == 1
    rec = load_recording(out)
    assert rec.meta["procedure"] == "ferraris"
    assert len(rec.series["sacrum"]) == len(procedure.series["sacrum"])
    cals = measure_sensors(rec, ["sacrum", "upper_lumbar"], procedure_file=str(out))
    written = write_calibrations(cals, {s: tmp_path / "cal" / f"{s}.json" for s in cals})
    assert sorted(p.name for p in written.values()) == ["sacrum.json", "upper_lumbar.json"]


def test_a_procedure_missing_a_part_names_the_file_and_sensor(procedure) -> None:
    series = {}
    for name, s in procedure.series.items():  # the first 30 s: a few faces only
        series[name] = SensorSeries.concat([s.chunk(name, 0, int(s.t_s.searchsorted(30.0)))])
    cut = Recording(meta=procedure.meta, sensors=procedure.sensors, series=series)
    with pytest.raises(ImuMonitorError, match=r"proc\.imr \(sacrum\): no still hold with"):
        measure_sensors(cut, ["sacrum", "upper_lumbar"], procedure_file="proc.imr")
