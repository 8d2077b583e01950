"""The live traces: lumbar angle against its neutral band and limits, and per-sensor pitch.

Plotting follows pyqtgraph's own real-time examples: the frame timer hands the latest window
(``Pipeline.window``) to ``LivePlots.update_window``, which copies it into preallocated arrays
and calls ``setData`` with ``skipFiniteCheck``, clip-to-view and peak downsampling. The x axis is
time relative to the newest sample (-window .. 0 s), so the axes never rescale while streaming.

Cost per redraw (Qt's software raster, measured with ``benchmarks/bench_ui.py``): the traces are
drawn with 1 px cosmetic pens (Qt's fast line rasterizer; a 2 px pen goes through the stroker
and costs about three times as much per curve), no view box autoscales (the lumbar y range
follows the limits and, where every angle is judged, grows in 5 degree steps only while an
excursion beyond them is shown,
the segment plot's y range moves in 5 degree steps only when the data leaves it or uses under
a third of it), and the static text inside the plots (limit labels,
legend) is cached as pixmaps so a redraw blits it instead of laying out text.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from imu_monitor.exercises import Limits
from imu_monitor.ui import theme

pg.setConfigOptions(antialias=False, background=theme.BACKGROUND, foreground=theme.TEXT_DIM)


def style_axes(plot: pg.PlotItem) -> None:
    """Readable tick labels (the pyqtgraph default is small)."""
    font = pg.QtGui.QFont()
    font.setPixelSize(14)
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setTickFont(font)
        axis.setTextPen(theme.TEXT_DIM)


TRACE_PEN_PX = 1
"""Trace pen width (px, cosmetic). 1 px uses Qt's fast line path; see the module docstring."""
SEGMENT_RANGE_STEP_DEG = 5.0
"""The segment plot's y limits are multiples of this (degrees)."""
SEGMENT_RANGE_MIN = (-5.0, 5.0)
"""The smallest y range (degrees) of the segment plot."""
LIMIT_LABEL_POSITION = 0.01
"""Where the limit and band labels start, as a fraction of the plot width from its left."""
MARKER_COLOUR = "#ffd43b"
"""Session markers (set start/end, notes) in the plots and on the replay timeline."""
LUMBAR_TITLE = "Lumbar angle  (flexion +, extension −)  [°]"
LOCKOUT_TITLE = "Pelvis tilt from the lockout neutral  (judged at a held lockout)  [°]"
MARKER_LABEL_FLIP_S = 1.5
"""A marker this close to now (s) has its label on the left of its line."""
BAND_LABEL = "neutral zone"
"""The shaded band: inside it the spine counts as neutral; beyond it a warning, then the limit."""


def segment_title(placements: list[str]) -> str:
    """The lower plot's title: the hip angle is named only when a thigh sensor gives one."""
    hip = " and hip angle" if "thigh" in placements else ""
    return f"Sensor pitch (from the start posture){hip}  [°]"


def _static_text(item: pg.QtWidgets.QGraphicsItem) -> None:
    """Paint ``item`` once into a device pixmap and blit it on later redraws (text and axes
    that only change on a limit change, a range change or a resize)."""
    item.setCacheMode(pg.QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)


def opaque_over_background(rgba: tuple[int, int, int, int]) -> tuple[int, int, int]:
    """The opaque colour that ``rgba`` composited over ``theme.BACKGROUND`` shows: the same look
    as the translucent fill where nothing else is under it, without per-pixel blending."""
    bg = theme.BACKGROUND.lstrip("#")
    under = [int(bg[i : i + 2], 16) for i in (0, 2, 4)]
    a = rgba[3] / 255.0
    r, g, b = (round(c * a + u * (1.0 - a)) for c, u in zip(rgba[:3], under, strict=True))
    return r, g, b


