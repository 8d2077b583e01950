"""Who is training: the header's user box (a coach with trainees picks or adds the user).

``UserControls`` lists the users known to the settings store and the history, and switches the
dashboard to another one: that user's saved settings (limits, sound, exercise), their stored
calibration for the exercise (``DashboardSession.apply_settings`` loads it, or the guided
calibration starts), and their history. A new user starts from the current settings under their
own name. A recording running at the switch is ended first: a recording is one person's session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QComboBox, QInputDialog, QWidget

from imu_monitor.errors import SettingsError
from imu_monitor.settings import Settings
from imu_monitor.storage.history import HistoryStore
from imu_monitor.storage.stores import SettingsStore

ADD_USER = "Add user…"
MAX_NAME = 60


def ask_for_name(parent: QWidget | None) -> str | None:
    """The "Add user" dialog: a name, or None when cancelled."""
    name, ok = QInputDialog.getText(parent, "Add user", "Name of the new user:")
    return name if ok else None


class UserControls(QObject):
    """Drives ``box``. ``settings``: the current settings; ``apply(settings)`` puts new ones in
    force (and saves them, which makes the user the last one); ``before_switch()`` runs before
    (ends a recording). ``ask_name()``: the new user's name (a dialog by default).
    ``notify(text, action=...)``: a one-line notice (a settings file that cannot be read).
    ``switched(user)``: the dashboard now belongs to ``user``."""

    switched = Signal(str)

    def __init__(
        self,
        box: QComboBox,
        *,
        settings_store: SettingsStore,
        history: HistoryStore | None,
        settings: Callable[[], Settings],
        apply: Callable[[Settings], Any],
        before_switch: Callable[[], Any] = lambda: None,
        ask_name: Callable[[], str | None] | None = None,
        notify: Callable[..., Any] = lambda *a, **k: None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.box = box
        self.settings_store = settings_store
        self.history = history
        self._settings = settings
        self._apply = apply
        self._before_switch = before_switch
        self._ask_name = ask_name or (lambda: ask_for_name(box.window()))
        self._notify = notify
        box.setToolTip("whose settings, calibrations and history: pick a user or add one")
        box.activated.connect(self._activated)
        self.reload()

    def users(self) -> list[str]:
        """Everyone with settings or sessions, and the current user."""
        names = set(self.settings_store.users()) | {self._settings().user}
        if self.history is not None:
            try:
                names |= set(self.history.users())
            except Exception:  # an unusable history must not hide the users: it says so itself
                pass
        return sorted(names, key=str.casefold)

    def reload(self) -> None:
        """Refill the box, the current user selected."""
        self.box.blockSignals(True)
        self.box.clear()
        self.box.addItems(self.users())
        self.box.addItem(ADD_USER)
        self.box.setCurrentText(self._settings().user)
        self.box.blockSignals(False)

    def _activated(self, index: int) -> None:
        text = self.box.itemText(index)
        if text == ADD_USER:
            name = self._ask_name()
            if name is None or not self.add_user(name):
                self.reload()
        else:
            self.switch_to(text)

    def add_user(self, name: str) -> bool:
        """Switch to a new (or existing) user named ``name``; False for an empty name."""
        name = " ".join(name.split())[:MAX_NAME]
        if not name:
            return False
        self.switch_to(name)
        return True

    def switch_to(self, user: str) -> None:
        """Make ``user`` the dashboard's user (their settings, calibration and history)."""
        current = self._settings()
        if user == current.user:
            self.reload()
            return
        if self.settings_store.has(user):
            try:
                settings = self.settings_store.load(user)
            except SettingsError as e:
                self._notify(str(e), action=True)
                self.reload()
                return
        else:  # a new user: the current settings under their name
            settings = Settings.from_dict(current.to_dict())
            settings.user = user
        self._before_switch()
        self._apply(settings)
        self.reload()
        self.switched.emit(user)
