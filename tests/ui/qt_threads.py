"""Which PySide / shiboken functions threads other than the GUI's call (a profile function).

The dashboard's rule (``imu_monitor.ui.inbox``): no Qt call off the GUI thread. Every UI test
checks it (``conftest``) for the threads it starts.
"""

from __future__ import annotations

import sys
import threading


def _qt_function(fn: object) -> str | None:
    """The name of ``fn`` when it is PySide's or shiboken's (a C function of theirs)."""
    owner = getattr(fn, "__self__", None)
    module = getattr(fn, "__module__", None) or type(owner).__module__
    if module and module.startswith(("PySide6", "shiboken6")):
        return f"{module}.{getattr(fn, '__qualname__', fn)}"
    return None


class QtCallsOffTheGuiThread:
    """Records the PySide / shiboken functions called in threads other than the main one (a
    profile function: every C call of every thread started while it is on)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def _profile(self, frame, event, arg):
        if event == "c_call" and threading.current_thread() is not threading.main_thread():
            name = _qt_function(arg)
            if name is not None:
                self.calls.append((threading.current_thread().name, name))

    def run(self, fn, *args, name: str = "stream") -> None:
        def target():
            sys.setprofile(self._profile)
            try:
                fn(*args)
            finally:
                sys.setprofile(None)

        t = threading.Thread(target=target, name=name)
        t.start()
        t.join()

    def __enter__(self):
        self._previous = threading.getprofile()
        threading.setprofile(self._profile)
        return self

    def __exit__(self, *exc):
        threading.setprofile(self._previous)