def lumbar_span(peak_deg: float, base_deg: float) -> float:
    """The lumbar plot's half range (degrees) for a trace reaching ``peak_deg`` (absolute):
    ``base_deg`` (from the limits) while it fits with a margin, else the next multiple of
    ``SEGMENT_RANGE_STEP_DEG`` above the peak."""
    margin = 0.2 * SEGMENT_RANGE_STEP_DEG
    if peak_deg + margin <= base_deg:
        return base_deg
    return float(np.ceil((peak_deg + margin) / SEGMENT_RANGE_STEP_DEG) * SEGMENT_RANGE_STEP_DEG)


def segment_range(
    lo: float, hi: float, current: tuple[float, float] | None
) -> tuple[float, float] | None:
    """The segment plot's new y range (degrees) for data spanning ``lo`` .. ``hi``, or None to
    keep ``current``: limits on ``SEGMENT_RANGE_STEP_DEG`` steps with a margin, changed only
    when the data leaves the current range or fills under a third of it (so the axis does not
    rescale, and re-layout its ticks, on every frame)."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return None
    step = SEGMENT_RANGE_STEP_DEG
    margin = 0.1 * step
    want_lo = min(SEGMENT_RANGE_MIN[0], np.floor((lo - margin) / step) * step)
    want_hi = max(SEGMENT_RANGE_MIN[1], np.ceil((hi + margin) / step) * step)
    if current is not None:
        c_lo, c_hi = current
        inside = c_lo <= lo - margin and hi + margin <= c_hi
        if inside and (want_hi - want_lo) * 3.0 > (c_hi - c_lo):
            return None
    return float(want_lo), float(want_hi)


class _Trace:
    """One curve fed from preallocated x/y arrays."""

    def __init__(self, plot: pg.PlotItem, colour: str, width: float, name: str, capacity: int):
        pen = pg.mkPen(colour, width=width, cosmetic=True)
        self.item = plot.plot(pen=pen, name=name, skipFiniteCheck=True, antialias=False)
        self.item.setClipToView(True)
        self.item.setDownsampling(auto=True, method="peak")
        self.x = np.zeros(capacity)
        self.y = np.zeros(capacity)
        self.n = 0

    def set(self, x: np.ndarray, y: np.ndarray) -> None:
        n = min(len(x), len(self.x))
        self.n = n
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
        self.lumbar.setTitle(LUMBAR_TITLE, color=theme.TEXT)
        self.lumbar.setMouseEnabled(x=False, y=False)
        self.lumbar.hideButtons()
        style_axes(self.lumbar)
        self.lumbar.disableAutoRange()
        self.lumbar.setXRange(-self.window_s, 0.0, padding=0)
        self.band = pg.LinearRegionItem(
            orientation="horizontal",
            movable=False,
            brush=pg.mkBrush(*opaque_over_background(theme.NEUTRAL_BAND)),
            pen=pg.mkPen(None),
        )
        self.band.setZValue(-10)
        self.lumbar.addItem(self.band)
        # the band's name in its top left corner, inside it (moved with the limits)
        self.band_label = pg.TextItem(BAND_LABEL, color=theme.NEUTRAL, anchor=(0, 0))
        self.band_label.setZValue(-5)
        self.lumbar.addItem(self.band_label)
        # limit labels start just right of the y axis (left-anchored: they never overlap it)
        label_opts = {"position": LIMIT_LABEL_POSITION, "anchors": [(0, 0), (0, 1)]}
        self.flex_line = pg.InfiniteLine(
            angle=0,
            pen=pg.mkPen(theme.LIMIT_FLEXION, width=2, style=pg.QtCore.Qt.PenStyle.DashLine),
            label="flexion limit",
            labelOpts={"color": theme.LIMIT_FLEXION, **label_opts},
        )
        self.ext_line = pg.InfiniteLine(
            angle=0,
            pen=pg.mkPen(theme.LIMIT_EXTENSION, width=2, style=pg.QtCore.Qt.PenStyle.DashLine),
            label="extension limit",
            labelOpts={"color": theme.LIMIT_EXTENSION, **label_opts},
        )
        self.lumbar.addItem(self.flex_line)
        self.lumbar.addItem(self.ext_line)
        self.lumbar_trace = _Trace(
            self.lumbar, theme.TRACE_LUMBAR, TRACE_PEN_PX, "lumbar", capacity
        )

        self.segments = self.canvas.addPlot(row=1, col=0)
        self.segments.setTitle(segment_title(self.placements), color=theme.TEXT)
        self.segments.setMouseEnabled(x=False, y=False)
        self.segments.hideButtons()
        style_axes(self.segments)
        self.segments.disableAutoRange()
        self.segments.setXRange(-self.window_s, 0.0, padding=0)
        self.segments.setXLink(self.lumbar)
        legend = self.segments.addLegend(offset=(10, 5), labelTextColor=theme.TEXT)
        self.segments.setLabel("bottom", "time [s]")
        self.sensor_traces = {
            p: _Trace(
                self.segments,
                theme.SENSOR_COLOURS.get(p, "#cccccc"),
                TRACE_PEN_PX,
                p.replace("_", " "),
                capacity,
            )
            for p in self.placements
        }
        self.hip_trace = (
            _Trace(self.segments, theme.TRACE_HIP, TRACE_PEN_PX, "hip flexion", capacity)
            if "thigh" in self.placements
            else None
        )
        _static_text(legend)
        for plot in (self.lumbar, self.segments):  # axes repaint only on a range change
            for name in ("left", "bottom"):
                _static_text(plot.getAxis(name))
        for line in (self.flex_line, self.ext_line):
            _static_text(line.label)
        _static_text(self.band_label)
        self._marker_t = np.zeros(0)
        self._marker_labels: list[str] = []
        self.marker_lines: list[pg.InfiniteLine] = []
        """Vertical lines for the markers inside the window (a pool; unused ones hidden)."""
        self._segment_range: tuple[float, float] | None = None
        self.canvas.ci.layout.setRowStretchFactor(0, 3)
        self.canvas.ci.layout.setRowStretchFactor(1, 2)
        self._pitch_ref = dict(pitch_offsets_deg or {})
        self._last_key: tuple[int, float] | None = None
        self.set_limits(limits, judge_flexion=judge_flexion)

    @classmethod
    def for_pipeline(cls, p: Any, *, window_s: float = 10.0) -> LivePlots:
        """The plots for a ``Pipeline`` (or its switch): its sensors, limits, mode, and the
        exercise's start-posture pitches as the display offsets."""
        ex = p.exercise
        offsets = {
            "sacrum": ex.start_pitch_deg,
            "upper_lumbar": ex.start_pitch_deg,
            "thigh": ex.thigh_start_pitch_deg,
        }
        return cls(
            p.placements,
            p.limits,
            window_s=window_s,
            rate_hz=p.sensors[p.placements[0]].rate_hz,
            judge_flexion=p.mode != "lockout",
            pitch_offsets_deg=offsets,
        )

    def set_limits(self, limits: Limits, *, judge_flexion: bool = True) -> None:
        """Move the limit lines and the neutral band (the band ends where *warning* starts)."""
        wf = limits.warning_fraction
        self.flex_line.setPos(limits.flexion_deg)
        self.ext_line.setPos(-limits.extension_deg)
        self.flex_line.setVisible(judge_flexion)
        # one sensor in a hip thrust or bridge: the trace is the pelvis' tilt, the lumbar angle
        # only at a held lockout (lowering the hips read as -30 to -50 deg of "extension")
        self.lumbar.setTitle(LUMBAR_TITLE if judge_flexion else LOCKOUT_TITLE, color=theme.TEXT)
        self.band.setRegion((-limits.extension_deg * wf, limits.flexion_deg * wf))
        self.band_label.setPos(
            -self.window_s * (1.0 - LIMIT_LABEL_POSITION), limits.flexion_deg * wf
        )
        self._last_key = None
        self._lumbar_base_span = max(limits.flexion_deg, limits.extension_deg) * 2.2
        # one sensor in a hip thrust (flexion not judged): the angle between lockouts is the
        # hips moving, not judged; following it would shrink the limits to a sliver
        self._lumbar_grows = judge_flexion
        self._lumbar_span = self._lumbar_base_span
        self.lumbar.setYRange(-self._lumbar_span, self._lumbar_span, padding=0)

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
        self._fit_lumbar_range()
        for p, trace in self.sensor_traces.items():
            y = window.get(f"pitch_{p}_deg")
            if y is None:
                continue
            trace.set(x, y - self._pitch_ref.get(p, 0.0))
        if self.hip_trace is not None and "hip_flexion_deg" in window:
            self.hip_trace.set(x, window["hip_flexion_deg"])
        self._place_markers(float(t[-1]))
        self._fit_segment_range()

    def set_markers(self, markers: list[tuple[float, str]]) -> None:
        """Session markers to draw as vertical lines while they are in the window:
        (``t_s`` on the samples' clock, label)."""
        order = sorted(markers)
        self._marker_t = np.array([t for t, _ in order], dtype=float)
        self._marker_labels = [label for _, label in order]
        self._last_key = None

    def add_marker(self, t_s: float, label: str) -> None:
        """One more marker (the Mark button while recording)."""
        self.set_markers(
            [*zip(self._marker_t.tolist(), self._marker_labels, strict=True), (t_s, label)]
        )

    def _place_markers(self, t_last: float) -> None:
        lo = int(np.searchsorted(self._marker_t, t_last - self.window_s, side="left"))
        hi = int(np.searchsorted(self._marker_t, t_last, side="right"))
        shown = range(lo, hi)
        while len(self.marker_lines) < len(shown):
            line = pg.InfiniteLine(
                angle=90,
                pen=pg.mkPen(MARKER_COLOUR, width=1, style=pg.QtCore.Qt.PenStyle.DotLine),
                label="",
                labelOpts={"color": MARKER_COLOUR, "position": 0.97, "anchors": [(0, 0), (0, 0)]},
            )
            _static_text(line.label)
            self.lumbar.addItem(line)
            self.marker_lines.append(line)
        for line, i in zip(self.marker_lines, shown, strict=False):
            x = self._marker_t[i] - t_last
            line.setPos(x)
            text = self._marker_labels[i].replace("{", "{{").replace("}", "}}")
            if line.label.format != text:
                line.label.setFormat(text)
            # near now the label goes left of its line: written rightwards it was cut at the
            # plot's edge ("set en")
            anchors = [(1, 0), (1, 0)] if x > -MARKER_LABEL_FLIP_S else [(0, 0), (0, 0)]
            if line.label.anchors != anchors:
                line.label.anchors = anchors
                line.label.updatePosition()
            line.setVisible(True)
        for line in self.marker_lines[len(shown) :]:
            line.setVisible(False)

    def _fit_lumbar_range(self) -> None:
        """Keep the whole lumbar trace in view: the range (symmetric about 0) follows the
        limits, and grows in ``SEGMENT_RANGE_STEP_DEG`` steps only while an excursion beyond it
        is in the window."""
        tr = self.lumbar_trace
        y = tr.y[: tr.n]
        finite = np.isfinite(y)
        peak = float(np.max(np.abs(y), initial=0.0, where=finite))
        span = lumbar_span(peak, self._lumbar_base_span) if self._lumbar_grows else None
        span = span or self._lumbar_base_span
        if span != self._lumbar_span:
            self._lumbar_span = span
            self.lumbar.setYRange(-span, span, padding=0)

    def _fit_segment_range(self) -> None:
        traces = list(self.sensor_traces.values())
        if self.hip_trace is not None:
            traces.append(self.hip_trace)
        lo, hi = np.inf, -np.inf
        for tr in traces:
            y = tr.y[: tr.n]
            finite = np.isfinite(y)
            lo = min(lo, float(np.min(y, initial=np.inf, where=finite)))
            hi = max(hi, float(np.max(y, initial=-np.inf, where=finite)))
        new = segment_range(lo, hi, self._segment_range)
        if new is not None:
            self._segment_range = new
            self.segments.setYRange(*new, padding=0)
