"""Checking a user's wearable against its firmware profile (``imu-monitor check-device``).

``run_check`` connects one device through the production ``BleSource`` (the start sequence is
reported step by step), asks for two resting poses and measures, on the device's own data: the
delivered sample rate against the profile's, loss, notifications decoded / malformed, acc and
gyro halves paired, |acc| at rest against gravity, the gyro bias at rest, and whether gravity
shows up on the axis the profile's axis mapping says (label up: +z; standing on its long edge:
y); it sends the profile's alert once. ``verdicts`` turns the measurements into PASS / WARN / FAIL
lines that name the profile field to look at, so a wrong scale or axis reads as a verdict, not
a table to interpret.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from imu_monitor.errors import BleError
from imu_monitor.model import GRAVITY_M_S2, SampleChunk
from imu_monitor.sources.ble import BleSource

Verdict = Literal["PASS", "WARN", "FAIL"]

WAKE_S = 0.05
"""Host seconds between looks at the session clock while waiting."""
CATCH_UP_S = 2.0
"""Host seconds the samples may lag the session clock before the check goes on without them."""
SETTLE_S = 1.0
"""Session seconds discarded after each pose is taken (the hand lets go)."""
ACC_TOLERANCE_M_S2 = 0.2
"""|acc| at rest within this of gravity passes (issue 10: 9.81 +- 0.2 m/s^2)."""
ACC_WARN_M_S2 = 0.5
GYRO_BIAS_PASS_DEG_S = 2.0
GYRO_BIAS_FAIL_DEG_S = 5.0
RATE_PASS = 0.05
RATE_FAIL = 0.15
LOSS_PASS = 0.01
LOSS_FAIL = 0.05
AXIS_OFF_FRACTION = 0.2
"""In a pose, the other two axes may read at most this fraction of |acc| (about 11 deg)."""
MALFORMED_PASS = 0.01
"""Malformed notifications (or unpaired halves) above this fraction fail."""
ORPHANS_FAIL = 0.1
"""Unpaired halves above this fraction of the samples fail (receive-time pairing jitters)."""
STILL_STD_M_S2 = 0.3
"""acc standard deviation above this per axis: the sensor moved during the measurement."""

POSE_PROMPTS = {
    "flat": "Lay the sensor flat on a table, label up, and let go.",
    "long_edge": "Now stand it on its long edge (the long side on the table) and let go.",
}


@dataclass
class PoseData:
    """What one still pose gave: samples, the time span they cover (s: by the device's clock
    when its profile times samples by it, else the session time they were received over) and
    the samples lost meanwhile."""

    acc_m_s2: np.ndarray
    gyr_rad_s: np.ndarray
    span_s: float
    lost_samples: int = 0
    packets: int = 0
    malformed: dict[str, int] = field(default_factory=dict)
    orphans: int = 0
    """acc or gyro halves that found no partner (profiles sending them apart)."""
    ignored: int = 0
    """Expected non-data messages (replies) skipped."""


@dataclass
class CheckResult:
    device: str
    profile: str
    rate_hz: float
    mtu: int | None
    battery_pct: int | None
    steps: list[str]
    counted: bool = True
    """The packets carry a counter or timestamp, so loss is counted, not estimated."""
    alert_sent: bool | None = None
    """The profile's alert write went through (None: the profile has no alert)."""
    poses: dict[str, PoseData] = field(default_factory=dict)


class _Collector:
    """Chunks from the BLE thread, kept while ``active``; waits on a condition, not a sleep."""

    def __init__(self, src: BleSource) -> None:
        self.src = src
        self.active = False
        self.chunks: list[SampleChunk] = []
        self.cond = threading.Condition()

    def on_chunk(self, chunk: SampleChunk) -> None:
        with self.cond:
            if self.active:
                self.chunks.append(chunk)
            self.cond.notify_all()

    def wait_session(self, t_s: float, timeout_s: float) -> None:
        """Until the session clock reaches ``t_s`` and the samples have caught up with it (a
        receive-time base can run ahead of the clock, and processing can lag it); samples
        that stopped coming (none decode, or the link is gone) are waited for at most
        ``CATCH_UP_S`` host seconds: the verdict then says what was missing. ``BleError``
        when the clock itself does not get there within ``timeout_s`` host seconds."""
        deadline = time.monotonic() + timeout_s
        with self.cond:
            while self.src.session_time() < t_s:
                if time.monotonic() > deadline:
                    raise BleError(f"the session clock stalled for {timeout_s:g} s")
                self.cond.wait(WAKE_S)
            catch_up = time.monotonic() + CATCH_UP_S
            while 0 < self.src.stream_time() < t_s and time.monotonic() < catch_up:
                self.cond.wait(WAKE_S)


