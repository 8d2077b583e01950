"""The Qt log check the UI tests share: a Qt warning fails the test, except the known chatter
of the layout pass and of the multimedia backend on a machine without audio hardware."""

from __future__ import annotations

import pytest

LAYOUT_CHATTER = r".*propagateSizeHints.*"
AUDIO_CHATTER = (
    r"qt\.multimedia.*",
    r"PulseAudioService.*",
    r"Couldn't (load|resolve) .*",
    r"Using Qt multimedia.*",
)


def fail_on_qt_warnings(*ignore: str) -> list[pytest.MarkDecorator]:
    return [pytest.mark.qt_log_level_fail("WARNING"), pytest.mark.qt_log_ignore(*ignore)]


WINDOW_MARKS = fail_on_qt_warnings(LAYOUT_CHATTER, *AUDIO_CHATTER)
"""For tests that open the dashboard window (it has a sound)."""
