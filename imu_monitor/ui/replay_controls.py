"""Controls for a replayed recording: play/pause, speed, a seek slider with the recording's
markers above it, jump to a rep or a marker.

Works on a ``sources.replay.ReplaySource`` (thread-safe: the replay runs in its own thread).
The slider follows ``position_s`` on every ``refresh()`` unless the user is dragging it; the
seek happens when the slider is released (one seek, not one per pixel). The markers are the
recording's own (``imu-monitor mark``, the calibration steps, set start/end): ticks, spans for
markers with an end, short names where there is room, and every marker in the tooltip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from imu_monitor.ui import theme
from imu_monitor.ui.plots import MARKER_COLOUR

SPEEDS: tuple[tuple[str, float | None], ...] = (
    ("0.5×", 0.5),
    ("1×", 1.0),
    ("2×", 2.0),
    ("4×", 4.0),
    ("10×", 10.0),
    ("max", None),
)
SLIDER_STEPS_PER_S = 10
HANDLE_HALF_PX = 7
"""Half the slider handle's width (the theme's 14 px): where the groove's ends sit."""
MARKER_TRACK_PX = 24
"""Height of the marker strip above the slider: a 15 px label over a 6 px tick."""


MARKER_NAMES = {"calibration_standing": "standing", "calibration_start": "start posture"}
"""Short names of the calibration steps' markers (the track has little room)."""


@dataclass(frozen=True)
class TimelineMark:
    """A marker on the replay timeline: ``start_s``/``end_s`` in seconds from the start of the
    recording (``end_s`` None for a point), ``label`` in words."""

    start_s: float
    end_s: float | None
    label: str


def marker_label(kind: str, data: dict[str, Any] | None = None) -> str:
    """A marker kind in words ("set_start" -> "set start"; a note shows its text)."""
    data = data or {}
    text = MARKER_NAMES.get(kind, kind.replace("_", " "))
    if data.get("text"):
        text += f": {data['text']}"
    return text


def timeline_marks(markers: list[Any], t0_s: float) -> list[TimelineMark]:
    """The recording's ``Marker`` list on the replay's position scale, in time order."""
    marks = [
        TimelineMark(
            float(m.t_s) - t0_s,
            None if m.t_end_s is None else float(m.t_end_s) - t0_s,
            marker_label(m.kind, m.data),
        )
        for m in markers
    ]
    return sorted(marks, key=lambda m: m.start_s)


class MarkerTrack(QWidget):
    """A strip above the seek slider with the markers at their times (same x scale)."""

    def __init__(self, marks: list[TimelineMark], duration_s: float, parent=None) -> None:  # noqa: ANN001
        super().__init__(parent)
        self.marks = list(marks)
        self.duration_s = max(duration_s, 1e-9)
        self.setFixedHeight(MARKER_TRACK_PX if marks else 0)
        self.setToolTip("\n".join(f"{_clock(m.start_s)}  {m.label}" for m in self.marks))

    def x_of(self, t_s: float) -> float:
        """Pixel x of position ``t_s`` (s), matching the slider handle's centre."""
        usable = max(1, self.width() - 2 * HANDLE_HALF_PX)
        frac = min(1.0, max(0.0, t_s / self.duration_s))
        return HANDLE_HALF_PX + frac * usable

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt name
        painter = QPainter(self)
        font = painter.font()
        font.setPixelSize(13)
        painter.setFont(font)
        colour = QColor(MARKER_COLOUR)
        painter.setPen(QPen(colour, 2))
        fm = painter.fontMetrics()
        h = self.height()
        free_from = -1e9  # a label is drawn only where the previous one has ended
        for m in self.marks:
            x = self.x_of(m.start_s)
            if m.end_s is not None:
                x1 = self.x_of(m.end_s)
                span = QColor(colour)
                span.setAlpha(70)
                painter.fillRect(QRectF(x, h - 6, max(2.0, x1 - x), 6), span)
            painter.drawLine(int(x), 0, int(x), h)
            w = fm.horizontalAdvance(m.label)
            left = x + 3 if x + 3 + w <= self.width() else x - 3 - w  # right of the tick, or left
            if left >= free_from and left >= 0:
                painter.setPen(QPen(QColor(theme.TEXT_DIM)))
                painter.drawText(int(left), fm.ascent(), m.label)
                painter.setPen(QPen(colour, 2))
                free_from = left + w + 8
        painter.end()


