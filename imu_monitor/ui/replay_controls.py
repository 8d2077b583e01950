"""Controls for a replayed recording: play/pause, speed, a seek slider, jump to rep.

Works on a ``sources.replay.ReplaySource`` (thread-safe: the replay runs in its own thread).
The slider follows ``position_s`` on every ``refresh()`` unless the user is dragging it; the
seek happens when the slider is released (one seek, not one per pixel).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QFrame, QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

SPEEDS: tuple[tuple[str, float | None], ...] = (
    ("0.5×", 0.5),
    ("1×", 1.0),
    ("2×", 2.0),
    ("4×", 4.0),
    ("10×", 10.0),
    ("max", None),
)
SLIDER_STEPS_PER_S = 10


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
        lay.addWidget(self.slider, 1)
        self.duration = QLabel(_clock(replay.duration_s))
        lay.addWidget(self.duration)
        self.rep_box = QComboBox()
        self.rep_box.addItem("jump to rep…", None)
        for i, _t in enumerate(self.rep_starts):
            self.rep_box.addItem(f"rep {i + 1}", i)
        self.rep_box.setEnabled(bool(self.rep_starts))
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
        if rep is not None:
            self.jump_to_rep(int(rep))
        self.rep_box.setCurrentIndex(0)

    def refresh(self) -> None:
        """Follow the replay's position and state (called on every frame)."""
        self.play_btn.setText("▶ Play" if self.replay.paused else "❚❚ Pause")
        pos = self.replay.position_s
        if not self.slider.isSliderDown():
            self.slider.setValue(int(round(pos * SLIDER_STEPS_PER_S)))
        text = _clock(pos)
        if self.position.text() != text:
            self.position.setText(text)
