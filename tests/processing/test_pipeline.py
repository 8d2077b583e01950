"""The pipeline end to end on simulated sessions: streaming equals batch, live calibration works,
and the angles follow the truth."""

import numpy as np
import pytest

from imu_monitor.errors import CalibrationRefused, ImuMonitorError
from imu_monitor.events import AlarmStarted, RepEnded
from imu_monitor.exercises import get_exercise
from imu_monitor.model import SensorInfo
from imu_monitor.processing.calibration import calibrate_recording
from imu_monitor.processing.pipeline import Pipeline, analyze_recording
from imu_monitor.simulator import SimulationConfig, simulate_session
from tests.helpers import chunks_in_time_order


@pytest.fixture(scope="module")
def kick2():
    return simulate_session(
        SimulationConfig(exercise="back-kick", reps=5, faulty=2, sensors=2, seed=7, motion="ramps")
    )


def _event_key(e):
    d = e.to_dict()
    return {k: (round(v, 9) if isinstance(v, float) else v) for k, v in d.items()}


def test_streaming_in_random_chunks_equals_batch(kick2):
    cal = calibrate_recording(kick2, get_exercise("back-kick"))
    batch = analyze_recording(kick2, calibration=cal, offline=False)
    pipe = Pipeline("back-kick", kick2.sensors, calibration=cal)
    for chunk in chunks_in_time_order(kick2, np.random.default_rng(1)):
        pipe.feed(chunk)
    pipe.finish()
    assert [_event_key(e) for e in pipe.events] == [_event_key(e) for e in batch.result.events]
    assert len(pipe.reps) == 5
    w = pipe.window(5.0)
    assert w["t_s"][-1] == pytest.approx(batch.angles.t_s[-1])
    np.testing.assert_allclose(
        w["lumbar_flexion_deg"], batch.angles.lumbar_flexion_deg[-len(w["t_s"]) :], atol=1e-9
    )


def test_guided_live_calibration_on_the_simulated_protocol(kick2):
    pipe = Pipeline("back-kick", kick2.sensors)  # no calibration: guided
    assert pipe.calibrator is not None and pipe.calibrator.step == "standing"
    steps = []
    for chunk in chunks_in_time_order(kick2, np.random.default_rng(2)):
        pipe.feed(chunk)
        if pipe.calibrator is not None and (not steps or steps[-1][1] != pipe.calibrator.step):
            steps.append((float(chunk.t_s[-1]), pipe.calibrator.step))
    pipe.finish()
    assert pipe.calibration is not None, steps
    start = kick2.markers_of("calibration_start")[0]
    # calibrated during the start-posture hold, not before it
    assert steps[1][1] == "start"
    assert len(pipe.reps) == 5
    # lumbar angle follows the truth once calibrated
    w = pipe.window(1e9)
    sel = w["t_s"] > start.t_end_s + 1.0
    err = w["lumbar_flexion_deg"][sel] - kick2.truth.lumbar_at(w["t_s"][sel])
    assert np.sqrt(np.mean(err**2)) < 1.5
    faulty = [r.index for r in kick2.truth.reps if r.fault in ("extension", "flexion", "rocking")]
    alarmed = [r.index for r in pipe.reps if r.alarmed]
    assert set(faulty) <= set(alarmed)


def test_capture_now_refuses_while_moving(kick2):
    pipe = Pipeline("back-kick", kick2.sensors)
    # a faulty rep: the lower back moves (in a good back kick the sacrum hardly moves at all)
    first_rep = next(r for r in kick2.truth.reps if r.fault in ("extension", "rocking"))
    calibrator = None
    for chunk in chunks_in_time_order(kick2, np.random.default_rng(3)):
        if chunk.t_s[-1] > first_rep.t_start_s and calibrator is None:
            assert pipe.calibration is not None  # the guided calibration finished before the reps
            calibrator = pipe.start_calibration(with_standing=False)  # redo it, mid-set
        if chunk.t_s[-1] > first_rep.t_end_s:
            break
        pipe.feed(chunk)
    assert calibrator.step == "start" and not calibrator.done
    with pytest.raises(CalibrationRefused, match="moved"):
        calibrator.capture_now()
    assert pipe.calibration is None  # nothing judged against a half-made calibration


def test_pipeline_needs_a_sacrum_sensor():
    with pytest.raises(ImuMonitorError, match="sacrum"):
        Pipeline("back-kick", {"thigh": SensorInfo("thigh")})


def test_alarm_events_reach_listeners_immediately(kick2):
    cal = calibrate_recording(kick2, get_exercise("back-kick"))
    pipe = Pipeline("back-kick", kick2.sensors, calibration=cal)
    seen = []
    pipe.add_listener(lambda e: seen.append((e, pipe.samples_in["sacrum"])))
    for chunk in chunks_in_time_order(kick2, np.random.default_rng(4), max_chunk=5):
        pipe.feed(chunk)
    alarms = [(e, n) for e, n in seen if isinstance(e, AlarmStarted)]
    assert alarms
    assert any(isinstance(e, RepEnded) for e, _ in seen)
