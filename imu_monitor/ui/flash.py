"""The alarm flash: a translucent full-window overlay in the alarm direction's colour."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QWidget

from imu_monitor.ui import theme


class FlashOverlay(QWidget):
    """A translucent flash over ``parent`` (mouse passes through); hides itself again."""

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
