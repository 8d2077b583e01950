"""What one sensor link counts and reports: counters, sequence continuity across reconnections
(the holes become ``Gap`` records), notification-to-processed latency, and the stats dict."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from imu_monitor.model import SampleChunk

LATENCY_WINDOW = 4096
"""Notification-to-processed latencies kept per sensor for the percentiles."""


@dataclass
class LinkCounters:
    gaps: int = 0
    link_losses: int = 0
    reconnects: int = 0
    lost_in_link_gaps: int = 0
    callback_errors: int = 0
    decoder_errors: int = 0
    first_t_s: float | None = None


def merge_decode_stats(stats: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum the ``DecodeStats.to_dict()`` of the decoders a link has had (one per connection)."""
    out: dict[str, Any] = {}
    for s in stats:
        for k, v in s.items():
            if isinstance(v, dict):
                d = out.setdefault(k, {})
                for kk, vv in v.items():
                    d[kk] = d.get(kk, 0) + vv
            else:
                out[k] = out.get(k, 0) + v
    return out


class LatencyWindow:
    """The last ``LATENCY_WINDOW`` latencies (s), appended on the loop thread, read anywhere."""

    def __init__(self) -> None:
        self._values: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self._lock = threading.Lock()

    def add(self, latency_s: float) -> None:
        with self._lock:
            self._values.append(latency_s)

    def values_s(self) -> np.ndarray:
        with self._lock:
            return np.array(self._values)


class StreamContinuity:
    """Keeps one sensor's ``seq`` continuous across decoders (one per connection) and reports
    the holes: ``emit_gap(t0_s, t1_s, reason, lost_samples)`` with reason ``packet_loss``
    (within a connection), ``link_lost`` or ``reconnect`` (across one)."""

    def __init__(
        self,
        rate_hz: float,
        counters: LinkCounters,
        emit_gap: Callable[[float, float, str, int], None],
    ) -> None:
        self.rate_hz = float(rate_hz)
        self.counters = counters
        self.emit_gap = emit_gap
        self.last_t: float | None = None
        self._last_seq: int | None = None
        self._seq_offset = 0
        self._after_link_loss: float | None = None  # session time of the loss, until next chunk
        self._new_decoder = False

    def new_decoder(self) -> None:
        """The next chunk comes from a fresh decoder (a new connection)."""
        self._new_decoder = True

    def link_lost(self, t_s: float) -> None:
        """The link dropped at session time ``t_s`` (the next hole is a ``link_lost`` one)."""
        self._after_link_loss = t_s

    def feed(self, chunk: SampleChunk) -> None:
        """Renumber ``chunk.seq`` in place and emit the hole before it, if any."""
        c = self.counters
        if c.first_t_s is None:
            c.first_t_s = float(chunk.t_s[0])
        rate = self.rate_hz
        t_first = float(chunk.t_s[0])
        if self._new_decoder:
            self._new_decoder = False
            if self.last_t is not None:
                lost = max(int(round((t_first - self.last_t) * rate)) - 1, 0)
                if chunk.seq is not None and self._last_seq is not None:
                    self._seq_offset = self._last_seq + 1 + lost - int(chunk.seq[0])
                reason = "link_lost" if self._after_link_loss is not None else "reconnect"
                self.emit_gap(self.last_t, t_first, reason, lost)
                c.lost_in_link_gaps += lost
        elif self.last_t is not None:
            if chunk.seq is not None and self._last_seq is not None:
                missing = int(chunk.seq[0]) + self._seq_offset - self._last_seq - 1
            else:
                missing = int(round((t_first - self.last_t) * rate)) - 1
            if missing > 0:
                self.emit_gap(self.last_t, t_first, "packet_loss", missing)
        self._after_link_loss = None
        if chunk.seq is not None:
            if self._seq_offset:
                chunk.seq = chunk.seq + self._seq_offset
            self._last_seq = int(chunk.seq[-1])
        self.last_t = float(chunk.t_s[-1])


def link_stats(
    identity: dict[str, Any],
    decode_stats: list[dict[str, Any]],
    counters: LinkCounters,
    latencies_s: np.ndarray,
    last_t_s: float | None,
    rate_hz: float,
    battery_pct: int | None,
) -> dict[str, Any]:
    """The stats dict of ``SensorLink.stats()`` (see there), after ``identity`` (sensor,
    device, address, profile, state)."""
    d = merge_decode_stats(decode_stats)
    c = counters
    samples = int(d.get("samples", 0))
    lost = int(d.get("lost_samples", 0)) + int(d.get("lost_samples_estimated", 0))
    lost_total = lost + c.lost_in_link_gaps
    lat = np.asarray(latencies_s) * 1000.0
    span = 0.0
    if c.first_t_s is not None and last_t_s is not None:
        span = last_t_s - c.first_t_s + 1.0 / rate_hz
    return identity | {
        "packets": int(d.get("packets", 0)),
        "samples": samples,
        "lost_samples": lost,
        "lost_in_link_gaps": c.lost_in_link_gaps,
        "loss_fraction": lost_total / (samples + lost_total) if samples + lost_total else 0.0,
        "malformed": dict(d.get("malformed", {})),
        "malformed_total": int(d.get("malformed_total", 0)),
        "ignored": int(d.get("ignored", 0)),
        "orphans": int(d.get("orphan_acc", 0)) + int(d.get("orphan_gyr", 0)),
        "gaps": c.gaps,
        "link_losses": c.link_losses,
        "reconnects": c.reconnects,
        "decoder_errors": c.decoder_errors,
        "callback_errors": c.callback_errors,
        "effective_rate_hz": samples / span if span > 0 else 0.0,
        "battery_pct": battery_pct,
        "latency_ms": {
            "n": int(len(lat)),
            "p50": float(np.percentile(lat, 50)) if len(lat) else None,
            "p99": float(np.percentile(lat, 99)) if len(lat) else None,
            "max": float(lat.max()) if len(lat) else None,
        },
    }
