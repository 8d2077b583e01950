"""Reps: the counter, the tempo of the last rep against the target, per-rep excursion bars.

The counter shows good reps of reps ("8 / 10", ``processing.sets``: within the limits and on
the target tempo) with the reason the last rep did not count on the line under it ("hold
1.2 s < 2 s"; it replaces the TOO FAST / LEFT NEUTRAL flag, which only named the fault), and a
line of the sets (good of reps, ⚠ and the rep where the excursion first passed the drift
warning; its tooltip gives each set's drift in degrees per rep). The last rep's up / hold / down
are coloured off-tempo by the rule the count judges them with (``good_reps.phase_verdicts``:
within the coach's tolerance of the target, a hold no shorter than its target). Updated from
``RepEnded`` events (not per frame). Bars: flexion up (orange), extension down (blue), one pair
per rep, the last ``MAX_BARS`` reps; the reps that did not count, as the counter judges them
(limits and tempo, ``show_sets``), carry a red cross above their bars and are listed in the
caption with why ("#3 (flexion, extension)", "#6 (hold)"; a rep failed on tempo alone had gone
unmarked beside a "0 / 8"). The chart's height grows with the tallest bar, so none is cut off.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from imu_monitor.events import APPROXIMATE_TEMPO_NOTE, RepEnded
from imu_monitor.exercises import Limits, SetRules, Tempo
from imu_monitor.processing.good_reps import RepJudgement, beside, phase_verdicts
from imu_monitor.processing.sets import SetSummary, SetsView
from imu_monitor.ui import theme
from imu_monitor.ui.plots import style_axes

MAX_BARS = 20
FAULT_COLOUR = "#ff4d4f"
TEMPO_TITLE = "LAST REP  (up / hold / down)"
APPROXIMATE_TITLE = "  ≈ approximate: the lumbar fault moved the pelvis"


FAULT_MARK_AT = 0.85
"""The faulty-rep crosses sit at this fraction of the chart's half height."""


def bars_span_deg(limits: Limits, heights_deg: np.ndarray) -> float:
    """The excursion chart's half height (degrees): twice the larger limit, more when a bar is
    taller, so no bar is cut off and the crosses sit above the bars."""
    base = max(limits.flexion_deg, limits.extension_deg) * 2.0
    finite = np.abs(heights_deg[np.isfinite(heights_deg)])
    tallest = float(finite.max()) if finite.size else 0.0
    return max(base, tallest / (FAULT_MARK_AT - 0.1))


