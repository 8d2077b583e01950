"""The live monitor's accelerometer-offset correction after the first reps (``live_acc_offset``),
and calibrations that carry an offset (``SensorCalibration.acc_offset_m_s2``)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import imu_monitor.processing.live_acc_offset as live_acc_offset
from imu_monitor.errors import ImuMonitorError
from imu_monitor.events import AccOffsetApplied, RepEnded, event_from_dict
from imu_monitor.exercises import get_exercise
from imu_monitor.processing.acc_offset import take_off_offset
from imu_monitor.processing.analysis import (
    NOT_RECALIBRATED_NOTE,
    RECALIBRATED_NOTE,
    analyze_recording,
)
from imu_monitor.processing.calibration import (
    CAL_MARKER_STANDING,
    CAL_MARKER_START,
    Calibration,
    calibrate_recording,
)
from imu_monitor.processing.pipeline import AngleLog, Pipeline
from imu_monitor.simulator import SimulationConfig, simulate_session
from imu_monitor.simulator.scoring import reference_angle
from imu_monitor.storage.recording import RecordingWriter, load_recording
from tests.helpers import chunks_in_time_order, feed_live

OFFSETS = {"sacrum": np.array([-0.2, 0.1, 0.15]), "upper_lumbar": np.array([0.3, -0.1, -0.35])}
"""Accelerometer offsets (m/s^2, 20-47 mg) put into the sessions below."""


@pytest.fixture(scope="module")
def thrust():
    """Two sensors on a simulated person's hip thrusts, whose accelerometers read ``OFFSETS`` off
    and have no other error, and whose sensors sit firm (the gyro's scale is right too): what is
    left for the correction to find is the offsets."""
    rec = simulate_session(
        SimulationConfig(
            exercise="hip-thrust",
            reps=7,
            faulty=2,
            sensors=2,
            seed=3,
            acc_errors=False,
            gyro_scale=False,
            skin_motion=False,
        )
    )
    return replace(rec, series={p: take_off_offset(s, -OFFSETS[p]) for p, s in rec.series.items()})


def test_at_the_calibration_and_after_the_first_and_third_reps_the_offsets_are_taken_off(
    thrust, tmp_path, monkeypatch
):
    writer = RecordingWriter(tmp_path / "s.imr", {"exercise": "hip-thrust"}, thrust.sensors)
    pipe, sink, events = feed_live(thrust, recorder=writer)
    writer.close()
    applied = [e for e in events if isinstance(e, AccOffsetApplied)]
    assert [e.reps for e in applied] == [0, 1, 3]
    ev = applied[-1]
    # as the calibration completes (before the first angle), and at the end of the first and
    # of the third rep
    ends = [e for e in events if isinstance(e, RepEnded)]
    assert events.index(applied[0]) < events.index(ends[0])
    assert applied[0].t_s <= sink.column("t_s")[0]
    assert events.index(ends[0]) < events.index(applied[1]) < events.index(ends[1])
    assert events.index(ends[2]) < events.index(ev) < events.index(ends[3])
    assert set(ev.offsets_mg) == {"sacrum", "upper_lumbar"}
    # the calibration in force (and the recording's, the last written) carries the offsets
    cal = pipe.calibration
    for p, mg in ev.offsets_mg.items():
        np.testing.assert_allclose(
            np.array(cal.sensors[p].acc_offset_m_s2) / 9.80665e-3, mg, atol=0.06
        )
    assert "taken off" in cal.notes[-1]
    stored = Calibration.from_dict(load_recording(tmp_path / "s.imr").calibration)
    assert (
        stored.sensors["upper_lumbar"].acc_offset_m_s2
        == cal.sensors["upper_lumbar"].acc_offset_m_s2
    )
    # the angles after the first correction follow the truth better than without it
    monkeypatch.setattr(live_acc_offset, "AFTER_REPS", (10**6,))
    _, plain, plain_events = feed_live(thrust)
    assert not any(isinstance(e, AccOffsetApplied) for e in plain_events)
    truth = reference_angle(thrust.truth, thrust.meta, False)

    def rmse_after(s: AngleLog) -> float:
        t = s.column("t_s")
        sel = t > applied[0].t_s
        err = s.column("lumbar_flexion_deg")[sel] - np.interp(t[sel], thrust.truth.t_s, truth)
        return float(np.sqrt(np.mean(err**2)))

    assert rmse_after(sink) < 0.5 * rmse_after(plain)
    assert len(pipe.reps) == 7


def test_a_given_calibration_is_not_corrected_and_its_offsets_are_taken_off(thrust):
    ex = get_exercise("hip-thrust")
    cal = calibrate_recording(thrust, ex)
    pipe, _, events = feed_live(thrust, calibration=cal)
    assert not any(isinstance(e, AccOffsetApplied) for e in events)
    # a calibration made with offsets applies to the readings less them: as the same
    # calibration without offsets on readings already corrected
    offsets = {"sacrum": [0.1, -0.05, 0.2], "upper_lumbar": [-0.2, 0.1, 0.3]}
    with_offsets = Calibration.from_dict(cal.to_dict())
    for p, o in offsets.items():
        with_offsets.sensors[p].acc_offset_m_s2 = o
    corrected = replace(
        thrust, series={p: take_off_offset(s, offsets[p]) for p, s in thrust.series.items()}
    )
    a = analyze_recording(thrust, calibration=with_offsets, offline=False)
    b = analyze_recording(corrected, calibration=cal, offline=False)
    np.testing.assert_array_equal(a.angles.lumbar_flexion_deg, b.angles.lumbar_flexion_deg)
    _, live_a, _ = feed_live(thrust, calibration=with_offsets)
    _, live_b, _ = feed_live(corrected, calibration=cal)
    np.testing.assert_allclose(
        live_a.column("lumbar_flexion_deg"), live_b.column("lumbar_flexion_deg"), atol=1e-9
    )


def test_the_offset_round_trips_and_a_bad_one_is_refused(thrust):
    cal = calibrate_recording(thrust, get_exercise("hip-thrust"))
    cal.sensors["sacrum"].acc_offset_m_s2 = [0.1, 0.2, -0.3]
    back = Calibration.from_dict(cal.to_dict())
    assert back.sensors["sacrum"].acc_offset_m_s2 == [0.1, 0.2, -0.3]
    assert back.sensors["upper_lumbar"].acc_offset_m_s2 is None
    assert set(back.acc_offsets()) == {"sacrum"}
    d = cal.to_dict()
    d["sensors"]["sacrum"]["acc_offset_m_s2"] = [0.1, float("nan")]
    with pytest.raises(ImuMonitorError, match="acc_offset_m_s2"):
        Calibration.from_dict(d)
    ev = AccOffsetApplied(t_s=12.5, offsets_mg={"sacrum": [3.0, -4.0, 0.0]}, reps=3)
    assert event_from_dict(ev.to_dict()) == ev
    assert "sacrum 5 mg" in ev.notice() and "over the first 3 reps" in ev.notice()
    at_calibration = AccOffsetApplied(t_s=9.0, offsets_mg={"sacrum": [3.0, -4.0, 0.0]}, reps=0)
    assert "measured over the calibration's turn and taken off" in at_calibration.notice()


def test_a_replay_jump_abandons_the_correction(thrust):
    pipe = Pipeline("hip-thrust", thrust.sensors)
    chunks = chunks_in_time_order(thrust, np.random.default_rng(1))
    for chunk in chunks[: len(chunks) // 4]:
        pipe.feed(chunk)
    pipe.reset()
    events = []
    for chunk in chunks[len(chunks) // 4 :]:
        events += pipe.feed(chunk)
    assert not any(isinstance(e, AccOffsetApplied) for e in events)


def test_a_live_recording_keeps_its_capture_windows_and_analyze_calibrates_afresh_from_them(
    thrust, tmp_path
):
    """The guided calibration's windows go into the recording as calibration markers; ``analyze``
    makes the calibration afresh from them with offsets from the whole session (the live monitor
    had the first three reps), ``--online`` and a recording begun after the calibration keep the
    stored one."""
    cal_markers = (CAL_MARKER_STANDING, CAL_MARKER_START)
    writer = RecordingWriter(tmp_path / "s.imr", {"exercise": "hip-thrust"}, thrust.sensors)
    pipe, _, _ = feed_live(thrust, recorder=writer)
    writer.close()
    rec = load_recording(tmp_path / "s.imr")
    marks = [(m.kind, m.t_s, m.t_end_s) for m in rec.markers if m.kind in cal_markers]
    assert marks == [(m.kind, m.t_s, m.t_end_s) for m in pipe.calibration_markers]
    assert [k for k, _, _ in marks] == [CAL_MARKER_STANDING, CAL_MARKER_START]
    assert marks[-1][2] <= pipe.calibration.valid_from_s < marks[-1][2] + 0.1
    an = analyze_recording(rec)
    assert an.calibration.notes[-1] == RECALIBRATED_NOTE
    assert an.calibration.valid_from_s == marks[-1][2]
    for p in OFFSETS:  # estimated by this analysis, and the new calibration carries them
        assert an.quality[p]["acc_offset"]["pairs"] > 0
        np.testing.assert_allclose(
            an.calibration.sensors[p].acc_offset_m_s2,
            an.quality[p]["acc_offset"]["offset_m_s2"],
            atol=1e-4,
        )
    online = analyze_recording(rec, offline=False)
    assert RECALIBRATED_NOTE not in online.calibration.notes
    assert online.quality["sacrum"]["acc_offset"]["from_calibration"]

    # recording from after the calibration: its windows are not in the file, nor their markers
    late = RecordingWriter(tmp_path / "late.imr", {"exercise": "hip-thrust"}, thrust.sensors)
    pipe = Pipeline(thrust.exercise, thrust.sensors)
    for chunk in chunks_in_time_order(thrust, np.random.default_rng(5)):
        if pipe.calibration is not None and pipe.recorder is None:
            pipe.set_recorder(late)
        pipe.feed(chunk)
    late.close()
    rec = load_recording(tmp_path / "late.imr")
    assert pipe.calibration_markers and not [m for m in rec.markers if m.kind in cal_markers]
    an = analyze_recording(rec)
    assert an.quality["sacrum"]["acc_offset"]["from_calibration"]
    assert RECALIBRATED_NOTE not in an.calibration.notes


def test_capture_windows_that_cannot_calibrate_afresh_leave_the_stored_calibration(
    thrust, tmp_path
):
    writer = RecordingWriter(tmp_path / "s.imr", {"exercise": "hip-thrust"}, thrust.sensors)
    feed_live(thrust, recorder=writer)
    writer.close()
    rec = load_recording(tmp_path / "s.imr")
    # the start posture's window moved onto the first rep (as a hand-edited file might be)
    rep = thrust.truth.reps[0]
    start = next(m for m in rec.markers if m.kind == CAL_MARKER_START)
    start.t_s, start.t_end_s = rep.t_start_s, rep.t_start_s + 2.2
    rec.calibration["valid_from_s"] = start.t_end_s
    an = analyze_recording(rec)
    assert an.calibration.notes[-1].startswith(NOT_RECALIBRATED_NOTE)
    assert "moved during the calibration-posture capture" in an.calibration.notes[-1]
    assert an.quality["sacrum"]["acc_offset"]["from_calibration"]
    assert len(an.result.reps) == len(thrust.truth.reps) - 1  # judged from the window's end


def test_the_rep_signal_does_not_step_where_the_offsets_are_taken_off(thrust, monkeypatch):
    """The correction refilters and recalibrates at once, which moves the rep signal (the
    trunk's pitch here) by a fraction of a degree: that step is taken off and faded out over
    ``pipeline.BRIDGE_S``, so the signal at the correction moves no more than the trunk does."""
    _, sink, events = feed_live(thrust)
    t, moved = sink.column("t_s"), sink.column("movement_deg")
    monkeypatch.setattr(live_acc_offset, "AFTER_REPS", (10**6,))
    _, plain, _ = feed_live(thrust)
    t_plain, moved_plain = plain.column("t_s"), plain.column("movement_deg")
    for ev in (e for e in events if isinstance(e, AccOffsetApplied)):
        after = int(np.searchsorted(t, ev.t_s, side="right"))
        if ev.reps == 0:  # at the calibration: no signal before it to step from
            assert after == 0
            continue
        jump = abs(moved[after] - moved[after - 1])
        motion = abs(np.diff(np.interp(t[after - 1 : after + 1], t_plain, moved_plain)))[0]
        assert jump <= motion + 0.01


def test_a_correction_just_before_a_touch_and_go_kick_does_not_time_it_early():
    """Back kicks with a thigh sensor, touch-and-go (0.25-0.5 s at rest), seed 3006, live: the
    correction after the first rep fell 50 ms before the second kick began, and the step it made
    in the thigh's signal (0.86 deg) had that kick start at the end of the first: its concentric
    phase 0.54 s too long. Timed from the kick's own onset now, as offline."""
    rec = simulate_session(
        SimulationConfig(
            exercise="back-kick", reps=10, faulty=4, sensors=3, seed=3006, rep_rest_s=(0.25, 0.5)
        )
    )
    events = feed_live(rec)[2]
    assert any(isinstance(e, AccOffsetApplied) and e.reps == 1 for e in events)
    reps = [e for e in events if isinstance(e, RepEnded)]
    second, truth = reps[1], rec.truth.reps[1]
    assert abs(second.t_start_s - truth.t_start_s) < 0.05
    assert abs(second.concentric_s - (truth.t_top_s - truth.t_start_s)) < 0.05
