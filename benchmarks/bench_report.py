"""The session report of a one-hour session: how long ``imu-monitor report`` takes and how
large the file is (goal: under 3 s and under 5 MB).

Simulates about an hour of 200 Hz back kicks (a rep with its rest is ~5 s; a quarter of them
faulty; a ``set_start`` marker every 12 reps, so the report has ~60 sets), saves it as a
recording, then times, best of N on this shared machine:

- ``command``: what ``imu-monitor report FILE -o OUT`` does: load the file, analyse (offline
  filter), gather, draw, write;
- ``report_only``: gather, draw and write from a finished analysis (what the dashboard's
  "Save report…" adds to an analysis it already has, and the report's own cost);
- ``analyze``: load and analyse alone, for comparison;
- ``cold_command``: the command itself in a new process (``python -m imu_monitor report``:
  the imports of numpy, scipy, vqf and matplotlib included), wall time.

Each is timed as wall time and as the process' CPU time (both best of N): on a machine other
jobs share, the wall time follows their load (the load average is printed with the figures);
the CPU time is what the report costs.

Prints JSON.

    python benchmarks/bench_report.py [--minutes 60] [--sensors 1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from _timing import best_of

from imu_monitor.model import Marker
from imu_monitor.processing.analysis import analyze_recording
from imu_monitor.report.write import write_session_report
from imu_monitor.simulator import SimulationConfig, simulate_session
from imu_monitor.storage.recording import load_recording, save_recording

REPS_PER_SET = 12


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--sensors", type=int, default=1, choices=(1, 2, 3))
    ap.add_argument("--motion", default="ramps", choices=("ramps", "human"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--no-acc-offset",
        action="store_true",
        help="analyse without the accelerometer-offset estimate (for comparison; the command "
        "always estimates it)",
    )
    args = ap.parse_args()
    reps = max(1, int(args.minutes * 60 / 5.0))
    t0 = time.perf_counter()
    rec = simulate_session(
        SimulationConfig(
            exercise="back-kick", reps=reps, faulty=reps // 4, sensors=args.sensors, seed=1,
            motion=args.motion,
        ),
        created_utc="2026-12-05T09:00:00+00:00",
    )  # fmt: skip
    for k in range(REPS_PER_SET, reps, REPS_PER_SET):
        rec.markers.append(Marker(rec.truth.reps[k].t_start_s - 0.3, "set_start", None, {}))
    sim_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "hour.imr"
        out = Path(tmp) / "hour.html"
        save_recording(rec, src)

        options = {"acc_offset": False} if args.no_acc_offset else {}

        def command() -> None:
            r = load_recording(src)
            write_session_report(r, out, source=src.name, **options)

        def analyze() -> None:
            analyze_recording(load_recording(src), **options)

        loaded = load_recording(src)
        an = analyze_recording(loaded, **options)

        def report_only() -> None:
            write_session_report(loaded, out, source=src.name, analysis=an)

        command()  # warm-up: imports, font cache
        load_before = os.getloadavg()[0]
        t_command = best_of(command, args.repeat)
        t_analyze = best_of(analyze, args.repeat)
        t_report = best_of(report_only, args.repeat)
        timed = (("command", command), ("analyze", analyze), ("report_only", report_only))
        cpu = {name: round(best_of(fn, args.repeat, time.process_time), 3) for name, fn in timed}
        cold = [sys.executable, "-m", "imu_monitor", "report", str(src), "-o", str(out), "--force"]
        root = Path(__file__).resolve().parents[1]
        t_cold = None
        if not args.no_acc_offset:  # the command has no such option
            t_cold = best_of(
                lambda: subprocess.run(cold, check=True, capture_output=True, cwd=root),
                args.repeat,
            )
        load_after = os.getloadavg()[0]
        size = out.stat().st_size
        summary = an.summary()
    result = {
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, python {sys.version.split()[0]}",
        "load_average": [round(load_before, 1), round(load_after, 1)],
        "session": {
            "minutes": round(rec.duration_s / 60.0, 1),
            "sensors": args.sensors,
            "motion": args.motion,
            "acc_offset": not args.no_acc_offset,
            "samples": sum(len(s) for s in rec.series.values()),
            "reps": summary["reps"],
            "alarms": summary["alarms"],
            "sets": summary["sets_count"],
            "simulated_in_s": round(sim_s, 1),
        },
        "command_s": round(t_command, 3),
        "cold_command_s": None if t_cold is None else round(t_cold, 3),
        "analyze_s": round(t_analyze, 3),
        "report_only_s": round(t_report, 3),
        "cpu_s": cpu,
        "file_mb": round(size / 1e6, 3),
        "goal": {
            "under_3_s_wall": t_command < 3.0,
            "under_3_s_cpu": cpu["command"] < 3.0,
            "under_5_mb": size < 5e6,
        },
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
