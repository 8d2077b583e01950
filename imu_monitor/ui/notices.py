"""Non-modal notices at the top of the window, collapsed into one line.

The line shows the notice that asks the user to do something (the newest such), else the newest
notice; a "details" button (or a click on the line) unfolds every other notice and the
technical details behind them, so the window's layout does not move as notices arrive.
Examples: no audio output, one-sensor limits, a calibration that could not measure a strap's
alignment, a recording saved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QMouseEvent, QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout

from imu_monitor.processing.calibration import GIVE_WINDOWS


@dataclass
class Notice:
    """``text``: the one line; ``action``: it says what to do (preferred for the line);
    ``details``: shown only when the details are open."""

    text: str
    action: bool = False
    details: list[str] = field(default_factory=list)


class _ElidedLabel(QLabel):
    """One line that ends in "…" when it does not fit (the whole text is the tooltip); a click
    calls ``on_click``."""

    def __init__(self, on_click, on_elided) -> None:  # noqa: ANN001 - zero-argument callables
        super().__init__()
        self._full = ""
        self._on_click = on_click
        self._on_elided = on_elided
        self.elided = False
        """True while the line is cut short (its whole text is then in the details too)."""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self._elide()

    def full_text(self) -> str:
        return self._full

    def _elide(self) -> None:
        width = max(0, self.contentsRect().width())
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, width)
        if shown != self.text():
            self.setText(shown)
        elided = shown != self._full
        if elided != self.elided:
            self.elided = elided
            self._on_elided()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt name
        super().resizeEvent(event)
        self._elide()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt name
        super().mouseReleaseEvent(event)
        self._on_click()


class NoticeBar(QFrame):
    """One line of notices with their details on demand; the same text is shown only once."""

    def __init__(self, parent: QFrame | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notice")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 4, 4, 4)
        lay.setSpacing(4)
        row = QHBoxLayout()
        row.setSpacing(8)
        self.line = _ElidedLabel(self.toggle_details, self._update)
        self.line.setObjectName("noticeLine")
        self.details_btn = QPushButton()
        self.details_btn.setObjectName("noticeButton")
        self.details_btn.setCheckable(True)
        self.details_btn.toggled.connect(self._show_details)
        self.close_btn = QPushButton("×")
        self.close_btn.setObjectName("noticeButton")
        self.close_btn.setToolTip("dismiss the notices")
        self.close_btn.clicked.connect(lambda: self.dismiss())
        row.addWidget(self.line, 1)
        row.addWidget(self.details_btn)
        row.addWidget(self.close_btn)
        lay.addLayout(row)
        self.details = QLabel()
        self.details.setObjectName("noticeDetails")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.hide()
        lay.addWidget(self.details)
        self.notices: list[Notice] = []
        self._extra: list[str] = []
        self._seen: set[str] = set()
        self.hide()

    def notify(self, text: str, *, action: bool = False, details: Iterable[str] = ()) -> bool:
        """Show ``text`` unless it was shown before; True if it is new. ``action``: the notice
        says what to do, so the line prefers it; ``details``: behind the details button."""
        if text in self._seen:
            return False
        self._seen.add(text)
        self.notices.append(Notice(text, action, [d for d in details if d != text]))
        self._update()
        return True

    def add_details(self, texts: Iterable[str]) -> None:
        """Technical lines shown only under "details" (e.g. a calibration's notes), never on
        the line itself."""
        for t in texts:
            if t not in self._seen:
                self._seen.add(t)
                self._extra.append(t)
        self._update()

    def headline(self) -> Notice | None:
        """The notice on the line: the newest that says what to do, else the newest."""
        actions = [n for n in self.notices if n.action]
        if actions:
            return actions[-1]
        return self.notices[-1] if self.notices else None

    def detail_lines(self) -> list[str]:
        """Everything the details show: the line itself when it is cut short, the other
        notices, then every notice's details."""
        top = self.headline()
        lines = [n.text for n in self.notices if n is not top]
        if top is not None and self.line.elided:
            lines.insert(0, top.text)
        if top is None:  # only details: the first is on the line
            return self._extra if self.line.elided else self._extra[1:]
        for n in self.notices:
            lines.extend(n.details)
        return lines + self._extra

    def texts(self) -> list[str]:
        """Every notice shown (line and details), oldest first."""
        return [n.text for n in self.notices] + self._extra

    def dismiss(self, text: str | None = None) -> None:
        """Remove the notice ``text``, or all of them (the × button)."""
        self.notices = [n for n in self.notices if text is not None and n.text != text]
        self._extra = [t for t in self._extra if text is not None and t != text]
        self._update()

    def toggle_details(self) -> None:
        if self.details_btn.isVisible():
            self.details_btn.toggle()

    def _show_details(self, on: bool) -> None:
        self.details.setVisible(on)
        self._update()

    def _update(self) -> None:
        top = self.headline()
        self.setVisible(top is not None or bool(self._extra))
        if top is None and not self._extra:
            self.details_btn.setChecked(False)
            return
        self.line.set_full_text(top.text if top is not None else self._extra[0])
        lines = self.detail_lines()
        self.details_btn.setVisible(bool(lines))
        open_ = self.details_btn.isChecked() and bool(lines)
        self.details_btn.setText(f"{'hide' if open_ else 'details'} ({len(lines)})")
        self.details.setText("\n".join(f"• {t}" for t in lines))
        self.details.setVisible(open_)


def calibration_notice(calibration: Any) -> str | None:
    """What to do about a calibration that could not measure every strap's alignment (a
    ``processing.calibration.Calibration``), in the trainee's words; None when nothing needs
    doing. Its technical notes belong in the notice's details."""
    if calibration is None:
        return None
    methods = {p: s.method for p, s in calibration.sensors.items()}
    assumed = [p.replace("_", " ") for p, m in methods.items() if m == "gravity-start-only"]
    if not assumed:
        return None
    if "gravity-two-postures" not in methods.values():  # no standing step in this calibration
        return "Calibrate with the standing step for a better alignment: stand tall, hold still."
    return (
        f"Keep the {' and '.join(assumed)} strap straight: its alignment could not be measured "
        "in these postures and is assumed."
    )


def show_calibration_notes(bar: NoticeBar, notes: Iterable[str]) -> None:
    """A replay's calibration notes (``app.replay.recording_calibration``): technical, so behind
    "details", except the one saying the calibration windows were guessed and how to give them
    (``GIVE_WINDOWS``), which asks the user to do something and so takes the line."""
    notes = list(notes)
    for n in notes:
        if GIVE_WINDOWS in n:
            bar.notify(n, action=True)
    bar.add_details([n for n in notes if GIVE_WINDOWS not in n])
