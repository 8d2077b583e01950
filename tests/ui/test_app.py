"""``ui.app.run_window``: Ctrl-C and SIGTERM close the window as its close button does."""

from __future__ import annotations

import os
import signal

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

from imu_monitor.ui.app import WindowOptions, run_window


class _Window(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.closed_cleanly = False

    def tick(self) -> None:
        pass

    def shutdown(self) -> None:
        self.closed_cleanly = True


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_closes_the_window_cleanly(qtbot, sig):
    window = _Window()
    qtbot.addWidget(window)
    ended: list[bool] = []
    before = signal.getsignal(sig)
    QTimer.singleShot(100, lambda: os.kill(os.getpid(), sig))  # once the event loop runs
    rc = run_window(window, WindowOptions(), before_exit=lambda: ended.append(True))
    assert rc == 128 + sig and ended == [True] and window.closed_cleanly
    assert signal.getsignal(sig) is before  # the handlers are restored
