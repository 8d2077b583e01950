"""One convention for every command (README, "Command-line conventions"): exit codes, one-line
errors and never a traceback, JSON lines / one JSON document, --force, --allow-partial, reps from
1 and extension negative, messages in the options' words, markers shown, rich only on a
terminal, signals and closed pipes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import imu_monitor as im
from imu_monitor.cli import common
from imu_monitor.cli.main import main as cli_main

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str]) -> int:
    """The command's exit code, as the shell sees it (argparse exits for usage errors)."""
    try:
        return cli_main(argv)
    except SystemExit as e:
        return int(e.code or 0)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("conv")
    kick = d / "kick.imr"
    args = ["--reps", "4", "--faulty", "2", "--seed", "5", "--faults", "extension"]
    assert main(["simulate", *args, "-o", str(kick)]) == 0
    damaged = d / "damaged.imr"  # saved in ~1 s blocks: 64 bad bytes cost about a second
    data = bytearray(kick.read_bytes())
    at = len(data) // 2
    data[at : at + 64] = b"\xff" * 64
    damaged.write_bytes(bytes(data))
    (d / "adir").mkdir()
    (d / "garbage.imr").write_text("not a recording\n")
    return {
        "kick": str(kick),
        "damaged": str(damaged),
        "dir": str(d / "adir"),
        "garbage": str(d / "garbage.imr"),
        "missing": str(d / "missing.imr"),
        "missing_dir": str(d / "no" / "such" / "dir"),
        "tmp": str(d),
    }


BAD_INPUTS = [
    ["analyze", "{missing}"],
    ["analyze", "{dir}"],
    ["analyze", "{garbage}"],
    ["analyze", "{damaged}"],
    ["analyze", "{kick}", "--dwell", "nan"],
    ["analyze", "{kick}", "--dwell", "-1"],
    ["analyze", "{kick}", "--flexion-limit", "abc"],
    ["analyze", "{kick}", "--flexion-limit", "0"],
    ["analyze", "{kick}", "--exercise", "banana"],
    ["replay", "{missing}", "--headless"],
    ["replay", "{dir}", "--headless"],
    ["replay", "{damaged}", "--headless", "--speed", "max"],
    ["replay", "{kick}", "--headless", "--speed", "-2"],
    ["replay", "{kick}", "--headless", "--start", "-1"],
    ["simulate", "-o", "{dir}"],
    ["simulate", "-o", "{missing_dir}/x.imr"],
    ["simulate", "-o", "/proc/imu-monitor-test.imr"],
    ["simulate", "-o", "/dev/null", "--force", "--reps", "1"],  # refused: not a regular file
    ["simulate", "-o", "{kick}"],
    ["simulate", "--rate", "0.1", "--json"],
    ["simulate", "--rate", "inf", "--json"],
    ["simulate", "--faults", "banana", "--faulty", "1", "--json"],
    ["simulate", "--reps", "x", "--json"],
    ["simulate", "--reps", "2", "--faulty", "3", "--json"],
    ["live", "--headless", "--duration", "-1"],
    ["live", "--headless", "--duration", "0"],
    ["live", "--headless", "--duration", "1", "--record", "{dir}"],
    ["live", "--headless", "--duration", "1", "--record", "{missing_dir}/a.imr"],
    ["live", "--headless", "--duration", "1", "--record", "{kick}"],
    ["live", "--headless", "--sensors", "5"],
    ["live", "--headless", "--sensors", "sacrum"],
    ["live", "--headless", "--speed", "0"],
    ["live", "--headless", "--reps", "1", "--faulty", "3"],
    ["demo", "--reps", "1", "--faulty", "3"],
    ["live", "--headless", "--profile", "no_such_profile", "--duration", "1"],
    ["scan", "--timeout", "-1"],
    ["scan", "--device", "sim", "--profile", "no_such_profile"],
    ["demo", "--reps", "-3"],
    ["export", "{kick}", "--csv", "{dir}"],
    ["export", "{kick}", "--csv", "{missing_dir}/o.csv"],
    ["export", "{missing}", "--csv", "{tmp}/o.csv"],
    ["export", "{kick}", "--bids", "{kick}"],
    ["export", "{kick}", "--bids", "{missing_dir}/b"],
    ["export", "{kick}", "--opensim", "/proc/imu-monitor-test"],
    ["export", "{kick}", "--c3d", "{dir}"],
    ["export", "{kick}", "--c3d", "/proc/imu-monitor-test.c3d"],
    ["export", "{kick}"],
    ["import", "{missing}", "--format", "csv", "-o", "{tmp}/i.imr"],
    ["import", "{dir}", "--format", "csv", "-o", "{tmp}/i.imr"],
    ["import", "{kick}", "--format", "xsens", "-o", "{tmp}/i.imr"],
    ["mark", "{missing}", "--at", "1"],
    ["mark", "{dir}", "--at", "1"],
    ["mark", "{kick}", "--at", "abc"],
]


