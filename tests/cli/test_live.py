"""``imu-monitor live --headless`` and ``scan``: the real Pipeline on the simulated wearable."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from imu_monitor.app.session import Session
from imu_monitor.cli.main import main
from imu_monitor.errors import ImuMonitorError
from imu_monitor.events import AlarmStarted
from imu_monitor.processing.pipeline import Pipeline
from imu_monitor.sources.ble import ReconnectPolicy, scan_devices, sim_source
from imu_monitor.sources.sim import SimFaults, make_world
from imu_monitor.storage.recording import load_recording

ROOT = Path(__file__).resolve().parents[2]


def test_headless_json_lines_calibrate_and_summarise(tmp_path, capsys):
    rec = tmp_path / "live.imr"
    rc = main(
        ["live", "--headless", "--json", "--speed", "40", "--duration", "14", "--reps", "1",
         "--faulty", "0", "--record", str(rec), "--config-dir", str(tmp_path), "--user", "ann"]
    )  # fmt: skip
    assert rc == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    types = [x["type"] for x in lines]
    assert types[0] == "connected" and types[-1] == "summary"
    steps = [x["step"] for x in lines if x["type"] == "calibration"]
    assert steps[:2] == ["standing", "start"] and steps[-1] == "done"
    summary = lines[-1]
    st = summary["sensors_stats"]["sacrum"]
    assert st["profile"] == "diy_imu" and st["samples"] >= 13 * 200 and st["lost_samples"] == 0
    assert summary["duration_s"] >= 14
    loaded = load_recording(rec)
    assert loaded.meta["source"] == "sim" and loaded.sensors["sacrum"].profile == "diy_imu"
    assert len(loaded.series["sacrum"]) == st["samples"]
    assert loaded.calibration is not None
    # with the guided calibration's windows, from which analyze calibrates afresh
    assert [m.kind for m in loaded.markers if m.kind.startswith("calibration")] == [
        "calibration_standing",
        "calibration_start",
    ]
    assert main(["analyze", str(rec)]) == 0
    assert "calibrated afresh from the live calibration's capture windows" in (
        capsys.readouterr().out
    )
    # the calibration is saved for the user and exercise, and reused on request
    done = [x for x in lines if x["type"] == "calibration" and x["step"] == "done"]
    assert (tmp_path / "calibrations" / "ann" / "back-kick.json").exists()
    assert done[-1]["saved"].endswith("back-kick.json")
    rc = main(
        ["live", "--headless", "--json", "--speed", "40", "--duration", "2", "--reps", "1",
         "--faulty", "0", "--config-dir", str(tmp_path), "--user", "ann",
         "--use-saved-calibration"]
    )  # fmt: skip
    assert rc == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    cal_lines = [x for x in lines if x["type"] == "calibration"]
    assert cal_lines[0]["step"] == "done" and "saved calibration" in cal_lines[0]["text"]
    assert not any(x["step"] == "standing" for x in cal_lines)


def test_alarms_alert_the_simulated_wearable_and_gaps_reach_the_recording(tmp_path):
    from imu_monitor.storage.recording import RecordingWriter

    faults = SimFaults(link_loss_at_s=(16.0,), link_down_s=0.5)
    world = make_world(speed=40, reps=3, faulty=3, seed=1, faults=faults)
    dev = next(iter(world.devices.values()))
    src = sim_source(world, policy=ReconnectPolicy(initial_delay_s=0.002, scan_timeout_s=2.0))
    src.open()
    writer = RecordingWriter(tmp_path / "s.imr", {"exercise": "back-kick"}, src.sensors)
    pipeline = Pipeline("back-kick", src.sensors, recorder=writer)
    session = Session(src, pipeline)
    session.start()
    deadline = time.monotonic() + 30
    while src.stream_time() < dev.person.session_s and time.monotonic() < deadline:
        time.sleep(0.01)
    session.stop()
    writer.close()
    alarms = [e for e in pipeline.events if isinstance(e, AlarmStarted)]
    assert alarms, "three faulty reps raised no alarm"
    assert [d for _, d in dev.alerts] == [a.direction for a in alarms]
    assert [d for _, d in session.alerts_sent] == [a.direction for a in alarms]
    rec = load_recording(tmp_path / "s.imr")
    assert [g.reason for g in rec.gaps] == ["link_lost"]
    assert len(rec.events) == len(pipeline.events)


def test_headless_text_output(capsys):
    rc = main(["live", "--headless", "--speed", "40", "--duration", "3", "--reps", "1",
               "--faulty", "0"])  # fmt: skip
    assert rc == 0
    out = capsys.readouterr().out
    assert "sacrum: LumbarIMU-sacrum-1 (diy_imu, 200 Hz)" in out
    assert "Calibration 1/2" in out and "summary:" in out and "latency p99" in out


def test_fewer_reps_than_the_default_faulty_ones(tmp_path, capsys):
    # --reps 2 alone: every rep faulty (the default 3 capped), not a usage error
    rec = tmp_path / "two.imr"
    rc = main(["live", "--headless", "--speed", "40", "--duration", "3", "--reps", "2",
               "--record", str(rec), "--config-dir", str(tmp_path)])  # fmt: skip
    assert rc == 0
    assert load_recording(rec).meta["simulation"]["faulty"] == 2
    capsys.readouterr()
    rc = main(["live", "--headless", "--reps", "2", "--faulty", "3", "--config-dir", str(tmp_path)])
    assert rc == 2
    assert "--faulty 3 is more than --reps 2" in capsys.readouterr().err


def test_a_saved_calibration_judges_from_the_held_posture_as_a_fresh_one(tmp_path, capsys):
    # the simulated person stands, gets down and holds the start posture, then kicks: with the
    # saved calibration the standing and the getting down had read as an 89 deg rep and alarm
    argv = ["live", "--headless", "--json", "--speed", "40", "--duration", "30", "--seed", "7",
            "--faulty", "0", "--user", "ann", "--config-dir", str(tmp_path),
            "--use-saved-calibration"]  # fmt: skip
    runs = []
    for k in range(2):  # the first calibrates and saves, the second uses it
        assert main([*argv, "--record", str(tmp_path / f"run{k}.imr")]) == 0
        runs.append([json.loads(line) for line in capsys.readouterr().out.splitlines()])
    fresh, saved = ([e for e in run if e["type"] == "rep_ended"] for run in runs)
    assert not [e for e in runs[1] if e["type"] == "alarm_started"]
    (held,) = [e for e in runs[1] if e["type"] == "start_posture_held"]
    assert held["t_s"] < saved[0]["t_start_s"]
    assert len(saved) == len(fresh) >= 3
    # the same reps (the session clock starts when the stream does, which the machine's load
    # moves by a few ms of real time, a tenth of a second at 40 times: times from the first rep)
    for a, b in zip(fresh, saved, strict=True):
        for key in ("t_start_s", "t_s"):
            assert b[key] - saved[0]["t_start_s"] == pytest.approx(
                a[key] - fresh[0]["t_start_s"], abs=0.05
            )
        assert b["peak_flexion_deg"] == pytest.approx(a["peak_flexion_deg"], abs=0.5)
    # the recording keeps where judging began: its analysis judges the same reps
    assert main(["analyze", str(tmp_path / "run1.imr"), "--json"]) == 0
    reps = json.loads(capsys.readouterr().out)["reps"]
    assert [r["index"] for r in reps] == [e["index"] for e in saved]


def test_every_calibration_step_is_printed_however_fast_the_data_comes(tmp_path, capsys):
    """At 400x the standing step is over within milliseconds of real time: a loop that looked at
    the calibrator now and then missed it. Steps now come from the feeding thread (a queue)."""
    rc = main(["live", "--headless", "--json", "--speed", "400", "--duration", "20", "--reps",
               "1", "--faulty", "0", "--config-dir", str(tmp_path)])  # fmt: skip
    assert rc == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    steps = [x["step"] for x in lines if x["type"] == "calibration"]
    assert steps == ["standing", "start", "done"]


def test_scan_sim_command(capsys):
    assert main(["scan", "--device", "sim", "--sensors", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["NAME", "ADDRESS", "RSSI", "PROFILE"]
    assert len(out) == 3 and all(line.endswith("diy_imu") for line in out[1:])


def _adapter_present() -> bool:
    try:
        scan_devices(0.1)
    except ImuMonitorError:
        return False
    return True


@pytest.mark.skipif(_adapter_present(), reason="this machine has a Bluetooth adapter")
def test_scan_without_adapter_explains_in_one_line(capsys):
    assert main(["scan", "--timeout", "0.2"]) == 1  # a runtime error, not a usage error
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Bluetooth is not available" in lines[0]
    assert "--device sim" in lines[0] and "Traceback" not in captured.err


@pytest.mark.parametrize("command", ["demo", "live"])
def test_tempo_cue_option_turns_the_cue_on_in_the_dashboards_settings(
    command, tmp_path, monkeypatch
):
    import imu_monitor.cli.live as live_mod

    seen = {}

    class FakeDashboard:
        @staticmethod
        def run_live(live, settings, **kw):
            seen["tempo_cue"] = settings.tempo_cue
            return 0

    monkeypatch.setattr(live_mod, "dashboard", lambda: FakeDashboard)  # (demo opens it there)
    base = [command, "--screenshot", str(tmp_path / "x.png"), "--config-dir", str(tmp_path)]
    assert main([*base, "--tempo-cue"]) == 0 and seen["tempo_cue"] is True
    assert main(base) == 0 and seen["tempo_cue"] is False


@pytest.mark.parametrize("command", ["live", "demo"])
def test_the_dashboards_device_calibration_gets_the_sessions_wearer_doing_the_procedure(
    command, tmp_path, monkeypatch
):
    """Devices > Device calibration… in ``live --device sim`` and ``demo``: the wearables of the
    session, their simulated wearer doing the procedure with the session's options."""
    import imu_monitor.cli.live as live_mod

    seen = {}

    class FakeDashboard:
        @staticmethod
        def run_live(live, settings, **kw):
            seen["make"] = kw["procedure_source"]
            return 0

    def wearables(devices, *, person, profile):
        seen["asked"] = (devices, person, profile)

    monkeypatch.setattr(live_mod, "dashboard", lambda: FakeDashboard)
    monkeypatch.setattr(live_mod, "procedure_wearables", wearables)
    argv = [command, "--screenshot", str(tmp_path / "x.png"), "--config-dir", str(tmp_path)]
    argv += ["--exercise", "hip-thrust", "--seed", "7", "--reps", "4"]
    assert main(argv) == 0
    seen["make"]({"sacrum": "IMU-A"})
    devices, person, _ = seen["asked"]
    assert devices == {"sacrum": "IMU-A"}
    assert (person.exercise, person.seed, person.reps) == ("hip-thrust", 7, 4)


