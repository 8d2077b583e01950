"""The command line as a user drives it: simulate -> analyze -> export -> import, markers, and
the errors a user gets for bad input."""

import json

import numpy as np
import pytest

import imu_monitor as im
from imu_monitor.cli.console import format_event
from imu_monitor.cli.main import default_command, main
from imu_monitor.events import ClockOffsetApplied, RepEnded
from imu_monitor.storage.recording import load_recording


@pytest.fixture(scope="module")
def kick_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "kick.imr"
    assert (
        main(
            [
                "simulate",
                "--exercise",
                "back-kick",
                "--reps",
                "6",
                "--faulty",
                "2",
                "--sensors",
                "1",
                "--seed",
                "5",
                "--motion",
                "ramps",
                "-o",
                str(path),
            ]
        )
        == 0
    )
    return path


def test_analyze_json_matches_the_ground_truth(kick_file, capsys):
    capsys.readouterr()
    assert main(["analyze", str(kick_file), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["exercise"] == "back-kick" and report["orientation_filter"] == "offline"
    assert len(report["reps"]) == 6
    truth = report["truth"]
    assert truth["reps_detected"] == truth["reps_true"] == 6
    assert truth["angle_rmse_deg"] < 1.0
    assert truth["lumbar_faulty_alarmed"] == truth["lumbar_faulty_reps"] >= 1
    assert truth["false_alarms"] == 0
    for rep in report["reps"]:
        assert {
            "t_start_s",
            "t_end_s",
            "concentric_s",
            "hold_s",
            "eccentric_s",
            "peak_flexion_deg",
            "peak_extension_deg",
            "alarmed",
        } <= set(rep)
    assert all(a["direction"] in ("flexion", "extension") for a in report["alarms"])


def test_one_sensor_hip_thrust_flags_the_split_of_reps_arched_at_lockout(tmp_path, capsys):
    path = tmp_path / "thrust.imr"
    args = ["--exercise", "hip-thrust", "--reps", "6", "--faulty", "2", "--sensors", "1"]
    args += ["--seed", "3", "--motion", "ramps"]
    assert main(["simulate", *args, "-o", str(path), "--json"]) == 0
    truth = json.loads(capsys.readouterr().out)
    arched = [r["fault"] == "extension" for r in truth["reps"]]
    assert any(arched) and not all(arched)
    assert main(["analyze", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["tempo_approximate"] for r in report["reps"]] == arched
    # (the ramp model's truth is the tangent method's; the monitor times phases at movement
    # onset / offset, which on ramps with 0.1-0.15 s blends lie up to about 0.1 s from it)
    assert report["truth"]["phase_abs_err_max_not_approximate_s"] < 0.15
    assert main(["analyze", str(path)]) == 0
    text = capsys.readouterr().out
    assert "tempo approximate" in text and text.count("~") == 3 * sum(arched) + 1


def test_analyze_shows_sets_and_good_reps_with_the_coachs_settings(kick_file, capsys):
    capsys.readouterr()
    assert main(["analyze", str(kick_file), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    (only,) = report["sets"]  # one set: the reps are seconds apart
    assert (only["index"], only["first_rep"], only["last_rep"], only["reps"]) == (1, 1, 6, 6)
    good = [r["index"] for r in report["reps"] if r["good"]]
    assert report["good_reps"] == report["summary"]["good_reps"] == only["good_reps"] == len(good)
    alarmed = [r for r in report["reps"] if r["alarmed"]]
    assert alarmed and all(not r["good"] and "° > 9° limit" in r["reasons"][0] for r in alarmed)
    assert only["peak_extension_deg"] <= 0  # signed for users, as the reps' peaks
    assert set(only["tempo"]) == {"up", "hold", "down"}
    assert report["tempo_target_s"] == {"up": 1.5, "hold": 0.5, "down": 1.5}
    # a coach's tempo, tolerance and pause: every rep is now too slow, sets split at 0.5 s rests
    args = ["--tempo", "0.5:0.2:0.5", "--tempo-tolerance", "0.2", "--set-pause", "0.5"]
    assert main(["analyze", str(kick_file), "--json", *args]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["good_reps"] == 0 and len(report["sets"]) > 1
    timed = [r for r in report["reps"] if not r["tempo_approximate"]]  # the others: not judged
    assert timed and all("up_long" in r["faults"] for r in timed)
    assert report["set_rules"]["tempo_tolerance_s"] == 0.2
    assert main(["analyze", str(kick_file), *args]) == 0
    text = capsys.readouterr().out
    assert "NOT COUNTED: up" in text and "good of 6 reps in" in text
    assert "drift °/rep" in text
    with pytest.raises(SystemExit):
        main(["analyze", str(kick_file), "--tempo", "1:2"])
    assert "expected UP:HOLD:DOWN seconds" in capsys.readouterr().err


def test_live_console_marks_an_approximate_split():
    def rep(approximate: bool) -> RepEnded:
        return RepEnded(
            15.0,
            2,
            10.0,
            10.7,
            13.3,
            0.7,
            2.6,
            1.7,
            0.0,
            12.1,
            True,
            False,
            judged="lockout",
            tempo_approximate=approximate,
        )

    assert "0.7 s up / 2.6 s hold / 1.7 s down" in format_event(rep(False))
    assert "~0.7 s up / ~2.6 s hold / ~1.7 s down" in format_event(rep(True))


def test_the_console_says_when_a_wearables_clock_offset_is_taken_off():
    ev = ClockOffsetApplied(7.5, sensor="upper_lumbar", offset_ms=31.5, correlation=0.99, reps=0)
    line = format_event(ev)
    assert line.startswith("    7.50 s  upper lumbar wearable's clock is 32 ms late")


def test_reanalysis_with_other_limits_changes_the_verdict_not_the_file(kick_file, capsys):
    before = kick_file.read_bytes()
    capsys.readouterr()
    main(["analyze", str(kick_file), "--json", "--flexion-limit", "40", "--extension-limit", "40"])
    report = json.loads(capsys.readouterr().out)
    assert report["alarms"] == [] and report["limits"]["flexion_deg"] == 40
    assert kick_file.read_bytes() == before


def test_export_csv_then_import_round_trips_the_samples(kick_file, tmp_path, capsys):
    out = tmp_path / "kick.csv"
    assert main(["export", str(kick_file), "--csv", str(out)]) == 0
    header = out.read_text().splitlines()[0].split(",")
    for col in (
        "t_s",
        "sacrum_acc_x_m_s2",
        "sacrum_gyr_z_rad_s",
        "sacrum_qw",
        "sacrum_qz",
        "lumbar_flexion_deg",
        "true_lumbar_flexion_deg",
    ):
        assert col in header
    table = np.loadtxt(out, delimiter=",", skiprows=1)
    est = table[:, header.index("lumbar_flexion_deg")]
    true = table[:, header.index("true_lumbar_flexion_deg")]
    t = table[:, header.index("t_s")]
    sel = t > 10.0
    assert np.sqrt(np.mean((est[sel] - true[sel]) ** 2)) < 1.0
    assert (tmp_path / "kick.events.csv").read_text().startswith("t_s,type,direction")
    back = tmp_path / "back.imr"
    assert main(["import", str(out), "--format", "csv", "-o", str(back)]) == 0
    orig, again = im.load(kick_file), im.load(back)
    np.testing.assert_array_equal(again.series["sacrum"].acc_m_s2, orig.series["sacrum"].acc_m_s2)
    np.testing.assert_array_equal(again.series["sacrum"].gyr_rad_s, orig.series["sacrum"].gyr_rad_s)


def test_markers_are_added_afterwards_and_kept(kick_file, tmp_path, capsys):
    copy = tmp_path / "m.imr"
    copy.write_bytes(kick_file.read_bytes())
    assert (
        main(
            [
                "mark",
                str(copy),
                "--at",
                "12.5",
                "--kind",
                "note",
                "--text",
                "knee hurt",
                "--side",
                "left",
            ]
        )
        == 0
    )
    notes = im.load(copy).markers_of("note")
    assert notes[0].t_s == 12.5 and notes[0].data == {"text": "knee hurt", "side": "left"}


def test_bad_input_gets_clear_errors(kick_file, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:  # a usage error: argparse names the choices
        main(["analyze", str(kick_file), "--exercise", "donkey-kick"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "donkey-kick" in err and "back-kick" in err and "hip-thrust" in err
    broken = tmp_path / "broken.imr"
    data = bytearray(kick_file.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = b"\xff" * 64
    broken.write_bytes(bytes(data))
    assert main(["analyze", str(broken)]) == 1
    err = capsys.readouterr().err
    assert "broken.imr" in err and "byte" in err
    assert main(["analyze", str(tmp_path / "missing.imr")]) == 1
    assert "missing.imr" in capsys.readouterr().err


def test_no_arguments_opens_the_demo_or_runs_headless(monkeypatch):
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    cmd = default_command()
    assert cmd[:4] == ["live", "--device", "sim", "--headless"]
    monkeypatch.setenv("DISPLAY", ":0")
    assert default_command() == ["demo"]


def test_simulate_a_session_of_sets(capsys):
    args = ["simulate", "--reps", "3", "--sets", "2", "--tempo-faulty", "1", "--drift-reps", "2"]
    assert main([*args, "--json"]) == 0
    truth = json.loads(capsys.readouterr().out)
    assert [r["set_index"] for r in truth["reps"]] == [0, 0, 0, 1, 1, 1]
    assert sum(r["tempo_fault"] is not None for r in truth["reps"]) == 1
    assert [r["drift_fraction"] is not None for r in truth["reps"]] == [False] * 4 + [True] * 2
    assert main(["simulate", "--reps", "3", "--drift-reps", "4", "--json"]) == 2  # usage
    assert "--drift-reps must be between 0 and the reps of a set" in capsys.readouterr().err


def test_simulate_a_slower_person(capsys):
    def durations(*extra: str) -> list[float]:
        assert main(["simulate", "--reps", "3", "--seed", "2", *extra, "--json"]) == 0
        reps = json.loads(capsys.readouterr().out)["reps"]
        return [r["t_end_s"] - r["t_hold_end_s"] for r in reps]  # the lowerings

    base, slow = durations(), durations("--tempo-scale", "1.6")
    assert slow == pytest.approx([1.6 * d for d in base], rel=0.03)
    assert main(["simulate", "--tempo-scale", "1.6", "--sets", "2", "--json"]) == 2
    err = capsys.readouterr().err
    assert "--tempo-scale needs" in err and "Traceback" not in err
    assert main(["simulate", "--tempo-scale", "9", "--json"]) == 2
    assert "--tempo-scale must be between 0.4 and 3" in capsys.readouterr().err


def test_simulate_touch_and_go_reps(capsys):
    def rests(*extra: str) -> list[float]:
        assert main(["simulate", "--reps", "6", "--seed", "2", *extra, "--json"]) == 0
        reps = json.loads(capsys.readouterr().out)["reps"]
        return [b["t_start_s"] - a["t_end_s"] for a, b in zip(reps[:-1], reps[1:], strict=True)]

    assert min(rests()) > 0.7  # the default: 0.8-2.5 s at the bottom
    assert max(rests("--rep-rest", "0.25-0.5")) < 0.6  # (the truth's onset and offset: 5 %)
    with pytest.raises(SystemExit) as e:  # a usage error, with an example of this option
        main(["simulate", "--rep-rest", "short", "--json"])
    assert e.value.code == 2 and "e.g. --rep-rest 0.25-0.5" in capsys.readouterr().err
    assert main(["simulate", "--rep-rest", "0.1-0.5", "--json"]) == 2
    assert "--rep-rest must be a range FROM <= TO within 0.25-60 s" in capsys.readouterr().err
    assert main(["simulate", "--rep-rest", "0.3-0.5", "--motion", "ramps", "--json"]) == 2
    assert "--rep-rest needs the human motion model" in capsys.readouterr().err


def test_simulate_an_upper_lumbar_wearable_whose_clock_is_late(tmp_path, capsys):
    def recorded(*extra: str):
        out = tmp_path / f"s{len(extra)}.imr"
        base = ["simulate", "--exercise", "hip-thrust", "--sensors", "2", "--reps", "2"]
        base += ["--seed", "2"]  # (its first sacrum sample comes after 0 s)
        assert main([*base, *extra, "-o", str(out)]) == 0
        return load_recording(out)

    plain, late = recorded(), recorded("--clock-offset-ms", "40")
    shift = late.series["upper_lumbar"].t_s - plain.series["upper_lumbar"].t_s
    assert np.allclose(shift, 0.040)  # the same session, only the upper sensor's stamps late
    assert np.array_equal(late.series["sacrum"].t_s, plain.series["sacrum"].t_s)
    assert late.meta["simulation"]["clock_offset_ms"] == 40.0
    # replayed: every marker is shown, the standing capture's at 0 s too, although the first
    # sample (the sacrum's, its stamps not moved) comes a moment after it; and the offset is
    # measured and taken off
    path = tmp_path / "s2.imr"
    assert late.markers[0].t_s < min(float(s.t_s[0]) for s in late.series.values())
    capsys.readouterr()
    assert main(["replay", str(path), "--headless", "--json", "--speed", "max"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert sum(x.get("type") == "marker" for x in lines) == len(late.markers)
    clock = [x for x in lines if x.get("type") == "clock_offset_applied"]
    assert clock and abs(clock[-1]["offset_ms"] - 40.0) <= 10.0
    assert main(["simulate", "--clock-offset-ms", "40", "--json"]) == 2
    err = capsys.readouterr().err
    assert "--clock-offset-ms needs an upper-lumbar sensor" in err and "Traceback" not in err


def test_simulate_a_pelvis_kept_nearly_square(capsys):
    def sacrum(*extra: str) -> list[float]:
        assert main(["simulate", "--reps", "3", "--seed", "3", *extra, "--json"]) == 0
        return json.loads(capsys.readouterr().out)["duration_s"]

    assert sacrum("--kick-turn", "1.5-3") == sacrum()  # the same session, only the turn smaller
    with pytest.raises(SystemExit) as e:
        main(["simulate", "--kick-turn", "2", "--json"])
    assert e.value.code == 2 and "FROM-TO in degrees, e.g. --kick-turn 1.5-3" in (
        capsys.readouterr().err
    )
    assert main(["simulate", "--kick-turn", "1.5-3", "--exercise", "hip-thrust", "--json"]) == 2
    err = capsys.readouterr().err
    assert "--kick-turn needs the back kick" in err and "Traceback" not in err


def test_analyze_says_how_much_of_the_lumbar_angle_leaked_into_the_pelvis_turn(tmp_path, capsys):
    """A one-sensor back kick is timed from the pelvis' turn: ``analyze`` reports the leak the
    reps measured (seed 16: its calibrated pelvic axes are 3 deg off, about 5 %), as JSON and
    as a note."""
    path = tmp_path / "kick16.imr"
    args = ["simulate", "--exercise", "back-kick", "--sensors", "1", "--seed", "16"]
    assert main([*args, "--faulty", "4", "-o", str(path)]) == 0
    capsys.readouterr()
    assert main(["analyze", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["pelvis_turn_leak_pct"] == pytest.approx(-5.0, abs=1.0)
    assert main(["analyze", str(path)]) == 0
    out = capsys.readouterr().out
    assert "pelvis' turn the reps are timed from carried -" in out
    assert "taken off their timing" in out
