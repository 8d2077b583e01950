"""The tempo cue (offscreen): ticks at up, hold and down in the target's rhythm, on the computer's
sound and on a wearable whose profile has a tick (the real BLE client on the simulated
wearable), and the notice that says where the ticks go; the counter of good reps."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time  # noqa: E402

import pytest  # noqa: E402

from imu_monitor.app.dashboard import DashboardSession  # noqa: E402
from imu_monitor.events import AlarmEnded, AlarmStarted, RepStarted  # noqa: E402
from imu_monitor.exercises import Tempo, get_exercise  # noqa: E402
from imu_monitor.processing.calibration import calibrate_recording  # noqa: E402
from imu_monitor.processing.sets import SetTracker  # noqa: E402
from imu_monitor.settings import Settings  # noqa: E402
from imu_monitor.simulator import SimulationConfig, simulate_session  # noqa: E402
from imu_monitor.sources.ble import ReconnectPolicy, sim_source  # noqa: E402
from imu_monitor.sources.sim import make_world  # noqa: E402
from imu_monitor.ui.reps_panel import MAX_BARS, RepsPanel  # noqa: E402
from imu_monitor.ui.settings_dialog import SettingsDialog  # noqa: E402
from imu_monitor.ui.tempo_cue import (  # noqa: E402
    MAX_CUE_SPEED,
    StreamClock,
    TempoCue,
    cue_schedule,
    tempo_cue_notice,
)
from tests.processing.test_sets import rep  # noqa: E402
from tests.ui.test_main_window import NO_AUDIO, ThreadSource, _window  # noqa: E402

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore(r"qt\.multimedia.*", r"PulseAudioService.*", r"Using Qt .*"),
]


@pytest.fixture(scope="module")
def kick():
    rec = simulate_session(SimulationConfig(reps=2, seed=3, motion="ramps"))
    return rec, calibrate_recording(rec)


def rounded(schedule):
    return [(round(d, 9), p) for d, p in schedule]


FAST = Tempo(up_s=0.05, hold_s=0.08, down_s=0.05, min_rep_s=0.1)


def test_the_schedule_follows_the_target_from_the_reps_start():
    t = Tempo(up_s=1.0, hold_s=2.0, down_s=2.0, min_rep_s=2.0)
    assert cue_schedule(t) == [(0.0, "up"), (1.0, "hold"), (3.0, "down")]
    # detected 0.3 s into the rep: the ticks keep the rep's own times
    assert rounded(cue_schedule(t, 0.3)) == [(0.0, "up"), (0.7, "hold"), (2.7, "down")]
    # detected after its up phase was over: no "up" tick after the fact
    assert rounded(cue_schedule(t, 1.1)) == [(0.0, "hold"), (1.9, "down")]  # 0.1 s late
    assert rounded(cue_schedule(t, 1.5)) == [(1.5, "down")]


def test_ticks_come_in_order_and_stop_when_cancelled(qtbot):
    played = []
    cue = TempoCue(played.append)
    cue.rep_started(FAST)  # disabled: nothing
    assert cue.pending == 0
    cue.enabled = True
    seen = []
    cue.ticked.connect(seen.append)
    cue.rep_started(FAST)
    qtbot.waitUntil(lambda: len(seen) == 3, timeout=5_000)
    assert seen == played == ["up", "hold", "down"]
    slow = Tempo(up_s=30.0, hold_s=30.0, down_s=30.0, min_rep_s=1.0)
    cue.rep_started(slow)
    qtbot.waitUntil(lambda: len(seen) == 4, timeout=5_000)  # "up" at once
    assert cue.pending == 2
    cue.cancel()  # the rep ended early
    assert cue.pending == 0 and seen[-1] == "up"


def test_the_stream_clock_measures_the_streams_pace():
    clock = StreamClock()
    assert clock.speed == 1.0  # nothing yet: real time
    clock.note(0.0, float("nan"))  # before the first sample
    for k in range(60):  # a replay at 4x, one frame every 1/30 s
        clock.note(10.0 + k / 30.0, 100.0 + 4.0 * k / 30.0)
    assert clock.speed == pytest.approx(4.0)
    for k in range(60, 150):  # paused: the stream stands still
        clock.note(10.0 + k / 30.0, 100.0 + 4.0 * 59 / 30.0)
    assert clock.speed == 0.0


def test_ticks_follow_a_fast_stream_and_none_at_a_standstill(qtbot):
    seen = []
    cue = TempoCue(seen.append)
    cue.enabled = True
    t = Tempo(up_s=0.8, hold_s=0.8, down_s=0.8, min_rep_s=0.5)
    cue.rep_started(t, speed=4.0)  # 1.6 s of stream time in 0.4 s of wall time
    assert {p: cue._timers[p].interval() for p in ("hold", "down")} == {"hold": 200, "down": 400}
    qtbot.waitUntil(lambda: len(seen) == 3, timeout=5_000)
    for speed in (0.0, MAX_CUE_SPEED * 2):  # paused; as fast as possible
        cue.rep_started(t, speed=speed)
        assert cue.pending == 0
    assert seen == ["up", "hold", "down"]


def test_the_notice_says_where_the_ticks_go():
    assert "computer's sound and the wearable" in tempo_cue_notice(None, True)
    assert "wearable only" in tempo_cue_notice("no audio output", True)
    text = tempo_cue_notice("no audio output", False)
    assert "nothing can play it" in text and "no audio output" in text


def test_the_window_ticks_on_a_rep_start_and_says_there_is_no_sound(qtbot, kick, tmp_path):
    rec, cal = kick
    source = ThreadSource(rec, [])
    settings = Settings(tempo_cue=True)
    settings.overrides("back-kick").up_s = 0.05
    settings.overrides("back-kick").hold_s = 0.05
    ds = DashboardSession(source, settings, calibration=cal)
    w, snd = _window(qtbot, ds, tmp_path)
    assert w.tempo_cue.enabled
    assert any("nothing can play it" in t and NO_AUDIO in t for t in w.notices.texts())
    w._on_event(RepStarted(t_s=1.0, index=0), time.perf_counter())
    qtbot.waitUntil(lambda: len(snd.cue_requests) == 3, timeout=5_000)
    assert [p for _, p in snd.cue_requests] == ["up", "hold", "down"]
    assert source.alerts == []  # a source without profiles gets no tick
    w.set_tempo_cue(False)
    assert not ds.settings.tempo_cue
    w._on_event(RepStarted(t_s=2.0, index=1), time.perf_counter())
    assert w.tempo_cue.pending == 0
    w.shutdown()


def test_a_wearable_whose_profile_has_a_tick_gets_it(qtbot):
    world = make_world(placements=("sacrum",), speed=50.0, reps=1, faulty=0, seed=5)
    fast = ReconnectPolicy(initial_delay_s=0.002, max_delay_s=0.05, scan_timeout_s=2.0)
    src = sim_source(world, policy=fast)
    ds = DashboardSession(src, Settings())
    src.start(lambda c: None, lambda g: None, lambda s: None)
    try:
        deadline = time.monotonic() + 10.0
        while not any(link.state == "streaming" for link in src.links.values()):
            assert time.monotonic() < deadline, "never streamed"
            time.sleep(0.005)
        assert ds.wearable_tick_supported()  # the default simulated profile: diy_imu
        assert ds.send_tick()
        (dev,) = world.devices.values()
        while not any(d == "tick" for _, d in dev.alerts):
            assert time.monotonic() < deadline, f"no tick reached the device: {dev.alerts}"
            time.sleep(0.005)
    finally:
        src.stop()


def test_the_counter_shows_good_reps_of_reps_and_why_the_last_did_not_count(qtbot):
    ex = get_exercise("back-kick")
    panel = RepsPanel(ex.tempo, ex.limits)
    qtbot.addWidget(panel)
    tracker = SetTracker(ex)
    for ev in (
        rep(0, 10.0),
        rep(1, 15.0),
        AlarmStarted(21.0, "extension", -9.5, -9.0, "hold", 2, 20.8),
        AlarmEnded(22.0, "extension", -12.3, 1.0, 2),
        rep(2, 20.0, ext=12.3, alarmed=True),
    ):
        tracker.add(ev)
    panel.show_sets(tracker.view())
    assert panel.count.text() == "2 / 3"
    assert panel.why.text() == "#3 not counted: extension 12.3° > 9° limit"
    tracker.add(rep(3, 60.0, hold=0.2))  # after a long rest: a new set
    panel.show_sets(tracker.view())
    assert panel.count.text() == "2 / 4"
    assert "hold 0.2 s < 0.5 s" in panel.why.text()
    assert panel.sets_line.text() == "sets (good / reps):  2/3 ⚠#3  ·  now 0/1"
    assert panel.sets_line.toolTip().splitlines()[1] == "set 2 (now): 0/1 good"
    assert panel.sets_line.toolTip().startswith("set 1: 2/3 good, drift +5.7°/rep")
    tracker.add(rep(4, 70.0))
    panel.show_sets(tracker.view())
    assert panel.why.text() == "last rep counted"


def test_the_settings_dialog_edits_the_set_rules_and_the_cue(qtbot):
    dlg = SettingsDialog(Settings())
    qtbot.addWidget(dlg)
    assert dlg.pause.value() == 20 and dlg.tolerance.value() == 0.5 and dlg.drift.value() == 0.8
    dlg.pause.setValue(45)
    dlg.tolerance.setValue(0.25)
    dlg.tempo_cue.setChecked(True)
    s = dlg.result_settings()
    assert s.tempo_cue
    ex = s.resolved_exercise()
    assert (ex.sets.pause_s, ex.sets.tempo_tolerance_s) == (45, 0.25)
    assert s.overrides().drift_warning_fraction is None  # unchanged: not stored


def test_every_rep_that_does_not_count_is_crossed_and_listed_with_why(qtbot):
    # a rep failed on tempo alone had no cross and was not listed beside "0 / 8"
    ex = get_exercise("back-kick")
    panel = RepsPanel(ex.tempo, ex.limits)
    qtbot.addWidget(panel)
    tracker = SetTracker(ex)
    reps = [rep(0, 10.0), rep(1, 15.0, hold=0.2), rep(2, 20.0)]
    for ev in reps:
        tracker.add(ev)
    panel.show_reps(reps)
    panel.show_sets(tracker.view(MAX_BARS))
    assert panel.count.text() == "2 / 3"
    xs, _ = panel.faults.getData()
    assert list(xs) == [2.0]  # rep 2, by the counter's judgement (no alarm, not too fast)
    assert panel.faulty_caption.text() == "not counted: #2 (hold)"


def test_a_phase_just_off_its_target_shows_the_digit_that_misses_it(qtbot):
    # an amber "0.5 s" beside a 0.5 s hold target, with "hold 0.48 s < 0.5 s" as the reason
    ex = get_exercise("back-kick")
    panel = RepsPanel(ex.tempo, ex.limits)
    qtbot.addWidget(panel)
    panel.show_reps([rep(0, 10.0, hold=0.48)])
    assert panel.phase_labels[1].text() == "0.48 s"
    panel.show_reps([rep(0, 10.0, hold=0.3)])
    assert panel.phase_labels[1].text() == "0.3 s"
