"""The large status panel: one word, one colour, readable from three metres.

States: ``waiting`` (no data yet), ``calibrating`` (guided calibration: its prompt and progress),
``neutral``, ``warning`` (approaching a limit, with the direction) and ``alarm`` (out of neutral:
the word is the direction, FLEXION or EXTENSION).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QFrame, QLabel, QProgressBar, QVBoxLayout, QWidget

from imu_monitor.ui import theme

ANGLE_REFRESH_S = 0.1
"""While the state stays the same, the angle number changes at most this often (seconds): a
number redrawn at the frame rate is unreadable and costs a repaint of the panel every frame.
A change of state (an alarm) shows its angle at once."""
JUDGING_STARTS = "judging starts after the calibration"
"""The waiting line once data flows but the calibration capture (in a replay, the recording's
own calibration steps) has not ended yet."""
WEARABLE_ALERT_SHOWN_S = 10.0
"""The line saying the wearable was alerted goes away this long after the alert (seconds of
sample time, so a replay at any speed behaves the same)."""


def wearable_alert_text(alert: tuple[float, str] | None, t_now_s: float) -> str:
    """The line under the status for the last wearable alert ``(t_s, direction)`` at sample
    time ``t_now_s``: how long ago it was sent, or nothing once it is old (or after a seek back
    before it)."""
    if alert is None:
        return ""
    t_s, direction = alert
    ago = t_now_s - t_s
    if math.isnan(ago):  # no sample time yet
        ago = 0.0
    if ago < -0.5 or ago > WEARABLE_ALERT_SHOWN_S:
        return ""
    when = "just now" if ago < 1.0 else f"{ago:.0f} s ago"
    return f"wearable alert sent: {direction}, {when}"


@dataclass(frozen=True)
class StatusView:
    """What the panel shows: the state, the direction when out of neutral, the angle in degrees."""

    state: str
    direction: str | None = None
    angle_deg: float | None = None
    prompt: str = ""
    progress: float = 0.0
    refusal: str | None = None


def status_view_for(pipeline: Any) -> StatusView:
    """What ``pipeline`` (a ``Pipeline`` or its switch) shows now: the calibration prompt until
    there is a neutral, "waiting" before the first judged sample, then the monitor's state."""
    calibrator = pipeline.calibrator
    if pipeline.calibration is None and calibrator is not None:
        return StatusView(
            "calibrating",
            prompt=calibrator.prompt,
            progress=calibrator.progress,
            refusal=calibrator.refusal,
        )
    st = pipeline.status
    if st.t_s != st.t_s:  # NaN: no sample judged yet
        if any(getattr(pipeline, "samples_in", {}).values()):  # data, before the neutral's end
            return StatusView("waiting", prompt=JUDGING_STARTS)
        return StatusView("waiting")
    return StatusView(st.state, st.direction, st.angle_deg)


def colour_for(view: StatusView) -> str:
    if view.state == "alarm":
        return theme.EXTENSION if view.direction == "extension" else theme.FLEXION
    return {
        "neutral": theme.NEUTRAL,
        "warning": theme.WARNING,
        "calibrating": theme.CALIBRATING,
        "moving": theme.IDLE,
    }.get(view.state, theme.IDLE)


def headline_for(view: StatusView) -> str:
    if view.state == "alarm":
        return (view.direction or "out of neutral").upper()
    return {
        "neutral": "NEUTRAL",
        "warning": "WARNING",
        "calibrating": "CALIBRATING",
        "moving": "MOVING",
    }.get(view.state, "WAITING")


def detail_for(view: StatusView) -> str:
    if view.state == "alarm":
        return "out of neutral"
    if view.state == "warning":
        return f"close to the {view.direction} limit" if view.direction else "close to a limit"
    if view.state == "neutral":
        return "spine in neutral"
    if view.state == "calibrating":
        return view.prompt
    if view.state == "moving":
        return "checked when you hold the lockout"
    return view.prompt or "waiting for data from the wearable"