class RepsPanel(QFrame):
    def __init__(
        self,
        tempo: Tempo,
        limits: Limits,
        parent: QWidget | None = None,
        tolerance_s: float = SetRules().tempo_tolerance_s,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.tempo = tempo
        self.tolerance_s = tolerance_s
        """Up and down within this of the target are on tempo (``SetRules``), as the good-rep
        count judges them; the hold when not shorter than its target."""
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 10, 12, 10)
        grid = QGridLayout()
        lay.addLayout(grid)
        caption = QLabel("REPS")
        caption.setObjectName("dim")
        self.count = QLabel("0")
        self.count.setObjectName("bignum")
        grid.addWidget(caption, 0, 0)
        grid.addWidget(self.count, 1, 0, 2, 1)
        self.tempo_title = QLabel(TEMPO_TITLE)
        self.tempo_title.setObjectName("dim")
        # wraps: a long line had widened the panel and squeezed the plots beside it (their
        # time axis then stopped seconds before now)
        self.tempo_title.setWordWrap(True)
        grid.addWidget(self.tempo_title, 0, 1, 1, 3)
        self.phase_labels = []
        for i in range(3):
            lab = QLabel("–")
            lab.setObjectName("midnum")
            lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(lab, 1, 1 + i)
            self.phase_labels.append(lab)
        self.target = QLabel("")
        self.target.setObjectName("dim")
        grid.addWidget(self.target, 2, 1, 1, 3)
        grid.setColumnStretch(0, 1)
        for i in range(1, 4):
            grid.setColumnStretch(i, 1)
        self.flag = QLabel("")
        self.flag.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.flag.setWordWrap(True)
        lay.addWidget(self.flag)
        self.why = self.flag
        """Why the last rep did not count (the flag line, under the counter)."""
        self.sets_line = QLabel("")
        self.sets_line.setObjectName("dim")
        self.sets_line.setWordWrap(True)
        self.sets_line.hide()  # (shown with the first rep: the chart keeps its height till then)
        lay.addWidget(self.sets_line)

        self.bars = pg.PlotWidget()
        self.bars.setMinimumHeight(110)  # leaves room for the caption below in a 860 px window
        self.bars.setMouseEnabled(x=False, y=False)
        self.bars.hideButtons()
        style_axes(self.bars.getPlotItem())
        self.bars.setTitle("Lumbar excursion per rep [°]", color=theme.TEXT)
        self.bars.showGrid(y=True, alpha=0.15)
        self.flex_bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush=theme.FLEXION)
        self.ext_bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush=theme.EXTENSION)
        self.faults = pg.ScatterPlotItem(
            symbol="x", size=16, brush=FAULT_COLOUR, pen=pg.mkPen(FAULT_COLOUR, width=2)
        )
        self.flex_line = pg.InfiniteLine(
            angle=0, pen=pg.mkPen(theme.FLEXION, style=Qt.PenStyle.DashLine)
        )
        self.ext_line = pg.InfiniteLine(
            angle=0, pen=pg.mkPen(theme.EXTENSION, style=Qt.PenStyle.DashLine)
        )
        for item in (self.flex_bars, self.ext_bars, self.faults, self.flex_line, self.ext_line):
            self.bars.addItem(item)
        self.bars.addItem(pg.InfiniteLine(angle=0, pos=0, pen=pg.mkPen(theme.TEXT_DIM)))
        lay.addWidget(self.bars, 1)
        self.faulty_caption = QLabel("")
        self.faulty_caption.setObjectName("dim")
        self.faulty_caption.setWordWrap(True)
        lay.addWidget(self.faulty_caption)
        self.limits = limits
        self._span = 1.0
        """The excursion chart's half height (deg), where the crosses go."""
        self.set_targets(tempo, limits, tolerance_s)
        self.show_reps([])

    def set_targets(self, tempo: Tempo, limits: Limits, tolerance_s: float | None = None) -> None:
        self.tempo = tempo
        self.limits = limits
        if tolerance_s is not None:
            self.tolerance_s = tolerance_s
        self.target.setText(
            f"target  {tempo.up_s:g} s up / {tempo.hold_s:g} s hold / {tempo.down_s:g} s down"
        )
        self.flex_line.setPos(limits.flexion_deg)
        self.ext_line.setPos(-limits.extension_deg)
        span = bars_span_deg(limits, np.zeros(0))
        self.bars.setYRange(-span, span, padding=0)

    def show_reps(self, reps: list[RepEnded]) -> None:
        """Show the whole list of finished reps (the counter counts all, bars the last few)."""
        self.count.setText(str(len(reps)))
        last = reps[-MAX_BARS:]
        first_index = len(reps) - len(last)
        x = np.arange(first_index + 1, first_index + 1 + len(last), dtype=float)
        flex = np.array([r.peak_flexion_deg for r in last], dtype=float)
        ext = np.array([-r.peak_extension_deg for r in last], dtype=float)
        self.flex_bars.setOpts(x=x, height=flex, width=0.7)
        self.ext_bars.setOpts(x=x, height=ext, width=0.7)
        span = bars_span_deg(self.limits, np.concatenate([flex, ext]))
        self._span = span
        self.bars.setYRange(-span, span, padding=0)
        self.bars.setXRange(first_index + 0.3, first_index + MAX_BARS + 0.7, padding=0)
        if not reps:
            for lab in self.phase_labels:
                lab.setText("–")
                lab.setStyleSheet("")
            self.flag.setText("")
            self.tempo_title.setText(TEMPO_TITLE)
            return
        r = reps[-1]
        phases = (r.concentric_s, r.hold_s, r.eccentric_s)
        verdicts = phase_verdicts(*phases, self.tempo, self.tolerance_s)
        targets = (self.tempo.up_s, self.tempo.hold_s, self.tempo.down_s)
        slack = (self.tolerance_s, 0.0, self.tolerance_s)  # (a hold only has to last)
        for lab, actual, verdict, target, tol in zip(
            self.phase_labels, phases, verdicts, targets, slack, strict=True
        ):
            # an approximate split is shown as such and not judged against the target
            verdict = "ok" if r.tempo_approximate else verdict
            # off the target: to 0.01 s where 0.1 would read as the bound it missed, as the
            # reason line says it ("hold 1.99 s < 2 s", not an amber "2.0 s")
            bound = target + (tol if verdict == "long" else -tol)
            text = f"{actual:.1f}" if verdict == "ok" else beside(actual, bound)
            lab.setText(f"{'≈' if r.tempo_approximate else ''}{text} s")
            lab.setToolTip(APPROXIMATE_TEMPO_NOTE if r.tempo_approximate else "")
            colour = theme.TEXT if verdict == "ok" else theme.WARNING
            lab.setStyleSheet(
                f"color: {colour}; font-size: {theme.MID_NUMBER_PX}px; font-weight: bold;"
            )
        self.tempo_title.setText(TEMPO_TITLE + (APPROXIMATE_TITLE if r.tempo_approximate else ""))
        self.tempo_title.setToolTip(APPROXIMATE_TEMPO_NOTE if r.tempo_approximate else "")
        flags = []
        if r.too_fast:
            flags.append("TOO FAST")
        if r.alarmed:
            flags.append("LEFT NEUTRAL")
        self.flag.setText("  ·  ".join(flags))
        self.flag.setStyleSheet(f"color: {FAULT_COLOUR}; font-weight: bold; font-size: 26px;")

    def show_sets(self, view: SetsView) -> None:
        """Good reps of reps on the counter, why the last rep did not count, the sets' line
        (the latest ``SETS_SHOWN``)."""
        # the reps that did not count, as the counter judges them (the latest of ``recent``)
        bad = [j for j in view.recent if not j.good]
        x = np.array([j.index + 1 for j in bad], dtype=float)
        self.faults.setData(x=x, y=np.full(len(x), FAULT_MARK_AT * self._span))
        self.faulty_caption.setText(
            "not counted: " + ", ".join(map(_judged_text, bad[-6:])) if bad else ""
        )
        if view.reps == 0:
            self.why.setText("")
            self.sets_line.setText("")
            self.sets_line.hide()
            return
        self.count.setText(f"{view.good_reps} / {view.reps}")
        last = view.last
        self.count.setToolTip("good reps (within the limits, on the target tempo) / all reps")
        if last is not None and not last.good:
            shown = "; ".join(last.reasons[:WHY_SHOWN]) + ("; …" if len(last.reasons) > 2 else "")
            self.why.setText(f"#{last.index + 1} not counted: {shown}")
            self.why.setToolTip(last.reason)
            self.why.setStyleSheet(f"color: {FAULT_COLOUR}; font-weight: bold; font-size: 18px;")
        else:
            self.why.setText("last rep counted")
            self.why.setToolTip("")
            self.why.setStyleSheet(f"color: {theme.TEXT_DIM}; font-size: 18px;")
        sets = view.sets[-SETS_SHOWN:]
        self.sets_line.setText("sets (good / reps):  " + "  ·  ".join(map(set_cell, sets)))
        self.sets_line.setToolTip("\n".join(map(set_text, sets)))
        self.sets_line.show()


