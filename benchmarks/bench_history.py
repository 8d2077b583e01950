"""``history add`` over an archive of one-hour recordings: one worker against one per core.

The archive (``--files`` simulated one-hour back-kick sessions, one sensor at 200 Hz, different
seeds and faults) is generated once into ``--dir`` (kept for later runs) with the simulator. Then
the whole archive is indexed into a fresh history with ``--jobs 1`` (in this process) and with
``--jobs N`` (N worker processes; default: the cores), ``--rounds`` times, alternating, so both
see the same machine load.

Reported: the single-file rate (1 / the median wall time of one file at ``--jobs 1``: checksum,
load, analyse, as ``imu-monitor analyze`` does plus the checksum), the archive throughput of each
run, and the goal's ratio: throughput at N jobs / (N x the single-file rate), >= 0.8 wanted; the
peak resident memory of every worker process (``ru_maxrss``). On a shared machine the wall ratio
follows the other processes' load (``loadavg``); the CPU time per file (``time.process_time`` in
the worker) at 1 and at N jobs, and the time the parent spent writing, say what the code itself
costs in parallel: with the same CPU per file and a small serial part, N free cores give N
times the rate. Prints one JSON object.

    python benchmarks/bench_history.py [--files 200] [--dir /tmp/imu-history-bench] [--jobs N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from imu_monitor.app.history import FileResult, IndexReport, index_archive
from imu_monitor.simulator import SimulationConfig, simulate_session
from imu_monitor.storage.history import HistoryStore
from imu_monitor.storage.recording import save_recording

REPS_PER_HOUR = 704
"""Back kicks of the human motion model in one hour (540 reps last 2760 s)."""


def _make(path: str, seed: int) -> str:
    cfg = SimulationConfig(exercise="back-kick", reps=REPS_PER_HOUR, faulty=60, seed=seed)
    rec = simulate_session(cfg, created_utc=f"2026-{1 + seed % 12:02d}-01T09:00:00+00:00")
    rec.meta["user"] = f"trainee{seed % 7}"
    save_recording(rec, path)
    return path


def make_archive(directory: Path, n: int, jobs: int) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    want = [directory / f"session{i:03d}.imr" for i in range(n)]
    missing = [p for p in want if not p.exists()]
    if missing:
        print(f"generating {len(missing)} one-hour recordings in {directory}", file=sys.stderr)
        with ProcessPoolExecutor(jobs) as pool:
            list(pool.map(_make, [str(p) for p in missing], [want.index(p) for p in missing]))
    return want


def run(files: list[Path], jobs: int) -> tuple[float, list[FileResult], IndexReport]:
    results: list[FileResult] = []
    with tempfile.TemporaryDirectory() as db:
        t0 = time.perf_counter()
        report = index_archive(files, HistoryStore(db), jobs=jobs, on_result=results.append)
        wall = time.perf_counter() - t0
    if report.failed:
        raise SystemExit(f"files failed: {report.failed[:3]}")
    return wall, results, report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "imu-history-bench")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args(argv)

    files = make_archive(args.dir, args.files, args.jobs)
    size_mb = sum(f.stat().st_size for f in files) / 1e6
    load_before = os.getloadavg()
    rounds = []
    for _ in range(args.rounds):
        wall1, res1, rep1 = run(files, 1)
        wall_n, res_n, rep_n = run(files, args.jobs)
        per_file = statistics.median(r.seconds for r in res1)
        single_rate = 1.0 / per_file
        cpu1 = statistics.median(r.cpu_s for r in res1)
        cpu_n = statistics.median(r.cpu_s for r in res_n)
        rounds.append(
            {
                "single_file_s_median": round(per_file, 3),
                "single_file_rate_per_s": round(single_rate, 4),
                "jobs_1": {
                    "wall_s": round(wall1, 2),
                    "files_per_s": round(len(files) / wall1, 4),
                    "file_cpu_s_median": round(cpu1, 3),
                },
                f"jobs_{args.jobs}": {
                    "wall_s": round(wall_n, 2),
                    "files_per_s": round(len(files) / wall_n, 4),
                    "worker_file_s_median": round(statistics.median(r.seconds for r in res_n), 3),
                    "worker_file_cpu_s_median": round(cpu_n, 3),
                    "parent_write_s": round(rep_n.write_s, 3),
                },
                "speedup": round(wall1 / wall_n, 3),
                "ratio_to_cores_x_single_rate": round(
                    len(files) / wall_n / (args.jobs * single_rate), 3
                ),
                "cpu_per_file_ratio_jobs_1_to_n": round(cpu1 / cpu_n, 3),
                "peak_rss_mb_jobs_1": round(max(rep1.peak_rss_mb.values()), 1),
                "peak_rss_mb_per_worker": sorted(round(v, 1) for v in rep_n.peak_rss_mb.values()),
            }
        )
    print(
        json.dumps(
            {
                "benchmark": "history add",
                "files": len(files),
                "recording_hours_each": 1,
                "archive_mb": round(size_mb, 1),
                "jobs": args.jobs,
                "cores": os.cpu_count(),
                "loadavg_before": [round(x, 2) for x in load_before],
                "loadavg_after": [round(x, 2) for x in os.getloadavg()],
                "python": platform.python_version(),
                "rounds": rounds,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
