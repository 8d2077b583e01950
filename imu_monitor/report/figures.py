"""The report's plots, drawn with matplotlib and returned as inline SVG text.

matplotlib is used without pyplot (``Figure`` draws through the SVG backend directly): no global
figure list, no display, safe from a worker thread. Text stays text in the SVG
(``svg.fonttype: none``: smaller, searchable, drawn with the viewer's own sans-serif font), and
ids are salted by a constant, so the same report gives the same bytes. No user text (names,
marker notes) is drawn into a figure: it is in the HTML around them, escaped.

An hour-long trace is 720 000 samples; it is drawn as its min/max envelope per pixel column
(``envelope``), so the figure stays small and a single-sample spike still shows. Alarms are
drawn as marks of a fixed size at their peak, visible however short they were.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from imu_monitor.events import Direction, MonitorMode
from imu_monitor.processing.good_reps import phase_verdict

FLEXION = "#e8590c"
"""Flexion (orange) and extension (blue), as on the dashboard (colour-vision safe)."""
EXTENSION = "#1c64d9"
GOOD = "#2f9e44"
TRACE = "#343a40"
MUTED = "#adb5bd"
TARGET = "#495057"

WIDTH_IN = 11.0
"""Figure width (inches at 100 columns each: the trace's envelope has this many columns)."""
COLUMNS_PER_IN = 100
SECONDS_AXIS_UP_TO_S = 300.0
"""Longer sessions have a time axis in minutes."""

RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "imu-monitor-report",
    "font.family": "sans-serif",
    "font.size": 9.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e9ecef",
    "grid.linewidth": 0.6,
    "path.simplify": True,
}

_XML_HEAD = re.compile(r"^.*?(?=<svg)", re.S)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)


TREND_SCALE_DEG_PER_REP = 1.0
"""The drift trend panel spans at least +-this (deg per rep): over ten reps, 10 deg, a
limit's worth of drift."""


def svg_text(fig: Figure) -> str:
    """``fig`` as an ``<svg>`` element to inline in HTML (no XML declaration, doctype or RDF
    metadata)."""
    buf = io.StringIO()
    with matplotlib.rc_context(RC):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = _XML_HEAD.sub("", buf.getvalue(), count=1)
    return _METADATA.sub("", text, count=1).strip()


MARGINS_IN = {"left": 0.85, "right": 0.15, "top": 0.15, "bottom": 0.5, "gap": 0.45}
"""Fixed margins (inches) instead of a layout engine, which cost 0.2 s a figure."""


def new_figure(height_in: float, rows: int = 1, sharex: bool = False) -> tuple[Figure, list]:
    m = MARGINS_IN
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(WIDTH_IN, height_in))
        axes = fig.subplots(rows, 1, sharex=sharex, squeeze=False)[:, 0]
        panel = (height_in - m["top"] - m["bottom"] - (rows - 1) * m["gap"]) / rows
        fig.subplots_adjust(
            left=m["left"] / WIDTH_IN,
            right=1 - m["right"] / WIDTH_IN,
            top=1 - m["top"] / height_in,
            bottom=m["bottom"] / height_in,
            hspace=m["gap"] / panel,
        )
    return fig, list(axes)


def _bars(ax, x: np.ndarray, heights: np.ndarray, width: float, **style) -> None:
    """Bars at ``x`` as one filled outline (``stairs``): one path, where ``bar`` makes a patch
    per bar (720 reps: 1 s of drawing)."""
    if len(x) == 0:
        return
    edges = np.empty(2 * len(x))
    edges[0::2] = x - width / 2
    edges[1::2] = x + width / 2
    values = np.zeros(2 * len(x) - 1)
    values[0::2] = heights
    ax.stairs(values, edges, baseline=0.0, fill=True, **style)


