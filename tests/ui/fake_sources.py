"""Sources the UI tests share (the ``Source`` protocol of ``imu_monitor.sources``)."""

from __future__ import annotations

from imu_monitor.model import Recording


class IdleSource:
    """A Source that sends nothing by itself: the test feeds the session's pipeline by hand."""

    def __init__(self, rec: Recording):
        self.sensors = dict(rec.sensors)

    def start(self, on_chunk, on_gap, on_status):
        pass

    def stop(self):
        pass

    def alert(self, direction):
        pass
