"""The one-sensor back-kick rep signal: the pelvis' turn about its long axis since it last rested.

On all fours the kicking-side hip rises as the weight shifts onto the support leg: the pelvis
turns a few degrees about its own long (z, superior) axis and, by a degree or two, about the
vertical. Its turn about the long axis is what a sacrum sensor alone can time the reps from, but
gravity alone cannot measure it cleanly once a lumbar fault pitches the pelvis: the turn about
the vertical, invisible to gravity, then leaks into the gravity-only estimate (about
``turn_about_vertical * sin(pitch change)``, 0.3-0.8 deg against a 3-7 deg signal), and the
tempo of a faulty rep was off by up to 0.7 s.

Here the rotation is measured with the gyroscope's help, from the full 6D orientation, relative
to the pelvis' orientation at its latest rest (the reference, heading included). The relative
rotation ``Q = R_ref^T R`` is split in the pelvis' Cardan order (tilt about y, obliquity about
x, rotation about z: ``Q = Ry(a) Rx(b) Rz(c)``, the ISB order), and the rep signal is ``|c|``,
which a pitch change (tilt) and a turn about the vertical (obliquity, on all fours) leave
untouched. The reference is taken again at every rest, so the slowly drifting heading of a 6D
filter never accumulates, and a rest posture that differs a little from rep to rep (people do
not come back to exactly the same one) is each rep's own starting point.

Rests are told from the other still moments (a hold at the top of a kick) by where they are:
a still stretch (``STILL_WINDOW_S`` with the gravity-visible axial turn and the pitch each
within ``STILL_AXIAL_DEG`` / ``STILL_PITCH_DEG``) is a rest when the pelvis is back in the
calibrated start posture (gravity-visible turn within ``START_AXIAL_DEG``, pitch within
``START_PITCH_DEG``) or back near the previous rest: ``|c|`` within ``REST_TOLERANCE_DEG`` or,
after a kick, within ``RETURN_FRACTION`` of the kick's largest turn; a hold at the top
otherwise (there the turn is the kick's largest). Until the first rest the gravity-only
estimate is used. Within a rest the reference is the orientation ``REST_LAG_S`` before the
latest sample, so the slow first part of the next kick never becomes the reference. Results do
not depend on how the stream is chunked.
"""

from __future__ import annotations

import numpy as np

from .windows import window_range

