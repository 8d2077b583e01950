"""Dashboard figures: frame rate and GUI-thread load, memory over a long session, alarm latency.

1. Real time: a simulated two-sensor (sacrum + upper lumbar, 200 Hz each) back-kick session with
   faulty reps is fed to the dashboard's pipeline from a worker thread at real-time pace (chunks
   of 8 samples, as BLE notifications), the window is shown (offscreen platform: it really
   paints) with a 10 s trace window and a 60 Hz frame timer; a frame whose data did not change
   since the last one is skipped (no setData, no repaint). Reported: frame ticks and plot
   redraws per second, the
   GUI thread's CPU time per wall second (``time.thread_time`` in the GUI thread: frame ticks,
   painting, event handling), and for every alarm the time from the pipeline emitting the
   event (source thread) to the status panel showing it and to the sound being requested, and
   the GUI-thread CPU time of each paint of the plot canvas.
2. Accelerated: a two-hour session (the simulated reps looped, times shifted) is fed in 1 s
   chunks as fast as possible while the window draws a frame every simulated 5 s; the
   process's resident memory is sampled every simulated 10 minutes.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_ui.py [--seconds 30] [--hours 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import threading
import time
from datetime import date

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

from imu_monitor.app.dashboard import DashboardSession
from imu_monitor.model import SampleChunk  # noqa: E402
from imu_monitor.processing.calibration import calibrate_recording
from imu_monitor.settings import Settings
from imu_monitor.simulator import SimulationConfig, simulate_session  # noqa: E402
from imu_monitor.ui.app import application  # noqa: E402
from imu_monitor.ui.main_window import DashboardWindow  # noqa: E402
from imu_monitor.ui.sound import AlarmSound  # noqa: E402

TICK_EVERY_SIM_S = 5.0
"""In the accelerated run, one frame (pull + draw + events) per this much simulated time."""


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


class FeedSource:
    """Feeds given chunks from a thread, paced against their sample times x ``speed``
    (None: as fast as possible)."""

    def __init__(self, sensors, chunks, speed=1.0):
        self.sensors = dict(sensors)
        self.chunks = chunks
        self.speed = speed
        self.done = threading.Event()
        self._stop = threading.Event()
        self._thread = None

    def start(self, on_chunk, on_gap, on_status):
        def run():
            t0 = time.perf_counter()
            first = float(self.chunks[0].t_s[0]) if self.chunks else 0.0
            for c in self.chunks:
                if self._stop.is_set():
                    break
                if self.speed is not None:
                    due = t0 + (float(c.t_s[-1]) - first) / self.speed
                    wait = due - time.perf_counter()
                    if wait > 0:
                        time.sleep(wait)
                on_chunk(c)
            self.done.set()

        self._thread = threading.Thread(target=run, name="feed", daemon=True)
        self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def alert(self, direction):
        pass


def interleaved(rec, n: int, t_from: float = 0.0):
    out = []
    for name, s in rec.series.items():
        i0 = int(s.t_s.searchsorted(t_from))
        for i in range(i0, len(s), n):
            out.append(s.chunk(name, i, min(i + n, len(s))))
    out.sort(key=lambda c: float(c.t_s[-1]))
    return out


def realtime(app, rec, cal, seconds: float) -> dict:
    t_from = rec.markers_of("calibration_start")[0].t_end_s  # calibrated already: skip to reps
    chunks = [c for c in interleaved(rec, 8, t_from) if c.t_s[-1] <= t_from + seconds]
    source = FeedSource(rec.sensors, chunks)
    ds = DashboardSession(source, Settings(), calibration=cal)
    sound = AlarmSound(output_problem="benchmark: no audio output")
    w = DashboardWindow(ds, sound=sound, window_s=10.0, frame_hz=60.0, start=False)
    w.show()
    app.processEvents()
    redraws = [0]
    orig = w.plots.update_window

    def counted(window):
        key = w.plots._last_key
        orig(window)
        redraws[0] += w.plots._last_key != key

    w.plots.update_window = counted
    paint_ms: list[float] = []
    canvas = w.plots.canvas
    orig_paint = canvas.paintEvent

    def timed_paint(ev):  # the plots' paint (Qt's software raster here): GUI-thread CPU time
        c0 = time.thread_time()
        orig_paint(ev)
        paint_ms.append((time.thread_time() - c0) * 1000.0)

    canvas.paintEvent = timed_paint
    frames0, th0, wall0 = w.frames, time.thread_time(), time.perf_counter()
    ds.start()
    from PySide6.QtCore import QTimer

    check = QTimer()
    check.timeout.connect(lambda: source.done.is_set() and app.quit())
    check.start(100)
    app.exec()  # the real event loop: the GUI thread sleeps between frames and events
    check.stop()
    wall = time.perf_counter() - wall0
    busy = (time.thread_time() - th0) / wall
    frames = w.frames - frames0
    app.processEvents()
    lat = np.array(w.alarm_latencies_s) * 1000.0
    snd = np.array(w.sound_latencies_s) * 1000.0
    w.shutdown()
    w.close()

    def stats(a):
        if not len(a):
            return None
        return {
            "n": int(len(a)),
            "p50_ms": float(np.median(a)),
            "p99_ms": float(np.percentile(a, 99)),
            "max_ms": float(a.max()),
        }

    return {
        "wall_s": round(wall, 2),
        "sensors": list(rec.sensors),
        "rate_hz": [s.rate_hz for s in rec.sensors.values()],
        "frame_ticks_per_s": frames / wall,
        "plot_redraws_per_s": redraws[0] / wall,
        "gui_thread_busy_fraction": busy,
        "plot_paint_ms": stats(np.array(paint_ms)),
        "alarm_to_status_panel": stats(lat),
        "alarm_to_sound_request": stats(snd),
    }


def long_session(app, rec, cal, hours: float) -> dict:
    t_loop0 = rec.truth.reps[0].t_start_s - 1.0
    t_loop1 = float(min(s.t_s[-1] for s in rec.series.values()))
    period = t_loop1 - t_loop0
    base = interleaved(rec, 200, t_loop0)
    base = [c for c in base if c.t_s[-1] <= t_loop1]
    source = FeedSource(rec.sensors, [], speed=None)
    ds = DashboardSession(source, Settings(), calibration=cal)
    w = DashboardWindow(ds, sound=AlarmSound(output_problem="benchmark"), start=False)
    w.frame_timer.stop()  # frames are driven by simulated time below
    w.show()
    samples = []
    total_s = hours * 3600.0
    laps = int(np.ceil(total_s / period))
    next_tick, next_sample = 0.0, 0.0
    t0 = time.perf_counter()
    for k in range(laps):
        shift = k * period
        for c in base:
            t = c.t_s + shift
            ds.pipeline.feed(SampleChunk(c.sensor, t, c.acc_m_s2, c.gyr_rad_s, None))
            elapsed = float(t[-1]) - t_loop0
            if elapsed >= next_tick:
                w.tick()
                app.processEvents()
                next_tick += TICK_EVERY_SIM_S
            if elapsed >= next_sample:
                samples.append((round(elapsed / 60.0, 1), round(rss_mb(), 1)))
                next_sample += 600.0
        if (k + 1) * period >= total_s:
            break
    wall = time.perf_counter() - t0
    reps = len(ds.pipeline.reps)
    w.shutdown()
    w.close()
    after_10min = [m for t, m in samples if t >= 10.0]
    return {
        "simulated_hours": hours,
        "wall_s": round(wall, 1),
        "reps": reps,
        "rss_mb_by_minute": samples,
        "rss_growth_after_10_min_mb": (after_10min[-1] - after_10min[0]) if after_10min else None,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=45.0, help="real-time part (s)")
    ap.add_argument("--hours", type=float, default=2.0, help="accelerated part (simulated h)")
    args = ap.parse_args()
    app = application()
    rec = simulate_session(
        SimulationConfig(
            exercise="back-kick",
            sensors=2,
            reps=12,
            faulty=6,
            seed=4,
            fault_types=("extension", "flexion", "rocking"),
            motion="ramps",
        )
    )
    cal = calibrate_recording(rec)
    out = {
        "benchmark": "ui",
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}, "
        f"QT_QPA_PLATFORM={os.environ.get('QT_QPA_PLATFORM')}",
        "realtime": realtime(app, rec, cal, args.seconds),
        "long_session": long_session(app, rec, cal, args.hours),
    }
    json.dump(out, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