def run_check(
    src: BleSource,
    *,
    stream_s: float,
    place: Callable[[str], None],
    on_step: Callable[[str], None],
    edge_s: float = 3.0,
    timeout_s: float = 30.0,
) -> CheckResult:
    """Connect ``src`` (one sensor), start it (each start step reported to ``on_step``), then
    for each pose: ``place(pose)`` (a prompt, or the simulated person doing it), settle, and
    collect ``stream_s`` (``flat``) or ``edge_s`` (``long_edge``) session seconds."""
    src.open()
    ((placement, link),) = src.links.items()
    link.on_step = lambda report: on_step(report.describe())
    col = _Collector(src)
    src.start(col.on_chunk, lambda gap: None, lambda status: None)
    try:
        result = CheckResult(
            device=link.device.describe(),
            profile=link.profile.name
            + (f" ({link.profile.variant})" if link.profile.variant else ""),
            rate_hz=link.profile.rate_hz,
            mtu=link.mtu,
            battery_pct=None,
            steps=[r.describe() for r in link.steps],
            counted=link.profile.has_counter or link.profile.has_timestamp,
        )
        for pose, seconds in (("flat", stream_s), ("long_edge", edge_s)):
            place(pose)
            t = max(src.stream_time(), src.session_time()) + SETTLE_S
            col.wait_session(t, timeout_s)
            st0 = src.stats()[placement]
            with col.cond:
                col.chunks = []
                col.active = True
                t_start = src.session_time()
            col.wait_session(t + seconds, timeout_s + seconds)
            with col.cond:
                col.active = False
                chunks, col.chunks = col.chunks, []
                t_end = src.session_time()
            st = src.stats()[placement]
            span = t_end - t_start
            if chunks and link.profile.time_source in ("timestamp", "counter"):
                # the device's own clock times its samples: its rate, free of receive jitter
                span = float(chunks[-1].t_s[-1] - chunks[0].t_s[0]) + 1.0 / link.profile.rate_hz
            acc = np.concatenate([c.acc_m_s2 for c in chunks]) if chunks else np.zeros((0, 3))
            gyr = np.concatenate([c.gyr_rad_s for c in chunks]) if chunks else np.zeros((0, 3))
            result.poses[pose] = PoseData(acc, gyr, span, **_counts(st0, st))
        if link.profile.alerts.get("extension"):
            result.alert_sent = src.alert_and_wait("extension")[placement]
        result.battery_pct = src.stats()[placement]["battery_pct"]
    finally:
        src.stop()
    return result


