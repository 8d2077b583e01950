"""What the machine offers a window: one test for a display, used by the command line (to fall
back to a headless session) and by the dashboard (to pick Qt's offscreen platform for a
screenshot). No Qt import here."""

from __future__ import annotations

import os
import sys


def has_display() -> bool:
    """True when a Qt window can be shown: an X or Wayland display, a Qt platform chosen with
    ``QT_QPA_PLATFORM``, or a desktop OS (Windows, macOS)."""
    return bool(
        os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
        or os.environ.get("QT_QPA_PLATFORM")
        or sys.platform in ("win32", "darwin")
    )


def use_offscreen_for_screenshot() -> None:
    """With no display, render to Qt's offscreen platform (a screenshot still works)."""
    if not has_display():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
