"""A burst one lumbar sensor lost, bridged with the other lumbar sensor's turn (live).

A BLE notification carries several samples, so samples go missing in bursts: at 52 Hz (the Polar
Verity Sense) 4-8 samples are 0.08-0.15 s. The orientation filter bridges such a gap with
samples on the straight line between its ends (``quality``). At rest that is right; inside a
fast rep, where the sensor turns at 100-200 deg/s and its speed changes within the gap, the line
misses up to ~10 deg of the turn, and the filter, whose accelerometer correction has a 3 s time
constant, reads the inclination that far off for seconds: simulated two-sensor hip thrusts at
52 Hz, live, held-out seeds 7000-7019, alarmed falsely at +11.4 and -10.0 deg where the lumbar
angle was -1.2 and -1.8.

The sacrum and the upper lumbar sensor sit on either side of the lumbar spine, and in a hip
thrust or a bridge they turn together, 100-250 deg/s in a fast rep, while the angle between
them changes by a few degrees. So a gap in one takes the *bend* of the other's turn across it:
the straight line between its own ends, plus how far the other's turn (turned into its frame)
departs from the other's own line over the same times (``orientation._filled``). A relative
turn that is steady across the gap then costs nothing; a bend its own ends cannot have (larger
than its speed there, as where the skin over the sacrum rings after a too-fast rep's abrupt
top, or the pelvis alone moves while the trunk holds still) is not taken, and the gap keeps the
line. The other's turn is a quadratic through its samples over the gap and ``SMOOTH_S`` either
side (each gyro's bias estimate taken off and the first one's put back on, as its filter will
take it off). The turn between the two frames is the two filters' orientations at the gap's
start; each 6D filter has a heading of its own, which gravity cannot tell, so their difference
is measured from the last seconds of turning, as the angle about the vertical that best lays
the one's turn axis (world frame) onto the other's. Where they did not turn enough to show it
(``MIN_TURN_DEG_S``), or the other sensor's samples do not reach the gap's start yet (live,
they arrive in their own notifications), the gap keeps the line; the part of a gap they do not
reach yet is on the line from the last sample given to the gap's end. The thigh is not paired:
the hip turns it against the pelvis by up to 90 deg in a rep.

Live, a chunk that starts after such a gap waits (``arrived``) until the other sensor's
samples reach the gap's end, at most ``HOLD_S``: a 52 Hz notification of 10 samples spans
0.19 s, and the other one's often reached only the gap's start. The angles need both sensors'
samples anyway, so the wait delays nothing the monitor judges.

Only live (``Pipeline``, ``gap_fill``): a replay and ``analyze`` bridge on the line, so a
replay judges as ``analyze`` does.

Imports only numpy, scipy and the orientation stream's types.
"""

from __future__ import annotations

from collections import deque

import numpy as np
from numpy.polynomial import polynomial
from scipy.spatial.transform import Rotation, Slerp

from imu_monitor.model import SampleChunk
from imu_monitor.processing.orientation import OrientationStream
from imu_monitor.processing.quality import GAP_FACTOR, MAX_BRIDGE_S

PAIR = ("sacrum", "upper_lumbar")
"""The sensors whose gaps are bridged with each other's turn."""
KEEP_S = 6.0
"""Each paired sensor's latest samples kept for it (s): the heading window and any bridged gap."""
HEADING_S = 5.0
"""The turning before a gap the two filters' heading difference is measured from (s): the rep
before, where the gap comes early in one. A 6D filter's heading drifts by a degree or so a
minute, so this long a window costs nothing."""
SMOOTH_S = 0.1
"""The other sensor's turn over a gap is a quadratic through its samples over the gap and this
long either side (s)."""
HOLD_S = 0.5
"""The longest a chunk after a gap waits for the other sensor's samples (s of stream time)."""
MIN_TURN_DEG_S = 10.0
"""... only where both turned about horizontal axes at least this fast on average (deg/s; a hip
thrust's rep turns them at 30-200): slower, the gap is bridged with the line."""


def _rotation(quat_ws: np.ndarray) -> Rotation:
    return Rotation.from_quat(quat_ws, scalar_first=True)


