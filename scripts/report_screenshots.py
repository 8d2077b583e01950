"""The README's pictures of the reports, rendered by headless Chromium (Debian's ``chromium``):

- ``report-session.png``: the top of a session report (four sets of ten simulated back kicks
  with two sensors, 45 s rests; four lumbar faults, four reps off the tempo and a form drift
  over the last set's last five reps);
- ``report-quality.png``: the end of the same report (markers and the measurement quality);
- ``report-progress.png``: a progress report of a simulated trainee's twelve back-kick sessions
  over five weeks (fewer faulty reps as they learn), indexed as ``history add`` does.

    python scripts/report_screenshots.py docs/screenshots
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image

from imu_monitor.app.history import index_archive
from imu_monitor.report.progress import progress_html
from imu_monitor.report.write import write_session_report
from imu_monitor.simulator import SimulationConfig, simulate_session
from imu_monitor.storage.history import HistoryStore
from imu_monitor.storage.recording import save_recording

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
WIDTH = 1200


def shoot(page: Path, png: Path, height: int, tmp: Path) -> None:
    subprocess.run(
        ["chromium", *FLAGS, f"--user-data-dir={tmp / 'profile'}", f"--screenshot={png}",
         f"--window-size={WIDTH},{height}", page.as_uri()],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip


def content_end(png: Path) -> int:
    """The last row of the page with anything on it."""
    a = np.asarray(Image.open(png).convert("L"))
    rows = np.flatnonzero((a < 250).any(axis=1))
    return int(rows[-1]) + 1 if len(rows) else a.shape[0]


def session(out: Path, tmp: Path) -> None:
    rec = simulate_session(
        SimulationConfig(exercise="back-kick", reps=10, sets=4, faulty=4, tempo_faulty=4,
                         drift_reps=5, sensors=2, seed=7),
        created_utc="2026-12-05T09:00:00+00:00",
    )  # fmt: skip
    rec.meta["user"] = "ann"
    page = tmp / "session.html"
    write_session_report(rec, page, source="ann-back-kick-2026-12-05.imr")
    tall = tmp / "tall.png"
    shoot(page, tall, 6000, tmp)
    end = content_end(tall)
    img = Image.open(tall)
    img.crop((0, 0, WIDTH, 1900)).save(out / "report-session.png", optimize=True)
    img.crop((0, max(0, end - 1250), WIDTH, end + 16)).save(
        out / "report-quality.png", optimize=True
    )


def progress(out: Path, tmp: Path) -> None:
    last = datetime(2026, 12, 5, 18, 0, tzinfo=UTC)
    files = []
    for i in range(12):
        rec = simulate_session(
            SimulationConfig(exercise="back-kick", reps=12, faulty=max(0, 7 - i // 2),
                             seed=100 + i),
            created_utc=(last - (11 - i) * timedelta(days=3)).isoformat(timespec="seconds"),
        )  # fmt: skip
        rec.meta["user"] = "ann"
        files.append(tmp / f"ann-{i:02d}.imr")
        save_recording(rec, files[-1])
    store = HistoryStore(tmp / "data")
    report = index_archive(files, store, jobs=2)
    assert not report.failed, report.failed
    page = tmp / "progress.html"
    page.write_text(progress_html("ann", store.sessions("ann")), encoding="utf-8")
    tall = tmp / "progress.png"
    shoot(page, tall, 2400, tmp)
    Image.open(tall).crop((0, 0, WIDTH, content_end(tall) + 16)).save(
        out / "report-progress.png", optimize=True
    )


def main(out: str) -> int:
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as t:
        session(folder, Path(t))
        progress(folder, Path(t))
    for name in ("report-session.png", "report-quality.png", "report-progress.png"):
        print(folder / name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
