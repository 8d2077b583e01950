"""Alarm to audible sound, measured in the audio itself.

A PulseAudio server with a null sink is started for the run (Debian ``pulseaudio`` and
``pulseaudio-utils``); the dashboard plays its alarm tones into that sink through QtMultimedia
as it would into a speaker, and ``parec`` records the sink's monitor. A simulated back-kick
session with faulty reps is replayed through the real pipeline at real time (the dashboard's
replay path); every ``AlarmStarted`` the pipeline emits is timed (``perf_counter``, in the
source thread) and the tone's onset is found in the captured audio (the first sample above 10 %
of the tone's peak after the event). Latency = the time the audio chunk holding that onset
reached this process - the event: it includes the capture's own delivery delay (``parec
--latency-msec=5``), so the figures are upper bounds of the time to the sound. (Placing samples
on the sound card's clock instead does not work with a null sink: PulseAudio rewinds and
re-renders the sink when a stream starts, so its monitor can deliver a tone "before" it plays.)

    python benchmarks/bench_sound.py [--seconds 60] [--seed 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

from imu_monitor.app.dashboard import DashboardSession  # noqa: E402
from imu_monitor.app.sources import replay_source  # noqa: E402
from imu_monitor.events import AlarmStarted  # noqa: E402
from imu_monitor.processing.calibration import calibrate_recording  # noqa: E402
from imu_monitor.settings import Settings  # noqa: E402
from imu_monitor.simulator import SimulationConfig, simulate_session  # noqa: E402
from imu_monitor.ui.app import application  # noqa: E402
from imu_monitor.ui.main_window import DashboardWindow  # noqa: E402
from imu_monitor.ui.sound import TONES, AlarmSound  # noqa: E402

RATE_HZ = 44_100
SINK = "imu_bench"
ONSET_FRACTION = 0.10
"""A tone starts where the capture first exceeds this fraction of the tone's peak amplitude."""


class PulseServer:
    """A private PulseAudio server with one null sink, for the duration of a ``with``."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="imu-pulse-"))
        self.env_before = os.environ.get("XDG_RUNTIME_DIR")

    def __enter__(self) -> PulseServer:
        if shutil.which("pulseaudio") is None or shutil.which("parec") is None:
            raise SystemExit("needs Debian's pulseaudio and pulseaudio-utils (apt-get install)")
        self.dir.chmod(0o700)
        os.environ["XDG_RUNTIME_DIR"] = str(self.dir)
        subprocess.run(
            [
                "pulseaudio",
                "-n",
                "--daemonize=yes",
                "--exit-idle-time=-1",
                "--load=module-native-protocol-unix",
                f"--load=module-null-sink sink_name={SINK} rate={RATE_HZ}",
            ],
            check=True,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(50):
            if subprocess.run(["pactl", "info"], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        subprocess.run(["pactl", "set-default-sink", SINK], check=True)
        return self

    def __exit__(self, *exc: object) -> None:
        subprocess.run(["pulseaudio", "--kill"], stderr=subprocess.DEVNULL)
        if self.env_before is None:
            os.environ.pop("XDG_RUNTIME_DIR", None)
        else:
            os.environ["XDG_RUNTIME_DIR"] = self.env_before
        shutil.rmtree(self.dir, ignore_errors=True)


class Capture:
    """``parec`` of the sink's monitor, mono int16, with each chunk's arrival time."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [
                "parec",
                f"--device={SINK}.monitor",
                "--format=s16le",
                f"--rate={RATE_HZ}",
                "--channels=1",
                "--latency-msec=5",
                "--raw",
            ],
            stdout=subprocess.PIPE,
        )
        self.chunks: list[bytes] = []
        self.arrivals: list[tuple[float, int]] = []  # (perf_counter, samples so far)
        self._n = 0
        self.thread = threading.Thread(target=self._read, name="parec", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while True:
            b = self.proc.stdout.read1(4096)
            if not b:
                return
            now = time.perf_counter()
            self.chunks.append(b)
            self._n += len(b) // 2
            self.arrivals.append((now, self._n))

    def stop(self) -> np.ndarray:
        """The captured samples."""
        self.proc.terminate()
        self.proc.wait(timeout=5)
        self.thread.join(timeout=5)
        raw = b"".join(self.chunks)
        return np.frombuffer(raw[: len(raw) // 2 * 2], dtype="<i2").astype(np.float64)


def measure(seconds: float, seed: int) -> dict:
    app = application()
    cfg = SimulationConfig(
        exercise="back-kick",
        reps=(n := max(4, int(seconds / 5))),
        faulty=n // 2,
        sensors=1,
        seed=seed,
    )
    rec = simulate_session(cfg)
    cal = calibrate_recording(rec)
    replay = replay_source(rec, speed=1.0)
    ds = DashboardSession(replay.source, Settings(), calibration=cal, wearable_alerts=False)
    events: list[tuple[float, str]] = []

    def on_event(ev) -> None:  # the source thread, as the pipeline emits it
        if isinstance(ev, AlarmStarted):
            events.append((time.perf_counter(), str(ev.direction)))

    ds.pipeline.add_listener(on_event)
    sound = AlarmSound()
    if not sound.available:
        raise SystemExit(f"no audio output: {sound.problem}")
    window = DashboardWindow(ds, sound=sound, start=False)
    window.show()
    capture = Capture()
    time.sleep(0.5)  # the capture runs before the first alarm
    ds.start()
    t_end = time.perf_counter() + min(seconds, rec.duration_s)
    while time.perf_counter() < t_end and not replay.source.finished.is_set():
        app.processEvents()
        time.sleep(0.002)
    time.sleep(0.6)  # the last tone reaches the capture
    app.processEvents()
    ds.stop()
    pcm = capture.stop()
    window.close()
    window.shutdown()

    peak = 0.8 * 32767 * min(t.volume / 0.8 for t in TONES.values())
    loud = np.abs(pcm) > ONSET_FRACTION * peak
    arrival = np.array([a for a, _ in capture.arrivals])
    n_end = np.array([n for _, n in capture.arrivals])
    delays_ms: list[float | None] = []
    for t_ev, _direction in events:
        # the first chunk that arrived after the event, and every sample from its start on
        k = int(np.searchsorted(arrival, t_ev, side="right"))
        if k >= len(arrival):
            delays_ms.append(None)
            continue
        i0 = int(n_end[k - 1]) if k else 0
        hits = np.flatnonzero(loud[i0 : i0 + RATE_HZ])  # within 1 s
        if not len(hits):
            delays_ms.append(None)
            continue
        k_hit = int(np.searchsorted(n_end, i0 + hits[0], side="right"))
        delays_ms.append(1000.0 * (arrival[k_hit] - t_ev))
    found = np.array([d for d in delays_ms if d is not None])
    return {
        "alarms": len(events),
        "tones_found": int(len(found)),
        "alarm_to_audible_ms": {
            "p50": float(np.median(found)) if len(found) else None,
            "p90": float(np.percentile(found, 90)) if len(found) else None,
            "max": float(found.max()) if len(found) else None,
            "each": [None if d is None else round(d, 1) for d in delays_ms],
            "since_previous_alarm_s": [
                None if i == 0 else round(events[i][0] - events[i - 1][0], 2)
                for i in range(len(events))
            ],
        },
        "captured_s": round(len(pcm) / RATE_HZ, 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    with PulseServer():
        result = measure(args.seconds, args.seed)
    print(
        json.dumps(
            {
                "benchmark": "alarm to audible sound (PulseAudio null sink, parec)",
                "date": date.today().isoformat(),
                "machine": f"{platform.machine()}, {platform.python_version()}",
                **result,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