@pytest.mark.parametrize("argv", BAD_INPUTS, ids=lambda a: " ".join(a))
def test_bad_input_is_one_line_never_a_traceback(argv, files, capfd):
    rc = main([a.format(**files) for a in argv])
    out, err = capfd.readouterr()
    assert rc in (1, 2), (rc, out, err)
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert lines and lines[-1].startswith(f"imu-monitor {argv[0]}: error: "), err
    if rc == 1:  # a runtime error: that line alone (usage errors add argparse's usage first)
        assert len(lines) == 1, err
    for leak in ("np.float64", "Limits.", "rate_hz", "fault_types", "['", "Errno"):
        assert leak not in err, (leak, err)


def test_exit_codes_ok_error_usage(files, capfd):
    assert main(["analyze", files["kick"]]) == 0
    assert main(["analyze", files["missing"]]) == 1
    assert main(["analyze"]) == 2
    assert main(["live", "--headless", "--duration", "-1"]) == 2
    assert main(["simulate", "--reps", "2"]) == 2  # neither -o nor --json: usage
    capfd.readouterr()


def test_option_values_are_judged_in_the_options_words(capfd):
    assert main(["simulate", "--faults", "banana", "--faulty", "1", "--json"]) == 2
    err = capfd.readouterr().err
    assert "--faults" in err and "banana" in err and "extension, flexion" in err
    assert main(["simulate", "--rate", "0.1", "--json"]) == 2
    assert "--rate must be between 10 and 2000 Hz" in capfd.readouterr().err
    assert main(["replay", "x.imr", "--headless", "--dwell", "-0.1"]) == 2
    assert "argument --dwell: expected seconds, 0 or more" in capfd.readouterr().err


# ------------------------------------------------------------------------------- JSON output


def test_streaming_json_is_one_object_per_line_ending_with_the_summary(files, capfd):
    capfd.readouterr()
    assert main(["replay", files["kick"], "--headless", "--json", "--speed", "max"]) == 0
    lines = [json.loads(x) for x in capfd.readouterr().out.splitlines()]
    assert lines[-1]["type"] == "summary" and all(x["type"] != "summary" for x in lines[:-1])
    assert main(["scan", "--device", "sim", "--sensors", "2", "--json"]) == 0
    lines = [json.loads(x) for x in capfd.readouterr().out.splitlines()]
    assert [x["type"] for x in lines] == ["device", "device", "summary"]
    assert lines[-1]["devices"] == 2


def test_one_shot_json_is_one_document_with_todays_keys(files, capfd):
    capfd.readouterr()
    assert main(["analyze", files["kick"], "--json"]) == 0
    report = json.loads(capfd.readouterr().out)
    for key in ("file", "exercise", "sensors", "limits", "reps", "alarms", "summary", "truth"):
        assert key in report
    assert main(["simulate", "--reps", "2", "--json"]) == 0
    truth = json.loads(capfd.readouterr().out)
    assert {"exercise", "sensors", "seed", "duration_s", "reps", "faulty_reps"} <= set(truth)


# ------------------------------------------------------------ numbering and sign everywhere


