"""Python's cyclic garbage collected on the GUI thread only, while a dashboard is open.

The wearables feed the pipeline from their own threads (BLE, the simulator, a replay), and Python
runs its cyclic garbage collector in whichever thread allocates when a generation's threshold is
passed. Where that garbage holds Qt objects (a closed window's menus and the callables connected
to them), their C++ destructors then run on that thread. Seen in this project's tests
(``tests/ui/test_main_window.py``, 2026-12-07): the stream's thread, collecting, was destroying a
``QObject`` and waited for the GIL inside Qt's lock, while the GUI thread, holding the GIL, was
deleting a ``QMenu`` and waited for that lock. The dashboard hung for good.

So while a dashboard window is open, automatic collection is off and the GUI thread collects on
a timer (pyqtgraph's ``GarbageCollector``, which does just this, by each generation's threshold,
once a second); when the last window closes, automatic collection is on again. (The other
half of the rule, no Qt call from those threads at all, is ``inbox``.)
"""

from __future__ import annotations

import gc

from pyqtgraph.util.garbage_collector import GarbageCollector

INTERVAL_S = 1.0
"""How often the GUI thread looks at the allocation counts (s)."""

_holders = 0
_collector: GarbageCollector | None = None


class GuiThreadCollection:
    """Held by a window from its start to its ``release`` (idempotent). Create it on the GUI
    thread: the timer belongs to the thread that makes it."""

    def __init__(self) -> None:
        global _holders, _collector
        if _holders == 0:
            _collector = GarbageCollector(interval=INTERVAL_S)  # (turns automatic collection off)
        _holders += 1
        self._held = True

    def release(self) -> None:
        global _holders, _collector
        if not self._held:
            return
        self._held = False
        _holders -= 1
        if _holders == 0 and _collector is not None:
            _collector.timer.stop()
            _collector = None
            gc.enable()
