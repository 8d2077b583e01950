"""Dashboard tests (offscreen): the alarm path, sound, settings, replay controls, screenshots."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import gc  # noqa: E402
import math  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import wave  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from imu_monitor.app.dashboard import DashboardSession
from imu_monitor.errors import SettingsError
from imu_monitor.events import AlarmStarted, RecordingFailed, RepEnded  # noqa: E402
from imu_monitor.exercises import get_exercise  # noqa: E402
from imu_monitor.processing.calibration import calibrate_recording
from imu_monitor.processing.good_reps import judge_rep
from imu_monitor.processing.sets import SetTracker
from imu_monitor.settings import Settings
from imu_monitor.simulator import SimulationConfig, simulate_session  # noqa: E402
from imu_monitor.sources.base import SourceState, SourceStatus
from imu_monitor.sources.replay import ReplaySource  # noqa: E402
from imu_monitor.storage.stores import CalibrationStore, SettingsStore
from imu_monitor.ui import sound as sound_mod  # noqa: E402
from imu_monitor.ui import theme  # noqa: E402
from imu_monitor.ui.app import DashboardLsl  # noqa: E402
from imu_monitor.ui.main_window import DashboardWindow  # noqa: E402
from imu_monitor.ui.replay_controls import ReplayControls  # noqa: E402
from imu_monitor.ui.reps_panel import MAX_BARS, TEMPO_TITLE, RepsPanel  # noqa: E402
from imu_monitor.ui.settings_dialog import SettingsDialog  # noqa: E402
from imu_monitor.ui.sound import AlarmSound, synthesize  # noqa: E402
from tests.ui.qt_marks import WINDOW_MARKS  # noqa: E402

# Fail on Qt warnings, except the multimedia backend's own start-up chatter on a machine
# without audio hardware.
pytestmark = WINDOW_MARKS

NO_AUDIO = "no audio output device (test)"


class ThreadSource:
    """A Source that streams given chunks from its own thread when ``go`` is set."""

    def __init__(self, rec, chunks):
        self.sensors = dict(rec.sensors)
        self.chunks = chunks
        self.go = threading.Event()
        self.done = threading.Event()
        self.alerts: list[str] = []
        self._thread = None
        self._stop = threading.Event()

    def start(self, on_chunk, on_gap, on_status):
        def run():
            self.go.wait()
            on_status(SourceStatus(SourceState.CONNECTED, sensor="sacrum", battery_pct=87))
            for c in self.chunks:
                if self._stop.is_set():
                    break
                on_chunk(c)
            self.done.set()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def stop(self):
        self._stop.set()
        self.go.set()
        if self._thread is not None:
            self._thread.join(5)

    def alert(self, direction):
        self.alerts.append(direction)


@pytest.fixture(scope="module")
def kick():
    rec = simulate_session(
        SimulationConfig(
            reps=4, faulty=2, seed=3, fault_types=("extension", "flexion"), motion="ramps"
        )
    )
    return rec, calibrate_recording(rec)


def _chunks(rec, n=8):
    s = rec.series["sacrum"]
    return [s.chunk("sacrum", i, i + n) for i in range(0, len(s), n)]


def _window(qtbot, ds, tmp_path, **kw):
    snd = AlarmSound(output_problem=NO_AUDIO, cache_dir=tmp_path)
    w = DashboardWindow(ds, sound=snd, settings_store=SettingsStore(tmp_path), **kw)
    qtbot.addWidget(w)
    return w, snd


def test_a_sensor_slower_than_25_hz_is_named_in_a_notice(qtbot, tmp_path):
    rec = simulate_session(SimulationConfig(reps=1, seed=3, rate_hz=10.0, motion="ramps"))
    ds = DashboardSession(ThreadSource(rec, []), Settings(), calibration=calibrate_recording(rec))
    w, _ = _window(qtbot, ds, tmp_path)
    assert any(t.startswith("slow sensor (sacrum 10 Hz)") for t in w.notices.texts())


def _collected_in(qtbot) -> list[str]:
    """Leave a cycle in another thread ("stream") with enough allocations after it to pass
    generation 0's threshold; the names of the threads that collected it."""
    collected_in: list[str] = []
    kept: list[list] = []

    class Node:
        def __del__(self):
            collected_in.append(threading.current_thread().name)

    def worker():
        node = Node()
        node.me = node  # a cycle: only the collector frees it
        del node
        kept.extend([] for _ in range(20_000))

    t = threading.Thread(target=worker, name="stream")
    t.start()
    t.join()
    assert collected_in == []
    qtbot.waitUntil(lambda: len(collected_in) > 0, timeout=5_000)
    return collected_in


