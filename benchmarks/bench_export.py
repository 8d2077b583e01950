"""Time each research export of a one-hour, two-sensor simulated session; prints JSON.

The session (back kicks, sacrum + upper lumbar, 200 Hz) is simulated and saved once, then, for
each format, best of N of (a) the writer alone on an analysed recording and (b) the whole
command as a user runs it: ``imu-monitor export FILE --bids DIR`` (load, analyse, write), in
this process. The goal (issue 15) is under 5 s for each export. Each figure is given as wall
time and as the process's CPU time (best of N each): on a shared machine whose other processes
take the cores, the CPU time is what the export costs, the wall time what it took then.

    python benchmarks/bench_export.py [--minutes 60] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from imu_monitor.cli.main import main as cli_main
from imu_monitor.processing.analysis import analyze_recording
from imu_monitor.simulator import SimulationConfig, simulate_session
from imu_monitor.storage.export import export_columns, write_csv
from imu_monitor.storage.exports.bids import write_bids
from imu_monitor.storage.exports.c3d import write_c3d
from imu_monitor.storage.exports.opensim import write_opensim
from imu_monitor.storage.recording import load_recording, save_recording


def best_wall_and_cpu(fn, repeat: int) -> tuple[float, float]:
    """Shortest wall time and shortest CPU time of ``repeat`` calls (seconds)."""
    wall, cpu = float("inf"), float("inf")
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall = min(wall, time.perf_counter() - w0)
        cpu = min(cpu, time.process_time() - c0)
    return round(wall, 2), round(cpu, 2)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    reps = max(1, int(args.minutes * 60 / 5.0))  # a back-kick rep with its rest is ~5 s
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        rec = simulate_session(
            SimulationConfig(exercise="back-kick", reps=reps, faulty=reps // 4, sensors=2, seed=1)
        )
        path = d / "session.imr"
        save_recording(rec, path)
        rec = load_recording(path)
        an = analyze_recording(rec)
        analyse = best_wall_and_cpu(lambda: analyze_recording(rec), 1)
        out: dict[str, object] = {
            "date": date.today().isoformat(),
            "python": platform.python_version(),
            "minutes": round(rec.duration_s / 60.0, 1),
            "sensors": len(rec.sensors),
            "samples_per_sensor": len(rec.series["sacrum"]),
            "analyse_wall_cpu_s": analyse,
            "load_avg_start": os.getloadavg()[0],
        }

        def fresh(name: str) -> Path:
            p = d / name
            if p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()
            return p

        writers = {
            "csv": lambda: write_csv(fresh("o.csv"), export_columns(rec, an)),
            "bids": lambda: write_bids(rec, an, fresh("bids")),
            "opensim": lambda: write_opensim(rec, an, fresh("osim")),
            "c3d": lambda: write_c3d(rec, an, fresh("o.c3d")),
        }
        commands = {
            "csv": ["--csv", "o.csv"],
            "bids": ["--bids", "bids"],
            "opensim": ["--opensim", "osim"],
            "c3d": ["--c3d", "o.c3d"],
        }
        for fmt, write in writers.items():
            out[f"{fmt}_write_wall_cpu_s"] = best_wall_and_cpu(write, args.repeat)
        for fmt, (opt, name) in ((k, tuple(v)) for k, v in commands.items()):

            def command(opt=opt, name=name) -> None:
                fresh(name)
                with contextlib.redirect_stdout(io.StringIO()):
                    rc = cli_main(["export", str(path), opt, str(d / name), "--force"])
                assert rc == 0

            out[f"{fmt}_command_wall_cpu_s"] = best_wall_and_cpu(command, args.repeat)
        sizes = {
            "bids_motion_tsv_mb": sum(f.stat().st_size for f in (d / "bids").rglob("*_motion.tsv")),
            "opensim_sto_mb": (d / "osim" / "imu_orientations.sto").stat().st_size,
            "c3d_mb": (d / "o.c3d").stat().st_size,
        }
        out |= {k: round(v / 1e6, 1) for k, v in sizes.items()}
        out["load_avg_end"] = os.getloadavg()[0]
    json.dump(out, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