def envelope(
    t_s: np.ndarray, y: np.ndarray, columns: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The min/max of ``y`` in each of ``columns`` equal time bins over ``t_s``'s span:
    (bin centres, minima, maxima). A bin without finite samples is NaN (drawn as a break)."""
    t_s = np.asarray(t_s, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(t_s) == 0:
        empty = np.zeros(0)
        return empty, empty, empty
    edges = np.linspace(t_s[0], t_s[-1], columns + 1)
    starts = np.searchsorted(t_s, edges[:-1], side="left")
    starts[0] = 0
    counts = np.diff(np.append(starts, len(t_s)))
    nonempty = counts > 0
    lo = np.full(columns, np.nan)
    hi = np.full(columns, np.nan)
    idx = starts[nonempty]
    lo[nonempty] = np.fmin.reduceat(y, idx)
    hi[nonempty] = np.fmax.reduceat(y, idx)
    return 0.5 * (edges[:-1] + edges[1:]), lo, hi


def _headroom(ax, share: float = 0.3) -> None:
    """Room above the data for the legend (a share of the axis' height)."""
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi + share * (hi - lo))


def _set_breaks(ax, first_reps: Sequence[int]) -> None:
    """Dotted lines before the first rep of each set after the first (one collection)."""
    if len(first_reps):
        ax.vlines(np.asarray(first_reps) - 0.5, 0.0, 1.0, transform=ax.get_xaxis_transform(),
                  color=TARGET, linewidth=0.8, linestyles=":")  # fmt: skip


def _time_axis(duration_s: float) -> tuple[float, str]:
    return (60.0, "min") if duration_s > SECONDS_AXIS_UP_TO_S else (1.0, "s")


def trace_figure(
    t_s: np.ndarray,
    angle_deg: np.ndarray,
    *,
    flexion_limit_deg: float,
    extension_limit_deg: float,
    mode: str,
    alarms: Sequence[dict],
    sets: Sequence[tuple[float, float]],
    markers: Sequence[float],
) -> Figure:
    """The lumbar angle over the session (its envelope per pixel column when longer than the
    figure is wide), the limits, each alarm marked at its peak, set spans shaded, markers as
    ticks. ``alarms``: dicts with ``t_start_s``, ``t_end_s``, ``direction``, ``peak_deg``."""
    fig, (ax,) = new_figure(3.4)
    duration = float(t_s[-1] - t_s[0]) if len(t_s) > 1 else 0.0
    scale, unit = _time_axis(duration)
    columns = int(WIDTH_IN * COLUMNS_PER_IN)
    if len(t_s) > 2 * columns:
        tc, lo, hi = envelope(t_s, angle_deg, columns)
        ax.fill_between(tc / scale, lo, hi, color=TRACE, linewidth=0.6, edgecolor=TRACE)
    else:
        ax.plot(t_s / scale, angle_deg, color=TRACE, linewidth=1.0)
    for parity, colour in ((0, "#e7f5ff"), (1, "#f1f3f5")):  # sets shaded in turn: 2 shapes
        spans = [(a / scale, (b - a) / scale) for a, b in list(sets)[parity::2]]
        if spans:
            ax.broken_barh(spans, (0.0, 1.0), transform=ax.get_xaxis_transform(), color=colour,
                           zorder=0)  # fmt: skip
    judge_flexion = mode != MonitorMode.LOCKOUT
    ax.axhline(
        flexion_limit_deg,
        color=FLEXION if judge_flexion else MUTED,
        linestyle="--" if judge_flexion else ":",
        linewidth=1.2,
        label=f"flexion limit +{flexion_limit_deg:g}°" + ("" if judge_flexion else " (not judged)"),
    )
    ax.axhline(
        -extension_limit_deg,
        color=EXTENSION,
        linestyle="--",
        linewidth=1.2,
        label=f"extension limit −{extension_limit_deg:g}°",
    )
    for direction, colour, marker in (
        (Direction.FLEXION, FLEXION, "v"),
        (Direction.EXTENSION, EXTENSION, "^"),
    ):
        mine = [a for a in alarms if a["direction"] == direction]
        if not mine:
            continue
        spans = [(a["t_start_s"] / scale, (a["t_end_s"] - a["t_start_s"]) / scale) for a in mine]
        ax.broken_barh(spans, (0.0, 0.04), transform=ax.get_xaxis_transform(), color=colour,
                       linewidth=0.8, edgecolor=colour)  # fmt: skip
        ax.scatter(
            [a["t_start_s"] / scale for a in mine],
            [a["peak_deg"] for a in mine],
            s=22,
            marker=marker,
            color=colour,
            zorder=3,
            label=f"{direction} alarm ({len(mine)})",
        )
    if len(markers):
        ax.vlines(np.asarray(markers) / scale, 0.96, 1.0, transform=ax.get_xaxis_transform(),
                  color=TARGET, linewidth=1.0)  # fmt: skip
    ax.set_xlabel(f"time ({unit})")
    if mode == "lockout":  # one sensor: the pelvis' tilt, judged only at a held lockout
        ax.set_ylabel("pelvis tilt from the\nlockout neutral (°)")
    else:
        ax.set_ylabel("lumbar angle (°)\nflexion + / extension −")
    if len(t_s):
        ax.set_xlim(t_s[0] / scale, t_s[-1] / scale)
    _headroom(ax, 0.15)
    ax.legend(loc="upper right", fontsize=8, ncols=4, frameon=False)
    return fig


def rep_bars_figure(
    peak_flexion_deg: Sequence[float],
    peak_extension_deg: Sequence[float],
    flexion_faulty: Sequence[bool],
    extension_faulty: Sequence[bool],
    *,
    flexion_limit_deg: float,
    extension_limit_deg: float,
    set_breaks: Sequence[int] = (),
    not_good: Sequence[bool] | None = None,
) -> Figure:
    """Per rep, its peak flexion (up) and extension (down, ``peak_extension_deg`` as sizes);
    a rep that alarmed in a direction has that bar in the direction's colour, and every rep
    that did not count (``not_good``; default: the alarmed ones) a cross above it. The limits
    as lines; ``set_breaks``: the first rep number of every set after the first."""
    fig, (ax,) = new_figure(3.0)
    n = len(peak_flexion_deg)
    x = np.arange(1, n + 1)
    flex = np.asarray(peak_flexion_deg, dtype=float)
    ext = -np.abs(np.asarray(peak_extension_deg, dtype=float))
    bad_f = np.asarray(flexion_faulty, dtype=bool)
    bad_e = np.asarray(extension_faulty, dtype=bool)
    bad = bad_f | bad_e
    width = 0.8 if n <= 200 else 1.0
    _bars(ax, x, np.where(bad_f, 0.0, flex), width, color=GOOD, alpha=0.55,
          label="within the limit")  # fmt: skip
    _bars(ax, x, np.where(bad_e, 0.0, ext), width, color=GOOD, alpha=0.55)
    _bars(ax, x, np.where(bad_f, flex, 0.0), width, color=FLEXION, label="flexion alarm")
    _bars(ax, x, np.where(bad_e, ext, 0.0), width, color=EXTENSION, label="extension alarm")
    ax.axhline(flexion_limit_deg, color=FLEXION, linestyle="--", linewidth=1.0)
    ax.axhline(-extension_limit_deg, color=EXTENSION, linestyle="--", linewidth=1.0)
    ax.axhline(0.0, color=TARGET, linewidth=0.6)
    top = max(float(np.nanmax(flex, initial=0.0)), flexion_limit_deg) * 1.12 + 0.5
    crossed = bad if not_good is None else np.asarray(not_good, dtype=bool)
    if crossed.any():
        ax.scatter(x[crossed], np.full(crossed.sum(), top), marker="x", s=18, color="#c92a2a",
                   label="rep not counted")  # fmt: skip
    _set_breaks(ax, set_breaks)
    ax.set_xlim(0.3, n + 0.7)
    ax.set_xlabel("rep")
    ax.set_ylabel("peak lumbar angle (°)")
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo - 0.25 * (hi - lo), hi)  # room below for the legend
    ax.legend(loc="lower right", fontsize=8, ncols=4, frameon=False)
    return fig


