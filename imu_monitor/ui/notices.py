"""Non-modal notices at the top of the window (no audio output, one-sensor limits, errors)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


class NoticeBar(QWidget):
    """A column of dismissable one-line notices; the same text is shown only once."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lay = QVBoxLayout(self)
        self._lay.setContentsMargins(0, 0, 0, 0)
        self._lay.setSpacing(4)
        self.shown: dict[str, QWidget] = {}
        self._seen: set[str] = set()

    def notify(self, text: str) -> bool:
        """Show ``text`` unless it was shown before; True if it is new."""
        if text in self._seen:
            return False
        self._seen.add(text)
        row = QWidget()
        h = QHBoxLayout(row)
        h.setContentsMargins(0, 0, 0, 0)
        label = QLabel(text)
        label.setObjectName("notice")
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QPushButton("×")
        close.setFixedWidth(38)
        close.setStyleSheet("font-size: 20px; padding: 2px;")
        close.setToolTip("dismiss")
        close.clicked.connect(lambda: self.dismiss(text))
        h.addWidget(label, 1)
        h.addWidget(close)
        self._lay.addWidget(row)
        self.shown[text] = row
        return True

    def dismiss(self, text: str) -> None:
        row = self.shown.pop(text, None)
        if row is not None:
            row.hide()
            row.deleteLater()

    def texts(self) -> list[str]:
        return list(self.shown)
