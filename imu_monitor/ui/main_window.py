"""The dashboard window: live traces, the big status, reps and tempo, alarms you notice.

Data flow: the source's thread feeds the pipeline; pipeline events reach this window through
``EventBridge`` (queued signals, so slots run in the GUI thread); a frame timer pulls
``pipeline.window`` / ``pipeline.status`` / ``pipeline.calibrator`` and redraws. The window never
computes physics and never blocks: an alarm event plays the sound, switches the status panel and
flashes the screen in the same slot call.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QElapsedTimer, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from imu_monitor.app.dashboard import DashboardSession
from imu_monitor.events import AlarmStarted, Event, RepEnded
from imu_monitor.model import Marker
from imu_monitor.settings import Settings
from imu_monitor.storage.stores import SettingsStore
from imu_monitor.ui import theme
from imu_monitor.ui.bridge import EventBridge
from imu_monitor.ui.notices import NoticeBar
from imu_monitor.ui.plots import LivePlots
from imu_monitor.ui.reps_panel import RepsPanel
from imu_monitor.ui.sound import AlarmSound
from imu_monitor.ui.status_panel import StatusPanel, StatusView

log = logging.getLogger(__name__)

WINDOW_S = 10.0
"""Seconds of trace shown."""
FRAME_HZ = 60.0
SENSOR_STRIP_PERIOD_S = 0.5


def format_link_stats(stats: dict[str, dict[str, Any]]) -> str:
    """One line per sensor from ``BleSource.stats()``: state, rate, loss, reconnects."""
    parts = []
    for placement, st in stats.items():
        text = (
            f"{placement.replace('_', ' ')} ({st.get('device') or st.get('address', '')}): "
            f"{st.get('state', '?')}, {st.get('effective_rate_hz', 0.0):.0f} Hz, "
            f"loss {100.0 * st.get('loss_fraction', 0.0):.1f} %"
        )
        if st.get("reconnects"):
            text += f", {st['reconnects']} reconnects"
        if st.get("battery_pct") is not None:
            low = " LOW" if st["battery_pct"] < 15 else ""
            text += f", battery {st['battery_pct']} %{low}"
        parts.append(text)
    return "    ".join(parts)


class FlashOverlay(QWidget):
    """A translucent full-window flash in the alarm direction's colour (mouse passes through)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.hide()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)

    def flash(self, colour: str, duration_ms: int = theme.FLASH_MS) -> None:
        c = colour.lstrip("#")
        r, g, b = (int(c[i : i + 2], 16) for i in (0, 2, 4))
        self.setStyleSheet(f"background: rgba({r},{g},{b},150);")
        self.setGeometry(self.parentWidget().rect())
        self.show()
        self.raise_()
        self._timer.start(duration_ms)


