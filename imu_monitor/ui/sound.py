"""The alarm sound: generated tones, different for flexion and extension.

Flexion is one long low tone, extension two short high beeps, so the direction can be told apart
without looking. The tones are generated here (numpy -> 16-bit PCM WAV in a cache directory) and
played with ``QSoundEffect``, which keeps the decoded sound in memory so ``play()`` starts it at
once. Where the machine has no audio output, ``AlarmSound`` stays silent and emits
``unavailable`` once with the reason; the window shows it as a notice. Qt Multimedia itself is
optional: it links the PulseAudio client library (Debian ``libpulse0``) and QtNetwork, and where
those are missing its import fails; the sound is then unavailable with a one-line reason that
names the package to install, and the dashboard runs without it.
"""

from __future__ import annotations

import logging
import time
import wave
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs
from PySide6.QtCore import QObject, QUrl, Signal

log = logging.getLogger(__name__)

NO_SOUND_CONSEQUENCE = "alarms are shown on screen and sent to the wearable only"


def multimedia_import_problem(error: ImportError) -> str:
    """The one-line notice for a Qt Multimedia that cannot be imported."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    if "libpulse" in text:
        why = "the PulseAudio client library is missing (install libpulse0)"
    else:
        why = f"Qt Multimedia cannot be loaded ({text})"
    return f"no audio output: {why}; {NO_SOUND_CONSEQUENCE}"


try:
    from PySide6.QtMultimedia import QMediaDevices, QSoundEffect
except ImportError as _error:  # a missing system library: no sound, the window still runs
    QMediaDevices = QSoundEffect = None  # type: ignore[assignment,misc]
    MULTIMEDIA_PROBLEM: str | None = multimedia_import_problem(_error)
    log.debug("Qt Multimedia unavailable", exc_info=True)
else:
    MULTIMEDIA_PROBLEM = None

SAMPLE_RATE_HZ = 44_100


@dataclass(frozen=True)
class Tone:
    """A beep pattern: ``beeps`` beeps of ``beep_s`` seconds at ``freq_hz``, ``gap_s`` apart."""

    freq_hz: float
    beeps: int
    beep_s: float
    gap_s: float = 0.08
    volume: float = 0.8
    """Peak amplitude, 0..1 of full scale."""


TONES: dict[str, Tone] = {
    "flexion": Tone(freq_hz=440.0, beeps=1, beep_s=0.45),
    "extension": Tone(freq_hz=1320.0, beeps=2, beep_s=0.14),
}
"""Per alarm direction: low and long for flexion, high and double for extension."""

CUE_TONES: dict[str, Tone] = {
    "up": Tone(freq_hz=1760.0, beeps=1, beep_s=0.05, volume=0.5),
    "hold": Tone(freq_hz=1320.0, beeps=1, beep_s=0.05, volume=0.5),
    "down": Tone(freq_hz=880.0, beeps=1, beep_s=0.05, volume=0.5),
}
"""The tempo cue's ticks (``ui.tempo_cue``): short and quieter than an alarm, falling in pitch
from up to hold to down."""


def synthesize(tone: Tone, rate_hz: int = SAMPLE_RATE_HZ) -> np.ndarray:
    """The tone as int16 mono PCM samples, shape (n,). Each beep has 5 ms raised-cosine ramps
    (no clicks) and a little third harmonic, which small laptop speakers reproduce better."""
    n_beep = int(round(tone.beep_s * rate_hz))
    n_gap = int(round(tone.gap_s * rate_hz))
    t = np.arange(n_beep) / rate_hz
    wave_ = np.sin(2 * np.pi * tone.freq_hz * t) + 0.25 * np.sin(2 * np.pi * 3 * tone.freq_hz * t)
    wave_ /= np.max(np.abs(wave_))
    ramp = min(int(0.005 * rate_hz), n_beep // 2)
    env = np.ones(n_beep)
    if ramp > 0:
        r = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, ramp))
        env[:ramp] = r
        env[-ramp:] = r[::-1]
    beep = wave_ * env * tone.volume
    parts: list[np.ndarray] = []
    for i in range(tone.beeps):
        if i:
            parts.append(np.zeros(n_gap))
        parts.append(beep)
    return np.round(np.concatenate(parts) * 32767).astype(np.int16)


def write_wav(path: Path, pcm: np.ndarray, rate_hz: int = SAMPLE_RATE_HZ) -> Path:
    """Write int16 mono ``pcm`` as a WAV file (atomically: temp file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate_hz)
        w.writeframes(pcm.astype("<i2").tobytes())
    tmp.replace(path)
    return path