PHASES = (("concentric_s", "up"), ("hold_s", "hold"), ("eccentric_s", "down"))


def tempo_figure(
    durations: dict[str, Sequence[float]],
    targets: dict[str, float],
    tolerance_s: float,
    *,
    approximate: Sequence[bool] = (),
    set_breaks: Sequence[int] = (),
) -> Figure:
    """Per phase (up, hold, down) every rep's duration against the target: the target line,
    the tolerance band (a hold only needs to reach its target), reps off it in red (by the rule
    the reps are counted with, ``good_reps.phase_verdict``);
    ``approximate`` reps as open marks."""
    fig, axes = new_figure(4.6, rows=3, sharex=True)
    approx = np.asarray(approximate, dtype=bool)
    for ax, (key, label) in zip(axes, PHASES, strict=True):
        d = np.asarray(durations[key], dtype=float)
        x = np.arange(1, len(d) + 1)
        target = targets[key]
        low = target if key == "hold_s" else target - tolerance_s
        high = math.inf if key == "hold_s" else target + tolerance_s
        ax.axhspan(low, target + 3 * tolerance_s if math.isinf(high) else high,
                   color="#d3f9d8", zorder=0)  # fmt: skip
        ax.axhline(target, color=TARGET, linewidth=1.0, label=f"target {target:g} s")
        phase = "hold" if key == "hold_s" else "up"  # up and down share a rule
        out = np.array([phase_verdict(phase, v, target, tolerance_s) != "ok" for v in d], bool)
        if len(approx) != len(d):
            approx = np.zeros(len(d), dtype=bool)
        for mask, colour, fill in (
            (~out & ~approx, GOOD, True),
            (out & ~approx, "#c92a2a", True),
            (~out & approx, GOOD, False),
            (out & approx, "#c92a2a", False),
        ):
            if mask.any():
                ax.scatter(x[mask], d[mask], s=10, color=colour if fill else "none",
                           edgecolors=colour, linewidths=0.8, zorder=3)  # fmt: skip
        _set_breaks(ax, set_breaks)
        ax.set_ylabel(f"{label} (s)")
        _headroom(ax, 0.25)
        ax.legend(loc="upper right", fontsize=8, frameon=False)
    axes[-1].set_xlabel("rep")
    return fig


