"""Where judging starts with a calibration made in an earlier session.

A guided calibration ends with the person held still in the exercise's calibration posture, and
judging starts there. A saved calibration (``live --use-saved-calibration``, the dashboard's
stored neutral) has no such moment: judged from the first sample, a person still standing read
as 89 deg of flexion in a back kick, and getting down onto all fours passed for a rep with a
flexion alarm (and a -48 deg extension alarm in a hip thrust).

So judging waits until the sacrum has been held still for ``HOLD_S`` within
``TOLERANCE_DEG`` of the saved neutral's pitch and roll: the person is back in the calibration
posture (on all fours; at the lockout of a hip thrust or bridge), as at the end of a guided
calibration. Still: the pitch and the roll each vary by at most ``STILL_RANGE_DEG`` over that
time. Results do not depend on how the stream is chunked. Imports only numpy and the monitor's
window range.
"""

from __future__ import annotations

import numpy as np

from imu_monitor.processing.monitor.lockout import window_range

HOLD_S = 1.0
"""How long the calibration posture is held before judging starts (s)."""
TOLERANCE_DEG = 20.0
"""How far (pitch and roll, deg) the held posture may be from the saved neutral: a strap put
back a little differently, a posture a few degrees off (the lumbar limits are 6-10 deg from
neutral; standing is 90 deg from all fours and from a lockout)."""
STILL_RANGE_DEG = 1.5
"""Largest change of the pitch and of the roll over the hold (deg)."""
PROMPT = "hold the calibration posture still for a second to start (saved calibration)"
ADVICE_AFTER_S = 20.0
"""After this long without the posture, a still posture held elsewhere is reported
(``StartGate.held_elsewhere``): a saved calibration that no longer fits waits forever."""


class StartGate:
    """Streams the sacrum's pitch and roll (deg, ``frames`` conventions) until the calibration
    posture is held (module docstring)."""

    def __init__(self, neutral_pitch_deg: float, neutral_roll_deg: float) -> None:
        self.neutral = (float(neutral_pitch_deg), float(neutral_roll_deg))
        self._t = np.zeros(0)
        self._pitch = np.zeros(0)
        self._roll = np.zeros(0)
        self._t_first: float | None = None
        self.held_elsewhere: tuple[float, float] | None = None
        """Set once, ``ADVICE_AFTER_S`` after the first sample: how far (pitch, roll, deg) the
        latest posture held still for ``HOLD_S`` lies from the saved neutral, when none near it
        was held."""
        self._advised = False

    def update(self, t: np.ndarray, pitch_deg: np.ndarray, roll_deg: np.ndarray) -> float | None:
        """The time of the first sample that ends a held posture, or None while there is none
        yet (then the samples are kept for the next chunk)."""
        all_t = np.concatenate([self._t, t])
        pitch = np.concatenate([self._pitch, pitch_deg])
        roll = np.concatenate([self._roll, roll_deg])
        k = len(self._t)
        if self._t_first is None and len(all_t):
            self._t_first = float(all_t[0])
        near = (np.abs(_wrap(pitch - self.neutral[0])) <= TOLERANCE_DEG) & (
            np.abs(_wrap(roll - self.neutral[1])) <= TOLERANCE_DEG
        )
        far = np.concatenate(([0], np.cumsum(~near)))  # samples off the posture before each
        ends = np.arange(k, len(all_t))
        # the window of each new sample: from the first sample at most HOLD_S before it
        lo = np.searchsorted(all_t, all_t[ends] - HOLD_S, side="left")
        covered = lo > 0  # an older sample exists, so the window spans the whole HOLD_S
        lo_c, ends_c = lo[covered], ends[covered]
        held = np.zeros(len(ends), bool)
        if len(ends_c):
            held[covered] = (
                (far[ends_c + 1] - far[lo_c] == 0)
                & (window_range(pitch, lo_c, ends_c + 1) <= STILL_RANGE_DEG)
                & (window_range(roll, lo_c, ends_c + 1) <= STILL_RANGE_DEG)
            )
        if held.any():
            return float(all_t[ends[int(np.argmax(held))]])
        if not self._advised and len(ends_c) and all_t[-1] - self._t_first >= ADVICE_AFTER_S:
            still = (window_range(pitch, lo_c, ends_c + 1) <= STILL_RANGE_DEG) & (
                window_range(roll, lo_c, ends_c + 1) <= STILL_RANGE_DEG
            )
            if still.any():
                i = int(ends_c[np.flatnonzero(still)[-1]])
                self._advised = True
                self.held_elsewhere = (
                    float(_wrap(pitch[i] - self.neutral[0])),
                    float(_wrap(roll[i] - self.neutral[1])),
                )
        keep = all_t >= all_t[-1] - HOLD_S - 1.0 if len(all_t) else np.zeros(0, bool)
        self._t, self._pitch, self._roll = all_t[keep], pitch[keep], roll[keep]
        return None


def _wrap(deg: np.ndarray) -> np.ndarray:
    return (deg + 180.0) % 360.0 - 180.0