class DashboardWindow(QMainWindow):
    """The main window over a ``DashboardSession``.

    ``sound``: the alarm sound (a new ``AlarmSound`` when None). ``settings_store``: where
    settings changes are saved. ``replay``: a ``ReplaySource`` for the replay controls.
    ``rep_starts``: rep start times (recording clock) for "jump to rep".
    ``recordings_dir``: where the record button writes. ``clock``: perf_counter-like seconds,
    for the latency figures. ``start``: start the session at once.
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
        self.recordings_dir = recordings_dir
        self.device_panel_factory = device_panel_factory
        self.window_s = window_s
        self.alarm_latencies_s: deque[float] = deque(maxlen=1000)
        self.sound_latencies_s: deque[float] = deque(maxlen=1000)
        self.recorder: Any | None = None
        self._generation = -1
        self._calibration_seen: Any | None = None
        self._alerts_seen = 0
        self._last_strip = -math.inf
        self._samples_prev: dict[str, tuple[float, int]] = {}
        self._frame_busy_s = 0.0
        self.frames = 0

        self.setWindowTitle(f"imu-monitor — {title}" if title else "imu-monitor")
        self.setStyleSheet(theme.stylesheet())
        self.resize(1400, 860)
        central = QWidget()
        self.setCentralWidget(central)
        root = QVBoxLayout(central)
        root.setContentsMargins(12, 10, 12, 10)
        root.setSpacing(8)

        # top bar: what is monitored, and the actions
        top = QHBoxLayout()
        self.title = QLabel()
        self.title.setObjectName("title")
        self.subtitle = QLabel()
        self.subtitle.setObjectName("dim")
        self.subtitle.setWordWrap(True)
        self.subtitle.setMinimumWidth(200)
        tcol = QVBoxLayout()
        tcol.addWidget(self.title)
        tcol.addWidget(self.subtitle)
        top.addLayout(tcol, 1)
        self.calibrate_btn = QPushButton("Calibrate…")
        self.settings_btn = QPushButton("Settings…")
        self.devices_btn = QPushButton("Devices…")
        self.record_btn = QPushButton("● Record")
        self.record_btn.setCheckable(True)
        self.marker_btn = QPushButton("Mark")
        self.marker_btn.setEnabled(False)
        self.mute_btn = QPushButton("Sound on")
        self.mute_btn.setCheckable(True)
        for b in (
            self.calibrate_btn,
            self.settings_btn,
            self.devices_btn,
            self.record_btn,
            self.marker_btn,
            self.mute_btn,
        ):
            top.addWidget(b)
        self.devices_btn.setVisible(device_panel_factory is not None)
        self.record_btn.setVisible(replay is None and recordings_dir is not None)
        self.marker_btn.setVisible(replay is None and recordings_dir is not None)
        self.marker_btn.setToolTip("add a marker to the recording at the current time")
        root.addLayout(top)

        self.notices = NoticeBar()
        root.addWidget(self.notices)

        body = QHBoxLayout()
        root.addLayout(body, 1)
        self._body = body
        p = ds.pipeline
        ex = p.exercise
        self.plots = self._make_plots()
        body.addWidget(self.plots, 5)
        right = QVBoxLayout()
        body.addLayout(right, 4)
        self.status_panel = StatusPanel()
        right.addWidget(self.status_panel, 3)
        self.reps_panel = RepsPanel(ex.tempo, p.limits)
        right.addWidget(self.reps_panel, 3)

        self.sensor_strip = QLabel("")
        self.sensor_strip.setObjectName("dim")
        self.sensor_strip.setWordWrap(True)
        self.sensor_strip.setMinimumWidth(200)
        root.addWidget(self.sensor_strip)

        self.replay_controls = None
        if replay is not None:
            from imu_monitor.ui.replay_controls import ReplayControls

            self.replay_controls = ReplayControls(replay, self.rep_starts)
            root.addWidget(self.replay_controls)

        self.flash_overlay = FlashOverlay(central)

        # sound
        self.sound = sound if sound is not None else AlarmSound(self)
        self.sound.unavailable.connect(self.notices.notify)
        self.sound.muted = not ds.settings.sound_on
        self.mute_btn.setChecked(not ds.settings.sound_on)
        self._update_mute_text()
        self.sound.announce()

        # threads -> GUI
        self.bridge = EventBridge(self)
        self.bridge.connect_event(self._on_event)
        self.bridge.connect_status(self._on_source_status)
        ds.pipeline.add_listener(self.bridge.listener)
        ds.status_listeners.append(self.bridge.on_status)
        self.source_states: dict[str, tuple[str, dict]] = {}

        self.calibrate_btn.clicked.connect(self.open_calibration_wizard)
        self.settings_btn.clicked.connect(self.open_settings)
        self.devices_btn.clicked.connect(self.open_devices)
        self.mute_btn.toggled.connect(self.set_muted)
        self.record_btn.toggled.connect(self.set_recording)
        self.marker_btn.clicked.connect(lambda: self.add_marker("note"))
        self.wizard = None
        self.settings_dialog = None
        self.device_dialog = None

        self._refresh_titles()
        self.frame_timer = QTimer(self)
        self.frame_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.frame_timer.setInterval(max(1, int(1000.0 / frame_hz)))  # 16 ms: >= 60 ticks/s
        self.frame_timer.timeout.connect(self.tick)
        self.frame_timer.start()
        if start:
            ds.start()

    def _make_plots(self) -> LivePlots:
        p = self.ds.pipeline
        ex = p.exercise
        offsets = {
            "sacrum": ex.start_pitch_deg,
            "upper_lumbar": ex.start_pitch_deg,
            "thigh": ex.thigh_start_pitch_deg,
        }
        return LivePlots(
            p.placements,
            p.limits,
            window_s=self.window_s,
            rate_hz=p.sensors[p.placements[0]].rate_hz,
            judge_flexion=p.mode != "lockout",
            pitch_offsets_deg=offsets,
        )

    def switch_source(self, source: Any) -> None:
        """Monitor another (opened) source: the device panel's Connect. The old session stops
        and its devices disconnect; settings and stores carry over, a recording is closed."""
        if self.recorder is not None:
            self.set_recording(False)
        old = self.ds
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
        ds.pipeline.add_listener(self.bridge.listener)
        ds.status_listeners.append(self.bridge.on_status)
        if list(ds.pipeline.placements) != list(self.plots.placements):
            new = self._make_plots()
            self._body.replaceWidget(self.plots, new)
            self.plots.deleteLater()
            self.plots = new
        self._generation = -1
        self._alerts_seen = 0
        self._samples_prev.clear()
        self.source_states.clear()
        ds.start()
        self.tick()

    # -- events (GUI thread, queued from the source's thread) ---------------------------------
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
        elif isinstance(ev, RepEnded):
            self.reps_panel.show_reps(list(self.ds.pipeline.reps))

    def _show_wearable_alert(self) -> None:
        sent = self.ds.session.alerts_sent
        if len(sent) > self._alerts_seen:
            self._alerts_seen = len(sent)
            t_s, direction = sent[-1]
            self.status_panel.show_wearable_alert(
                f"wearable alert sent: {direction} (t = {t_s:.1f} s)"
            )

    def _on_source_status(self, state: str, info: dict) -> None:
        if state == "jump":  # a replay seek or loop: not a link state
            return
        self.source_states[str(info.get("sensor", ""))] = (state, info)
        if state in ("error", "failed"):
            self.notices.notify(f"source: {info.get('message', state)}")
        self._last_strip = -math.inf

    # -- frame --------------------------------------------------------------------------------
    def tick(self) -> None:
        """One frame: pull the latest window and status, redraw (cheap; never blocks)."""
        timer = QElapsedTimer()
        timer.start()
        p = self.ds.pipeline
        if p.generation != self._generation:
            self._generation = p.generation
            self.reps_panel.set_targets(p.exercise.tempo, p.limits)
            self.plots.set_limits(p.limits, judge_flexion=p.mode != "lockout")
            self.reps_panel.show_reps(list(p.reps))
            self._calibration_seen = p.calibration
            self._refresh_titles()
        cal = p.calibration
        calibrator = p.calibrator
        if cal is None and calibrator is not None:
            view = StatusView(
                "calibrating",
                prompt=calibrator.prompt,
                progress=calibrator.progress,
                refusal=calibrator.refusal,
            )
        else:
            st = p.status
            if st.t_s != st.t_s:  # NaN: no sample judged yet
                view = StatusView("waiting")
            else:
                view = StatusView(st.state, st.direction, st.angle_deg)
        self.status_panel.show_view(view)
        if cal is not None and cal is not self._calibration_seen:
            self._calibration_seen = cal
            self._on_new_calibration(cal)
        self.plots.update_window(p.window(self.window_s))
        now = time.monotonic()
        if now - self._last_strip >= SENSOR_STRIP_PERIOD_S:
            self._last_strip = now
            self._update_sensor_strip(now)
        if self.replay_controls is not None:
            self.replay_controls.refresh()
        self.frames += 1
        self._frame_busy_s += timer.nsecsElapsed() * 1e-9

    def _on_new_calibration(self, cal: Any) -> None:
        try:
            path = self.ds.save_calibration(cal)
        except Exception as e:
            self.notices.notify(f"calibration could not be saved: {e}")
            return
        if path:
            log.info("calibration saved to %s", path)
        self._refresh_titles()

    def _update_sensor_strip(self, now: float) -> None:
        p = self.ds.pipeline
        stats_fn = getattr(self.ds.source, "stats", None)
        if stats_fn is not None:
            try:
                self.sensor_strip.setText(format_link_stats(stats_fn()))
                return
            except Exception:  # the source is closing: fall back to the pipeline's counts
                log.debug("source stats unavailable", exc_info=True)
        parts = []
        try:
            quality = p.quality()
        except Exception:
            quality = {}
        for name in p.placements:
            n = p.samples_in.get(name, 0)
            prev = self._samples_prev.get(name)
            self._samples_prev[name] = (now, n)
            rate = (n - prev[1]) / (now - prev[0]) if prev and now > prev[0] else float("nan")
            text = f"{name.replace('_', ' ')}: "
            text += f"{rate:.0f} Hz" if rate == rate else "– Hz"
            q = quality.get(name, {})
            lost, got = q.get("samples_missing"), q.get("samples_in")
            if isinstance(lost, int | float) and isinstance(got, int | float) and lost + got:
                text += f", loss {100.0 * lost / (lost + got):.1f} %"
            state, info = self.source_states.get(name, self.source_states.get("", ("", {})))
            if "battery" in info:
                text += f", battery {info['battery']} %"
            if state:
                text += f", {state}"
            parts.append(text)
        self.sensor_strip.setText("    ".join(parts))

    def _refresh_titles(self) -> None:
        p = self.ds.pipeline
        self.title.setText(p.exercise.title)
        lim = p.limits
        bits = [
            f"user {self.ds.settings.user}",
            f"sensors: {', '.join(x.replace('_', ' ') for x in p.placements)}",
            f"limits: flexion {lim.flexion_deg:g}°, extension {lim.extension_deg:g}°, "
            f"dwell {lim.dwell_s * 1000:.0f} ms",
        ]
        if p.calibration is not None:
            bits.append(f"neutral: {p.calibration.method}, {p.calibration.created_utc}")
        self.subtitle.setText("   ·   ".join(bits))
        if p.mode == "lockout":
            self.notices.notify(p.exercise.one_sensor_note)

    # -- actions ------------------------------------------------------------------------------
    def set_muted(self, muted: bool) -> None:
        self.sound.muted = muted
        if muted:
            self.sound.stop()
        self.ds.settings.sound_on = not muted
        self._update_mute_text()
        self._save_settings()

    def _update_mute_text(self) -> None:
        self.mute_btn.setText("Sound muted" if self.sound.muted else "Sound on")

    def _save_settings(self) -> None:
        if self.settings_store is not None:
            try:
                self.settings_store.save(self.ds.settings)
            except OSError as e:
                self.notices.notify(f"settings could not be saved: {e}")

    def apply_settings(self, settings: Settings) -> None:
        """New settings from the dialog: save them and swap the pipeline."""
        self.ds.apply_settings(settings)
        self.sound.muted = not settings.sound_on
        self.mute_btn.setChecked(not settings.sound_on)
        self._save_settings()
        self.tick()

    def open_settings(self) -> None:
        from imu_monitor.ui.settings_dialog import SettingsDialog

        self.settings_dialog = SettingsDialog(self.ds.settings, self)
        self.settings_dialog.accepted_settings.connect(self.apply_settings)
        self.settings_dialog.show()

    def open_calibration_wizard(self) -> None:
        from imu_monitor.ui.calibration_wizard import CalibrationWizard

        self.wizard = CalibrationWizard(self.ds, self)
        self.wizard.exercise_chosen.connect(self._wizard_exercise)
        self.wizard.show()

    def _wizard_exercise(self, name: str) -> None:
        if name != self.ds.settings.exercise:
            s = Settings.from_dict(self.ds.settings.to_dict())
            s.exercise = name
            self.apply_settings(s)

    def open_devices(self) -> None:
        if self.device_panel_factory is None:
            return
        self.device_dialog = self.device_panel_factory(self)
        self.device_dialog.show()

    def set_recording(self, on: bool) -> None:
        """Record button: start (a new file in ``recordings_dir``) or stop recording."""
        if on and self.recorder is None:
            from imu_monitor.storage.recording import EXTENSION

            stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            s = self.ds.settings
            name = f"{s.user}-{s.exercise}-{stamp}{EXTENSION}"
            self.start_recording(Path(self.recordings_dir or "recordings") / name)
        elif not on and self.recorder is not None:
            self.ds.pipeline.set_recorder(None)
            self.recorder.close()
            self.notices.notify(f"recording saved: {self.recorder.path}")
            self.recorder = None
            self._set_record_buttons(False)

    def start_recording(self, path: Path) -> bool:
        """Record the stream (raw samples, events, markers, calibration) to ``path``."""
        from imu_monitor.storage.recording import RecordingWriter

        if self.recorder is not None:
            return False
        s = self.ds.settings
        meta = {
            "exercise": s.exercise,
            "user": s.user,
            "source": getattr(self.ds.source, "kind", "ble"),
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.recorder = RecordingWriter(path, meta, self.ds.source.sensors)
        except Exception as e:
            self.notices.notify(f"cannot record: {e}")
            self._set_record_buttons(False)
            return False
        self.ds.pipeline.set_recorder(self.recorder)
        self._set_record_buttons(True)
        self.notices.notify(f"recording to {path}")
        return True

    def _set_record_buttons(self, recording: bool) -> None:
        self.record_btn.blockSignals(True)
        self.record_btn.setChecked(recording)
        self.record_btn.blockSignals(False)
        self.record_btn.setText("■ Stop recording" if recording else "● Record")
        self.marker_btn.setEnabled(recording)

    def current_t_s(self) -> float:
        t = self.ds.pipeline.status.t_s
        return float(t) if t == t else 0.0

    def add_marker(self, kind: str, **data: Any) -> None:
        """A marker at the latest sample time in the recording being written."""
        if self.recorder is not None:
            self.recorder.write_marker(Marker(self.current_t_s(), kind, None, dict(data)))

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
        self.ds.stop()
        self.sound.stop()

    def busy_fraction(self, wall_s: float) -> float:
        """Share of ``wall_s`` the frame ticks took (benchmark figure)."""
        return self._frame_busy_s / wall_s if wall_s > 0 else float("nan")
