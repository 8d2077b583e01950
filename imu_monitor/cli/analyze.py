"""``imu-monitor analyze FILE``: reps, alarms and a summary for a recording."""

from __future__ import annotations

import argparse
from typing import Any

from imu_monitor.app.config import history_store
from imu_monitor.app.history import index_analysis
from imu_monitor.cli.common import (
    add_analysis_options,
    add_read_options,
    exercise_and_limits,
    for_user,
    load_for_command,
    print_json,
    progress,
    table,
)
from imu_monitor.cli.console import marker_dict
from imu_monitor.cli.history import add_history_options
from imu_monitor.events import APPROXIMATE_TEMPO_NOTE
from imu_monitor.processing.analysis import analyze_recording
from imu_monitor.processing.monitor.leak import describe as describe_leak
from imu_monitor.processing.quality import gaps_note
from imu_monitor.processing.sets import RepJudgement
from imu_monitor.simulator.scoring import evaluate
from imu_monitor.simulator.set_truth import score_analysis_sets

ANALYSED_SAMPLES_PER_S = 100_000
"""Rough analysis speed (samples of all sensors per second of this machine), to decide whether
a progress indicator is worth showing."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "analyze",
        help="analyse a recording: reps, tempo, lumbar excursion, alarms",
        description="Analyse a recording with its stored calibration (or one computed from it) "
        "and print reps (tempo phases, peak flexion/extension, alarmed or not), alarms and a "
        "summary. Options re-analyse with other settings; the file is not changed.",
    )
    p.add_argument("file", help="recording file")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument(
        "--save",
        action="store_true",
        help="put the session into the history (imu-monitor history); a file already there is "
        "updated",
    )
    add_history_options(p)
    add_analysis_options(p)
    add_read_options(p)
    p.set_defaults(func=run)


def analysis_report(path: str, args: argparse.Namespace) -> dict[str, Any]:
    """What ``analyze`` prints, as users read it (``common.for_user``: reps and alarms from 1,
    extension negative, the extension limit too)."""
    rec = load_for_command(path, args, needs_sacrum=True)
    ex, limits = exercise_and_limits(args, rec.exercise)
    samples = sum(len(s) for s in rec.series.values())
    with progress(f"analysing {path}", None, samples / ANALYSED_SAMPLES_PER_S):
        an = analyze_recording(rec, exercise=ex, limits=limits, offline=not args.online)
    report: dict[str, Any] = {
        "file": str(path),
        "exercise": ex.name,
        "sensors": an.placements,
        "duration_s": rec.duration_s,
        "orientation_filter": "offline" if an.offline else "online",
        "limits": {
            "flexion_deg": limits.flexion_deg,
            "extension_deg": -abs(limits.extension_deg),
            "dwell_s": limits.dwell_s,
        },
        "judged": an.mode,
        "tempo_target_s": {"up": ex.tempo.up_s, "hold": ex.tempo.hold_s, "down": ex.tempo.down_s},
        "set_rules": {
            "pause_s": ex.sets.pause_s,
            "tempo_tolerance_s": ex.sets.tempo_tolerance_s,
            "drift_warning_fraction": ex.sets.drift_warning_fraction,
        },
        "calibration": {
            "method": an.calibration.method,
            "guessed": an.calibration.windows_guessed,
            "windows_s": an.calibration.to_dict()["windows_s"],
            "notes": list(an.calibration.notes),
        },
        "device_calibration": {
            sensor: {"source": d.get("source"), "method": d.get("method")}
            for sensor, d in (rec.meta.get("device_calibration") or {}).items()
        },
        "reps": [
            _rep(r) | _judged(j) for r, j in zip(an.result.reps, an.sets.judgements, strict=True)
        ],
        "sets": [st.to_dict() for st in an.sets.sets],
        "good_reps": an.sets.good_reps,
        "alarms": an.alarms(),
        "markers": [marker_dict(m) for m in sorted(rec.markers, key=lambda m: m.t_s)],
        "summary": an.summary(),
    }
    if an.mode == "lockout":
        report["note"] = ex.one_sensor_note
    if an.result.pelvis_leak is not None:
        # the lumbar angle's share in the pelvis' turn the reps were timed from (``leak``)
        report["pelvis_turn_leak_pct"] = round(100.0 * an.result.pelvis_leak, 2)
    if rec.truth is not None:
        report["truth"] = evaluate(an, rec.truth)
        report["truth"]["sets"] = score_analysis_sets(an, rec.truth, rec.meta)
    if getattr(args, "save", False):
        # the simulated wearable's sessions go to its own history, as live files them
        simulated = rec.meta.get("source") == "sim"
        store = history_store(getattr(args, "data_dir", None), simulated=simulated)
        row = index_analysis(store, path, rec, an)
        report["history"] = {"database": str(store.path), "id": row.id, "user": row.user}
    return for_user(report)


def _rep(r: Any) -> dict[str, Any]:
    return {
        "index": r.index,
        "t_start_s": r.t_start_s,
        "t_end_s": r.t_s,
        "concentric_s": r.concentric_s,
        "hold_s": r.hold_s,
        "eccentric_s": r.eccentric_s,
        "peak_flexion_deg": r.peak_flexion_deg,
        "peak_extension_deg": r.peak_extension_deg,
        "alarmed": r.alarmed,
        "too_fast": r.too_fast,
        "tempo_approximate": r.tempo_approximate,
    }


def _judged(j: RepJudgement) -> dict[str, Any]:
    return {
        "set": j.set_index,
        "good": j.good,
        "faults": list(j.faults),
        "reasons": list(j.reasons),
    }


def _set_lines(sets: list[dict[str, Any]]) -> list[str]:
    """The sets block of the text output (numbers as users read them)."""
    rows = []
    for st in sets:
        f = st["faulty_reps_by_direction"]
        tempo = " ".join(
            "-" if st["tempo"][k]["mean_s"] is None else f"{st['tempo'][k]['mean_s']:.1f}"
            for k in ("up", "hold", "down")
        )
        slope = st["drift_slope_deg_per_rep"]
        warn = st["drift_first_rep"]
        rows.append(
            [
                str(st["index"]),
                f"{st['first_rep']}-{st['last_rep']}",
                f"{st['good_reps']} / {st['reps']}",
                f"{f['flexion']}/{f['extension']}/{f['tempo']}",
                f"{st['peak_flexion_deg']:+.1f}",
                f"{st['peak_extension_deg']:+.1f}",
                tempo,
                "-" if slope is None else f"{slope:+.2f}",
                "-" if warn is None else f"rep {warn}",
            ]
        )
    columns = ["set", "reps", "good", "flex/ext/tempo", "flex°", "ext°", "up hold down s"]
    columns += ["drift °/rep", "warning"]
    return table(None, columns, rows)


def run(args: argparse.Namespace) -> int:
    report = analysis_report(args.file, args)
    if args.json:
        print_json(report)
        return 0
    print(
        f"{report['file']}: {report['exercise']}, sensors {', '.join(report['sensors'])}, "
        f"{report['duration_s']:.1f} s, calibration: {report['calibration']['method']}"
        + (" (windows guessed)" if report["calibration"]["guessed"] else "")
    )
    for note in report["calibration"]["notes"]:
        print(f"  note: {note}")
    devices = report["device_calibration"]
    if devices:
        said = ", ".join(f"{s} ({d['source']})" for s, d in devices.items())
        print(f"  device calibration: {said}")
    if "note" in report:
        print(f"  note: {report['note']}")
    leak = report.get("pelvis_turn_leak_pct")
    if leak:
        print(f"  note: {describe_leak(leak / 100.0)}")
    for name, counts in report["summary"].get("quality", {}).items():
        if counts.get("gaps", 0) > counts.get("gaps_bridged", 0):  # the short ones: --json
            print(f"  note: {name}: {gaps_note(counts)}")
    rows = []
    for r in report["reps"]:
        verdict = ("good" if r["good"] else "NOT COUNTED: " + "; ".join(r["reasons"])) + (
            ", too fast" if r["too_fast"] else ""
        )
        up, hold, down = (
            ("~" if r["tempo_approximate"] else "") + f"{r[k]:.2f}"
            for k in ("concentric_s", "hold_s", "eccentric_s")
        )
        rows.append(
            [
                str(r["index"]),
                f"{r['t_start_s']:.2f}",
                up,
                hold,
                down,
                f"{r['peak_flexion_deg']:+.1f}",
                f"{r['peak_extension_deg']:+.1f}",
                str(r["set"]),
                verdict.rstrip(),
            ]
        )
    columns = ["rep", "start s", "up s", "hold s", "down s", "flex°", "ext°", "set", "verdict"]
    for line in table(None, columns, rows):
        print(line)
    if any(r["tempo_approximate"] for r in report["reps"]):
        print(f"  ~ {APPROXIMATE_TEMPO_NOTE}")
    for a in report["alarms"]:
        print(
            f"alarm {a['direction']:<9} {a['t_start_s']:.2f}-{a['t_end_s']:.2f} s, "
            f"peak {a['peak_deg']:+.1f}°, rep {'-' if a['rep'] is None else a['rep']}"
        )
    for m in report["markers"]:
        span = "" if m["t_end_s"] is None else f"-{m['t_end_s']:.2f}"
        extra = ", ".join(f"{k} {v}" for k, v in m.items() if k not in ("t_s", "t_end_s", "kind"))
        print(f"marker {m['kind']} at {m['t_s']:.2f}{span} s{': ' + extra if extra else ''}")
    t, rules = report["tempo_target_s"], report["set_rules"]
    print(
        f"sets (target {t['up']:g}-{t['hold']:g}-{t['down']:g} s up-hold-down, "
        f"±{rules['tempo_tolerance_s']:g} s, hold not shorter; a set ends after "
        f"{rules['pause_s']:g} s of rest; drift warning at "
        f"{rules['drift_warning_fraction']:.0%} of the limit):"
    )
    for line in _set_lines(report["sets"]):
        print(line)
    s = report["summary"]
    print(
        f"summary: {s['good_reps']} good of {s['reps']} reps in {s['sets_count']} "
        f"set{'s' if s['sets_count'] != 1 else ''}, {s['reps_alarmed']} alarmed, "
        f"{s['reps_too_fast']} too fast, "
        f"{s['alarms']} alarms ({s['alarms_flexion']} flexion, {s['alarms_extension']} extension)"
    )
    if "history" in report:
        h = report["history"]
        print(f"saved to the history of {h['user']} ({h['database']})")
    return 0
