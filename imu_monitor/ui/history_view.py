"""The History view: a user's progress in one exercise over their sessions (``storage.history``).

Three charts over the session dates, one point per session: the good-rep rate (%), the largest
lumbar excursions (flexion +, extension -, degrees) and the tempo adherence (%). A session whose
analysis gave no good-rep count or tempo adherence leaves a gap in that chart, not a zero.
"""

from __future__ import annotations

import datetime as _dt
import math

import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QDialog, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from imu_monitor.storage.history import HistoryStore, SessionRow
from imu_monitor.ui import theme
from imu_monitor.ui.plots import style_axes

NAN = math.nan
CHARTS = {
    "good_rep_rate": "Good reps [% of reps]",
    "peak": "Largest lumbar excursion [°] (flexion +, extension −)",
    "tempo": "Tempo adherence [% of reps on the target tempo]",
}


def session_time(row: SessionRow) -> float:
    """The session's start as POSIX seconds (the charts' x); NaN for a date that cannot be read."""
    try:
        t = _dt.datetime.fromisoformat(row.date)
    except ValueError:
        return NAN
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.UTC)
    return t.timestamp()


def _pct(x: float | None) -> float:
    return NAN if x is None else 100.0 * x


def _plot(curve: pg.PlotDataItem, x: list[float], y: list[float]) -> None:
    """Points with gaps (NaN) where a session has no value; no points when none has one."""
    if not any(math.isfinite(v) for v in y):
        x, y = [], []
    curve.setData(x, y)


class HistoryView(QDialog):
    """Progress of ``user`` over sessions; the exercise is chosen in the view (``exercise``
    first when the user has sessions of it). ``show_user`` switches to another user."""

    def __init__(
        self,
        store: HistoryStore,
        user: str,
        exercise: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.user = user
        self.setStyleSheet(theme.stylesheet())
        self.resize(900, 720)
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        lay.addLayout(top)
        self.heading = QLabel()
        self.heading.setObjectName("title")
        top.addWidget(self.heading, 1)
        top.addWidget(QLabel("Exercise"))
        self.exercise_box = QComboBox()
        top.addWidget(self.exercise_box)
        self.caption = QLabel()
        self.caption.setObjectName("dim")
        self.caption.setWordWrap(True)
        lay.addWidget(self.caption)
        self.plots: dict[str, pg.PlotWidget] = {}
        first = None
        for key, title in CHARTS.items():
            w = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
            w.setMinimumHeight(150)
            w.hideButtons()
            style_axes(w.getPlotItem())
            w.setTitle(title, color=theme.TEXT)
            w.showGrid(x=True, y=True, alpha=0.15)
            if first is None:
                first = w
            else:
                w.setXLink(first)
            self.plots[key] = w
            lay.addWidget(w, 1)

        def curve(key: str, colour: str) -> pg.PlotDataItem:
            return self.plots[key].plot(
                [],
                [],
                pen=pg.mkPen(colour, width=2),
                symbol="o",
                symbolSize=9,
                symbolBrush=colour,
                symbolPen=None,
                connect="finite",
            )

        self.curves = {
            "good_rep_rate": curve("good_rep_rate", theme.NEUTRAL),
            "flexion": curve("peak", theme.FLEXION),
            "extension": curve("peak", theme.EXTENSION),
            "tempo": curve("tempo", theme.TRACE_HIP),
        }
        self.plots["peak"].addItem(pg.InfiniteLine(angle=0, pos=0, pen=pg.mkPen(theme.TEXT_DIM)))
        for key in ("good_rep_rate", "tempo"):
            self.plots[key].setYRange(0, 100)
        self.rows: list[SessionRow] = []
        self.exercise_box.currentTextChanged.connect(self._exercise_changed)
        self.show_user(user, exercise)

    # -- what is shown ---------------------------------------------------------------------------
    def show_user(self, user: str, exercise: str | None = None) -> None:
        """Show ``user``'s sessions (of ``exercise``, else of the exercise shown, else of the
        first one they did)."""
        self.user = user
        self.setWindowTitle(f"imu-monitor — history of {user}")
        self.heading.setText(f"History of {user}")
        want = exercise or self.exercise_box.currentText() or None
        names = self.store.exercises(user)
        self.exercise_box.blockSignals(True)
        self.exercise_box.clear()
        self.exercise_box.addItems(names)
        if want in names:
            self.exercise_box.setCurrentText(want)
        self.exercise_box.blockSignals(False)
        self.refresh()

    def _exercise_changed(self, _name: str) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Query the store again and redraw."""
        exercise = self.exercise_box.currentText()
        self.rows = self.store.sessions(self.user, exercise) if exercise else []
        rows = self.rows
        x = [session_time(r) for r in rows]
        _plot(self.curves["good_rep_rate"], x, [_pct(r.good_rep_rate) for r in rows])
        _plot(self.curves["flexion"], x, [r.peak_flexion_deg for r in rows])
        _plot(self.curves["extension"], x, [-abs(r.peak_extension_deg) for r in rows])
        _plot(self.curves["tempo"], x, [_pct(r.tempo_adherence) for r in rows])
        if not rows:
            self.caption.setText(
                f"No sessions of {self.user} yet: record one (● Record) and it appears here; "
                "a folder of recordings is added with: imu-monitor history add DIR"
            )
            return
        first, last = rows[0].date[:10], rows[-1].date[:10]
        reps = sum(r.reps for r in rows)
        good = [r.good_reps for r in rows if r.good_reps is not None]
        text = f"{len(rows)} session{'s' if len(rows) > 1 else ''}, {first} to {last}, {reps} reps"
        if good:
            text += f", {sum(good)} good"
        if len(good) < len(rows):
            text += " (sessions analysed before good reps were counted show no point there)"
        self.caption.setText(text)
        finite = [t for t in x if math.isfinite(t)]
        if finite:
            pad = max(3600.0, 0.05 * (max(finite) - min(finite)))
            self.plots["good_rep_rate"].setXRange(min(finite) - pad, max(finite) + pad)
