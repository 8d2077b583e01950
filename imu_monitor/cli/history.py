"""``imu-monitor history``: the sessions indexed so far; ``history add DIR``: index an archive of
recordings in parallel (``app.history.index_archive``)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from imu_monitor.app.config import history_store
from imu_monitor.app.history import FileResult, index_archive, recordings_in
from imu_monitor.cli.common import count, for_user, print_json, progress, table
from imu_monitor.errors import UsageError
from imu_monitor.exercises import EXERCISES
from imu_monitor.storage.history import HistoryStore, SessionRow

ANALYSED_FILES_PER_S = 0.5
"""Rough rate of one worker on hour-long files, to decide whether a progress bar is worth it."""


def add_history_options(p: argparse.ArgumentParser) -> None:
    """``--data-dir``: where the history database is (every command that writes to it)."""
    p.add_argument(
        "--data-dir",
        type=Path,
        help="history directory (default: the platform's user data directory; sessions of the "
        "simulated wearer go to its demo folder)",
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "history",
        help="list the sessions in the history, or index an archive of recordings",
        description="Without ACTION: list the sessions in the history (one row per recorded "
        "session, oldest first). 'add DIR': analyse every recording (*.imr) under DIR, in "
        "parallel over the machine's cores, and put it into the history (a file already there, "
        "by checksum, is updated). Sessions recorded with live --record or the dashboard, and "
        "files analysed with analyze --save, are indexed as they are made.",
        epilog="Exit codes of 'add': 0 every file indexed; 1 some could not be (each is named "
        "with the reason; the others are indexed).",
    )
    p.add_argument("action", nargs="?", choices=["list", "add"], default="list")
    p.add_argument("directory", nargs="?", help="with 'add': the folder of recordings")
    p.add_argument(
        "--user",
        help="list: only this user's sessions; add: file the sessions under this user instead "
        "of the one each recording names",
    )
    p.add_argument("--exercise", choices=list(EXERCISES), help="list: only this exercise")
    p.add_argument("--json", action="store_true", help="list: print one JSON document")
    p.add_argument(
        "--jobs",
        type=count(1),
        default=None,
        help="add: worker processes (default: the number of cores)",
    )
    add_history_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    store = HistoryStore(args.data_dir)
    if args.action == "add":
        if args.directory is None:
            raise UsageError("history add: which folder? (imu-monitor history add DIR)")
        if args.exercise is not None or args.json:
            raise UsageError("history add: --exercise and --json are for listing")
        return add(args, store)
    if args.directory is not None:
        raise UsageError(f"unexpected {args.directory!r}: to index a folder, history add DIR")
    if args.jobs is not None:
        raise UsageError("--jobs is for 'history add DIR'", option="--jobs")
    return show(args, store)


def add(args: argparse.Namespace, store: HistoryStore) -> int:
    files = recordings_in(args.directory)
    if not files:
        print(f"no recordings (*.imr) under {args.directory}", file=sys.stderr)
        return 0
    jobs = min(args.jobs or os.cpu_count() or 1, len(files))
    done = 0
    with progress(
        f"indexing {len(files)} recordings", len(files), len(files) / ANALYSED_FILES_PER_S / jobs
    ) as bar:

        def step(res: FileResult) -> None:
            nonlocal done
            done += 1
            bar.update(done)

        report = index_archive(files, store, jobs=jobs, user=args.user, on_result=step)
    for path, reason in report.failed:
        what = reason if path in reason else f"{path}: {reason}"
        print(f"imu-monitor history: skipped {what}", file=sys.stderr)
    peak = max(report.peak_rss_mb.values(), default=0.0)
    print(
        f"indexed {len(report.indexed)} of {len(files)} recordings into {store.path} in "
        f"{report.seconds:.1f} s ({jobs} worker{'s' if jobs > 1 else ''}, peak memory "
        f"{peak:.0f} MB per worker)" + (f"; {len(report.failed)} skipped" if report.failed else "")
    )
    return 1 if report.failed else 0


def simulated_history_note(user: str | None = None, exercise: str | None = None) -> str:
    """Where the sessions of the simulated wearable went (its own history,
    ``app.config.SIMULATED_SUBDIR``) when it has any of ``user``'s and ``exercise``'s, as a line
    to print after an empty answer from the default history; else an empty string."""
    demo = history_store(simulated=True)
    if not demo.path.is_file():
        return ""
    n = len(demo.sessions(user=user, exercise=exercise))
    if not n:
        return ""
    many = n > 1
    return (
        f"{n} session{'s' if many else ''} of the simulated wearable {'are' if many else 'is'} "
        f"in its own history: --data-dir {demo.directory}"
    )


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}"


def _opt(x: int | None) -> str:
    return "-" if x is None else str(x)


def show(args: argparse.Namespace, store: HistoryStore) -> int:
    rows = store.sessions(user=args.user, exercise=args.exercise)
    if args.json:
        print_json({"database": str(store.path), "sessions": [_json(r) for r in rows]})
        return 0
    if not rows:
        who = f" of {args.user}" if args.user else ""
        print(f"no sessions{who} in {store.path} (imu-monitor history add DIR indexes a folder)")
        note = simulated_history_note(args.user, args.exercise) if args.data_dir is None else ""
        if note:
            print(note)
        return 0
    cells = [
        [
            r.date[:16].replace("T", " "),
            r.user,
            r.exercise,
            str(len(r.sensors)),
            _opt(r.sets),
            str(r.reps),
            _opt(r.good_reps),
            str(r.alarms),
            f"{r.peak_flexion_deg:+.1f}",
            f"{-abs(r.peak_extension_deg):+.1f}",
            _pct(r.tempo_adherence),
            f"{r.duration_s / 60:.0f}",
            Path(r.path).name,
        ]
        for r in rows
    ]
    columns = ["date (UTC)", "user", "exercise", "sensors", "sets", "reps", "good", "alarms"]
    columns += ["flex°", "ext°", "tempo %", "min", "file"]
    for line in table(None, columns, cells):
        print(line)
    return 0


def _json(r: SessionRow) -> dict[str, Any]:
    d = r.to_dict()
    d["summary"] = for_user(d["summary"])
    return for_user(d)
