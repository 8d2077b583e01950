"""The calibration wizard: exercise, standing still, the exercise's start position, alignment.

Steps (pages): choose the exercise (and see the saved neutral) -> "stand tall" with a countdown,
then a hold with a stillness check -> "get into the start position" (text from
``Exercise.calibration_posture``), countdown, hold, stillness check -> the alignment is computed
and saved; the result page shows the saved neutral and offers to redo it.

It drives the pipeline's guided calibrator (``DashboardSession.start_calibration`` /
``capture_calibration``): when a hold ends the last seconds are captured; a capture the
calibrator refuses (you moved, the posture did not change) shows the reason and a "Try again".
If the calibrator captures a still posture by itself during a countdown, the wizard moves on.
Time comes from ``clock`` and the wizard advances on ``poll()`` (a 100 ms timer), so tests drive
it without sleeping.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from imu_monitor.app.dashboard import DashboardSession
from imu_monitor.errors import CalibrationRefused
from imu_monitor.exercises import EXERCISES, get_exercise
from imu_monitor.processing.calibration import Calibration
from imu_monitor.processing.live_calibration import LiveCalibrator
from imu_monitor.processing.stillness import MIN_STILL_S
from imu_monitor.ui import theme

log = logging.getLogger(__name__)

COUNTDOWN_S = 5.0
"""Time to get into position before the hold starts."""
POLL_MS = 100


def describe_calibration(cal: Calibration) -> str:
    """A few lines people can read: when, how, and each sensor's neutral pitch."""
    lines = [f"saved {cal.created_utc} ({cal.method})"]
    for placement, sc in cal.sensors.items():
        lines.append(
            f"{placement.replace('_', ' ')}: neutral pitch {sc.neutral_pitch_deg:+.1f}°, "
            f"roll {sc.neutral_roll_deg:+.1f}°"
        )
    lines.extend(cal.notes[:3])
    return "\n".join(lines)


