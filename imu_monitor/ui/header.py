"""The window's top bar: what is being monitored (exercise, user, sensors, limits, neutral) and
the action buttons (calibrate, settings, devices, record, mark, sound).

The bar only shows and offers; the window connects the buttons to its actions.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


def session_summary(pipeline: Any, user: str) -> list[str]:
    """The subtitle's parts for ``pipeline`` (a ``Pipeline`` or its switch): user, sensors,
    limits and the neutral calibration when there is one."""
    lim = pipeline.limits
    bits = [
        f"user {user}",
        f"sensors: {', '.join(x.replace('_', ' ') for x in pipeline.placements)}",
        f"limits: flexion {lim.flexion_deg:g}°, extension {lim.extension_deg:g}°, "
        f"dwell {lim.dwell_s * 1000:.0f} ms",
    ]
    if pipeline.calibration is not None:
        cal = pipeline.calibration
        bits.append(f"neutral: {cal.method}, {cal.created_utc}")
    return bits


class HeaderBar(QWidget):
    """Title, subtitle and buttons. ``devices``: offer the Devices button; ``recording``: offer
    Record and Mark (live sessions with a recordings directory)."""

    def __init__(self, *, devices: bool, recording: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        top = QHBoxLayout(self)
        top.setContentsMargins(0, 0, 0, 0)
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
        self.marker_btn.setToolTip("add a marker to the recording at the current time")
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
        self.devices_btn.setVisible(devices)
        self.record_btn.setVisible(recording)
        self.marker_btn.setVisible(recording)

    def show_session(self, title: str, bits: list[str]) -> None:
        """The exercise title and the subtitle parts (``session_summary``)."""
        self.title.setText(title)
        self.subtitle.setText("   ·   ".join(bits))

    def show_muted(self, muted: bool) -> None:
        self.mute_btn.setText("Sound muted" if muted else "Sound on")
