"""The window's top bar: what is being monitored (exercise, user, sensors, limits, neutral) and
the action buttons (calibrate, settings, devices, record, mark, sound).

The bar only shows and offers; the window connects the buttons to its actions.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from imu_monitor.processing.calibration import tenth_s

NBSP = "\u00a0"
SEPARATOR = "   ·   "


def keep_together(text: str) -> str:
    """``text`` with non-breaking spaces: a wrapping label breaks between parts, never inside
    one (no "ms" alone on a line)."""
    return text.replace(" ", NBSP)


def calibrated_when(created_utc: str, now: _dt.datetime | None = None) -> str:
    """When a calibration was made, in local time: "14:05" today, else "2026-12-04 14:05"."""
    try:
        t = _dt.datetime.fromisoformat(created_utc).astimezone()
    except ValueError:
        return created_utc
    now = now or _dt.datetime.now().astimezone()
    return t.strftime("%H:%M") if t.date() == now.date() else t.strftime("%Y-%m-%d %H:%M")


def session_summary(pipeline: Any, user: str, device_calibrated: Any = ()) -> list[str]:
    """The subtitle's parts for ``pipeline`` (a ``Pipeline`` or its switch): user, sensors
    (those in ``device_calibrated`` marked "device-calibrated"), limits and when the neutral was
    calibrated (the method is in the subtitle's tooltip)."""
    lim = pipeline.limits
    names = [x.replace("_", " ") for x in pipeline.placements]
    calibrated = [p for p in pipeline.placements if p in device_calibrated]
    if calibrated:
        every = len(calibrated) == len(names)
        which = "" if every else f" ({', '.join(x.replace('_', ' ') for x in calibrated)})"
        names[-1] += f", device-calibrated{which}"
    bits = [
        f"user {user}",
        f"sensors: {', '.join(names)}",
        f"limits: flexion {lim.flexion_deg:g}°, extension {lim.extension_deg:g}°, "
        f"dwell {lim.dwell_s * 1000:.0f} ms",
    ]
    if pipeline.calibration is not None:
        bits.append(neutral_part(pipeline.calibration))
    return bits


def neutral_part(calibration: Any) -> str:
    """Where the neutral comes from: the capture window of the recording it was made from (a
    replay: the time it was made is only when the replay began), "(guessed)" where the
    recording had no calibration markers; else when a live calibration was made."""
    window = calibration.windows_s.get("start")
    if window is None:
        return f"neutral calibrated {calibrated_when(calibration.created_utc)}"
    guessed = " (guessed)" if calibration.windows_guessed else ""
    return f"neutral from {tenth_s(window[0])}-{tenth_s(window[1])} s{guessed}"


class HeaderBar(QWidget):
    """Title, subtitle and buttons. ``devices``: offer the Devices button; ``recording``: offer
    Record and Mark (live sessions with a recordings directory); ``users``: the user box;
    ``history``: the History button."""

    def __init__(
        self,
        *,
        devices: bool,
        recording: bool,
        users: bool = False,
        history: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(2)
        top = QHBoxLayout()
        col.addLayout(top)
        self.title = QLabel()
        self.title.setObjectName("title")
        self.subtitle = QLabel()  # under title and buttons, the window's full width
        self.subtitle.setObjectName("dim")
        self.subtitle.setWordWrap(True)
        self.subtitle.setMinimumWidth(200)
        col.addWidget(self.subtitle)
        top.addWidget(self.title, 1)
        self.user_box = QComboBox()
        self.user_box.setMinimumWidth(140)
        self.history_btn = QPushButton("History…")
        self.history_btn.setToolTip("progress over sessions: good reps, excursion, tempo")
        self.calibrate_btn = QPushButton("Calibrate…")
        self.settings_btn = QPushButton("Settings…")
        self.devices_btn = QPushButton("Devices…")
        self.record_btn = QPushButton("● Record")
        self.record_btn.setCheckable(True)
        self.marker_btn = QPushButton("Mark")
        self.marker_btn.setEnabled(False)
        self.marker_btn.setToolTip("add a marker to the recording at the current time")
        self.report_btn = QPushButton("Save report…")
        self.mute_btn = QPushButton("Sound on")
        self.mute_btn.setCheckable(True)
        for b in (
            self.user_box,
            self.history_btn,
            self.calibrate_btn,
            self.settings_btn,
            self.devices_btn,
            self.record_btn,
            self.marker_btn,
            self.report_btn,
            self.mute_btn,
        ):
            top.addWidget(b)
        self.devices_btn.setVisible(devices)
        self.user_box.setVisible(users)
        self.history_btn.setVisible(history)
        self.record_btn.setVisible(recording)
        self._offers_recording = recording
        self.show_recording(False)

    def show_recording(self, on: bool) -> None:
        """Mark and Save report share a place: Mark while a recording runs, Save report…
        otherwise (a report is of a finished session), so the bar is no wider for both."""
        self.marker_btn.setVisible(self._offers_recording and on)
        self.report_btn.setVisible(not on)

    def show_session(self, title: str, bits: list[str], details: str = "") -> None:
        """The exercise title, the subtitle parts (``session_summary``; each kept on one
        line) and the subtitle's tooltip."""
        self.title.setText(title)
        self.subtitle.setText(SEPARATOR.join(keep_together(b) for b in bits))
        self.subtitle.setToolTip(details)

    def show_muted(self, muted: bool) -> None:
        self.mute_btn.setText("Sound muted" if muted else "Sound on")