class StatusPanel(QFrame):
    """Big coloured status block; ``show_view`` is cheap and safe to call every frame.
    ``clock``: monotonic seconds, for the angle refresh interval (``ANGLE_REFRESH_S``)."""

    def __init__(
        self, parent: QWidget | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self._angle_shown_at = -math.inf
        self.setObjectName("status")
        self.setMinimumHeight(220)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(18, 14, 18, 14)
        self.headline = QLabel("WAITING")
        self.headline.setObjectName("headline")
        self.headline.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.angle = QLabel("")
        self.angle.setObjectName("angle")
        self.angle.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail = QLabel("")
        self.detail.setObjectName("detail")
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail.setWordWrap(True)
        self._headline_px = theme.STATUS_FONT_PX
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setTextVisible(False)
        self.progress.setMinimumHeight(28)
        self.refusal = QLabel("")
        self.refusal.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.refusal.setWordWrap(True)
        self.wearable = QLabel("")
        self.wearable.setAlignment(Qt.AlignmentFlag.AlignCenter)
        for w in (self.headline, self.angle, self.detail, self.progress, self.refusal):
            lay.addWidget(w)
        lay.addStretch(1)
        lay.addWidget(self.wearable)
        lay.insertStretch(0, 1)
        self.view: StatusView | None = None
        self.show_view(StatusView("waiting"))

    def show_view(self, view: StatusView) -> None:
        """Update the panel (only the parts that changed: no relayout while nothing moves)."""
        old = self.view
        self.view = view
        if old is None or colour_for(old) != colour_for(view):
            self.setStyleSheet(
                f"QFrame#status {{ background: {colour_for(view)}; border-radius: 12px; }}"
                f"QFrame#status QLabel {{ background: transparent; color: white; }}"
                f"QLabel#angle {{ font-size: {theme.STATUS_ANGLE_PX}px; font-weight: bold; }}"
                f"QLabel#detail {{ font-size: {theme.STATUS_DETAIL_PX}px; }}"
                "QFrame#status QProgressBar { background: rgba(0,0,0,60); color: white;"
                " border: 1px solid rgba(255,255,255,120); border-radius: 6px; }"
                "QFrame#status QProgressBar::chunk { background: white; border-radius: 6px; }"
            )
        if _set_text(self.headline, headline_for(view)):
            self._fit_headline()
        _set_text(self.detail, detail_for(view))
        calibrating = view.state == "calibrating"
        self.progress.setVisible(calibrating)
        if calibrating:
            self.progress.setValue(int(round(100 * max(0.0, min(1.0, view.progress)))))
        _set_text(self.refusal, f"Not accepted: {view.refusal}" if view.refusal else "")
        self.refusal.setVisible(bool(view.refusal))
        show_angle = view.angle_deg is not None and view.state in (
            "neutral",
            "warning",
            "alarm",
            "moving",
        )
        now = self._clock()
        same_state = old is not None and (old.state, old.direction) == (view.state, view.direction)
        if not same_state or now - self._angle_shown_at >= ANGLE_REFRESH_S:
            text = ""
            if show_angle:  # (+ 0.0: -0.04 reads +0.0, not -0.0)
                text = f"{round(view.angle_deg, 1) + 0.0:+.1f}°"
            if _set_text(self.angle, text):
                self._angle_shown_at = now
        self.angle.setVisible(show_angle)

    def _fit_headline(self) -> None:
        """The largest bold size (<= ``theme.STATUS_FONT_PX``) at which the word fits."""
        width = max(100, self.width() - 40)
        f = QFont(self.headline.font())
        f.setBold(True)
        px = theme.STATUS_FONT_PX
        while px > 24:
            f.setPixelSize(px)
            if QFontMetrics(f).horizontalAdvance(self.headline.text()) <= width:
                break
            px -= 4
        if px != self._headline_px or not self.headline.styleSheet():
            self._headline_px = px
            # a style sheet, not setFont: the window's style sheet would override a set font
            self.headline.setStyleSheet(f"font-size: {px}px; font-weight: bold;")

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt name
        super().resizeEvent(event)
        self._fit_headline()

    def show_wearable_alert(self, text: str) -> None:
        """A line under the status: e.g. that the wearable's own alert was sent."""
        _set_text(self.wearable, text)


def _set_text(label: QLabel, text: str) -> bool:
    if label.text() != text:
        label.setText(text)
        return True
    return False
