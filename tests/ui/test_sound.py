"""The alarm sound where Qt Multimedia cannot load (no PulseAudio client library): the
dashboard runs and says so in one notice. Each case runs in a fresh interpreter with
``PySide6.QtMultimedia`` blocked in ``sys.modules``, which fails the import the way a missing
``libpulse0`` does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from imu_monitor.ui import sound as sound_mod

ROOT = Path(__file__).resolve().parents[2]
RECORDING = ROOT / "recordings" / "back-kick_good_1sensor.imr"
BLOCK = "import sys; sys.modules['PySide6.QtMultimedia'] = None\n"


def _run(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CACHE_HOME=str(tmp_path))
    return subprocess.run(
        [sys.executable, "-c", BLOCK + code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_window_comes_up_with_a_notice_without_qt_multimedia(tmp_path):
    code = f"""
import json
from imu_monitor.app.dashboard import DashboardSession
from imu_monitor.sources.replay import ReplayThreadSource
from imu_monitor.settings import Settings
from imu_monitor.sources.replay import ReplaySource
from imu_monitor.storage.recording import load_recording
from imu_monitor.ui.app import application, dispose
from imu_monitor.ui.main_window import DashboardWindow

app = application()
rec = load_recording({str(RECORDING)!r})
ds = DashboardSession(ReplayThreadSource(ReplaySource(rec)), Settings(), use_stored=False)
w = DashboardWindow(ds, start=False)
w.show()
w.tick()
print(json.dumps({{"notices": w.notices.texts(), "available": w.sound.available,
                   "played": w.sound.play("extension")}}))
w.shutdown()
dispose(w)  # as run_window does: not left to the interpreter's exit
"""
    out = _run(code, tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["available"] is False and got["played"] is False
    notices = [n for n in got["notices"] if n.startswith("no audio output")]
    assert len(notices) == 1 and "\n" not in notices[0]
    assert "alarms are shown on screen" in notices[0]


def test_replay_command_runs_without_qt_multimedia(tmp_path):
    shot = tmp_path / "shot.png"
    code = (
        "from imu_monitor.cli.main import main\n"
        f"raise SystemExit(main(['replay', {str(RECORDING)!r}, '--speed', 'max',"
        f" '--exit-after', '0.5', '--screenshot', {str(shot)!r}]))\n"
    )
    out = _run(code, tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    assert shot.stat().st_size > 0


@pytest.mark.parametrize(
    ("message", "says"),
    [
        ("libpulse.so.0: cannot open shared object file: No such file", "install libpulse0"),
        ("libQt6Network.so.6: cannot open shared object file", "libQt6Network.so.6"),
    ],
)
def test_import_problem_is_one_line_saying_what_to_do(message, says):
    text = sound_mod.multimedia_import_problem(ImportError(message + "\nmore"))
    assert says in text and "\n" not in text and text.startswith("no audio output")
