"""The one-sensor back-kick rep signal: the pelvis' turn about its long axis since it last rested.

On all fours the kicking-side hip rises as the weight shifts onto the support leg: the pelvis
turns a few degrees about its own long (z, superior) axis and, by a degree or two, about the
vertical. Its turn about the long axis is what a sacrum sensor alone can time the reps from, but
gravity alone cannot measure it cleanly once a lumbar fault pitches the pelvis: the turn about
the vertical, invisible to gravity, then leaks into the gravity-only estimate (about
``turn_about_vertical * sin(pitch change)``, 0.3-0.8 deg against a 3-7 deg signal), and the
tempo of a faulty rep was off by up to 0.7 s.

Here the rotation is measured with the gyroscope's help, from the full 6D orientation, relative
to the pelvis' orientation at its latest rest in the start position (the reference, heading
included). The relative rotation ``Q = R_ref^T R`` is split in the pelvis' Cardan order
(tilt about y, obliquity about x, rotation about z: ``Q = Ry(a) Rx(b) Rz(c)``, the ISB order),
and the rep signal is ``|c|``, which a pitch change (tilt) and a turn about the vertical
(obliquity, on all fours) leave untouched. The reference is taken again at every rest, so the
slowly drifting heading of a 6D filter never accumulates.

A rest is a stretch of ``REST_WINDOW_S`` where the pelvis is back in the start position (its
gravity-visible axial turn within ``REST_AXIAL_DEG`` of the calibrated neutral and its pitch
within ``REST_PITCH_DEG``); the reference is the orientation ``REST_LAG_S`` before the end of
such a stretch, so the slow first part of the next kick, still within those bounds, never
becomes the reference. Until the first rest has been seen the gravity-only estimate is used.
Results do not depend on how the stream is chunked.
"""

from __future__ import annotations

import numpy as np

REST_AXIAL_DEG = 0.5
"""Gravity-visible axial turn (from the calibrated neutral) below which the pelvis may be at
rest: a back kick turns it 3-7 deg, sensor noise at rest stays below 0.1 deg."""
REST_PITCH_DEG = 3.0
"""Pitch change (from neutral) below which the pelvis may be at rest; lumbar faults go beyond
the 8-10 deg limits."""
REST_WINDOW_S = 0.2
"""How long the pelvis must stay at rest before its orientation is taken as the reference."""
REST_LAG_S = 0.3
"""The reference is the orientation this long before the latest sample of a rest stretch: the
first 0.2-0.3 s of a kick turn the pelvis by less than ``REST_AXIAL_DEG``."""


def axial_turn_deg(x_axis: np.ndarray, y_axis: np.ndarray, y_ref: np.ndarray) -> np.ndarray:
    """The segment's rotation about its own z axis since a reference orientation (degrees, (n,)):
    ``c`` of ``Q = R_ref^T R = Ry(a) Rx(b) Rz(c)``.

    ``x_axis``, ``y_axis``: the segment's x and y axes in the world now, (3, n) (as
    ``angles.segment_frame`` gives them); ``y_ref``: its y axis in the reference orientation,
    (3,) or (3, n). Row 2 of ``Ry(a) Rx(b) Rz(c)`` is ``(cos b sin c, cos b cos c, -sin b)`` and
    ``Q[1, j] = y_ref . (axis j of R)``.
    """
    r = np.asarray(y_ref, dtype=np.float64).reshape(3, -1)
    sin_c = r[0] * x_axis[0] + r[1] * x_axis[1] + r[2] * x_axis[2]
    cos_c = r[0] * y_axis[0] + r[1] * y_axis[1] + r[2] * y_axis[2]
    return np.degrees(np.arctan2(sin_c, cos_c))


class AxialTracker:
    """Streams the rep signal described in the module docstring; ``update`` takes consecutive
    chunks on one time base. One tracker per session (and calibration)."""

    def __init__(self) -> None:
        self._t_first: float | None = None
        self._tail_t = np.zeros(0)
        self._tail_y = np.zeros((3, 0))
        self._tail_rest = np.zeros(0, bool)
        self._ref: np.ndarray | None = None
        """(3,): the segment's y axis in the world at the latest reference."""

    def update(
        self,
        t_s: np.ndarray,
        x_axis: np.ndarray,
        y_axis: np.ndarray,
        gravity_axial_deg: np.ndarray,
        d_pitch_deg: np.ndarray,
    ) -> np.ndarray:
        """The rep signal (degrees, >= 0, shape (n,)) for one chunk.

        ``x_axis``, ``y_axis``: (3, n), the pelvis' axes in the world (``angles.segment_frame``);
        ``gravity_axial_deg``: the gravity-only axial turn from the calibrated neutral (the
        fallback and the rest test); ``d_pitch_deg``: the pitch change from neutral.
        """
        t = np.asarray(t_s, dtype=np.float64)
        n = len(t)
        grav = np.abs(np.asarray(gravity_axial_deg, dtype=np.float64))
        if n == 0:
            return grav
        if self._t_first is None:
            self._t_first = float(t[0])
        rest = (grav < REST_AXIAL_DEG) & (np.abs(d_pitch_deg) < REST_PITCH_DEG)
        all_t = np.concatenate((self._tail_t, t))
        all_y = np.concatenate((self._tail_y, y_axis), axis=1)
        all_rest = np.concatenate((self._tail_rest, rest))
        k = len(self._tail_t)

        # a new sample fixes a reference when the whole stretch [t - lag - window, t] was at rest
        # (no sample outside the rest since); the reference is the latest sample at or before
        # t - lag, which must lie in that stretch
        span = REST_LAG_S + REST_WINDOW_S
        busy = np.maximum.accumulate(np.where(all_rest, -1, np.arange(len(all_t))))[k:]
        busy_t = np.where(busy >= 0, all_t[busy], -np.inf)
        fixes = np.flatnonzero((busy_t < t - span) & (t - self._t_first >= span))
        ref_at = np.searchsorted(all_t, t[fixes] - REST_LAG_S, side="right") - 1
        valid = all_t[ref_at] >= t[fixes] - span
        fixes, ref_at = fixes[valid], ref_at[valid]

        # each sample uses the latest reference fixed at or before it; before the first one in
        # this chunk (index ``j``), the one carried over, if any
        latest = np.full(n, -1, np.int64)
        latest[fixes] = ref_at
        ref_idx = np.maximum.accumulate(latest)
        j = int(fixes[0]) if len(fixes) else n
        out = grav.copy()
        if self._ref is not None and j > 0:
            out[:j] = np.abs(axial_turn_deg(x_axis[:, :j], y_axis[:, :j], self._ref))
        if j < n:
            refs = all_y[:, ref_idx[j:]]
            out[j:] = np.abs(axial_turn_deg(x_axis[:, j:], y_axis[:, j:], refs))
        if len(fixes):
            self._ref = all_y[:, ref_at[-1]].copy()

        keep = all_t >= all_t[-1] - span
        self._tail_t, self._tail_y, self._tail_rest = all_t[keep], all_y[:, keep], all_rest[keep]
        return out