def _counts(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What the link counted between two ``stats()``."""
    was = before["malformed"]
    malformed = {k: v - was.get(k, 0) for k, v in after["malformed"].items() if v > was.get(k, 0)}
    lost = ("lost_samples", "lost_in_link_gaps")
    return {
        "lost_samples": sum(after[k] - before[k] for k in lost),
        "packets": after["packets"] - before["packets"],
        "malformed": malformed,
        "orphans": after["orphans"] - before["orphans"],
        "ignored": after["ignored"] - before["ignored"],
    }


@dataclass(frozen=True)
class Finding:
    check: str
    verdict: Verdict
    text: str


def _axis_names(v: np.ndarray) -> str:
    return ", ".join(f"{a} {x:+.2f}" for a, x in zip("xyz", v, strict=True))


def verdicts(r: CheckResult) -> list[Finding]:
    """PASS / WARN / FAIL per check, each naming what to fix."""
    out: list[Finding] = []
    flat = r.poses.get("flat")
    if flat is None or len(flat.acc_m_s2) < 10:
        n = 0 if flat is None else len(flat.acc_m_s2)
        return [
            Finding(
                "data", "FAIL",
                f"only {n} complete samples arrived: the profile's packet layout does not match "
                "what the device sends (imu-monitor decode shows what its bytes mean)",
            )
        ]  # fmt: skip
    n = len(flat.acc_m_s2)
    rate = n / flat.span_s if flat.span_s > 0 else 0.0
    off = abs(rate - r.rate_hz) / r.rate_hz
    v: Verdict = "PASS" if off <= RATE_PASS else "WARN" if off <= RATE_FAIL else "FAIL"
    out.append(Finding("rate", v, f"{rate:.1f} Hz delivered, profile says {r.rate_hz:g} Hz"
                       + ("" if v == "PASS" else ": the start steps may not set the rate the "
                          "profile's rate.hz says")))  # fmt: skip
    loss = flat.lost_samples / (n + flat.lost_samples)
    v = "PASS" if loss <= LOSS_PASS else "WARN" if loss <= LOSS_FAIL else "FAIL"
    text = f"{100 * loss:.1f} % of samples lost ({flat.lost_samples})"
    if not r.counted:  # no counter or timestamp: an estimate from receive times
        v = "PASS" if v == "PASS" else "WARN"
        text += ", estimated from receive times (the packets carry no counter)"
    out.append(Finding("loss", v, text))
    bad = sum(flat.malformed.values())
    if bad > MALFORMED_PASS * max(flat.packets, 1):
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(flat.malformed.items()))
        text = (
            f"{bad} of {flat.packets + bad} notifications did not decode ({reasons}): the "
            "profile's [[packet]] layout does not match them (imu-monitor decode shows what "
            "their bytes mean)"
        )
        out.append(Finding("packets", "FAIL", text))
    else:
        out.append(Finding("packets", "PASS", f"{flat.packets} decoded, {bad} malformed, "
                           f"{flat.ignored} replies skipped"))  # fmt: skip
    if flat.orphans > MALFORMED_PASS * n:
        v = "FAIL" if flat.orphans > ORPHANS_FAIL * n else "WARN"
        text = (
            f"{flat.orphans} acc/gyro halves found no partner ({n} pairs): they do not arrive "
            "together as the profile expects (its pair_tolerance_s, or a chip variant sending "
            "on other registers)"
        )
        out.append(Finding("pairing", v, text))
    if r.alert_sent is not None:
        v = "PASS" if r.alert_sent else "FAIL"
        text = ("sent: the wearable should have buzzed, beeped or blinked now" if r.alert_sent
                else "the alert write failed (see the log with -v)")  # fmt: skip
        out.append(Finding("alert", v, text))
    if float(np.max(flat.acc_m_s2.std(axis=0))) > STILL_STD_M_S2:
        out.append(Finding("still", "FAIL", "the sensor moved while it should lie still; "
                           "run the check again without touching it"))  # fmt: skip
        return out
    mean = flat.acc_m_s2.mean(axis=0)
    g = float(np.linalg.norm(mean))
    dev = abs(g - GRAVITY_M_S2)
    v = "PASS" if dev <= ACC_TOLERANCE_M_S2 else "WARN" if dev <= ACC_WARN_M_S2 else "FAIL"
    text = f"|acc| at rest {g:.2f} m/s^2 (gravity {GRAVITY_M_S2:.2f})"
    if v == "FAIL":
        text += (f": the acc scale is off by x{g / GRAVITY_M_S2:.3g}; check the acc field's unit "
                 "and lsb_per_unit in the profile's [[packet]] record")  # fmt: skip
    out.append(Finding("acc scale", v, text))
    bias = float(np.rad2deg(np.linalg.norm(flat.gyr_rad_s.mean(axis=0))))
    v = (
        "PASS"
        if bias <= GYRO_BIAS_PASS_DEG_S
        else "WARN"
        if bias <= GYRO_BIAS_FAIL_DEG_S
        else "FAIL"
    )
    text = f"gyro bias at rest {bias:.2f} deg/s"
    if v == "FAIL":
        text += ": too large for a resting gyro; check the gyr field's unit and lsb_per_unit"
    out.append(Finding("gyro bias", v, text))
    if dev <= ACC_WARN_M_S2:
        out.append(_axis_finding("axes (label up)", mean, 2, True, "+z"))
        edge = r.poses.get("long_edge")
        if edge is not None and len(edge.acc_m_s2):
            out.append(_axis_finding("axes (long edge)", edge.acc_m_s2.mean(axis=0), 1, False, "y"))
    return out


def _axis_finding(check: str, mean: np.ndarray, axis: int, signed: bool, want: str) -> Finding:
    g = float(np.linalg.norm(mean))
    others = [i for i in range(3) if i != axis]
    ok = all(abs(mean[i]) <= AXIS_OFF_FRACTION * g for i in others)
    ok = ok and (mean[axis] > 0 if signed else abs(mean[axis]) > (1 - AXIS_OFF_FRACTION) * g)
    if ok:
        return Finding(check, "PASS", f"gravity on {want} as the profile's axis mapping says "
                       f"({_axis_names(mean)} m/s^2)")  # fmt: skip
    top = int(np.argmax(np.abs(mean)))
    got = ("+" if mean[top] > 0 else "-") + "xyz"[top]
    return Finding(
        check, "FAIL",
        f"gravity should read on {want} here but reads on {got} ({_axis_names(mean)} m/s^2): "
        "the profile's axes mapping is wrong (the 'axes' of the acc and gyr fields in its "
        "[[packet]] record), or the sensor was not in the pose asked for",
    )  # fmt: skip
