"""The dashboard window: live traces, the big status, reps and tempo, alarms you notice.

Data flow: the source's thread feeds the pipeline; pipeline events reach this window through
``EventBridge`` (a ``GuiInbox``: no Qt call in the source's thread; slots run in the GUI
thread); a frame timer pulls ``pipeline.window`` / ``pipeline.status`` / ``pipeline.calibrator``
and redraws. The window never computes physics and never blocks: an alarm event plays the
sound, switches the status panel and flashes the screen in the same slot call.

The parts live in their own modules: the top bar (``header``), the sensor line
(``sensor_strip``), the Record/Mark logic (``recording_controls``), the alarm flash (``flash``);
this module lays them out, wires them to the session and runs the frame. (Over 400 lines: the
window's slots each wire one event to its panels; split, each would reach back into the window.
The users box and the History view keep their logic in ``user_picker`` and ``history_view``.)
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QElapsedTimer, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QMainWindow, QVBoxLayout, QWidget

from imu_monitor.app.calibrated_source import (
    DeviceCalibratedSource,
    device_cal_advice,
    settings_calibrated,
)
from imu_monitor.app.dashboard import DashboardSession
from imu_monitor.errors import ImuMonitorError
from imu_monitor.events import (
    NOTICE_EVENTS,
    AlarmStarted,
    Event,
    MonitorMode,
    RecordingFailed,
    RepEnded,
    RepStarted,
)
from imu_monitor.processing.quality import slow_rate_note
from imu_monitor.processing.sets import SET_MARKERS
from imu_monitor.processing.start_gate import PROMPT as START_PROMPT
from imu_monitor.settings import Settings
from imu_monitor.sources.base import SourceState, SourceStatus
from imu_monitor.storage.history import HistoryStore
from imu_monitor.storage.stores import SettingsStore
from imu_monitor.ui import theme
from imu_monitor.ui.bridge import EventBridge
from imu_monitor.ui.calibration_wizard import CalibrationWizard
from imu_monitor.ui.flash import FlashOverlay
from imu_monitor.ui.gui_gc import collect_on_gui_thread
from imu_monitor.ui.header import HeaderBar, session_summary
from imu_monitor.ui.history_view import HistoryView
from imu_monitor.ui.notices import NoticeBar, calibration_notice
from imu_monitor.ui.plots import LivePlots
from imu_monitor.ui.recording_controls import RecordingControls
from imu_monitor.ui.replay_controls import ReplayControls, marker_label
from imu_monitor.ui.report_action import ReportSaver
from imu_monitor.ui.reps_panel import MAX_BARS, RepsPanel
from imu_monitor.ui.sensor_strip import SensorStrip
from imu_monitor.ui.settings_dialog import SettingsDialog
from imu_monitor.ui.sound import AlarmSound
from imu_monitor.ui.status_panel import (
    StatusPanel,
    StatusView,
    status_view_for,
    wearable_alert_text,
)
from imu_monitor.ui.tempo_cue import StreamClock, TempoCue, tempo_cue_notice
from imu_monitor.ui.user_picker import UserControls

log = logging.getLogger(__name__)

WINDOW_S = 10.0
"""Seconds of trace shown."""
FRAME_HZ = 60.0


class DashboardWindow(QMainWindow):
    """The main window over a ``DashboardSession``.

    ``sound``: the alarm sound (a new ``AlarmSound`` when None). ``settings_store``: where
    settings changes are saved. ``replay``: a ``ReplaySource`` for the replay controls.
    ``rep_starts``: rep start times (recording clock) for "jump to rep".
    ``recordings_dir``: where the record button writes. ``device_panel_factory``: makes the
    Devices dialog (live sessions). ``history``: the session history (recordings are indexed
    into it when they end; the History view and the user box show it). ``start``: start the
    session at once.
    """

    alarm_shown = Signal(str, float)
    """(direction, seconds from the event to the status panel showing it)."""

    def __init__(
        self,
        ds: DashboardSession,
        *,
        sound: AlarmSound | None = None,
        settings_store: SettingsStore | None = None,
        replay: Any | None = None,
        rep_starts: list[float] | None = None,
        recordings_dir: Path | None = None,
        device_panel_factory: Callable[[QWidget], QWidget] | None = None,
        history: HistoryStore | None = None,
        title: str = "",
        window_s: float = WINDOW_S,
        frame_hz: float = FRAME_HZ,
        start: bool = True,
    ) -> None:
        super().__init__()
        self.ds = ds
        self.settings_store = settings_store
        self.replay = replay
        self.rep_starts = list(rep_starts or [])
        self.device_panel_factory = device_panel_factory
        self.history = history
        self.history_view: HistoryView | None = None
        self.window_s = window_s
        self.alarm_latencies_s: deque[float] = deque(maxlen=1000)
        self.sound_latencies_s: deque[float] = deque(maxlen=1000)
        self.frames = 0
        self._frame_busy_s = 0.0
        self._generation = -1
        self._calibration_seen: Any | None = None
        self._alerts_seen = 0
        self._wearable_alert: tuple[float, str] | None = None
        """(sample time, direction) of the last wearable alert while its line is shown."""
        self.wizard: CalibrationWizard | None = None
        self.settings_dialog: SettingsDialog | None = None
        self.device_dialog: QWidget | None = None
        self._measured_here = False
        """A device calibration measured in this dashboard was chosen: the settings' folder
        then takes the place of ``live --device-cal`` when wearables connect."""

        self.setWindowTitle(f"imu-monitor — {title}" if title else "imu-monitor")
        self.setStyleSheet(theme.stylesheet())
        self.resize(1400, 860)
        self._build_layout(recording=replay is None and recordings_dir is not None)
        self.recording = RecordingControls(
            self.header.record_btn,
            self.header.marker_btn,
            session=lambda: self.ds,
            recordings_dir=recordings_dir,
            notify=self.notices.notify,
            history=history,
            parent=self,
        )
        self.users: UserControls | None = None
        if settings_store is not None and replay is None:
            self.users = UserControls(
                self.header.user_box,
                settings_store=settings_store,
                history=history,
                settings=lambda: self.ds.settings,
                apply=self.apply_settings,
                before_switch=lambda: self.set_recording(False),
                notify=self.notices.notify,
                parent=self,
            )
            self.users.switched.connect(self._user_switched)
        self.recording.marked.connect(self._marked)
        self.report = ReportSaver(
            self.header.report_btn,
            exercise=lambda: self.ds.pipeline.exercise,
            notify=self.notices.notify,
            parent=self,
        )
        self.recording.saved.connect(lambda path: self.report.set_session(path, path.name))
        self.recording.recording_changed.connect(self.header.show_recording)
        if replay is not None and getattr(replay, "rec", None) is not None:
            self.report.set_session(replay.rec, title.removeprefix("replay: ") or "recording")
        self._init_sound(sound)
        self.tempo_cue = TempoCue(self._play_cue, self)
        self._stream_clock = StreamClock()
        """The stream's pace, noted each frame (the cue's ticks follow a fast replay)."""
        self.set_tempo_cue(ds.settings.tempo_cue, save=False)
        self.bridge = EventBridge(self)
        self.bridge.connect_event(self._on_event)
        self.bridge.connect_status(self._on_source_status)
        self.session_listeners: list[Callable[[DashboardSession], None]] = []
        """Called with the new session when the device panel switches wearables (the LSL
        outlets reopen for its sensors)."""
        self._attach(ds)
        self._connect_actions()
        self._refresh_titles()
        collect_on_gui_thread()  # the stream's threads must not destroy Qt objects
        self.frame_timer = QTimer(self)
        self.frame_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.frame_timer.setInterval(max(1, int(1000.0 / frame_hz)))  # 16 ms: >= 60 ticks/s
        self.frame_timer.timeout.connect(self.tick)
        self.frame_timer.start()
        if start:
            ds.start()

    # -- construction -------------------------------------------------------------------------
    def _build_layout(self, *, recording: bool) -> None:
        """Header, notices, plots | status + reps, sensor line, replay controls; the flash."""
        central = QWidget()
        self.setCentralWidget(central)
        root = QVBoxLayout(central)
        root.setContentsMargins(12, 10, 12, 10)
        root.setSpacing(8)
        self.header = HeaderBar(
            devices=self.device_panel_factory is not None,
            recording=recording,
            users=self.settings_store is not None and self.replay is None,
            history=self.history is not None,
        )
        root.addWidget(self.header)
        self.notices = NoticeBar()
        root.addWidget(self.notices)
        self._body = QHBoxLayout()
        root.addLayout(self._body, 1)
        self.plots = self._make_plots()
        self._body.addWidget(self.plots, 5)
        right = QVBoxLayout()
        self._body.addLayout(right, 4)
        self.status_panel = StatusPanel()
        right.addWidget(self.status_panel, 3)
        p = self.ds.pipeline
        self.reps_panel = RepsPanel(
            p.exercise.tempo, p.limits, tolerance_s=p.exercise.sets.tempo_tolerance_s
        )
        right.addWidget(self.reps_panel, 3)
        self.sensor_strip = SensorStrip()
        root.addWidget(self.sensor_strip)
        self.replay_controls: ReplayControls | None = None
        if self.replay is not None:
            self.replay_controls = ReplayControls(self.replay, self.rep_starts)
            root.addWidget(self.replay_controls)
            markers = getattr(self.replay.rec, "markers", [])
            self.plots.set_markers([(m.t_s, marker_label(m.kind, m.data)) for m in markers])
        self.flash_overlay = FlashOverlay(central)

    def _make_plots(self) -> LivePlots:
        return LivePlots.for_pipeline(self.ds.pipeline, window_s=self.window_s)

    def _init_sound(self, sound: AlarmSound | None) -> None:
        self.sound = sound if sound is not None else AlarmSound(self)
        self.sound.unavailable.connect(self.notices.notify)
        self.sound.muted = not self.ds.settings.sound_on
        self.header.mute_btn.setChecked(not self.ds.settings.sound_on)
        self.header.show_muted(self.sound.muted)
        self.sound.announce()

    def _attach(self, ds: DashboardSession) -> None:
        """Receive ``ds``'s events and source states (through the bridge, in the GUI thread)."""
        ds.pipeline.add_listener(self.bridge.listener)
        ds.status_listeners.append(self.bridge.on_status)

    def _connect_actions(self) -> None:
        h = self.header
        h.calibrate_btn.clicked.connect(self.open_calibration_wizard)
        h.settings_btn.clicked.connect(self.open_settings)
        h.devices_btn.clicked.connect(self.open_devices)
        h.history_btn.clicked.connect(self.open_history)
        h.mute_btn.toggled.connect(self.set_muted)

    def switch_source(self, source: Any) -> None:
        """Monitor another (opened) source: the device panel's Connect. The old session stops
        and its devices disconnect; settings and stores carry over, a recording is closed."""
        old = self.ds
        carried = isinstance(old.source, DeviceCalibratedSource) and not old.source.from_settings
        if carried and not self._measured_here:
            # live --device-cal: the same calibrations (refused, naming both, if a wearable is
            # not the one measured)
            source = old.source.carry_to(source)
        else:  # the settings' folder, read afresh for these wearables; what does not fit is said
            source, notes = settings_calibrated(source, old.settings.device_cal_folder)
            for note in notes:
                self.notices.notify(note, action=True)
        if self.recorder is not None:
            self.set_recording(False)
        old.stop()
        if old.source is not source and hasattr(old.source, "stop"):
            old.source.stop()
        ds = DashboardSession(
            source,
            old.settings,
            calibration_store=old.calibration_store,
            wearable_alerts=old.session.wearable_alerts,
            use_stored=old.use_stored,
            history_s=old.history_s,
        )
        self.ds = ds
        self._attach(ds)
        if list(ds.pipeline.placements) != list(self.plots.placements):
            new = self._make_plots()
            self._body.replaceWidget(self.plots, new)
            self.plots.deleteLater()
            self.plots = new
        self._generation = -1
        self._alerts_seen = 0
        self._wearable_alert = None
        self.sensor_strip.reset()
        for fn in self.session_listeners:
            fn(ds)
        ds.start()
        self.tick()

    # -- events (GUI thread, queued from the source's thread) ---------------------------------
    def _marked(self, m: Any) -> None:
        self.plots.add_marker(m.t_s, marker_label(m.kind, m.data))
        if m.kind in SET_MARKERS:  # a new set from here (as the batch analysis splits it)
            self.ds.pipeline.mark_set(m.t_s, m.kind)

    def _play_cue(self, phase: str) -> None:
        """One tick of the tempo cue: the computer's sound and the wearable's tick alert."""
        self.sound.play_cue(phase)
        self.ds.send_tick()

    def _on_event(self, ev: Event, t_emitted: float) -> None:
        if isinstance(ev, AlarmStarted):
            self.sound.play(ev.direction)  # first: the sound matters most
            self.sound_latencies_s.append(time.perf_counter() - t_emitted)
            self.status_panel.show_view(StatusView("alarm", ev.direction, ev.angle_deg))
            self.flash_overlay.flash(
                theme.EXTENSION if ev.direction == "extension" else theme.FLEXION
            )
            latency = time.perf_counter() - t_emitted
            self.alarm_latencies_s.append(latency)
            self._show_wearable_alert()
            self.alarm_shown.emit(ev.direction, latency)
        elif isinstance(ev, RepStarted):
            p = self.ds.pipeline
            late = float(p.status.t_s) - ev.t_s
            self.tempo_cue.rep_started(
                p.exercise.tempo, late if late > 0 else 0.0, self._stream_clock.speed
            )
        elif isinstance(ev, RepEnded):
            self.tempo_cue.cancel()  # (a rep over before its ticks: no tick into the rest)
            self.reps_panel.show_reps(list(self.ds.pipeline.reps))
            self.reps_panel.show_sets(self.ds.pipeline.sets_view(MAX_BARS))
        elif isinstance(ev, RecordingFailed):
            self.recording.recording_failed(ev.notice())
        elif isinstance(ev, NOTICE_EVENTS):  # (a failed recording is said above)
            self.notices.notify(ev.notice())

    def _show_wearable_alert(self) -> None:
        sent = self.ds.session.alerts_sent
        if len(sent) > self._alerts_seen:
            self._alerts_seen = len(sent)
            self._wearable_alert = (float(sent[-1][0]), str(sent[-1][1]))
            self.status_panel.show_wearable_alert(
                wearable_alert_text(self._wearable_alert, self._wearable_alert[0])
            )

    def _on_source_status(self, status: SourceStatus) -> None:
        if status.state == SourceState.JUMP:  # a replay seek or loop: not a link state
            return
        self.sensor_strip.set_state(status)
        if status.state == SourceState.FAILED:
            self.notices.notify(status.message or f"{status.sensor}: {status.state}", action=True)

    # -- frame --------------------------------------------------------------------------------
    def tick(self) -> None:
        """One frame: pull the latest window and status, redraw (cheap; never blocks)."""
        timer = QElapsedTimer()
        timer.start()
        p = self.ds.pipeline
        if p.generation != self._generation:
            self._generation = p.generation
            self._stream_clock = StreamClock()  # a new pipeline: its clock may start elsewhere
            self.reps_panel.set_targets(
                p.exercise.tempo, p.limits, p.exercise.sets.tempo_tolerance_s
            )
            self.plots.set_limits(p.limits, judge_flexion=p.mode != "lockout")
            for m in getattr(self.replay, "rec", None) and self.replay.rec.markers or []:
                p.mark_set(m.t_s, m.kind)  # a replay's sets split at its markers too
            self.reps_panel.show_reps(list(p.reps))
            self.reps_panel.show_sets(p.sets_view(MAX_BARS))
            self._calibration_seen = p.calibration
            self._refresh_titles()
        self._stream_clock.note(time.perf_counter(), float(p.status.t_s))
        self.status_panel.show_view(status_view_for(self.ds.pipeline))
        # the alert is sent from the stream's thread, which may record it after the alarm event
        # reached this thread (listener order): the frame picks it up then
        self._show_wearable_alert()
        if self._wearable_alert is not None:
            text = wearable_alert_text(self._wearable_alert, float(p.status.t_s))
            self.status_panel.show_wearable_alert(text)
            if not text:
                self._wearable_alert = None
        cal = p.calibration
        if cal is not None and cal is not self._calibration_seen:
            self._calibration_seen = cal
            self._on_new_calibration(cal)
        self.plots.update_window(p.window(self.window_s))
        self.sensor_strip.refresh(self.ds, time.monotonic())
        if self.replay_controls is not None:
            self.replay_controls.refresh()
        self.frames += 1
        self._frame_busy_s += timer.nsecsElapsed() * 1e-9

    def _on_new_calibration(self, cal: Any) -> None:
        try:
            path = self.ds.save_calibration(cal)
        except Exception as e:
            self.notices.notify(f"calibration could not be saved: {e}", action=True)
            return
        if path:
            log.info("calibration saved to %s", path)
        self._refresh_titles()

    def _refresh_titles(self) -> None:
        p = self.ds.pipeline
        cal = p.calibration
        how = "" if cal is None else f"neutral: {cal.method}, {cal.created_utc} (UTC)"
        # live --device-cal, or a replay of a recording whose samples carry one
        device_cal = getattr(self.ds.source, "device_calibration", None)
        bits = session_summary(p, self.ds.settings.user, device_cal or ())
        self.header.show_session(p.exercise.title, bits, how)
        if p.mode == "lockout":
            self.notices.notify(p.exercise.one_sensor_note)
        slow = slow_rate_note({name: s.rate_hz for name, s in p.sensors.items()})
        if slow is not None:
            self.notices.notify(slow)
        advice = calibration_notice(cal)
        if advice is not None:
            self.notices.notify(advice, action=True, details=cal.notes)
        if self.device_panel_factory is not None:  # wearables, not a recording
            sensors = self.ds.source.sensors
            turns = p.exercise.one_sensor_mode == MonitorMode.LOCKOUT  # a hip thrust or bridge
            device_advice = device_cal_advice(sensors, device_cal, turns)
            if device_advice is not None:
                line, why = device_advice
                self.notices.notify(line, action=True, details=[why])
        if p.waiting_for_start:  # a stored neutral: nothing is judged until its posture is held
            self.notices.notify(START_PROMPT.capitalize())

    # -- actions ------------------------------------------------------------------------------
    def set_muted(self, muted: bool) -> None:
        self.sound.muted = muted
        if muted:
            self.sound.stop()
        self.ds.settings.sound_on = not muted
        self.header.show_muted(muted)
        self._save_settings()

    def set_tempo_cue(self, on: bool, *, save: bool = True) -> None:
        """Turn the tempo cue on or off; say where its ticks go (the computer's sound, the
        wearable) and when neither can play them."""
        self.tempo_cue.enabled = on
        self.ds.settings.tempo_cue = on
        if not on:
            self.tempo_cue.cancel()
        else:
            self.notices.notify(
                tempo_cue_notice(self.sound.problem, self.ds.wearable_tick_supported())
            )
        if save:
            self._save_settings()

    def _save_settings(self) -> None:
        if self.settings_store is not None:
            try:
                self.settings_store.save(self.ds.settings)
            except OSError as e:
                self.notices.notify(f"settings could not be saved: {e}", action=True)

    def apply_settings(
        self,
        settings: Settings,
        *,
        when_folder_applies: str = "it applies when wearables next connect (Devices, or the "
        "next start)",
    ) -> None:
        """New settings from the dialog: save them and swap the pipeline."""
        folder_before = self.ds.settings.device_cal_folder
        self.ds.apply_settings(settings)
        if settings.device_cal_folder != folder_before:
            self.notices.notify(
                "device calibration folder "
                + (
                    f"set to {settings.device_cal_folder}"
                    if settings.device_cal_folder
                    else "cleared"
                )
                + f": {when_folder_applies}"
            )
        self.sound.muted = not settings.sound_on
        self.header.mute_btn.setChecked(not settings.sound_on)
        if settings.tempo_cue != self.tempo_cue.enabled:
            self.set_tempo_cue(settings.tempo_cue, save=False)
        self._save_settings()
        self.tick()

    def pause_for_device_cal(self) -> None:
        """The wearables leave the session to do their device calibration: a recording is
        closed and the session stops (its wearables disconnect) until ``switch_source``."""
        if self.recorder is not None:
            self.set_recording(False)
        self.ds.stop()
        if hasattr(self.ds.source, "stop"):
            self.ds.source.stop()
        self.notices.notify(
            "the wearables are doing their device calibration: the session is paused until "
            "they connect again"
        )

    def use_device_cal_folder(self, folder: Path) -> None:
        """Remember ``folder`` (just measured) as the settings' device calibration."""
        s = Settings.from_dict(self.ds.settings.to_dict())
        s.device_cal_folder = str(folder)
        self._measured_here = True
        self.apply_settings(s, when_folder_applies="the wearables reconnect calibrated with it")

    def open_settings(self) -> None:
        self.settings_dialog = SettingsDialog(self.ds.settings, self)
        self.settings_dialog.accepted_settings.connect(self.apply_settings)
        self.settings_dialog.show()

    def open_calibration_wizard(self) -> None:
        self.wizard = CalibrationWizard(self.ds, self)
        self.wizard.exercise_chosen.connect(self._wizard_exercise)
        self.wizard.show()

    def _wizard_exercise(self, name: str) -> None:
        if name != self.ds.settings.exercise:
            s = Settings.from_dict(self.ds.settings.to_dict())
            s.exercise = name
            self.apply_settings(s)

    def open_history(self) -> None:
        if self.history is None:
            return
        s = self.ds.settings
        try:
            self.history_view = HistoryView(self.history, s.user, s.exercise, self)
        except ImuMonitorError as e:  # a database that cannot be used: say so, go on
            self.notices.notify(str(e), action=True)
            return
        self.history_view.show()

    def _user_switched(self, user: str) -> None:
        if self.history_view is not None:
            self.history_view.show_user(user, self.ds.settings.exercise)

    def open_devices(self) -> None:
        if self.device_panel_factory is None:
            return
        self.device_dialog = self.device_panel_factory(self)
        self.device_dialog.show()

    # recording: the window's face of ``RecordingControls`` (the CLI starts one with --record)
    @property
    def recorder(self) -> Any | None:
        return self.recording.recorder

    def set_recording(self, on: bool) -> None:
        self.recording.set_recording(on)

    def start_recording(self, path: Path) -> bool:
        return self.recording.start_recording(path)

    def add_marker(self, kind: str, **data: Any) -> None:
        self.recording.add_marker(kind, **data)

    # -- Qt -----------------------------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt name
        super().resizeEvent(event)
        self.flash_overlay.setGeometry(self.centralWidget().rect())

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt name
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop the frame timer, the session and any recording (idempotent)."""
        self.frame_timer.stop()
        if self.recorder is not None:
            self.set_recording(False)
        if hasattr(self.device_dialog, "shutdown"):  # a device calibration under way
            self.device_dialog.shutdown()
        self.ds.stop()
        self.bridge.close()
        self.sound.stop()
        self.report.shutdown()

    def busy_fraction(self, wall_s: float) -> float:
        """Share of ``wall_s`` the frame ticks took (benchmark figure)."""
        return self._frame_busy_s / wall_s if wall_s > 0 else float("nan")
