"""Putting sessions into the history (``storage.history``): one recording, a session that just
ended, or an archive of recordings in parallel.

``index_archive`` spreads the files over worker processes (``ProcessPoolExecutor``): each worker
reads, checksums and analyses one file at a time and sends back its row (a few kB); the parent
alone writes to the database, so SQLite never sees two writers of ours. A file that cannot be
read or analysed is reported with its reason and skipped; the others are still indexed.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from imu_monitor.errors import HistoryError, ImuMonitorError
from imu_monitor.model import Recording
from imu_monitor.processing.analysis import Analysis, analyze_recording
from imu_monitor.storage.history import HistoryStore, SessionRow, file_sha256, session_row
from imu_monitor.storage.recording import EXTENSION, load_recording


@dataclass(frozen=True)
class FileResult:
    """What a worker made of one file: its row, or why not (``error``, one line); the worker's
    peak resident memory so far (MB), the wall and CPU seconds this file took, the worker."""

    path: str
    row: SessionRow | None
    error: str | None
    peak_rss_mb: float
    seconds: float
    pid: int
    cpu_s: float = 0.0


@dataclass
class IndexReport:
    """The outcome of indexing an archive: rows written, files skipped (path, reason), per
    worker process its peak resident memory (MB); the wall time, and the part of it this
    process spent writing to the database (the serial part)."""

    indexed: list[SessionRow] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    peak_rss_mb: dict[int, float] = field(default_factory=dict)
    seconds: float = 0.0
    write_s: float = 0.0


def recordings_in(directory: str | os.PathLike[str]) -> list[Path]:
    """The recordings (``*.imr``) under ``directory``, at any depth, sorted by path."""
    d = Path(directory)
    if not d.is_dir():
        raise HistoryError(f"{d}: not a directory of recordings", path=d)
    return sorted(p for p in d.rglob(f"*{EXTENSION}") if p.is_file())


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, MB."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024.0 if sys.platform != "darwin" else kb / 1024.0 / 1024.0


def row_for(
    rec: Recording, an: Analysis, path: str | os.PathLike[str], sha256: str, user: str | None
) -> SessionRow:
    """The history row of a recording and its analysis."""
    return session_row(
        rec.meta, an.summary(), path=path, sha256=sha256, duration_s=rec.duration_s, user=user
    )


def index_file(path: str | os.PathLike[str], user: str | None = None) -> FileResult:
    """Read, checksum and analyse one recording (the work of one worker for one file). Never
    raises for a bad file: its reason comes back in ``error``."""
    t0, c0 = time.perf_counter(), time.process_time()
    row, error = None, None
    try:
        sha = file_sha256(path)
        rec = load_recording(path)
        row = row_for(rec, analyze_recording(rec), path, sha, user)
        del rec
    except ImuMonitorError as e:
        error = str(e)
    except OSError as e:
        error = f"cannot read it ({e.strerror or e})"
    except MemoryError:
        error = "too large to analyse in the memory available"
    except Exception as e:  # a file that breaks the analysis: report it, go on with the others
        error = f"cannot be analysed ({type(e).__name__}: {e})"
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return FileResult(str(path), row, error, peak_rss_mb(), wall, os.getpid(), cpu)


def _worker_start() -> None:
    # Ctrl-C goes to the whole process group: the parent stops the pool, the workers do not
    # each print a traceback
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _pool(jobs: int) -> ProcessPoolExecutor:
    if sys.platform.startswith("linux"):
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([__name__])  # workers start with numpy, scipy, vqf imported
    else:
        ctx = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_start)


def index_archive(
    paths: Iterable[str | os.PathLike[str]],
    store: HistoryStore,
    *,
    jobs: int = 1,
    user: str | None = None,
    on_result: Callable[[FileResult], Any] | None = None,
) -> IndexReport:
    """Index ``paths`` into ``store`` with ``jobs`` worker processes (1: in this process).
    At most ``2 * jobs`` files are in flight, so a huge archive costs no memory for its queue.
    ``on_result`` is called in this process after each file (a progress bar)."""
    t0 = time.perf_counter()
    report = IndexReport()
    todo = [str(p) for p in paths]

    def take(res: FileResult) -> None:
        if res.row is not None:
            t = time.perf_counter()
            store.add(res.row)
            report.write_s += time.perf_counter() - t
            report.indexed.append(res.row)
        else:
            report.failed.append((res.path, res.error or "unknown error"))
        report.peak_rss_mb[res.pid] = max(report.peak_rss_mb.get(res.pid, 0.0), res.peak_rss_mb)
        if on_result is not None:
            on_result(res)

    if jobs <= 1:
        for p in todo:
            take(index_file(p, user))
    else:
        with _pool(jobs) as pool:
            pending: set[Future[FileResult]] = set()
            queue = iter(todo)
            try:
                for p in queue:
                    pending.add(pool.submit(index_file, p, user))
                    if len(pending) >= 2 * jobs:
                        done, pending = wait(pending, return_when=FIRST_COMPLETED)
                        for f in done:
                            take(f.result())
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for f in done:
                        take(f.result())
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    report.seconds = time.perf_counter() - t0
    return report


def index_analysis(
    store: HistoryStore, path: str | os.PathLike[str], rec: Recording, an: Analysis
) -> SessionRow:
    """Index a recording analysed in this process (``analyze --save``)."""
    row = row_for(rec, an, path, file_sha256(path), None)
    return replace(row, id=store.add(row))


def index_session(
    store: HistoryStore,
    path: str | os.PathLike[str],
    meta: Mapping[str, Any],
    summary: Mapping[str, Any],
    duration_s: float,
) -> SessionRow:
    """Index a session that has just been recorded to ``path``, from the summary the live
    pipeline already has (no second analysis)."""
    row = session_row(meta, summary, path=path, sha256=file_sha256(path), duration_s=duration_s)
    return replace(row, id=store.add(row))
