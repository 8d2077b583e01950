"""``ui.app.run_window``: Ctrl-C and SIGTERM close the window as its close button does, and the
window is deleted before the process's QApplication goes.

Run in a child process: once ``run_window``'s event loop has quit, the process's QApplication
is closing down and would disturb the tests that follow."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import os, signal, sys
import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget
from imu_monitor.ui.app import WindowOptions, application, run_window

class Window(QWidget):
    closed_cleanly = False
    def tick(self): pass
    def shutdown(self): self.closed_cleanly = True

sig = getattr(signal, sys.argv[1])
before = signal.getsignal(sig)
application()
window = Window()
ended = []
QTimer.singleShot(100, lambda: os.kill(os.getpid(), sig))  # once the event loop runs
rc = run_window(window, WindowOptions(), before_exit=lambda: ended.append(True))
print(rc, ended == [True], window.closed_cleanly, signal.getsignal(sig) is before,
      shiboken6.isValid(window))
"""


def test_a_signal_closes_the_window_cleanly():
    env = os.environ | {"QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-c", CHILD, name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        for name in ("SIGINT", "SIGTERM")
    }
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, (name, err)
        expected = 130 if name == "SIGINT" else 143
        # exit code, before_exit ran, the window shut down, the handlers restored, and the
        # window deleted while the QApplication lives (``ui.app.dispose``)
        assert out.split() == [str(expected), "True", "True", "True", "False"], (name, out, err)
