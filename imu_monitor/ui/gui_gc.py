"""Python's cyclic garbage collected on the GUI thread only, once the Qt application exists.

The wearables feed the pipeline from their own threads (BLE, the simulator, a replay), the device
panel scans from a worker, and Python runs its cyclic garbage collector in whichever thread
allocates when a generation's threshold is passed. Where that garbage holds Qt objects (a closed
window's menus and the callables connected to them), their C++ destructors then run on that
thread. Seen in this project's tests (``tests/ui/test_main_window.py``, 2026-12-07): the stream's
thread, collecting, was destroying a ``QObject`` and waited for the GIL inside Qt's lock, while
the GUI thread, holding the GIL, was deleting a ``QMenu`` and waited for that lock. The
dashboard hung for good.

So from the first call of ``collect_on_gui_thread`` (``ui.app.application`` makes it when it
makes the ``QApplication``; every dashboard window makes it too) automatic collection is off and
the GUI thread collects on a timer (pyqtgraph's ``GarbageCollector``, which does just this, by
each generation's threshold, once a second), for as long as the process lives. Turning automatic
collection back on when the last window closed (as this module first did) left a gap: a closed
window is Qt garbage until the GUI thread deletes it, and any other thread running then (a
stream stopping, a BLE event loop, a scan) could collect it. The same test hung once more in CI
after that first version (no stack was printed); this gap is one way it could. The other half
of the rule, no Qt call from other threads at all, is ``inbox``.
"""

from __future__ import annotations

from pyqtgraph.util.garbage_collector import GarbageCollector
from PySide6.QtCore import QCoreApplication, QThread

INTERVAL_S = 1.0
"""How often the GUI thread looks at the allocation counts (s)."""

_collector: GarbageCollector | None = None


def collect_on_gui_thread() -> None:
    """From now on Python's cyclic garbage is collected by the GUI thread's timer only
    (idempotent). Call it in the GUI thread once the ``QApplication`` exists: the timer belongs
    to the thread that makes it, and runs while that thread's event loop does."""
    global _collector
    if _collector is not None:
        return
    app = QCoreApplication.instance()
    if app is None or QThread.currentThread() is not app.thread():
        raise RuntimeError("collect_on_gui_thread: call it in the GUI thread of a QApplication")
    _collector = GarbageCollector(interval=INTERVAL_S)  # (turns automatic collection off)
