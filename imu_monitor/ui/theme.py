"""Colours, fonts and sizes of the dashboard: high contrast, large type for what people glance at.

Colours are chosen to stay distinct for the common colour-vision deficiencies: flexion is orange,
extension is blue (never red against green), and every state also has a word on screen.
"""

from __future__ import annotations

BACKGROUND = "#101418"
PANEL = "#1b2128"
PANEL_BORDER = "#2c343d"
TEXT = "#f2f5f7"
TEXT_DIM = "#9aa7b3"

NEUTRAL = "#1f9d55"
"""Status panel background while the spine is in neutral (green)."""
WARNING = "#d9a400"
"""Approaching a limit (amber)."""
FLEXION = "#e8590c"
"""Out of neutral in flexion (orange)."""
EXTENSION = "#1c64d9"
"""Out of neutral in extension (blue)."""
CALIBRATING = "#6741d9"
"""Guided calibration in progress (violet)."""
IDLE = "#3a4550"
"""No data or no calibration yet."""

NEUTRAL_BAND = (31, 157, 85, 45)
"""RGBA fill of the neutral band in the lumbar plot."""
LIMIT_FLEXION = FLEXION
LIMIT_EXTENSION = EXTENSION
TRACE_LUMBAR = "#ffffff"
TRACE_HIP = "#b197fc"
SENSOR_COLOURS = {"sacrum": "#ffd43b", "upper_lumbar": "#63e6be", "thigh": "#ff8787"}

STATUS_FONT_PX = 120
"""The status word's largest size (it shrinks to fit the panel); about 3 cm tall on a laptop
screen, readable from three metres."""
STATUS_ANGLE_PX = 72
STATUS_DETAIL_PX = 30
BIG_NUMBER_PX = 64
MID_NUMBER_PX = 34
LABEL_PX = 17

FLASH_MS = 450
"""How long the screen flash lasts when an alarm starts."""


def stylesheet() -> str:
    """The application-wide Qt style sheet."""
    return f"""
    QMainWindow, QDialog {{ background: {BACKGROUND}; }}
    QWidget {{ color: {TEXT}; font-size: {LABEL_PX}px; }}
    QFrame#panel {{ background: {PANEL}; border: 1px solid {PANEL_BORDER}; border-radius: 8px; }}
    QFrame#panel QLabel {{ background: transparent; }}
    QLabel#bignum {{ font-size: {BIG_NUMBER_PX}px; font-weight: bold; }}
    QLabel#midnum {{ font-size: {MID_NUMBER_PX}px; font-weight: bold; }}
    QLabel#title {{ font-size: 24px; font-weight: bold; }}
    QLabel#prompt {{ font-size: 30px; font-weight: bold; }}
    QLabel#countdown {{ font-size: 120px; font-weight: bold; }}
    QLabel#dim {{ color: {TEXT_DIM}; }}
    QFrame#notice {{ background: #5c3d00; border-radius: 6px; }}
    QFrame#notice QLabel {{ background: transparent; color: #ffe8a3; }}
    QLabel#noticeDetails {{ color: #f5dfa0; font-size: 15px; }}
    QPushButton#noticeButton {{ background: #7a5300; border: 1px solid #9a6c10; padding: 2px 10px;
                  color: #ffe8a3; }}
    QPushButton {{ background: #2b3540; border: 1px solid #3d4853; border-radius: 6px;
                  padding: 6px 14px; }}
    QPushButton:hover {{ background: #35414d; }}
    QPushButton:checked {{ background: #b02a37; }}
    QPushButton:disabled {{ color: #5f6b76; }}
    QComboBox, QDoubleSpinBox, QSpinBox, QLineEdit {{ background: #222a32;
                  border: 1px solid #3d4853; border-radius: 4px; padding: 3px 6px; }}
    QProgressBar {{ background: #222a32; border: 1px solid #3d4853; border-radius: 6px;
                   text-align: center; height: 22px; }}
    QProgressBar::chunk {{ background: {CALIBRATING}; border-radius: 6px; }}
    QSlider::groove:horizontal {{ height: 6px; background: #2b3540; border-radius: 3px; }}
    QSlider::handle:horizontal {{ background: {TEXT}; width: 14px; margin: -6px 0;
                                 border-radius: 7px; }}
    QTabWidget::pane {{ border: 1px solid {PANEL_BORDER}; }}
    QTabBar::tab {{ background: {PANEL}; padding: 6px 14px; }}
    QTabBar::tab:selected {{ background: #2b3540; }}
    QTableWidget {{ background: #222a32; alternate-background-color: {PANEL};
                   gridline-color: {PANEL_BORDER}; border: 1px solid {PANEL_BORDER}; }}
    QHeaderView {{ background: {PANEL}; }}
    QTableCornerButton::section {{ background: {PANEL}; border: none; }}
    QHeaderView::section {{ background: {PANEL}; color: {TEXT_DIM}; border: none;
                          border-right: 1px solid {PANEL_BORDER};
                          border-bottom: 1px solid {PANEL_BORDER}; padding: 3px 6px; }}
    """