def test_reps_and_alarms_count_from_one_and_extension_is_negative(files, capfd):
    capfd.readouterr()
    assert main(["analyze", files["kick"], "--json"]) == 0
    report = json.loads(capfd.readouterr().out)
    assert [r["index"] for r in report["reps"]] == [1, 2, 3, 4]
    assert report["alarms"] and all(a["rep"] in (1, 2, 3, 4) for a in report["alarms"])
    ext = [a for a in report["alarms"] if a["direction"] == "extension"]
    assert ext and all(a["peak_deg"] < 0 for a in ext)
    assert all(r["peak_extension_deg"] <= 0 <= r["peak_flexion_deg"] for r in report["reps"])
    arched = min(r["peak_extension_deg"] for r in report["reps"])
    assert arched < -5 and report["summary"]["max_extension_deg"] == arched
    assert report["limits"]["extension_deg"] < 0 < report["limits"]["flexion_deg"]
    # the text table shows the same numbers
    assert main(["analyze", files["kick"]]) == 0
    text = capfd.readouterr().out
    row = next(ln for ln in text.splitlines() if ln.split()[:1] == ["1"])
    assert row.split()[6] == f"{report['reps'][0]['peak_extension_deg']:+.1f}"
    alarm_lines = [ln for ln in text.splitlines() if ln.startswith("alarm ")]
    assert [ln.rsplit("rep ", 1)[1] for ln in alarm_lines] == [
        str(a["rep"]) for a in report["alarms"]
    ]
    # replay's events: the same reps, the same numbers
    assert main(["replay", files["kick"], "--headless", "--json", "--speed", "max"]) == 0
    lines = [json.loads(x) for x in capfd.readouterr().out.splitlines()]
    reps = [x for x in lines if x["type"] == "rep_ended"]
    assert [r["index"] for r in reps] == [1, 2, 3, 4]
    assert all(r["peak_extension_deg"] <= 0 for r in reps)
    alarms = [x for x in lines if x["type"] == "alarm_started"]
    assert alarms and all(a["rep"] >= 1 for a in alarms)
    # simulate's ground truth
    assert main(["simulate", "--reps", "3", "--faulty", "1", "--json"]) == 0
    truth = json.loads(capfd.readouterr().out)
    assert [r["index"] for r in truth["reps"]] == [1, 2, 3]
    assert truth["faulty_reps"] == [r["index"] for r in truth["reps"] if r["faulty"]]


# ------------------------------------------------------------------------- markers


def test_markers_show_in_analyze_and_headless_replay(files, tmp_path, capfd):
    copy = tmp_path / "m.imr"
    copy.write_bytes(Path(files["kick"]).read_bytes())
    assert main(["mark", str(copy), "--at", "12.5", "--text", "knee hurt"]) == 0
    capfd.readouterr()
    assert main(["analyze", str(copy), "--json"]) == 0
    markers = json.loads(capfd.readouterr().out)["markers"]
    kinds = [m["kind"] for m in markers]
    assert "set_start" in kinds and "set_end" in kinds
    assert {"t_s": 12.5, "t_end_s": None, "kind": "note", "text": "knee hurt"} in markers
    assert main(["analyze", str(copy)]) == 0
    assert "marker note at 12.50 s: text knee hurt" in capfd.readouterr().out
    assert main(["replay", str(copy), "--headless", "--speed", "max"]) == 0
    out = capfd.readouterr().out
    assert "marker note: text knee hurt" in out and "marker set_end" in out
    # in time order among the events: the note (12.5 s) comes after rep 1 started
    lines = out.splitlines()
    note = next(i for i, ln in enumerate(lines) if "marker note" in ln)
    times = [float(ln.split()[0]) for ln in lines if ln[:1] == " " and ln.split()[1] == "s"]
    assert times == sorted(times) and lines[note].split()[0] == "12.50"


# ---------------------------------------------------------------- --force, --allow-partial


def test_writing_commands_refuse_to_overwrite_without_force(files, tmp_path, capfd):
    out = tmp_path / "s.imr"
    assert main(["simulate", "--reps", "1", "-o", str(out)]) == 0
    before = out.read_bytes()
    assert main(["simulate", "--reps", "2", "-o", str(out)]) == 1
    assert "--force" in capfd.readouterr().err and out.read_bytes() == before
    assert main(["simulate", "--reps", "2", "-o", str(out), "--force"]) == 0
    assert out.read_bytes() != before
    rec = tmp_path / "live.imr"
    rec.write_bytes(b"keep me")
    live = [
        "live",
        "--headless",
        "--speed",
        "40",
        "--duration",
        "1",
        "--reps",
        "1",
        "--faulty",
        "0",
    ]
    assert main([*live, "--record", str(rec), "--config-dir", str(tmp_path)]) == 1
    assert "--force" in capfd.readouterr().err and rec.read_bytes() == b"keep me"
    assert main([*live, "--record", str(rec), "--config-dir", str(tmp_path), "--force"]) == 0
    assert len(im.load(rec).series["sacrum"]) > 0


def test_reading_commands_take_allow_partial(files, capfd):
    assert main(["analyze", files["damaged"]]) == 1
    assert "--allow-partial" in capfd.readouterr().err
    assert main(["analyze", files["damaged"], "--allow-partial", "--json"]) == 0
    captured = capfd.readouterr()
    assert json.loads(captured.out)["reps"] and files["damaged"] in captured.err
    assert main(["replay", files["damaged"], "--headless", "--speed", "max"]) == 1
    capfd.readouterr()
    args = ["replay", files["damaged"], "--headless", "--speed", "max", "--allow-partial"]
    assert main(args) == 0
    assert "summary:" in capfd.readouterr().out