STILL_WINDOW_S = 0.25
"""A still stretch: this long with the pelvis' gravity-visible turn and pitch nearly constant."""
STILL_AXIAL_DEG = 0.3
"""Largest range of the gravity-visible axial turn within a still window (a kick turns the
pelvis at 3 deg/s and more; sensor noise and sway at rest stay below 0.2 deg)."""
STILL_PITCH_DEG = 0.5
"""Largest range of the pelvis pitch within a still window."""
REST_TOLERANCE_DEG = 1.5
"""A still stretch within this turn of the previous rest is a rest (a kick turns the pelvis by
3 deg or more; people rest within a degree or so of where they rested before)."""
RETURN_FRACTION = 0.5
"""... or, after a kick, within this fraction of the kick's largest turn (a 3-7 deg kick)."""
START_AXIAL_DEG = 0.5
"""... as is one back in the start posture: gravity-visible turn within this of the calibrated
neutral ..."""
START_PITCH_DEG = 3.0
"""... and pitch within this (lumbar faults go beyond the 8-10 deg limits)."""
REST_LAG_S = 0.3
"""Within a rest, the reference is the orientation this long before the latest sample."""


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
        # the last STILL_WINDOW_S + REST_LAG_S of samples: time, y axis, gravity turn, pitch
        self._tail_t = np.zeros(0)
        self._tail_y = np.zeros((3, 0))
        self._tail_g = np.zeros(0)
        self._tail_p = np.zeros(0)
        self._ref: np.ndarray | None = None
        """(3,): the pelvis' y axis in the world at the current reference (None: none yet)."""
        self._run_start_t: float | None = None
        """When the still stretch the last chunk ended in began (None: it ended moving)."""
        self._run_is_rest = False
        self._peak = 0.0
        """The largest turn since the last rest (the kick's, once it is back)."""

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
        fallback and the first rest's test); ``d_pitch_deg``: the pitch change from neutral.
        """
        t = np.asarray(t_s, dtype=np.float64)
        n = len(t)
        grav = np.asarray(gravity_axial_deg, dtype=np.float64)
        pitch = np.asarray(d_pitch_deg, dtype=np.float64)
        out = np.abs(grav)
        if n == 0:
            return out
        if self._t_first is None:
            self._t_first = float(t[0])
        k = len(self._tail_t)
        all_t = np.concatenate((self._tail_t, t))
        all_y = np.concatenate((self._tail_y, y_axis), axis=1)
        all_g = np.concatenate((self._tail_g, grav))
        all_p = np.concatenate((self._tail_p, pitch))
        # still: the window ending at each new sample (NaN in it: not still)
        first = all_t.searchsorted(t - STILL_WINDOW_S, "left")
        last = k + np.arange(n) + 1
        still = (
            (t - self._t_first >= STILL_WINDOW_S)
            & (window_range(all_g, first, last) <= STILL_AXIAL_DEG)
            & (window_range(all_p, first, last) <= STILL_PITCH_DEG)
        )

        # walk the chunk stretch by stretch: moving, still, moving, ...; the reference only
        # changes within rests, so each stretch is one vectorised step
        edges = np.flatnonzero(np.diff(still.astype(np.int8))) + 1
        bounds = [0, *edges.tolist(), n]
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            if not still[a]:
                self._run_start_t = None
                self._follow(out, x_axis, y_axis, a, b)
                continue
            if self._run_start_t is None:  # a new still stretch: a rest, or a hold at the top?
                self._run_start_t = float(t[a])
                self._run_is_rest = self._is_rest(x_axis[:, a], y_axis[:, a], grav[a], pitch[a])
                if self._run_is_rest:
                    self._peak = 0.0
            if not self._run_is_rest:
                self._follow(out, x_axis, y_axis, a, b)
                continue
            # within a rest: each sample's reference is the sample REST_LAG_S before it (once
            # the rest has lasted that long), else the one in force
            ta = t[a:b]
            lagged = ta - self._run_start_t >= REST_LAG_S
            j = a + int(np.argmax(lagged)) if lagged.any() else b
            self._follow(out, x_axis, y_axis, a, j)
            if j < b:
                ref_at = all_t.searchsorted(t[j:b] - REST_LAG_S, "right") - 1
                out[j:b] = np.abs(axial_turn_deg(x_axis[:, j:b], y_axis[:, j:b], all_y[:, ref_at]))
                self._ref = all_y[:, ref_at[-1]].copy()
        if not still[-1]:
            self._run_start_t = None

        keep = all_t >= all_t[-1] - (STILL_WINDOW_S + REST_LAG_S)
        self._tail_t, self._tail_y = all_t[keep], all_y[:, keep]
        self._tail_g, self._tail_p = all_g[keep], all_p[keep]
        return out

    def _is_rest(self, x: np.ndarray, y: np.ndarray, grav: float, pitch: float) -> bool:
        if abs(grav) < START_AXIAL_DEG and abs(pitch) < START_PITCH_DEG:
            return True
        if self._ref is None:
            return False
        turn = abs(float(axial_turn_deg(x[:, None], y[:, None], self._ref)[0]))
        return turn < max(REST_TOLERANCE_DEG, RETURN_FRACTION * self._peak)

    def _follow(self, out: np.ndarray, x: np.ndarray, y: np.ndarray, a: int, b: int) -> None:
        """``out[a:b]``: the turn from the reference in force (without one, the gravity estimate
        already in ``out``); keeps the largest since the last rest."""
        if self._ref is not None and a < b:
            out[a:b] = np.abs(axial_turn_deg(x[:, a:b], y[:, a:b], self._ref))
            self._peak = max(self._peak, float(out[a:b].max()))
