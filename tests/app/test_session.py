"""``Session``: the calibration steps reach the caller however fast the data comes."""

from __future__ import annotations

import pytest

from imu_monitor.app.session import Session
from imu_monitor.processing.pipeline import Pipeline
from imu_monitor.simulator import SimulationConfig, simulate_session


class _AllAtOnce:
    """A source that delivers a whole recording inside ``start()``, before its caller gets
    control back: the fastest a source can be (no chance for anyone to poll in between)."""

    def __init__(self, rec) -> None:
        self.rec = rec
        self.sensors = rec.sensors

    def start(self, on_chunk, on_gap, on_status) -> None:
        s = self.rec.series["sacrum"]
        for i in range(0, len(s), 8):
            on_chunk(s.chunk("sacrum", i, min(i + 8, len(s))))

    def stop(self) -> None:
        pass

    def alert(self, direction: str) -> None:
        pass


@pytest.fixture(scope="module")
def rec():
    return simulate_session(SimulationConfig(reps=1, faulty=0, seed=3))


def test_every_calibration_step_is_reported_even_when_the_data_outruns_the_caller(rec):
    pipeline = Pipeline(rec.exercise, rec.sensors)
    steps: list[tuple[str, str]] = []
    chunks_seen: list[float] = []
    session = Session(
        _AllAtOnce(rec),
        pipeline,
        wearable_alerts=False,
        on_calibration=lambda step, prompt: steps.append((step, prompt)),
        before_feed=lambda chunk: chunks_seen.append(float(chunk.t_s[-1])),
    )
    session.start()  # returns after the whole recording went through
    assert [s for s, _ in steps] == ["start", "done"]
    assert steps[0][1].startswith("Calibration 2/2")
    assert pipeline.calibration is not None
    assert len(chunks_seen) == -(-len(rec.series["sacrum"]) // 8)


def test_a_failing_hook_does_not_stop_the_stream(rec):
    pipeline = Pipeline(rec.exercise, rec.sensors)

    def broken(*args) -> None:
        raise RuntimeError("sink gone")

    session = Session(
        _AllAtOnce(rec), pipeline, wearable_alerts=False, on_calibration=broken, before_feed=broken
    )
    session.start()
    assert pipeline.calibration is not None and len(pipeline.reps) == 1
