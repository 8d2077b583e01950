"""The UI tests' process: from the first UI test on, Python's cyclic garbage is collected on the
GUI thread only, as in the dashboard (``imu_monitor.ui.gui_gc``): the tests' worker threads
(streams, BLE event loops, scans) must not destroy the Qt objects earlier tests left behind."""

from __future__ import annotations

import pytest

from imu_monitor.ui.gui_gc import collect_on_gui_thread


@pytest.fixture(autouse=True)
def _garbage_on_the_gui_thread(qapp):
    collect_on_gui_thread()
