"""Test session setup: Qt draws offscreen (no display needed; a set value is respected)."""

import os

if not os.environ.get("QT_QPA_PLATFORM"):  # unset or empty (empty aborts Qt without a display)
    os.environ["QT_QPA_PLATFORM"] = "offscreen"

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path_factory, monkeypatch):
    """Sessions recorded by tests go into a history of their own, never the user's
    (``platformdirs.user_data_dir`` follows ``XDG_DATA_HOME`` on Linux)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
