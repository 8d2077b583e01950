"""The guided calibration on a stream (``live_calibration``) at the rates wearables send: each
posture is captured while the simulated person holds it, also at 10 Hz one sample per
notification and at 52 Hz with notifications lost."""

from __future__ import annotations

import pytest

from imu_monitor.processing.calibration import CAL_MARKER_STANDING, CAL_MARKER_START
from imu_monitor.processing.pipeline import Pipeline
from imu_monitor.simulator import SimulationConfig, simulate_session
from imu_monitor.simulator.motion import CAL_HOLD_S, STAND_S, TRANSITION_S


def _captures(rate_hz: float, seed: int, per_notification: int) -> dict[str, tuple[float, float]]:
    rec = simulate_session(
        SimulationConfig(
            exercise="hip-thrust", reps=3, faulty=1, sensors=2, seed=seed, rate_hz=rate_hz
        )
    )
    pipe = Pipeline(rec.exercise, rec.sensors)
    n = max(len(s) for s in rec.series.values())
    for a in range(0, n, per_notification):
        for placement, s in rec.series.items():
            if a < len(s):
                pipe.feed(s.chunk(placement, a, min(len(s), a + per_notification)))
    assert pipe.calibration is not None, pipe.calibrator.refusal if pipe.calibrator else None
    return {m.kind: (m.t_s, float(m.t_end_s)) for m in pipe.calibration_markers}


@pytest.mark.parametrize(
    ("rate_hz", "seed", "per_notification"),
    [
        (10.0, 0, 1),  # Arduino Science Journal firmware: ~10 Hz, a sample per notification
        (10.0, 3, 1),
        (52.0, 15, 10),  # a lost notification cut the end of the standing window
    ],
)
def test_each_posture_is_captured_while_it_is_held(rate_hz, seed, per_notification):
    """Standing is held from 0 to ``STAND_S``, the start posture from the end of the transition
    (minimum-jerk: its last tenths of a second are already still) for ``CAL_HOLD_S``. Before, a
    10 Hz stream never counted as quiet (fewer samples than the stillness test judges) and never
    calibrated; at 52 Hz, a standing window shortened by a lost notification passed the
    stream's test but not the calibration's, which then refused every start-posture capture
    until a lockout 20 s later was taken, the start posture having been taken for standing."""
    got = _captures(rate_hz, seed, per_notification)
    stand, start = got[CAL_MARKER_STANDING], got[CAL_MARKER_START]
    assert 0.0 <= stand[0] and stand[1] <= STAND_S
    assert STAND_S + TRANSITION_S - 0.3 <= start[0]
    assert start[1] <= STAND_S + TRANSITION_S + CAL_HOLD_S
