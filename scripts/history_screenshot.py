"""The README's picture of the History view: a simulated trainee's twelve back-kick sessions over
five weeks (fewer faulty reps as they learn), indexed as ``history add`` does, then the view
grabbed to a PNG. Run under a display (``xvfb-run``) or offscreen:

    xvfb-run -a python scripts/history_screenshot.py docs/screenshots/history.png
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from imu_monitor.app.history import index_archive
from imu_monitor.simulator import SimulationConfig, simulate_session
from imu_monitor.storage.history import HistoryStore
from imu_monitor.storage.recording import save_recording

SESSIONS = 12
REPS = 12
LAST = datetime(2026, 12, 5, 18, 0, tzinfo=UTC)
EVERY = timedelta(days=3)


def main(out: str) -> int:
    from imu_monitor.ui.app import application
    from imu_monitor.ui.history_view import HistoryView

    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i in range(SESSIONS):
            faulty = max(0, 7 - i // 2)  # learning: fewer faulty reps week by week
            rec = simulate_session(
                SimulationConfig(exercise="back-kick", reps=REPS, faulty=faulty, seed=100 + i),
                created_utc=(LAST - (SESSIONS - 1 - i) * EVERY).isoformat(timespec="seconds"),
            )
            rec.meta["user"] = "ann"
            path = Path(tmp) / f"ann-{i:02d}.imr"
            save_recording(rec, path)
            files.append(path)
        store = HistoryStore(Path(tmp) / "data")
        report = index_archive(files, store, jobs=2)
        assert not report.failed, report.failed
        application()
        view = HistoryView(store, "ann", "back-kick")
        view.resize(1000, 760)
        view.show()
        application().processEvents()
        if not view.grab().save(out, "PNG"):
            raise SystemExit(f"cannot write {out}")
        print(out)
        for r in store.sessions("ann"):
            print(r.date[:10], r.reps, r.good_reps, r.tempo_adherence, r.peak_flexion_deg)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "history.png"))