def test_replay_says_of_each_rep_whether_it_counts_as_analyze_does(capsys):
    # reps that do not count (off the tempo, an alarm) and reps that do: the console had printed
    # "ok" for every rep without an alarm
    path = str(ROOT / "recordings" / "hip-thrust_2sensors.imr")
    assert main(["analyze", path, "--json"]) == 0
    judged = {r["index"]: r for r in json.loads(capsys.readouterr().out)["reps"]}
    assert main(["replay", path, "--headless", "--speed", "max"]) == 0
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if " done: " in ln]
    assert len(lines) == len(judged)
    for ln, r in zip(lines, judged.values(), strict=True):
        verdict = "good" if r["good"] else f"not counted: {'; '.join(r['reasons'])}"
        assert ln.endswith("ALARM" if r["alarmed"] else verdict), ln
    good = sum(r["good"] for r in judged.values())
    assert f"summary: {good} good of {len(judged)} reps" in out
    assert main(["replay", path, "--headless", "--speed", "max", "--json"]) == 0
    ended = [json.loads(ln) for ln in capsys.readouterr().out.splitlines()]
    ended = [e for e in ended if e["type"] == "rep_ended"]
    assert [(e["good"], e["reasons"]) for e in ended] == [
        (r["good"], r["reasons"]) for r in judged.values()
    ]
