"""Test session setup: Qt draws offscreen (no display needed; a set value is respected)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
