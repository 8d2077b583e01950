"""The line under the plots: per sensor, its link state, data rate, loss and battery.

With a BLE source the line comes from ``BleSource.stats()``; other sources (replay) fall back to
the pipeline's own counts and the source's last status per sensor.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from PySide6.QtWidgets import QLabel, QWidget

log = logging.getLogger(__name__)

SENSOR_STRIP_PERIOD_S = 0.5
"""The line is rebuilt at most this often (seconds), or at once on a status change."""


def format_link_stats(stats: dict[str, dict[str, Any]]) -> str:
    """One line per sensor from ``BleSource.stats()``: state, rate, loss, reconnects."""
    parts = []
    for placement, st in stats.items():
        text = (
            f"{placement.replace('_', ' ')} ({st.get('device') or st.get('address', '')}): "
            f"{st.get('state', '?')}, {st.get('effective_rate_hz', 0.0):.0f} Hz, "
            f"loss {100.0 * st.get('loss_fraction', 0.0):.1f} %"
        )
        if st.get("reconnects"):
            text += f", {st['reconnects']} reconnects"
        if st.get("battery_pct") is not None:
            low = " LOW" if st["battery_pct"] < 15 else ""
            text += f", battery {st['battery_pct']} %{low}"
        parts.append(text)
    return "    ".join(parts)


class SensorStrip(QLabel):
    """The sensor line; ``set_state`` records a source status, ``refresh`` rebuilds the text
    (at most every ``SENSOR_STRIP_PERIOD_S`` unless a status changed)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("", parent)
        self.setObjectName("dim")
        self.setWordWrap(True)
        self.setMinimumWidth(200)
        self.states: dict[str, tuple[str, dict]] = {}
        """Per sensor ("" for the whole source): the last (state, info) from the source."""
        self._last = -math.inf
        self._samples_prev: dict[str, tuple[float, int]] = {}

    def set_state(self, state: str, info: dict) -> None:
        self.states[str(info.get("sensor", ""))] = (state, info)
        self._last = -math.inf

    def reset(self) -> None:
        """A new source: forget its states and counts."""
        self.states.clear()
        self._samples_prev.clear()
        self._last = -math.inf

    def refresh(self, ds: Any, now: float) -> None:
        """Rebuild the line from ``ds`` (a ``DashboardSession``) if it is due; ``now``: monotonic
        seconds."""
        if now - self._last < SENSOR_STRIP_PERIOD_S:
            return
        self._last = now
        stats_fn = getattr(ds.source, "stats", None)
        if stats_fn is not None:
            try:
                self.setText(format_link_stats(stats_fn()))
                return
            except Exception:  # the source is closing: fall back to the pipeline's counts
                log.debug("source stats unavailable", exc_info=True)
        self.setText(self._from_pipeline(ds.pipeline, now))

    def _from_pipeline(self, p: Any, now: float) -> str:
        parts = []
        try:
            quality = p.quality()
        except Exception:
            quality = {}
        for name in p.placements:
            n = p.samples_in.get(name, 0)
            prev = self._samples_prev.get(name)
            self._samples_prev[name] = (now, n)
            rate = (n - prev[1]) / (now - prev[0]) if prev and now > prev[0] else float("nan")
            text = f"{name.replace('_', ' ')}: "
            text += f"{rate:.0f} Hz" if rate == rate else "– Hz"
            q = quality.get(name, {})
            lost, got = q.get("samples_missing"), q.get("samples_in")
            if isinstance(lost, int | float) and isinstance(got, int | float) and lost + got:
                text += f", loss {100.0 * lost / (lost + got):.1f} %"
            state, info = self.states.get(name, self.states.get("", ("", {})))
            if "battery" in info:
                text += f", battery {info['battery']} %"
            if state:
                text += f", {state}"
            parts.append(text)
        return "    ".join(parts)