def drift_figure(
    sets: Sequence[Sequence[float]],
    slopes_deg_per_rep: Sequence[float],
    warning: float,
    *,
    first_warning: Sequence[int | None] = (),
) -> Figure:
    """Form drift: per set, each rep's lumbar excursion (``sets``: in % of its limit) against
    its place in the set, one line per set, the ``warning`` level, and ringed the first rep of
    each set past it (``first_warning``: 0-based place in the set, or None); below, each set's
    trend (slope, deg per rep) as a bar."""
    fig, (ax, bx) = new_figure(4.2, rows=2)
    n = len(sets)
    cmap = matplotlib.colormaps["viridis"]
    colours = [cmap(i / max(n - 1, 1)) for i in range(n)]
    lines = [np.column_stack([np.arange(1, len(e) + 1), e]) for e in sets]
    # one collection for the lines and one for the points: 60 sets stay one drawing each
    ax.add_collection(LineCollection(lines, colors=colours, linewidths=1.0))
    points = [(p, c) for line, c in zip(lines, colours, strict=True) for p in line]
    if points:
        ax.scatter([p[0] for p, _ in points], [p[1] for p, _ in points], s=6,
                   c=[c for _, c in points])  # fmt: skip
    if n <= 8:
        for i, c in enumerate(colours):
            ax.plot([], [], color=c, marker="o", markersize=2.5, label=f"set {i + 1}")
    ringed = [
        (k + 1, sets[i][k])
        for i, k in enumerate(first_warning)
        if i < n and k is not None and k < len(sets[i])
    ]
    if ringed:
        ax.scatter(*zip(*ringed, strict=True), s=60, facecolors="none", edgecolors="#c92a2a",
                   linewidths=1.2, zorder=3, label="first past the warning")  # fmt: skip
    ax.autoscale_view()
    ax.axhline(warning, color="#c92a2a", linestyle="--", linewidth=1.0,
               label=f"warning {warning:.0f} %")  # fmt: skip
    ax.axhline(100.0, color=TARGET, linestyle=":", linewidth=1.0, label="limit")
    ax.set_xlabel("rep in the set")
    ax.set_ylabel("excursion (% of limit)")
    ax.set_ylim(0.0, None)
    _headroom(ax, 0.3)
    ax.legend(loc="upper left", fontsize=8, ncols=11, frameon=False)
    slopes = np.asarray(slopes_deg_per_rep, dtype=float)
    xs = np.arange(1, n + 1)
    slopes = np.nan_to_num(slopes)
    _bars(bx, xs, np.where(slopes > 0, slopes, 0.0), 0.7, color=FLEXION, label="growing")
    _bars(bx, xs, np.where(slopes > 0, 0.0, slopes), 0.7, color=GOOD, label="steady or shrinking")
    bx.axhline(0.0, color=TARGET, linewidth=0.6)
    # at least +-TREND_SCALE_DEG_PER_REP: autoscaled, a trend of 0.05 deg/rep filled the panel
    # as if the back had drifted a lot
    reach = max(TREND_SCALE_DEG_PER_REP, float(np.abs(slopes).max(initial=0.0)) * 1.15)
    bx.set_ylim(-reach, reach)
    bx.set_xlabel("set")
    bx.set_ylabel("trend (°/rep)")
    bx.set_xticks(xs if n <= 30 else xs[:: max(1, n // 30)])
    return fig
