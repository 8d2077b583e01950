"""The settings editor: user, exercise, limits, dwell time, tempo target and tolerance, set
pause, drift warning, sound, tempo cue, device calibration folder."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from imu_monitor.app.calibrated_source import calibration_files
from imu_monitor.exercises import EXERCISES
from imu_monitor.model import PLACEMENTS
from imu_monitor.settings import Settings
from imu_monitor.ui import theme


def _spin(lo: float, hi: float, step: float, suffix: str, decimals: int = 1) -> QDoubleSpinBox:
    s = QDoubleSpinBox()
    s.setRange(lo, hi)
    s.setSingleStep(step)
    s.setDecimals(decimals)
    s.setSuffix(suffix)
    return s


class SettingsDialog(QDialog):
    """Edits a copy of ``settings``; ``accepted_settings(Settings)`` on OK."""

    accepted_settings = Signal(object)

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setStyleSheet(theme.stylesheet())
        self.settings = Settings.from_dict(settings.to_dict())
        lay = QVBoxLayout(self)
        form = QFormLayout()
        lay.addLayout(form)
        self.user = QLineEdit(self.settings.user)
        form.addRow("User", self.user)
        self.exercise = QComboBox()
        for name, ex in EXERCISES.items():
            self.exercise.addItem(ex.title, name)
        form.addRow("Exercise", self.exercise)
        self.flexion = _spin(1.0, 45.0, 0.5, " °")
        self.extension = _spin(1.0, 45.0, 0.5, " °")
        self.dwell = _spin(0.0, 2.0, 0.05, " s", 2)
        self.up = _spin(0.2, 10.0, 0.1, " s")
        self.hold = _spin(0.0, 10.0, 0.1, " s")
        self.down = _spin(0.2, 10.0, 0.1, " s")
        form.addRow("Flexion limit", self.flexion)
        form.addRow("Extension limit", self.extension)
        form.addRow("Dwell time", self.dwell)
        form.addRow("Tempo: up", self.up)
        form.addRow("Tempo: hold", self.hold)
        form.addRow("Tempo: down", self.down)
        self.tolerance = _spin(0.05, 5.0, 0.05, " s", 2)
        self.tolerance.setToolTip("a good rep's up and down are within this of the target")
        self.pause = _spin(1.0, 600.0, 1.0, " s", 0)
        self.pause.setToolTip("a rest longer than this ends a set")
        self.drift = _spin(0.05, 1.0, 0.05, "", 2)
        self.drift.setToolTip("form drift: flag the first rep past this fraction of the limit")
        form.addRow("Tempo tolerance ±", self.tolerance)
        form.addRow("Set ends after a rest of", self.pause)
        form.addRow("Drift warning (of the limit)", self.drift)
        self.sound = QCheckBox("Alarm sound")
        self.sound.setChecked(self.settings.sound_on)
        form.addRow("", self.sound)
        self.tempo_cue = QCheckBox("Tempo cue: a tick at up, hold and down")
        self.tempo_cue.setChecked(self.settings.tempo_cue)
        form.addRow("", self.tempo_cue)
        self.device_cal = QLineEdit(self.settings.device_cal_folder)
        self.device_cal.setPlaceholderText("none: raw samples")
        self.device_cal.setToolTip(
            "the folder 'imu-monitor device-cal measure' wrote (sacrum.json, ...): the wearables "
            "are calibrated with it when they connect"
        )
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._choose_device_cal)
        row = QHBoxLayout()
        row.addWidget(self.device_cal, 1)
        row.addWidget(browse)
        form.addRow("Device calibration", row)
        self.device_cal_state = QLabel()
        self.device_cal_state.setWordWrap(True)
        form.addRow("", self.device_cal_state)
        self.device_cal.textChanged.connect(self._show_device_cal)
        self._show_device_cal()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        buttons.accepted.connect(self._ok)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(
            self._defaults
        )
        lay.addWidget(buttons)
        self._loaded = self.settings.exercise
        self.exercise.setCurrentIndex(list(EXERCISES).index(self.settings.exercise))
        self._load_exercise(self.settings.exercise)
        self.exercise.currentIndexChanged.connect(self._exercise_changed)

    def _load_exercise(self, name: str) -> None:
        ex = self.settings.resolved_exercise(name)
        self.flexion.setValue(ex.limits.flexion_deg)
        self.extension.setValue(ex.limits.extension_deg)
        self.dwell.setValue(ex.limits.dwell_s)
        self.up.setValue(ex.tempo.up_s)
        self.hold.setValue(ex.tempo.hold_s)
        self.down.setValue(ex.tempo.down_s)
        self.tolerance.setValue(ex.sets.tempo_tolerance_s)
        self.pause.setValue(ex.sets.pause_s)
        self.drift.setValue(ex.sets.drift_warning_fraction)
        self._loaded = name

    def _store_exercise(self, name: str) -> None:
        """Keep the fields as overrides of ``name`` (only values that differ from its default)."""
        ex = EXERCISES[name]
        o = self.settings.overrides(name)
        pairs = (
            ("flexion_deg", self.flexion, ex.limits.flexion_deg),
            ("extension_deg", self.extension, ex.limits.extension_deg),
            ("dwell_s", self.dwell, ex.limits.dwell_s),
            ("up_s", self.up, ex.tempo.up_s),
            ("hold_s", self.hold, ex.tempo.hold_s),
            ("down_s", self.down, ex.tempo.down_s),
            ("tempo_tolerance_s", self.tolerance, ex.sets.tempo_tolerance_s),
            ("set_pause_s", self.pause, ex.sets.pause_s),
            ("drift_warning_fraction", self.drift, ex.sets.drift_warning_fraction),
        )
        for field_name, spin, default in pairs:
            value = float(spin.value())
            setattr(o, field_name, None if abs(value - default) < 1e-9 else value)

    def _exercise_changed(self, index: int) -> None:
        self._store_exercise(self._loaded)
        self._load_exercise(self.exercise.itemData(index))

    def _defaults(self) -> None:
        name = self.exercise.currentData()
        self.settings.per_exercise.pop(name, None)
        self._load_exercise(name)

    def _choose_device_cal(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "The folder 'device-cal measure' wrote", self.device_cal.text().strip()
        )
        if folder:
            self.device_cal.setText(folder)

    def device_cal_problem(self) -> str:
        """Why the device calibration folder cannot be used ("" when it can, or is empty)."""
        text = self.device_cal.text().strip()
        if not text:
            return ""
        if not Path(text).expanduser().is_dir():
            return "no such folder"
        if not calibration_files(text, PLACEMENTS):
            return f"none of {', '.join(f'{p}.json' for p in PLACEMENTS)} is in it"
        return ""

    def _show_device_cal(self) -> None:
        text, problem = self.device_cal.text().strip(), self.device_cal_problem()
        if not text:
            shown = (
                "Wearables are not device-calibrated: Devices… > Device calibration… measures "
                "them (README, 'Device calibration')."
            )
        elif problem:
            shown = f"Cannot be used: {problem}."
        else:
            have = calibration_files(text, PLACEMENTS)
            shown = f"Holds {', '.join(have)}; applied when wearables next connect."
        self.device_cal_state.setText(shown)
        self.device_cal_state.setStyleSheet(f"color: {theme.WARNING}" if problem else "")

    def result_settings(self) -> Settings:
        """The edited settings (also what ``accepted_settings`` carries)."""
        self._store_exercise(self.exercise.currentData())
        self.settings.exercise = self.exercise.currentData()
        self.settings.user = self.user.text().strip() or "default"
        self.settings.sound_on = self.sound.isChecked()
        self.settings.tempo_cue = self.tempo_cue.isChecked()
        folder = self.device_cal.text().strip()
        self.settings.device_cal_folder = str(Path(folder).expanduser().resolve()) if folder else ""
        return self.settings

    def _ok(self) -> None:
        if self.device_cal_problem():  # said under the field; OK waits for a usable folder
            self.device_cal.setFocus()
            return
        self.accepted_settings.emit(self.result_settings())
        self.accept()