def _clock(t_s: float) -> str:
    m, s = divmod(max(0.0, t_s), 60.0)
    return f"{int(m)}:{s:04.1f}"


class ReplayControls(QFrame):
    """``replay``: the ReplaySource; ``rep_starts``: rep start times on the recording clock."""

    def __init__(self, replay: Any, rep_starts: list[float], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.replay = replay
        self.rep_starts = list(rep_starts)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 6)
        self.play_btn = QPushButton()
        self.play_btn.setMinimumWidth(90)
        self.play_btn.clicked.connect(self.toggle_play)
        lay.addWidget(self.play_btn)
        self.speed = QComboBox()
        for text, value in SPEEDS:
            self.speed.addItem(text, value)
        current = replay.speed
        idx = next((i for i, (_, v) in enumerate(SPEEDS) if v == current), 1)
        self.speed.setCurrentIndex(idx)
        self.speed.currentIndexChanged.connect(self._speed_changed)
        lay.addWidget(QLabel("speed"))
        lay.addWidget(self.speed)
        self.position = QLabel(_clock(0.0))
        lay.addWidget(self.position)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, max(1, int(replay.duration_s * SLIDER_STEPS_PER_S)))
        self.slider.sliderReleased.connect(self._slider_released)
        self.marks = timeline_marks(list(getattr(replay.rec, "markers", [])), replay.t0_s)
        self.marker_track = MarkerTrack(self.marks, replay.duration_s)
        timeline = QVBoxLayout()
        timeline.setSpacing(0)
        timeline.addWidget(self.marker_track)
        timeline.addWidget(self.slider)
        lay.addLayout(timeline, 1)
        self.duration = QLabel(_clock(replay.duration_s))
        lay.addWidget(self.duration)
        self.rep_box = QComboBox()
        self.rep_box.addItem("jump to…" if self.marks else "jump to rep…", None)
        for i, _t in enumerate(self.rep_starts):
            self.rep_box.addItem(f"rep {i + 1}", i)
        for m in self.marks:
            self.rep_box.addItem(f"{m.label}  {_clock(m.start_s)}", ("marker", m.start_s))
        self.rep_box.setEnabled(self.rep_box.count() > 1)
        self.rep_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.rep_box.setMinimumContentsLength(12)
        self.rep_box.activated.connect(self._rep_chosen)
        lay.addWidget(self.rep_box)
        self.refresh()

    def toggle_play(self) -> None:
        if self.replay.paused:
            self.replay.resume()
        else:
            self.replay.pause()
        self.refresh()

    def _speed_changed(self, index: int) -> None:
        self.replay.speed = self.speed.itemData(index)

    def seek(self, t_s: float) -> float:
        """Seek to ``t_s`` seconds from the start; returns the (clamped) position."""
        pos = self.replay.seek(t_s)
        self.refresh()
        return pos

    def _slider_released(self) -> None:
        self.seek(self.slider.value() / SLIDER_STEPS_PER_S)

    def jump_to_rep(self, index: int) -> float:
        pos = self.replay.seek_rep(index, self.rep_starts)
        self.refresh()
        return pos

    def _rep_chosen(self, combo_index: int) -> None:
        rep = self.rep_box.itemData(combo_index)
        if isinstance(rep, tuple):  # a marker: its time
            self.seek(rep[1])
        elif rep is not None:
            self.jump_to_rep(int(rep))
        self.rep_box.setCurrentIndex(0)

    def refresh(self) -> None:
        """Follow the replay's position and state (called on every frame)."""
        pos = self.replay.position_s
        # at the end without --loop the replay has stopped: nothing to pause or play
        ended = not self.replay.loop and pos >= self.replay.duration_s - 1e-6
        self.play_btn.setEnabled(not ended)
        self.play_btn.setText(
            "■ Ended" if ended else ("▶ Play" if self.replay.paused else "❚❚ Pause")
        )
        if not self.slider.isSliderDown():
            self.slider.setValue(int(round(pos * SLIDER_STEPS_PER_S)))
        text = _clock(pos)
        if self.position.text() != text:
            self.position.setText(text)