SETS_SHOWN = 4
WHY_SHOWN = 2
"""Reasons shown on the flag line (all of them in its tooltip)."""


def set_cell(st: SetSummary) -> str:
    """One set on the sets line: "5/8", "now 3/4", with the drift warning's rep: "5/8 ⚠#16"."""
    text = f"{'' if st.ended_by else 'now '}{st.good_reps}/{st.reps}"
    return text + ("" if st.drift_first_rep is None else f" ⚠#{st.drift_first_rep + 1}")


def set_text(st: SetSummary) -> str:
    """One set in a few words: "set 2: 6/8 good, drift +0.4°/rep from #15"."""
    text = f"set {st.index + 1}{'' if st.ended_by else ' (now)'}: {st.good_reps}/{st.reps} good"
    if st.drift_first_rep is not None and st.drift_slope_deg_per_rep is not None:
        text += (
            f", drift {st.drift_slope_deg_per_rep:+.1f}°/rep, "
            f"≥{st.drift_warning_fraction:.0%} of limit from #{st.drift_first_rep + 1}"
        )
    return text


_FAULT_WORDS = {
    "flexion": "flexion",
    "extension": "extension",
    "up_short": "up",
    "up_long": "up",
    "hold_short": "hold",
    "down_short": "down",
    "down_long": "down",
}


def _judged_text(j: RepJudgement) -> str:
    """A rep that did not count in a few words: "#3 (extension, hold)"."""
    words = list(dict.fromkeys(_FAULT_WORDS.get(f, f) for f in j.faults))
    return f"#{j.index + 1} ({', '.join(words)})"