def test_cyclic_garbage_is_collected_on_the_gui_thread_also_after_the_window_closed(
    qtbot, tmp_path
):
    """The stream feeds the pipeline from its own thread; a garbage collection there destroyed
    Qt objects off the GUI thread and once hung this file's alarm test for good (``gui_gc``).
    Garbage left by another thread waits for the GUI thread's timer, while the window is open
    and after it closed (a closed window is Qt garbage until the GUI thread deletes it)."""
    rec = simulate_session(SimulationConfig(reps=1, seed=3, motion="ramps"))
    ds = DashboardSession(ThreadSource(rec, []), Settings(), calibration=calibrate_recording(rec))
    w, _ = _window(qtbot, ds, tmp_path)
    assert not gc.isenabled()
    assert _collected_in(qtbot) == [threading.main_thread().name]
    w.shutdown()
    w.shutdown()  # (idempotent)
    w.close()
    assert not gc.isenabled()
    assert _collected_in(qtbot) == [threading.main_thread().name]


def test_the_application_turns_on_gui_thread_collection():
    """``imu-monitor``'s QApplication collects on the GUI thread from its start (a fresh
    process: this one's tests turned it on already)."""
    code = (
        "import gc; from imu_monitor.ui.app import application; "
        "assert gc.isenabled(); application(); assert not gc.isenabled(); print('ok')"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_alarm_event_reaches_status_panel_sound_and_wearable(qtbot, kick, tmp_path):
    rec, cal = kick
    source = ThreadSource(rec, _chunks(rec))
    ds = DashboardSession(source, Settings(), calibration=cal)
    w, snd = _window(qtbot, ds, tmp_path)
    # the missing audio output is announced once, as a notice, not an error
    assert w.notices.texts() == [NO_AUDIO]
    shown = []  # what the panel says the moment the alarm is shown (the stream runs on fast)
    w.alarm_shown.connect(lambda d, _lat: shown.append(w.status_panel.headline.text()))
    with qtbot.waitSignal(w.alarm_shown, timeout=10_000) as blocker:
        source.go.set()
    direction, latency_s = blocker.args
    assert direction in ("flexion", "extension")
    assert shown[0] == direction.upper()
    # the latency is measured, not bounded here: the stream runs as fast as the CPU allows,
    # competing with the GUI thread for the GIL, and a busy machine took it past 1 s once;
    # benchmarks/bench_ui.py measures it at real-time rates (README, "Speed and latency")
    assert math.isfinite(latency_s) and latency_s >= 0.0
    assert [d for _, d in snd.requests][0] == direction
    # the Session raises the wearable alert from the stream's thread, which may do it just after
    # the event reached the window: the next frame shows it
    qtbot.waitUntil(lambda: len(source.alerts) > 0, timeout=5_000)
    assert source.alerts[0] == direction
    qtbot.waitUntil(lambda: "wearable alert sent" in w.status_panel.wearable.text(), timeout=5_000)
    assert not w.flash_overlay.isHidden()
    qtbot.waitUntil(source.done.is_set, timeout=20_000)
    alarms = [e for e in ds.pipeline.events if isinstance(e, AlarmStarted)]
    qtbot.waitUntil(lambda: len(snd.requests) == len(alarms), timeout=5_000)
    assert [d for _, d in snd.requests] == [a.direction for a in alarms]
    assert w.notices.texts() == [NO_AUDIO]  # still once
    reps = [e for e in ds.pipeline.events if isinstance(e, RepEnded)]
    counter = f"{ds.pipeline.sets_view().good_reps} / {len(reps)}"
    qtbot.waitUntil(lambda: w.reps_panel.count.text() == counter, timeout=5_000)
    w.shutdown()


def test_frame_shows_calibration_prompt_until_calibrated(qtbot, kick, tmp_path):
    rec, _ = kick
    source = ThreadSource(rec, [])
    ds = DashboardSession(source, Settings(), calibration_store=CalibrationStore(tmp_path))
    w, _ = _window(qtbot, ds, tmp_path)
    w.tick()
    assert w.status_panel.headline.text() == "CALIBRATING"
    assert w.status_panel.detail.text() == ds.pipeline.calibrator.prompt
    assert not w.status_panel.progress.isHidden()
    w.shutdown()


def test_muted_alarm_plays_nothing_but_still_shows(qtbot, kick, tmp_path):
    rec, cal = kick
    ds = DashboardSession(ThreadSource(rec, []), Settings(sound_on=False), calibration=cal)
    w, snd = _window(qtbot, ds, tmp_path, start=False)
    assert snd.muted and w.header.mute_btn.isChecked()
    ev = AlarmStarted(
        t_s=1.0, direction="extension", angle_deg=-12.0, limit_deg=-9.0, phase="hold", rep=0
    )
    w._on_event(ev, 0.0)
    assert w.status_panel.headline.text() == "EXTENSION"
    assert [d for _, d in snd.requests] == ["extension"]
    w.header.mute_btn.setChecked(False)
    assert ds.settings.sound_on and SettingsStore(tmp_path).load("default").sound_on


def test_tones_differ_by_direction():
    def beeps_and_freq(pcm):
        x = pcm.astype(float)
        on = np.abs(x) > 1000
        edges = int(np.sum(np.diff(on.astype(int)) == 1)) + int(on[0])
        spectrum = np.abs(np.fft.rfft(x))
        return edges, np.fft.rfftfreq(len(x), 1 / sound_mod.SAMPLE_RATE_HZ)[np.argmax(spectrum)]

    # count beeps on the envelope (zero crossings make many short 'off' runs: smooth first)
    def envelope(pcm):
        k = int(0.004 * sound_mod.SAMPLE_RATE_HZ)
        return np.convolve(np.abs(pcm.astype(float)), np.ones(k) / k, mode="same").astype(np.int64)

    flex = synthesize(sound_mod.TONES["flexion"])
    ext = synthesize(sound_mod.TONES["extension"])
    n_flex, f_flex = beeps_and_freq(envelope(flex)), beeps_and_freq(flex)[1]
    n_ext, f_ext = beeps_and_freq(envelope(ext)), beeps_and_freq(ext)[1]
    assert n_flex[0] == 1 and n_ext[0] == 2
    assert f_flex == pytest.approx(440, abs=5) and f_ext == pytest.approx(1320, abs=5)
    assert np.abs(flex).max() <= 32767


def test_tone_files_are_valid_wavs(tmp_path):
    files = sound_mod.tone_files(tmp_path)
    assert set(files) == {"flexion", "extension"}
    with wave.open(str(files["extension"])) as wf:
        assert wf.getframerate() == sound_mod.SAMPLE_RATE_HZ and wf.getsampwidth() == 2
        assert wf.getnframes() == len(synthesize(sound_mod.TONES["extension"]))


def test_sound_unavailable_is_announced_once(qtbot, tmp_path):
    snd = AlarmSound(output_problem=NO_AUDIO, cache_dir=tmp_path)
    with qtbot.waitSignal(snd.unavailable) as blocker:
        assert snd.play("flexion") is False
    assert blocker.args == [NO_AUDIO]
    with qtbot.assertNotEmitted(snd.unavailable):
        snd.play("extension")
    assert [d for _, d in snd.requests] == ["flexion", "extension"]


def test_settings_round_trip_and_per_user(tmp_path):
    store = SettingsStore(tmp_path)
    s = store.load()
    assert s.user == "default" and s.exercise == "back-kick"
    s.exercise = "hip-thrust"
    s.overrides().extension_deg = 4.5
    s.overrides("back-kick").dwell_s = 0.3
    s.sound_on = False
    store.save(s)
    other = Settings(user="coach:anna")
    store.save(other)
    assert store.last_user() == "coach:anna"
    back = store.load("default")
    assert back.exercise == "hip-thrust" and not back.sound_on
    ex = back.resolved_exercise()
    assert ex.limits.extension_deg == 4.5 and ex.limits.flexion_deg == 10.0
    assert back.resolved_exercise("back-kick").limits.dwell_s == 0.3
    assert store.load().user == "coach:anna"
    store.path("bad").write_text('{"exercise": "plank"}')
    with pytest.raises(SettingsError, match="plank"):
        store.load("bad")


def test_settings_dialog_changes_limits_and_are_remembered(qtbot, kick, tmp_path):
    rec, cal = kick
    store = SettingsStore(tmp_path)
    ds = DashboardSession(ThreadSource(rec, []), store.load(), calibration=cal)
    w, _ = _window(qtbot, ds, tmp_path, start=False)
    w.open_settings()
    dlg: SettingsDialog = w.settings_dialog
    dlg.flexion.setValue(12.5)
    dlg.down.setValue(2.5)
    dlg.findChild(type(dlg.sound)).setChecked(False)
    dlg._ok()
    assert ds.pipeline.limits.flexion_deg == 12.5
    assert ds.pipeline.exercise.tempo.down_s == 2.5
    assert ds.pipeline.calibration is cal  # same exercise: the neutral is kept
    assert w.plots.flex_line.value() == 12.5
    assert w.sound.muted
    again = SettingsStore(tmp_path).load()
    assert again.resolved_exercise().limits.flexion_deg == 12.5
    assert again.resolved_exercise().tempo.down_s == 2.5 and not again.sound_on


def test_the_device_calibration_folder_is_set_in_the_settings_and_applied_on_connect(
    qtbot, kick, tmp_path
):
    """Settings > Device calibration: a folder without calibrations keeps OK waiting and says
    why; a usable one is remembered, and the next wearables connected are calibrated with the
    files that fit them (the others said in a notice)."""
    from dataclasses import replace as with_

    from imu_monitor.app.calibrated_source import DeviceCalibratedSource
    from imu_monitor.processing.device_cal import measure
    from imu_monitor.simulator.procedure import simulate_procedure

    rec, cal = kick
    folder = tmp_path / "cal"
    folder.mkdir()
    store = SettingsStore(tmp_path / "settings")
    ds = DashboardSession(ThreadSource(rec, []), store.load(), calibration=cal)
    w, _ = _window(qtbot, ds, tmp_path, start=False)
    w.settings_store = store
    w.open_settings()
    dlg: SettingsDialog = w.settings_dialog
    assert "not device-calibrated: Devices… > Device calibration…" in dlg.device_cal_state.text()
    dlg.device_cal.setText(str(folder))  # empty: not usable yet
    assert "Cannot be used: none of sacrum.json" in dlg.device_cal_state.text()
    dlg._ok()
    assert dlg.isVisible() and ds.settings.device_cal_folder == ""
    proc = simulate_procedure(SimulationConfig(sensors=1, seed=2))
    dev = measure(proc.series["sacrum"], what="s", about={"device": "IMU-A"})
    (folder / "sacrum.json").write_text(dev.to_json())
    dlg.device_cal.setText(str(folder))
    dlg._show_device_cal()
    assert "Holds sacrum; applied when wearables next connect" in dlg.device_cal_state.text()
    dlg._ok()
    assert not dlg.isVisible()
    assert store.load().device_cal_folder == str(folder)
    assert any("applies when wearables next connect" in t for t in w.notices.texts())
    assert not isinstance(w.ds.source, DeviceCalibratedSource)  # the running session as it was

    measured = ThreadSource(rec, [])
    measured.sensors = {p: with_(i, device="IMU-A") for p, i in rec.sensors.items()}
    w.switch_source(measured)
    assert isinstance(w.ds.source, DeviceCalibratedSource) and w.ds.source.from_settings
    assert w.ds.source.device_calibration["sacrum"]["source"] == str(folder / "sacrum.json")
    w.tick()
    assert "device-calibrated" in w.header.subtitle.text()
    other = ThreadSource(rec, [])
    other.sensors = {p: with_(i, device="IMU-B") for p, i in rec.sensors.items()}
    w.switch_source(other)  # another wearable: connected, raw, and said
    assert w.ds.source is other
    assert any("measured on IMU-A, but the sacrum is IMU-B" in t for t in w.notices.texts())
    w.ds.stop()


def test_replay_controls_drive_the_replay_source(qtbot, kick):
    rec, _ = kick
    replay = ReplaySource(rec, speed=1.0, clock=lambda: 0.0, sleep=lambda s: None)
    starts = [r.t_start_s for r in rec.truth.reps]
    rc = ReplayControls(replay, starts)
    qtbot.addWidget(rc)
    assert rc.play_btn.text().endswith("Pause")
    rc.play_btn.click()
    assert replay.paused and rc.play_btn.text().endswith("Play")
    rc.play_btn.click()
    assert not replay.paused
    rc.speed.setCurrentIndex(rc.speed.findText("4×"))
    assert replay.speed == 4.0
    rc.speed.setCurrentIndex(rc.speed.findText("max"))
    assert replay.speed is None
    rc.slider.setValue(125)
    rc._slider_released()
    assert replay.position_s == pytest.approx(12.5)
    assert rc.position.text() == "0:12.5"
    rc.rep_box.setCurrentIndex(3)
    rc.rep_box.activated.emit(3)
    assert replay.position_s == pytest.approx(starts[2] - replay.t0_s)
    assert rc.rep_box.currentIndex() == 0
    assert rc.seek(1e6) == pytest.approx(replay.duration_s)
    assert rc.slider.value() == rc.slider.maximum()


def test_demo_screenshot_and_exit_after(tmp_path):
    # in a child process: a dashboard's own event loop that quit leaves this process's
    # QApplication unable to deliver queued signals to the windows of later tests
    out = tmp_path / "shots" / "demo.png"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "imu_monitor",
            "demo",
            "--reps",
            "2",
            "--faulty",
            "1",
            "--speed",
            "8",
            "--exit-after",
            "0.5",
            "--screenshot",
            str(out),
            "--config-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert proc.returncode == 0, proc.stderr
    from PySide6.QtGui import QImage

    img = QImage(str(out))
    assert img.width() >= 800 and img.height() >= 500


def test_reps_panel_shows_an_approximate_split_as_such(qtbot):
    ex = get_exercise("hip-thrust")
    panel = RepsPanel(ex.tempo, ex.limits)
    qtbot.addWidget(panel)

    def rep(i: int, approximate: bool) -> RepEnded:
        # a split far off the 1 / 2 / 2 s target
        t0 = 10.0 * i
        return RepEnded(
            t0 + 5,
            i,
            t0,
            t0 + 0.3,
            t0 + 4.0,
            0.3,
            3.7,
            1.0,
            0,
            9,
            True,
            False,
            judged="lockout",
            tempo_approximate=approximate,
        )

    panel.show_reps([rep(0, False)])
    assert panel.phase_labels[0].text() == "0.3 s" and panel.tempo_title.text() == TEMPO_TITLE
    assert theme.WARNING in panel.phase_labels[0].styleSheet()  # judged: too fast an 'up'
    panel.show_reps([rep(0, False), rep(1, True)])
    assert [lab.text() for lab in panel.phase_labels] == ["≈0.3 s", "≈3.7 s", "≈1.0 s"]
    assert "approximate" in panel.tempo_title.text()
    assert theme.WARNING not in panel.phase_labels[0].styleSheet()  # not judged
    assert "upper-lumbar sensor" in panel.phase_labels[1].toolTip()


def test_reps_panel_colours_the_phases_the_good_rep_count_faults(qtbot):
    """The last rep's up / hold / down are coloured by the rule the good-rep count judges
    (``good_reps.phase_verdicts``): up and down within the tolerance (0.5 s) of the 1 / 2 / 2 s
    target, a hold no shorter than its target; a longer hold is no fault."""
    ex = get_exercise("hip-thrust")
    panel = RepsPanel(ex.tempo, ex.limits, tolerance_s=ex.sets.tempo_tolerance_s)
    qtbot.addWidget(panel)
    # up 1.4 s (within 0.5 s), hold 2.6 s (long: fine), down 1.4 s (short by 0.1 s past it)
    rep = RepEnded(16.4, 0, 11.0, 12.4, 15.0, 1.4, 2.6, 1.4, 0, 3, False, False)

    def warned() -> list[bool]:
        return [theme.WARNING in lab.styleSheet() for lab in panel.phase_labels]

    panel.show_reps([rep])
    assert warned() == [False, False, True]
    judgement = judge_rep(rep, 0, ex.tempo, ex.limits, ex.sets)
    assert judgement.faults == ("down_short",)
    panel.set_targets(ex.tempo, ex.limits, 1.0)  # a coach's wider tolerance
    panel.show_reps([rep])
    assert warned() == [False, False, False]


def test_lsl_outlets_reopen_for_the_wearables_the_device_panel_switches_to(qtbot, kick, tmp_path):
    """``--lsl`` on the live dashboard: switching wearables closes the outlets fed by the old
    session and opens them for the new one's sensors (no wait for a recorder this time); user
    markers go to the new outlets."""
    rec, cal = kick
    opened = []

    class FakeOutlets:
        def __init__(self, sensors, pipeline, wait):
            self.sensors, self.pipeline, self.wait = sensors, pipeline, wait
            self.closed = False
            self.markers = []
            opened.append(self)

        def marker(self, m):
            self.markers.append(m)

        def close(self):
            self.closed = True

    ds = DashboardSession(ThreadSource(rec, []), Settings(), calibration=cal)
    w, _ = _window(qtbot, ds, tmp_path)
    outlets = DashboardLsl(FakeOutlets)
    outlets.open(ds, wait=True)
    w.session_listeners.append(outlets.open)
    other = simulate_session(SimulationConfig(sensors=2, reps=1, faulty=0, seed=4))
    w.switch_source(ThreadSource(other, []))
    first, second = opened
    assert first.closed and first.wait and first.pipeline is ds.pipeline
    assert not second.closed and not second.wait and second.pipeline is w.ds.pipeline
    assert set(second.sensors) == {"sacrum", "upper_lumbar"}
    assert w.ds.marker_listeners == [second.marker]
    outlets.close()
    assert second.closed and outlets.outlets is None
    w.ds.stop()


def test_three_sensor_replay_keeps_its_charts_with_many_notices(qtbot, tmp_path):
    """The replay of a 3-sensor file at 1400 x 860: the notices (no audio, the calibration's
    notes) take one line, the window does not grow, the excursion chart keeps its height."""
    from pathlib import Path

    from imu_monitor.sources.replay import ReplayThreadSource
    from imu_monitor.storage.recording import load_recording

    path = Path(__file__).resolve().parents[2] / "recordings" / "back-kick_faulty_3sensors.imr"
    rec = load_recording(path)
    cal = calibrate_recording(rec)
    replay = ReplaySource(rec, clock=lambda: 0.0, sleep=lambda s: None)
    ds = DashboardSession(ReplayThreadSource(replay), Settings(), calibration=cal, use_stored=False)
    w, _ = _window(qtbot, ds, tmp_path, replay=replay, start=False)
    w.notices.add_details(["calibration computed from the recording", *cal.notes])
    w.resize(1400, 860)
    w.show()
    qtbot.waitExposed(w)
    w.tick()
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    assert len(w.notices.texts()) >= 4
    assert w.notices.height() <= 2 * w.notices.line.fontMetrics().lineSpacing() + 16
    assert w.height() <= 860
    assert w.reps_panel.bars.height() >= 130
    assert "hip angle" in w.plots.segments.titleLabel.text
    assert w.replay_controls is not None and w.replay_controls.marks


def test_wearable_alert_line_expires_on_the_sample_clock(qtbot, tmp_path):
    rec = simulate_session(SimulationConfig(reps=3, faulty=0, seed=2, motion="ramps"))
    ds = DashboardSession(ThreadSource(rec, []), Settings(), calibration=calibrate_recording(rec))
    w, _ = _window(qtbot, ds, tmp_path, start=False)
    chunks = iter(_chunks(rec))

    def feed_until(t_s):
        while not ds.pipeline.status.t_s >= t_s:
            ds.pipeline.feed(next(chunks))
        w.tick()

    feed_until(12.0)
    ds.session.alerts_sent.append((11.0, "extension"))  # as Session records a sent alert
    w._show_wearable_alert()
    assert w.status_panel.wearable.text() == "wearable alert sent: extension, just now"
    feed_until(14.0)
    assert w.status_panel.wearable.text() == "wearable alert sent: extension, 3 s ago"
    feed_until(21.5)
    assert w.status_panel.wearable.text() == ""
    w.shutdown()


def test_excursion_chart_grows_with_a_tall_bar(qtbot):
    ex = get_exercise("back-kick")
    panel = RepsPanel(ex.tempo, ex.limits)
    qtbot.addWidget(panel)
    tall = RepEnded(5.0, 0, 0.0, 1.0, 2.0, 1.0, 0.5, 1.5, 3.0, 25.0, True, False)
    panel.show_reps([tall])
    tracker = SetTracker(ex)  # the cross marks a rep the counter does not count
    tracker.add(tall)
    panel.show_sets(tracker.view(MAX_BARS))
    lo, hi = panel.bars.getPlotItem().viewRange()[1]
    assert lo <= -25.0 and hi >= 25.0
    cross_y = panel.faults.data["y"][0]
    assert 25.0 < cross_y < hi  # the cross above the tallest bar, inside the chart


def test_record_and_mark_write_the_marker_and_show_it_on_the_trace(qtbot, kick, tmp_path):
    from imu_monitor.storage.recording import load_recording

    rec, cal = kick
    ds = DashboardSession(ThreadSource(rec, []), Settings(), calibration=cal)
    w, _ = _window(qtbot, ds, tmp_path, recordings_dir=tmp_path, start=False)
    sent = []  # the LSL outlets listen so (ui.app.run_live)
    ds.marker_listeners.append(sent.append)
    out = tmp_path / "session.imr"
    assert w.start_recording(out)
    assert w.header.record_btn.isChecked() and w.header.marker_btn.isEnabled()
    chunks = _chunks(rec)
    for c in chunks[:400]:
        ds.pipeline.feed(c)
    w.header.marker_btn.click()
    t_mark = w.recording.current_t_s()
    w.tick()
    shown = [ln for ln in w.plots.marker_lines if ln.isVisible()]
    assert [ln.label.toPlainText() for ln in shown] == ["note"]
    w.header.record_btn.click()  # stop
    assert w.recorder is None and not w.header.marker_btn.isEnabled()
    back = load_recording(out)
    assert [(m.kind, m.t_s) for m in back.markers] == [("note", pytest.approx(t_mark))]
    assert [(m.kind, m.t_s) for m in sent] == [("note", pytest.approx(t_mark))]
    assert any(t.startswith("recording saved") for t in w.notices.texts())
    w.shutdown()


def test_a_failed_recording_is_announced_and_the_button_shows_it_stopped(qtbot, kick, tmp_path):
    rec, cal = kick
    ds = DashboardSession(ThreadSource(rec, []), Settings(), calibration=cal)
    w, _ = _window(qtbot, ds, tmp_path, recordings_dir=tmp_path, start=False)
    assert w.start_recording(tmp_path / "session.imr")
    chunks = _chunks(rec)
    for c in chunks[:50]:
        ds.pipeline.feed(c)

    def disk_full(chunk):
        raise OSError(28, "No space left on device")

    w.recorder.write_chunk = disk_full
    with qtbot.waitSignal(
        w.bridge.event,
        timeout=5_000,
        check_params_cb=lambda ev, _t: isinstance(ev, RecordingFailed),
    ):
        for c in chunks[50:60]:
            ds.pipeline.feed(c)
    qtbot.waitUntil(lambda: not w.header.record_btn.isChecked(), timeout=5_000)
    assert w.recorder is None and not w.header.marker_btn.isEnabled()
    assert any("RECORDING STOPPED" in t for t in w.notices.texts()), w.notices.texts()
    w.shutdown()


def test_switched_wearables_keep_the_device_calibration_or_are_refused(qtbot, kick, tmp_path):
    """``live --device-cal``: the device panel's Connect keeps the calibrations on the new
    source when its wearables are the ones measured, and refuses (naming both) when not."""
    from dataclasses import replace as with_

    from imu_monitor.app.calibrated_source import DeviceCalibratedSource
    from imu_monitor.errors import ImuMonitorError
    from imu_monitor.model import SensorInfo
    from imu_monitor.processing.device_cal import measure
    from imu_monitor.simulator.procedure import simulate_procedure

    rec, cal = kick
    proc = simulate_procedure(SimulationConfig(sensors=1, seed=2))
    dev = measure(proc.series["sacrum"], what="s", about={"device": "IMU-A"})
    named = {p: with_(i, device="IMU-A") for p, i in rec.sensors.items()}
    first = ThreadSource(rec, [])
    first.sensors = named
    ds = DashboardSession(
        DeviceCalibratedSource(first, {"sacrum": (dev, "cal/sacrum.json")}),
        Settings(),
        calibration=cal,
    )
    w, _ = _window(qtbot, ds, tmp_path)
    same = ThreadSource(rec, [])
    same.sensors = dict(named)
    w.switch_source(same)
    assert isinstance(w.ds.source, DeviceCalibratedSource)
    assert w.ds.source.device_calibration["sacrum"]["source"] == "cal/sacrum.json"
    other = ThreadSource(rec, [])
    other.sensors = {"sacrum": SensorInfo("sacrum", "diy_imu", "IMU-B")}
    with pytest.raises(ImuMonitorError, match="measured on IMU-A, but the sacrum is IMU-B"):
        w.switch_source(other)
    assert w.ds.source.device_calibration  # the running session was left as it was
    thigh_only = ThreadSource(rec, [])
    thigh_only.sensors = {"thigh": SensorInfo("thigh", "diy_imu", "IMU-C")}
    assert w.ds.source.carry_to(thigh_only) is thigh_only  # nothing of it to calibrate
    w.ds.stop()
