"""The line under the plots: per sensor, its data rate, loss, battery and any unusual state.

With a BLE source the line comes from ``BleSource.stats()``; other sources (replay) fall back to
the pipeline's own counts and the source's last status per sensor. The rate shown there is the
sensor's nominal rate (the recording's): a count of arrivals over half a second moves in steps
of one chunk (8 samples at 200 Hz: "208 Hz", "192 Hz", "203 Hz"...) and in a replay follows the
replay speed, not the sensor. Each sensor's part is kept on one line (non-breaking spaces), the
device names are in the tooltip.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from PySide6.QtWidgets import QLabel, QWidget

from imu_monitor.sources.base import SourceState, SourceStatus
from imu_monitor.ui.header import SEPARATOR, keep_together

log = logging.getLogger(__name__)

SENSOR_STRIP_PERIOD_S = 0.5
"""The line is rebuilt at most this often (seconds), or at once on a status change."""


NORMAL_STATES = ("streaming", "replaying")
"""Link states the line does not spell out (it shows the others: connecting, reconnecting...)."""


def link_stats_parts(stats: dict[str, dict[str, Any]], *, brief: bool = False) -> list[str]:
    """Per sensor from ``BleSource.stats()``: state, rate, loss, reconnects, battery.
    ``brief``: without the device name and without a normal state (the sensor line)."""
    parts = []
    for placement, st in stats.items():
        head = placement.replace("_", " ")
        if not brief:
            head += f" ({st.get('device') or st.get('address', '')})"
        bits = []
        state = st.get("state", "?")
        if not brief or state not in NORMAL_STATES:
            bits.append(str(state))
        bits.append(f"{st.get('effective_rate_hz', 0.0):.0f} Hz")
        bits.append(f"loss {100.0 * st.get('loss_fraction', 0.0):.1f} %")
        if st.get("reconnects"):
            bits.append(f"{st['reconnects']} reconnects")
        if st.get("battery_pct") is not None:
            low = " LOW" if st["battery_pct"] < 15 else ""
            bits.append(f"battery {st['battery_pct']} %{low}")
        parts.append(f"{head}: {', '.join(bits)}")
    return parts


def format_link_stats(stats: dict[str, dict[str, Any]]) -> str:
    """One line for all sensors from ``BleSource.stats()``, with the device names."""
    return "    ".join(link_stats_parts(stats))


class SensorStrip(QLabel):
    """The sensor line; ``set_state`` records a source status, ``refresh`` rebuilds the text
    (at most every ``SENSOR_STRIP_PERIOD_S`` unless a status changed)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("", parent)
        self.setObjectName("dim")
        self.setWordWrap(True)
        self.setMinimumWidth(200)
        self.states: dict[str, SourceStatus] = {}
        """Per sensor ("" for the whole source): the last status from the source."""
        self.battery_pct: dict[str, int] = {}
        """Per sensor: the last battery level a status carried."""
        self._last = -math.inf
        self._samples_prev: dict[str, tuple[float, int]] = {}

    def set_state(self, status: SourceStatus) -> None:
        if status.state != SourceState.BATTERY:  # a new level is not a link state
            self.states[status.sensor] = status
        if status.battery_pct is not None:
            self.battery_pct[status.sensor] = status.battery_pct
        self._last = -math.inf

    def reset(self) -> None:
        """A new source: forget its states and counts."""
        self.states.clear()
        self.battery_pct.clear()
        self._samples_prev.clear()
        self._last = -math.inf

    def refresh(self, ds: Any, now: float) -> None:
        """Rebuild the line from ``ds`` (a ``DashboardSession``) if it is due; ``now``: monotonic
        seconds."""
        if now - self._last < SENSOR_STRIP_PERIOD_S:
            return
        self._last = now
        stats_fn = getattr(ds.source, "stats", None)
        parts = None
        if stats_fn is not None:
            try:
                stats = stats_fn()
                parts = link_stats_parts(stats, brief=True)
                self.setToolTip(format_link_stats(stats).replace("    ", "\n"))
            except Exception:  # the source is closing: fall back to the pipeline's counts
                log.debug("source stats unavailable", exc_info=True)
        if parts is None:
            parts = self._from_pipeline(ds.pipeline, now)
        text = SEPARATOR.join(keep_together(p) for p in parts)
        if text != self.text():
            self.setText(text)

    def _from_pipeline(self, p: Any, now: float) -> list[str]:
        parts = []
        try:
            quality = p.quality()
        except Exception:
            quality = {}
        for name in p.placements:
            rate = self._rate_hz(p, name, now)
            text = f"{name.replace('_', ' ')}: "
            text += "– Hz" if math.isnan(rate) else f"{rate:.0f} Hz"
            q = quality.get(name, {})
            lost, got = q.get("samples_missing"), q.get("samples_in")
            if isinstance(lost, int | float) and isinstance(got, int | float) and lost + got:
                text += f", loss {100.0 * lost / (lost + got):.1f} %"
            status = self.states.get(name, self.states.get(""))
            if name in self.battery_pct:
                text += f", battery {self.battery_pct[name]} %"
            if status is not None and status.state not in NORMAL_STATES:
                text += f", {status.state.replace('_', ' ')}"
            parts.append(text)
        return parts

    def _rate_hz(self, p: Any, name: str, now: float) -> float:
        """The sensor's nominal rate; without one, the mean arrival rate since the first
        count (not a half-second count: see the module docstring)."""
        nominal = getattr(p.sensors.get(name), "rate_hz", 0.0) or 0.0
        if nominal > 0:
            return float(nominal)
        n = p.samples_in.get(name, 0)
        first = self._samples_prev.setdefault(name, (now, n))
        return (n - first[1]) / (now - first[0]) if now > first[0] else float("nan")