def tone_files(
    cache_dir: Path | None = None, tones: dict[str, Tone] | None = None, kind: str = "alarm"
) -> dict[str, Path]:
    """Generate (once; the name encodes the parameters) the WAV of every tone of ``tones``
    (default: the alarm's, per direction)."""
    base = Path(cache_dir or platformdirs.user_cache_dir("imu-monitor")) / "tones"
    out = {}
    for direction, tone in (TONES if tones is None else tones).items():
        name = (
            f"{kind}-{direction}-{tone.freq_hz:g}Hz-{tone.beeps}x{tone.beep_s:g}s"
            f"-{tone.gap_s:g}-{tone.volume:g}.wav"
        )
        path = base / name
        if not path.exists():
            write_wav(path, synthesize(tone))
        out[direction] = path
    return out


def default_output_problem() -> str | None:
    """None when the machine has a default audio output, else why not (for the notice)."""
    if QMediaDevices is None:
        return MULTIMEDIA_PROBLEM
    if QMediaDevices.defaultAudioOutput().isNull():
        return f"no audio output device found: {NO_SOUND_CONSEQUENCE}"
    return None


class AlarmSound(QObject):
    """Plays the alarm tone of a direction; lives in the GUI thread.

    ``requests`` keeps the last (perf_counter seconds, direction) pairs that asked for a sound,
    played or not (muted, no output): what the latency benchmark and tests look at.
    ``output_problem`` overrides the audio-device check (tests, benchmarks).
    """

    unavailable = Signal(str)
    played = Signal(str)

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        muted: bool = False,
        cache_dir: Path | None = None,
        output_problem: str | None | Callable[[], str | None] = default_output_problem,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        super().__init__(parent)
        self.muted = muted
        self._clock = clock
        self.requests: deque[tuple[float, str]] = deque(maxlen=256)
        self._effects: dict[str, object] = {}
        self._cues: dict[str, object] = {}
        self.cue_requests: deque[tuple[float, str]] = deque(maxlen=256)
        self._cache_dir = cache_dir
        self.problem: str | None = output_problem() if callable(output_problem) else output_problem
        self._announced = False
        if self.problem is None:
            self._load()

    @property
    def available(self) -> bool:
        """True when alarms can actually be heard (an output exists and the tones loaded)."""
        return self.problem is None

    def _load(self) -> None:
        if QSoundEffect is None:
            self.problem = MULTIMEDIA_PROBLEM
            return
        try:
            for direction, path in tone_files(self._cache_dir).items():
                effect = QSoundEffect(self)
                effect.setSource(QUrl.fromLocalFile(str(path)))
                effect.setVolume(1.0)
                self._effects[direction] = effect
            for phase, path in tone_files(self._cache_dir, CUE_TONES, "cue").items():
                effect = QSoundEffect(self)
                effect.setSource(QUrl.fromLocalFile(str(path)))
                self._cues[phase] = effect
        except OSError as e:
            self.problem = f"alarm sound unavailable ({e}): alarms are shown on screen only"
            log.warning("%s", self.problem)

    def announce(self) -> None:
        """Emit ``unavailable`` once if there is no sound output (call after connecting)."""
        if self.problem is not None and not self._announced:
            self._announced = True
            self.unavailable.emit(self.problem)

    def play(self, direction: str) -> bool:
        """Request the tone of ``direction`` ("flexion" | "extension"); True if it plays."""
        self.requests.append((self._clock(), direction))
        if self.muted or self.problem is not None:
            self.announce()
            return False
        effect = self._effects.get(direction)
        if effect is None:
            return False
        if effect.isPlaying():  # type: ignore[attr-defined]
            effect.stop()  # type: ignore[attr-defined]
        effect.play()  # type: ignore[attr-defined]
        self.played.emit(direction)
        return True

    def play_cue(self, phase: str) -> bool:
        """Request the tempo cue's tick for ``phase`` ("up" | "hold" | "down"); True if it
        plays. An alarm tone playing is not cut off (the tick is skipped)."""
        self.cue_requests.append((self._clock(), phase))
        if self.muted or self.problem is not None:
            self.announce()
            return False
        effect = self._cues.get(phase)
        if effect is None or any(e.isPlaying() for e in self._effects.values()):  # type: ignore[attr-defined]
            return False
        effect.play()  # type: ignore[attr-defined]
        return True

    def stop(self) -> None:
        for effect in self._effects.values():
            effect.stop()  # type: ignore[attr-defined]