class CalibrationWizard(QDialog):
    """Non-modal wizard over a ``DashboardSession``.

    ``phase``: ``choose``, ``countdown``, ``hold``, ``refused``, ``done``; ``step``: the
    calibrator step being captured (``standing`` | ``start``).
    """

    exercise_chosen = Signal(str)
    finished_calibration = Signal(object)

    def __init__(
        self,
        ds: DashboardSession,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        countdown_s: float = COUNTDOWN_S,
        poll_ms: int = POLL_MS,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Calibrate neutral")
        self.setModal(False)
        self.setStyleSheet(theme.stylesheet())
        self.resize(760, 520)
        self.ds = ds
        self.clock = clock
        self.countdown_s = countdown_s
        self.phase = "choose"
        self.step = "standing"
        self.calibrator: LiveCalibrator | None = None
        self.calibration: Calibration | None = None
        self.saved_path: str | None = None
        self._phase_t0 = 0.0

        lay = QVBoxLayout(self)
        self.pages = QStackedWidget()
        lay.addWidget(self.pages)

        # page 0: choose
        choose = QWidget()
        c = QVBoxLayout(choose)
        title = QLabel("Calibrate the neutral spine")
        title.setObjectName("title")
        c.addWidget(title)
        intro = QLabel(
            "Two still postures: first stand tall, then hold the exercise's start position "
            "with your spine neutral. Each is captured after a countdown; keep still until "
            "the bar is full."
        )
        intro.setWordWrap(True)
        c.addWidget(intro)
        row = QHBoxLayout()
        row.addWidget(QLabel("Exercise"))
        self.exercise_box = QComboBox()
        for name, ex in EXERCISES.items():
            self.exercise_box.addItem(ex.title, name)
        self.exercise_box.setCurrentIndex(list(EXERCISES).index(ds.settings.exercise))
        self.exercise_box.currentIndexChanged.connect(self._show_saved)
        row.addWidget(self.exercise_box, 1)
        c.addLayout(row)
        self.saved_label = QLabel("")
        self.saved_label.setObjectName("dim")
        self.saved_label.setWordWrap(True)
        c.addWidget(self.saved_label)
        c.addStretch(1)
        self.start_btn = QPushButton("Start calibration")
        c.addWidget(self.start_btn)
        self.start_btn.clicked.connect(self.begin)
        self.pages.addWidget(choose)

        # page 1: a posture (countdown, hold, refusal)
        posture = QWidget()
        pl = QVBoxLayout(posture)
        self.step_label = QLabel("")
        self.step_label.setObjectName("dim")
        pl.addWidget(self.step_label)
        self.prompt = QLabel("")
        self.prompt.setObjectName("prompt")
        self.prompt.setWordWrap(True)
        pl.addWidget(self.prompt)
        self.countdown = QLabel("")
        self.countdown.setObjectName("countdown")
        self.countdown.setAlignment(Qt.AlignmentFlag.AlignCenter)
        pl.addWidget(self.countdown, 1)
        self.hold_bar = QProgressBar()
        self.hold_bar.setRange(0, 100)
        self.hold_bar.setTextVisible(False)
        pl.addWidget(self.hold_bar)
        self.refusal = QLabel("")
        self.refusal.setWordWrap(True)
        self.refusal.setStyleSheet(f"color: {theme.FLEXION}; font-size: 22px; font-weight: bold;")
        pl.addWidget(self.refusal)
        brow = QHBoxLayout()
        self.retry_btn = QPushButton("Try again")
        self.retry_btn.clicked.connect(self.retry)
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.clicked.connect(self.cancel)
        brow.addStretch(1)
        brow.addWidget(self.retry_btn)
        brow.addWidget(self.cancel_btn)
        pl.addLayout(brow)
        self.pages.addWidget(posture)

        # page 2: done
        done = QWidget()
        dl = QVBoxLayout(done)
        ok = QLabel("Neutral saved")
        ok.setObjectName("prompt")
        dl.addWidget(ok)
        self.result = QLabel("")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        dl.addWidget(self.result, 1)
        drow = QHBoxLayout()
        self.redo_btn = QPushButton("Redo")
        self.redo_btn.clicked.connect(self.begin)
        self.close_btn = QPushButton("Close")
        self.close_btn.clicked.connect(self.accept)
        drow.addStretch(1)
        drow.addWidget(self.redo_btn)
        drow.addWidget(self.close_btn)
        dl.addLayout(drow)
        self.pages.addWidget(done)

        self._show_saved()
        self.timer = QTimer(self)
        self.timer.setInterval(poll_ms)
        self.timer.timeout.connect(self.poll)

    # -- flow ---------------------------------------------------------------------------------
    def _show_saved(self) -> None:
        name = self.exercise_box.currentData()
        store = self.ds.calibration_store
        text = "No saved neutral for this exercise yet."
        if store is not None:
            try:
                cal = store.load(self.ds.settings.user, name)
            except Exception as e:
                cal = None
                text = f"The saved neutral cannot be read: {e}"
            if cal is not None:
                text = "Saved neutral: " + describe_calibration(cal)
        self.saved_label.setText(text)

    def begin(self) -> None:
        """Start (or redo) the calibration for the chosen exercise."""
        name = self.exercise_box.currentData()
        if name != self.ds.settings.exercise:
            self.exercise_chosen.emit(name)  # the window swaps the pipeline for the exercise
        self.calibrator = self.ds.start_calibration()
        self.calibration = None
        self.step = self.calibrator.step
        self.pages.setCurrentIndex(1)
        self._enter("countdown")
        self.timer.start()

    def retry(self) -> None:
        self._enter("countdown")

    def cancel(self) -> None:
        self.timer.stop()
        self.phase = "choose"
        self.pages.setCurrentIndex(0)
        self.reject()

    def _enter(self, phase: str) -> None:
        self.phase = phase
        self._phase_t0 = self.clock()
        self.refusal.setText("")
        self.retry_btn.setVisible(phase == "refused")
        ex = get_exercise(self.exercise_box.currentData())
        if self.step == "standing":
            self.step_label.setText("Step 1 of 2 · standing")
            self.prompt.setText("Stand tall, arms relaxed, and hold still.")
        else:
            self.step_label.setText("Step 2 of 2 · start position")
            self.prompt.setText(f"Get into the start position: {ex.calibration_posture}.")
        self.poll()

    def poll(self) -> None:
        """Advance the countdown / hold and capture when the hold is over."""
        if self.phase in ("choose", "done"):
            return
        cal = self.calibrator
        if cal is not None and cal.step != self.step:  # captured by the calibrator itself
            self._captured()
            return
        elapsed = self.clock() - self._phase_t0
        if self.phase == "countdown":
            left = self.countdown_s - elapsed
            if left > 0:
                self.countdown.setText(str(int(math.ceil(left))))
                self.hold_bar.setValue(0)
                return
            self._enter("hold")
            return
        if self.phase == "hold":
            hold_s = cal.hold_s if cal is not None else MIN_STILL_S
            self.countdown.setText("Hold still")
            self.hold_bar.setValue(int(min(100.0, 100.0 * elapsed / hold_s)))
            if elapsed >= hold_s:
                self.capture()

    def capture(self) -> None:
        """Capture the current step now; a refusal shows its reason."""
        try:
            cal = self.ds.capture_calibration()
        except CalibrationRefused as e:
            self.phase = "refused"
            self.retry_btn.setVisible(True)
            self.countdown.setText("")
            self.refusal.setText(f"Not accepted: {e}")
            log.info("calibration step %s refused: %s", self.step, e)
            return
        if cal is not None:
            self.calibration = cal
        self._captured()

    def _captured(self) -> None:
        cal = self.calibrator
        if cal is not None and cal.step == "done" or self.calibration is not None:
            result = self.calibration or getattr(cal, "calibration", None)
            if result is not None:
                self._done(result)
                return
        self.step = cal.step if cal is not None else "start"
        self._enter("countdown")

    def _done(self, cal: Calibration) -> None:
        self.timer.stop()
        self.calibration = cal
        p = self.ds.pipeline.current
        if p.calibration is not cal:  # captured by the calibrator inside the pipeline
            p.set_calibration(cal)
        try:
            self.saved_path = self.ds.save_calibration(cal)
        except Exception as e:
            self.saved_path = None
            self.result.setText(f"The neutral is in use but could not be saved: {e}")
        else:
            where = f"\n\nfile: {self.saved_path}" if self.saved_path else ""
            self.result.setText(describe_calibration(cal) + where)
        self.phase = "done"
        self.pages.setCurrentIndex(2)
        self._show_saved()
        self.finished_calibration.emit(cal)