class PairedGapFill:
    """The two lumbar sensors' latest gyro readings and orientations, and the fill each one's
    orientation stream uses for a gap (``OrientationStream.gyro_fill``; module docstring)."""

    def __init__(self, placements: list[str]) -> None:
        self.active = all(p in placements for p in PAIR)
        self._recent: dict[str, deque[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {
            p: deque() for p in PAIR
        }
        self.filled = 0
        """Bridging samples the other sensor's turn was given for so far (``_filled`` may still
        keep the line for some)."""
        self._arrived_to = dict.fromkeys(PAIR, -np.inf)  # each one's latest sample time seen
        self._held: dict[str, list[SampleChunk]] = {p: [] for p in PAIR}

    def arrived(self, chunk: SampleChunk, t_last: float, step_s: float) -> list[SampleChunk]:
        """The chunks to process now, in order, as ``chunk`` arrives (``t_last``: the last
        sample time its sensor's filter has seen; ``step_s``: its sample step). A paired
        sensor's chunk with a bridged gap (before it or within it) whose end the other one's
        samples do not reach yet is held, with any that follow it, until they reach its last
        sample, or for at most ``HOLD_S``."""
        p = chunk.sensor
        if not self.active or p not in self._held or len(chunk) == 0:
            return [chunk]
        q = PAIR[1] if p == PAIR[0] else PAIR[0]
        self._arrived_to[p] = max(self._arrived_to[p], float(chunk.t_s[-1]))
        held = self._held[p]
        if held:
            held.append(chunk)
        else:  # the end of the chunk's last bridged gap (before it or within it)
            t = np.concatenate(([t_last], np.asarray(chunk.t_s, np.float64)))
            dt = np.diff(t)
            # (as the cleaner finds and bridges them: ``quality._gaps``)
            gaps = np.flatnonzero((dt > GAP_FACTOR * step_s) & (dt <= MAX_BRIDGE_S + 1e-9))
            if len(gaps) and self._arrived_to[q] < t[gaps[-1] + 1]:
                held.append(chunk)
        out = [] if held else [chunk]
        if held and self._arrived_to[p] - float(held[0].t_s[0]) > HOLD_S:
            out += self._release(p)
        other = self._held[q]
        if other and self._arrived_to[q] >= float(other[0].t_s[-1]):
            out += self._release(q)
        return out

    def release_all(self) -> list[SampleChunk]:
        """Every held chunk (the stream ends)."""
        return [c for p in PAIR for c in self._release(p)]

    def _release(self, p: str) -> list[SampleChunk]:
        out, self._held[p] = self._held[p], []
        return out

    def log(self, sensor: str, t_s: np.ndarray, gyr: np.ndarray, quat_ws: np.ndarray) -> None:
        """Keep a paired sensor's filtered samples: times, gyro readings, orientations."""
        recent = self._recent.get(sensor)
        if not self.active or recent is None or len(t_s) == 0:
            return
        recent.append((np.asarray(t_s, np.float64), np.asarray(gyr), np.asarray(quat_ws)))
        t_last = float(recent[-1][0][-1])
        while len(recent) > 1 and recent[0][0][-1] < t_last - KEEP_S:
            recent.popleft()

    def attach(self, streams: dict[str, OrientationStream]) -> None:
        """Give each paired stream in ``streams`` its fill (again after streams are replaced)."""
        if not self.active:
            return
        for p, q in (PAIR, PAIR[::-1]):
            streams[p].gyro_fill = lambda t, p=p, q=q: self._turned_from(streams, p, q, t)

    def _joined(self, sensor: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        recent = self._recent[sensor]
        if not recent:
            return None
        t, g, q = (np.concatenate(col) for col in zip(*recent, strict=True))
        return t, g, q

    def _turned_from(
        self, streams: dict[str, OrientationStream], p: str, q: str, t: np.ndarray
    ) -> np.ndarray | None:
        """``q``'s gyro at times ``t`` as ``p`` would read it (NaN rows where ``q`` has no
        samples yet), or None where the gap keeps the line (module docstring)."""
        mine, other = self._joined(p), self._joined(q)
        if mine is None or other is None or len(t) == 0:
            return None
        tp, gp, qp = mine
        tq, gq, qq = other
        t0 = float(t[0])
        if len(tq) < 2 or tq[0] > t0 or tq[-1] < t0:
            return None
        bias_p = streams[p].still_bias.bias if streams[p].still_bias is not None else np.zeros(3)
        bias_q = streams[q].still_bias.bias if streams[q].still_bias is not None else np.zeros(3)
        # the heading difference: the angle about the vertical from q's turn axis to p's
        before = (tp >= t0 - HEADING_S) & (tp < t0)
        if before.sum() < 3:
            return None
        k = np.clip(np.searchsorted(tq, tp[before]), 0, len(tq) - 1)
        wp = _rotation(qp[before]).apply(gp[before] - bias_p)[:, :2]
        wq = _rotation(qq[k]).apply(gq[k] - bias_q)[:, :2]
        speed = np.sqrt(np.mean(np.linalg.norm(wp, axis=1) * np.linalg.norm(wq, axis=1)))
        if np.degrees(speed) < MIN_TURN_DEG_S:
            return None
        cross = float(np.sum(wq[:, 0] * wp[:, 1] - wq[:, 1] * wp[:, 0]))
        dot = float(np.sum(wq[:, 0] * wp[:, 0] + wq[:, 1] * wp[:, 1]))
        heading = Rotation.from_rotvec([0.0, 0.0, np.arctan2(cross, dot)])
        # both orientations at p's last sample before the gap (q's interpolated: they turn fast)
        last = int(np.flatnonzero(tp <= t0)[-1])
        at = float(np.clip(tp[last], tq[0], tq[-1]))
        j = int(np.clip(np.searchsorted(tq, at), 1, len(tq) - 1))
        q_then = _rotation(qq[j])
        if tq[j] > tq[j - 1]:
            q_then = Slerp(tq[j - 1 : j + 1], _rotation(qq[j - 1 : j + 1]))(at)
        q_to_p = _rotation(qp[last]).inv() * heading * q_then
        # q's turn as the body's: a quadratic through its samples over the gap and SMOOTH_S
        # either side, which keeps a rep's bend and leaves out the skin's 5-12 Hz wobble
        near = (tq >= t[0] - SMOOTH_S) & (tq <= t[-1] + SMOOTH_S)
        if near.sum() < 5:
            return None
        bend = polynomial.polyfit(tq[near] - t0, gq[near], 2)  # (3 coefficients, 3 axes)
        g = polynomial.polyval(t - t0, bend).T
        g[t > tq[-1]] = np.nan
        out = q_to_p.apply(g - bias_q) + bias_p
        self.filled += int(np.isfinite(out).all(axis=1).sum())
        return out
