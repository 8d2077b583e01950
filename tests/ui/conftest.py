"""The UI tests' process: from the first UI test on, Python's cyclic garbage is collected on the
GUI thread only, as in the dashboard (``imu_monitor.ui.gui_gc``): the tests' worker threads
(streams, BLE event loops, scans) must not destroy the Qt objects earlier tests left behind.
And every UI test fails if a thread it started called PySide (``imu_monitor.ui.inbox``)."""

from __future__ import annotations

import pytest

from imu_monitor.ui.gui_gc import collect_on_gui_thread
from tests.ui.qt_threads import QtCallsOffTheGuiThread


@pytest.fixture(autouse=True)
def _garbage_on_the_gui_thread(qapp):
    collect_on_gui_thread()


@pytest.fixture(autouse=True)
def _no_qt_call_off_the_gui_thread():
    with QtCallsOffTheGuiThread() as watch:
        yield
    assert watch.calls == [], f"PySide called off the GUI thread: {watch.calls[:5]}"
