"""The live traces: lumbar angle against its neutral band and limits, and per-sensor pitch.

Plotting follows pyqtgraph's own real-time examples: the frame timer hands the latest window
(``Pipeline.window``) to ``LivePlots.update_window``, which copies it into preallocated arrays
and calls ``setData`` with ``skipFiniteCheck``, clip-to-view and peak downsampling. The x axis is
time relative to the newest sample (-window .. 0 s), so the axes never rescale while streaming.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ..exercises import Limits
from . import theme

pg.setConfigOptions(antialias=False, background=theme.BACKGROUND, foreground=theme.TEXT_DIM)


def style_axes(plot: pg.PlotItem) -> None:
    """Readable tick labels (the pyqtgraph default is small)."""
    font = pg.QtGui.QFont()
    font.setPixelSize(14)
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setTickFont(font)
        axis.setTextPen(theme.TEXT_DIM)


class _Trace:
    """One curve fed from preallocated x/y arrays."""

    def __init__(self, plot: pg.PlotItem, colour: str, width: float, name: str, capacity: int):
        self.item = plot.plot(pen=pg.mkPen(colour, width=width), name=name, skipFiniteCheck=True)
        self.item.setClipToView(True)
        self.item.setDownsampling(auto=True, method="peak")
        self.x = np.zeros(capacity)
        self.y = np.zeros(capacity)

    def set(self, x: np.ndarray, y: np.ndarray) -> None:
        n = min(len(x), len(self.x))
        if n == 0:
            self.item.setData(self.x[:0], self.y[:0], skipFiniteCheck=True)
            return
        self.x[:n] = x[-n:]
        self.y[:n] = y[-n:]
        finite = np.isfinite(self.y[:n])
        if not finite.all():  # a gap or a missing channel: keep the plot honest, not joined
            self.item.setData(self.x[:n], self.y[:n], connect="finite")
        else:
            self.item.setData(self.x[:n], self.y[:n], skipFiniteCheck=True)


class LivePlots(QWidget):
    """Lumbar plot (top) and segment plot (bottom: pitch of each sensor, hip angle with a thigh
    sensor). ``placements``: the session's sensors; ``window_s``: seconds shown;
    ``rate_hz``: the master sensor rate (sizes the preallocated arrays); ``pitch_offsets_deg``:
    per placement, the nominal pitch of the exercise's start posture, subtracted for display so
    every sensor's trace sits near 0 (a fixed axis offset, not a computation)."""

    def __init__(
        self,
        placements: list[str],
        limits: Limits,
        *,
        window_s: float = 10.0,
        rate_hz: float = 200.0,
        judge_flexion: bool = True,
        pitch_offsets_deg: dict[str, float] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.window_s = float(window_s)
        self.placements = list(placements)
        capacity = int(self.window_s * rate_hz * 1.25) + 64
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.canvas = pg.GraphicsLayoutWidget()
        lay.addWidget(self.canvas)

        self.lumbar = self.canvas.addPlot(row=0, col=0)
        self.lumbar.setTitle("Lumbar angle  (flexion +, extension −)  [°]", color=theme.TEXT)
        pass  # GRID
        self.lumbar.setMouseEnabled(x=False, y=False)
        self.lumbar.hideButtons()
        style_axes(self.lumbar)
        self.lumbar.setXRange(-self.window_s, 0.0, padding=0)
        self.band = pg.LinearRegionItem(
            orientation="horizontal",
            movable=False,
            brush=pg.mkBrush(*theme.NEUTRAL_BAND),
            pen=pg.mkPen(None),
        )
        self.band.setZValue(-10)
        self.lumbar.addItem(self.band)
        self.flex_line = pg.InfiniteLine(
            angle=0,
            pen=pg.mkPen(theme.LIMIT_FLEXION, width=2, style=pg.QtCore.Qt.PenStyle.DashLine),
            label="flexion limit",
            labelOpts={"color": theme.LIMIT_FLEXION, "position": 0.06},
        )
        self.ext_line = pg.InfiniteLine(
            angle=0,
            pen=pg.mkPen(theme.LIMIT_EXTENSION, width=2, style=pg.QtCore.Qt.PenStyle.DashLine),
            label="extension limit",
            labelOpts={"color": theme.LIMIT_EXTENSION, "position": 0.06},
        )
        self.lumbar.addItem(self.flex_line)
        self.lumbar.addItem(self.ext_line)
        self.lumbar_trace = _Trace(self.lumbar, theme.TRACE_LUMBAR, 2, "lumbar", capacity)

        self.segments = self.canvas.addPlot(row=1, col=0)
        self.segments.setTitle(
            "Sensor pitch (from the start posture) and hip angle  [°]", color=theme.TEXT
        )
        pass  # GRID
        self.segments.setMouseEnabled(x=False, y=False)
        self.segments.hideButtons()
        style_axes(self.segments)
        self.segments.setXRange(-self.window_s, 0.0, padding=0)
        self.segments.setXLink(self.lumbar)
        self.segments.addLegend(offset=(10, 5), labelTextColor=theme.TEXT)
        self.segments.setLabel("bottom", "time [s]")
        self.sensor_traces = {
            p: _Trace(
                self.segments,
                theme.SENSOR_COLOURS.get(p, "#cccccc"),
                2,
                p.replace("_", " "),
                capacity,
            )
            for p in self.placements
        }
        self.hip_trace = (
            _Trace(self.segments, theme.TRACE_HIP, 2, "hip flexion", capacity)
            if "thigh" in self.placements
            else None
        )
        self.canvas.ci.layout.setRowStretchFactor(0, 3)
        self.canvas.ci.layout.setRowStretchFactor(1, 2)
        self._pitch_ref = dict(pitch_offsets_deg or {})
        self._last_key: tuple[int, float] | None = None
        self.set_limits(limits, judge_flexion=judge_flexion)

    def set_limits(self, limits: Limits, *, judge_flexion: bool = True) -> None:
        """Move the limit lines and the neutral band (the band ends where *warning* starts)."""
        wf = limits.warning_fraction
        self.flex_line.setPos(limits.flexion_deg)
        self.ext_line.setPos(-limits.extension_deg)
        self.flex_line.setVisible(judge_flexion)
        self.band.setRegion((-limits.extension_deg * wf, limits.flexion_deg * wf))
        self._last_key = None
        span = max(limits.flexion_deg, limits.extension_deg) * 2.2
        self.lumbar.setYRange(-span, span, padding=0)

    def update_window(self, window: dict[str, np.ndarray]) -> None:
        """Draw the latest window (``Pipeline.window`` output, arrays of shape (n,))."""
        t = window.get("t_s")
        if t is None or len(t) == 0:
            return
        key = (len(t), float(t[-1]))
        if key == self._last_key:  # nothing new since the last frame: no setData, no repaint
            return
        self._last_key = key
        x = t - t[-1]
        self.lumbar_trace.set(x, window["lumbar_flexion_deg"])
        for p, trace in self.sensor_traces.items():
            y = window.get(f"pitch_{p}_deg")
            if y is None:
                continue
            trace.set(x, y - self._pitch_ref.get(p, 0.0))
        if self.hip_trace is not None and "hip_flexion_deg" in window:
            self.hip_trace.set(x, window["hip_flexion_deg"])
