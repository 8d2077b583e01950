"""The alarm state machine of one direction (flexion or extension), over chunks of samples.

Each direction is judged on its own signed signal ``x`` (``x = angle`` for flexion, ``x = -angle``
for extension) against a positive ``limit_deg``:

- *idle* -> *pending* at the first sample with ``x > limit_deg`` (``t_crossed``);
- *pending* -> *active* at the first sample with ``t >= t_crossed + dwell_s`` while every sample
  since the crossing stayed beyond the limit (the alarm fires there: no filtering, no added lag);
  *pending* -> *idle* as soon as a sample is back inside the limit;
- *active* -> *idle* at the first sample with ``x < limit_deg - hysteresis_deg``.

The two directions never interact: a sample beyond the extension limit is always inside
``flexion_deg - hysteresis_deg`` (checked when the limits are validated), so a flexion alarm has
always ended before an extension alarm can start, and vice versa.

The chunk is scanned with numpy: the indices where the signal is beyond / inside / released are
found once per chunk, and the Python loop only runs once per state change, so its cost does not
grow with the number of samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IDLE, PENDING, ACTIVE = 0, 1, 2

TIME_EPS_S = 1e-9
"""Tolerance on the dwell comparison (sample times are sums of floating-point periods)."""


@dataclass
class AlarmTransition:
    """A state change found in a chunk: ``kind`` is ``"start"`` or ``"end"``; ``index`` is the
    sample (into the chunk) where it happens."""

    kind: str
    index: int
    direction: str
    t_s: float
    angle_deg: float = 0.0
    """Signed lumbar angle at the sample (start only)."""
    t_crossed_s: float = 0.0
    """When the angle first went beyond the limit (start only)."""
    peak_deg: float = 0.0
    """Most extreme signed angle from the crossing to the end (end only)."""
    t_fired_s: float = 0.0
    """When the alarm fired (end only)."""


class DirectionAlarm:
    """Alarm state of one direction, carried between chunks.

    ``sign``: +1 for flexion (judged on ``angle``), -1 for extension (judged on ``-angle``).
    ``limit_deg``, ``hysteresis_deg``: positive magnitudes, degrees. ``dwell_s``: seconds.
    """

    def __init__(
        self, direction: str, sign: float, limit_deg: float, dwell_s: float, hysteresis_deg: float
    ) -> None:
        self.direction = direction
        self.sign = float(sign)
        self.limit_deg = float(limit_deg)
        self.dwell_s = float(dwell_s)
        self.release_deg = float(limit_deg) - float(hysteresis_deg)
        self.state = IDLE
        self.t_crossed_s = 0.0
        self.t_fired_s = 0.0
        self.peak_x = -np.inf
        """Largest ``x`` since the crossing (degrees, in this direction's sign)."""

    @property
    def active(self) -> bool:
        return self.state == ACTIVE

    @property
    def pending(self) -> bool:
        return self.state == PENDING

    def process(self, t_s: np.ndarray, angle_deg: np.ndarray) -> list[AlarmTransition]:
        """Run the state machine over one chunk (``t_s``, ``angle_deg``: shape (n,)).

        Returns the transitions in sample order. NaN angles (no reading) are neither beyond the
        limit nor released: they interrupt a dwell and do not end an active alarm.
        """
        n = len(t_s)
        out: list[AlarmTransition] = []
        if n == 0:
            return out
        x = self.sign * angle_deg
        beyond = x > self.limit_deg
        idx_beyond = np.flatnonzero(beyond)
        if self.state == IDLE and len(idx_beyond) == 0:
            return out  # the common case: nothing near the limit
        idx_inside = np.flatnonzero(~beyond)
        idx_release = np.flatnonzero(x < self.release_deg)
        p = 0
        while p < n:
            if self.state == IDLE:
                k = np.searchsorted(idx_beyond, p)
                if k == len(idx_beyond):
                    break
                p = int(idx_beyond[k])
                self.state = PENDING
                self.t_crossed_s = float(t_s[p])
                self.peak_x = -np.inf
            elif self.state == PENDING:
                k = np.searchsorted(idx_inside, p)
                back = int(idx_inside[k]) if k < len(idx_inside) else n
                fire = int(np.searchsorted(t_s, self.t_crossed_s + self.dwell_s - TIME_EPS_S))
                fire = max(fire, p)
                if fire < back:
                    self._track_peak(x, p, fire + 1)
                    self.state = ACTIVE
                    self.t_fired_s = float(t_s[fire])
                    out.append(
                        AlarmTransition(
                            "start",
                            fire,
                            self.direction,
                            self.t_fired_s,
                            angle_deg=float(angle_deg[fire]),
                            t_crossed_s=self.t_crossed_s,
                        )
                    )
                    p = fire + 1
                else:
                    self._track_peak(x, p, back)
                    if back == n:
                        break
                    self.state = IDLE
                    p = back
            else:  # ACTIVE
                k = np.searchsorted(idx_release, p)
                end = int(idx_release[k]) if k < len(idx_release) else n
                self._track_peak(x, p, end)
                if end == n:
                    break
                out.append(self._end(end, float(t_s[end])))
                p = end + 1
        return out

    def finish(self, t_last_s: float, index: int) -> AlarmTransition | None:
        """End an active alarm at the end of the stream (``t_last_s``: the last sample's time)."""
        if self.state == ACTIVE:
            return self._end(index, t_last_s)
        self.state = IDLE
        return None

    def _end(self, index: int, t_s: float) -> AlarmTransition:
        self.state = IDLE
        return AlarmTransition(
            "end",
            index,
            self.direction,
            t_s,
            peak_deg=self.sign * float(self.peak_x),
            t_fired_s=self.t_fired_s,
        )

    def _track_peak(self, x: np.ndarray, start: int, stop: int) -> None:
        if stop > start:
            m = float(np.fmax.reduce(x[start:stop]))  # NaN only if all are NaN
            if m > self.peak_x:
                self.peak_x = m
