import stat

from imu_monitor.settings import Settings
from imu_monitor.storage.stores import SettingsStore, safe_name, write_private


def _mode(p):
    return stat.S_IMODE(p.stat().st_mode)


def test_settings_are_owner_only(tmp_path):
    store = SettingsStore(tmp_path / "cfg")
    path = store.save(Settings(user="Ann Lee"))
    assert path.name == "Ann_Lee.json"
    assert _mode(path) == 0o600 and _mode(store.directory / "last_user") == 0o600
    assert _mode(path.parent) == 0o700
    assert store.load().user == "Ann Lee"


def test_write_private_replaces_a_world_readable_file(tmp_path):
    p = tmp_path / "d" / "f.json"
    p.parent.mkdir()
    p.write_text("old")
    p.chmod(0o644)
    write_private(p, "new")
    assert p.read_text() == "new" and _mode(p) == 0o600
    assert not (tmp_path / "d" / "f.json.tmp").exists()


def test_safe_name_keeps_one_path_component():
    assert safe_name("../../etc/passwd") == "etc_passwd"
    assert safe_name("") == "default"