# --------------------------------------------------------------------- rich, plain


def test_tables_and_progress_are_plain_when_not_on_a_terminal(files, capfd, monkeypatch):
    capfd.readouterr()
    assert main(["analyze", files["kick"]]) == 0
    out = capfd.readouterr().out
    assert "\x1b[" not in out and "━" not in out and "─" not in out
    assert isinstance(common.progress("x", 10, 60.0), common.NoProgress)
    assert not isinstance(common.progress("x", 10, 60.0), common.Progress)
    # on a terminal: rich draws the table, and long work gets a progress bar
    monkeypatch.setattr(common, "on_terminal", lambda: True)
    lines = common.table(None, ["rep", "verdict"], [["1", "ok"]])
    assert any("─" in ln or "━" in ln for ln in lines)
    assert isinstance(common.progress("x", 10, 60.0), common.Progress)
    assert not isinstance(common.progress("x", 10, 0.5), common.Progress)


# ---------------------------------------------------------- processes: signals, pipes, display


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    env["PYTHONPATH"] = str(ROOT)
    return env | extra


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "imu_monitor", *args]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_closes_the_session_cleanly(sig, tmp_path):
    rec = tmp_path / "s.imr"
    argv = _cli("live", "--headless", "--json", "--speed", "10", "--reps", "3",
                "--record", str(rec), "--config-dir", str(tmp_path))  # fmt: skip
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env()
    )
    seen = []
    for line in proc.stdout:  # wait for the calibration to finish: the session is running
        seen.append(json.loads(line))
        if seen[-1]["type"] == "calibration" and seen[-1]["step"] == "done":
            break
    proc.send_signal(sig)
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, err
    assert "Traceback" not in err
    last = json.loads(rest.splitlines()[-1])
    assert last["type"] == "summary" and last["recording"] == str(rec)
    loaded = im.load(rec)  # closed: the END record is there, no warning about it
    assert "load_warning" not in loaded.meta
    assert len(loaded.series["sacrum"]) == last["sensors_stats"]["sacrum"]["samples"]


def test_a_closed_pipe_ends_quietly(files):
    argv = _cli("replay", files["kick"], "--headless", "--json", "--speed", "max")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    first = proc.stdout.readline()
    proc.stdout.close()  # as `| head -1` does
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert json.loads(first)["type"] == "note"
    assert err == "" and proc.returncode == 128 + signal.SIGPIPE


GUI_COMMANDS = {
    "demo": ["demo", "--exit-after", "2", "--speed", "10", "--config-dir", "{tmp}"],
    "live": ["live", "--duration", "2", "--speed", "10", "--config-dir", "{tmp}"],
    "replay": ["replay", "{kick}", "--speed", "max"],
}


def test_gui_commands_without_a_display_run_headless_with_a_note(files):
    procs = {  # the three at once: each is mostly waiting for its interpreter to start
        name: subprocess.Popen(
            _cli(*(a.format(**files) for a in argv)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
        )
        for name, argv in GUI_COMMANDS.items()
    }
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, (name, err)
        notes = [ln for ln in err.splitlines() if "no display" in ln]
        assert len(notes) == 1 and "--screenshot" in notes[0], (name, err)
        assert "summary:" in out and "Traceback" not in err, (name, out, err)


def test_a_file_not_closed_is_said_once(tmp_path, capsys):
    # the reader's log line had repeated the note every command prints
    src = ROOT / "recordings" / "hip-thrust_2sensors.imr"
    cut = tmp_path / "cut.imr"
    cut.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    assert main(["analyze", str(cut), "--allow-partial"]) == 0
    cap = capsys.readouterr()
    assert (cap.out + cap.err).count("was not closed by its writer") == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["live", "--headless", "--duration", "1"],
        ["scan", "--device", "sim"],
        ["check-device", "--device", "sim"],
        ["decode", "--hex", "00"],
    ],
)
def test_an_unknown_profile_is_a_usage_error_everywhere(argv, capsys):
    assert main([*argv, "--profile", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert "no firmware profile named 'nope'" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("command", [["analyze"], ["replay", "--headless"]])
def test_a_file_with_no_readable_sacrum_sample_is_named(tmp_path, capsys, command):
    # "the recording has no sacrum data; it cannot be calibrated" had not said which file
    src = ROOT / "recordings" / "back-kick_good_1sensor.imr"
    cut = tmp_path / "cut.imr"
    cut.write_bytes(src.read_bytes()[:3000])
    assert main([command[0], str(cut), *command[1:], "--allow-partial"]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"{cut}: its readable part holds no sacrum samples" in err
