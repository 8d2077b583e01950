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
x, rotation about z: ``Q = Ry(a) Rx(b) Rz(c)``, the ISB order), and the rep signal is ``c`` in
the kick's direction, which a pitch change (tilt) and a turn about the vertical (obliquity, on
all fours) leave untouched. The direction is the side the pelvis first turns more than
``DIRECTION_DEG`` to; it changes only when the pelvis turns the other way by more than
``REST_TOLERANCE_DEG``, than half the previous kick and than it has turned this way since the
last rest (a kick with the other leg). Not its size ``|c|``: a rest a few tenths of a degree on
the other side of the previous one folded the lowering back up from 0, ending it 0.2-0.5 s
early. A rest's signal lies on a baseline: where the reference starts to slide (below) the
baseline becomes the signal's level there, so the signal never steps and each kick is its turn
from the rest before it. A step up could look like the start of a kick. A step down (the
baseline was once reset to 0 where a rest settled above it) came while the rep tracker waited
for the lowering's end and was timed as the lowering: at 52 Hz with rests a degree apart, reps
1.8 s off.

The reference is taken again at every rest, so the slowly drifting heading of a 6D
filter never accumulates, and a rest posture that differs a little from rep to rep (people do
not come back to exactly the same one) is each rep's own starting point.

Rests are told from the other still moments (a hold at the top of a kick) by where they are: a
still stretch (``STILL_WINDOW_S`` in which neither the gravity-visible axial turn nor the pitch
changes by more than ``STILL_AXIAL_DEG`` / ``STILL_PITCH_DEG`` over ``STILL_STEP_S``) is a rest
when the pelvis is back in the calibrated start posture (gravity-visible turn within
``START_AXIAL_DEG``, pitch within ``START_PITCH_DEG``) or back near the previous rest: its
gravity-visible turn from there within ``RETURN_FRACTION`` of the kick's largest, or within the
rest tolerance where it is not at the kick's largest (``AT_TOP_FRACTION``); a hold at the top
otherwise (there the turn is the kick's largest). The rest tolerance is ``REST_TOLERANCE_DEG``
(a rest may lie 1-1.8 deg from the last one), or half the previous kick where that is less,
down to ``MIN_REST_TOLERANCE_DEG``: a person who keeps the pelvis nearly square turns it only
1.5-3 deg, and the held top of such a kick had passed for a rest (its lowering then read as the
next kick). Telling them apart needs no more than gravity; the signal itself is measured as
above. The first reference is the end of the calibration capture (where the pelvis rests in the
start posture); without one, the gravity-only estimate is used until the first rest. Within a
rest the reference is the orientation ``REST_LAG_S`` before the latest sample, so the slow first
part of the next kick never becomes the reference. Results do not depend on how the stream is
chunked.
"""

from __future__ import annotations

import numpy as np

STILL_WINDOW_S = 0.15
"""A still stretch: this long with the pelvis' gravity-visible turn and pitch nearly constant,"""
STILL_STEP_S = 0.125
"""... judged over steps of this long ..."""
STILL_AXIAL_DEG = 0.15
"""... in which the gravity-visible axial turn changes by at most this (1.2 deg/s; a kick turns
the pelvis at 2 deg/s and more; noise and sway at rest stay well below) ..."""
STILL_PITCH_DEG = 0.25
"""... and the pitch by at most this."""
REST_TOLERANCE_DEG = 1.5
"""A still stretch within this turn of the previous rest is a rest (people rest within a
degree or so of where they rested before; most kicks turn the pelvis by 3 deg or more) ..."""
RETURN_FRACTION = 0.5
"""... or, after a kick, within this fraction of the kick's largest turn (a 3-7 deg kick)."""
MIN_REST_TOLERANCE_DEG = 0.6
"""... but half the previous kick when that is less (a person who keeps the pelvis nearly
square turns it 1.5-3 deg in a kick), down to this; also the tolerance until a kick is known."""
AT_TOP_FRACTION = 0.8
"""... unless it lies at this fraction or more of the largest turn since the last rest: there it
is the held top of a kick. The top of a 1.35 deg kick after a 2.7 deg one lay within half the
previous kick of the rest it rose from and was taken for a rest; its lowering, measured from
there, went 1.5 deg the other way and flipped the kick's direction (simulated people kicking
1.5-3 deg, three sets: reps 3.8 s off). The start posture and a return by ``RETURN_FRACTION``
still make a rest."""
START_AXIAL_DEG = 0.5
"""... as is one back in the start posture: gravity-visible turn within this of the calibrated
neutral ..."""
START_PITCH_DEG = 3.0
"""... and pitch within this (lumbar faults go beyond the 8-10 deg limits)."""
REST_LAG_S = 0.3
"""Within a rest, the reference is the orientation this long before the latest sample."""
DIRECTION_DEG = MIN_REST_TOLERANCE_DEG
"""The first turn past this sets the kick's direction (so a 1.5 deg kick has one)."""


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

    def __init__(self, start_s: float | None = None) -> None:
        self.start_s = start_s
        """Samples at or before this time (the end of the calibration capture) are left out:
        a stream starts after it, so a whole recording must too, to give the same signal. The
        first sample after it is the first reference (the pelvis is still in the start posture
        there), so the first rep is measured like the others even when it starts at once."""
        # the last samples a new one may look back to (REST_LAG_S, STILL_STEP_S): time, y axis,
        # gravity turn, pitch
        self._tail_t = np.zeros(0)
        self._tail_y = np.zeros((3, 0))
        self._tail_g = np.zeros(0)
        self._tail_p = np.zeros(0)
        self._t_busy = -np.inf
        """The time of the latest sample that was not still."""
        self._ref: np.ndarray | None = None
        """(3,): the pelvis' y axis in the world at the current reference (None: none yet)."""
        self._ref_g = 0.0
        """The gravity-visible turn at the current reference."""
        self._run_start_t: float | None = None
        """When the still stretch the last chunk ended in began (None: it ended moving)."""
        self._run_is_rest = False
        self._peak = 0.0
        """The largest gravity-visible turn from the current reference since the last rest."""
        self._sign = 0.0
        """The kick's direction (+1 / -1 about the pelvis' z axis; 0: not known yet)."""
        self._base = 0.0
        """The baseline: the signal's level where the current rest's reference began to slide."""
        self._most = 0.0
        """The largest turn in the kick's direction since then."""
        self._kick = 0.0
        """The previous kick's largest turn (a turn the other way is a kick only past half of
        it, and past ``REST_TOLERANCE_DEG``: less is a change of rest posture)."""
        self._last = 0.0
        """The latest output (for the next baseline)."""
        self._kick_g = 0.0
        """The previous kick's largest gravity-visible turn (0: none yet): what the rest
        tolerance scales with."""
        self._sliding = False
        """Whether the latest sample's reference was sliding (within a rest)."""

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
        fallback and the rest tests); ``d_pitch_deg``: the pitch change from neutral.
        """
        t = np.asarray(t_s, dtype=np.float64)
        n = len(t)
        grav = np.asarray(gravity_axial_deg, dtype=np.float64)
        pitch = np.asarray(d_pitch_deg, dtype=np.float64)
        out = np.abs(grav)
        if n == 0:
            return out
        if self.start_s is not None and t[0] <= self.start_s:
            skip = int(t.searchsorted(self.start_s, "right"))
            if skip == n:
                return out
            out[skip:] = self.update(
                t[skip:], x_axis[:, skip:], y_axis[:, skip:], grav[skip:], pitch[skip:]
            )
            return out
        if self._ref is None and self.start_s is not None and np.isfinite(y_axis[:, 0]).all():
            # the end of the calibration capture: the pelvis is in the start posture, a rest
            self._ref, self._ref_g = y_axis[:, 0].copy(), float(grav[0])
        carried = self._ref
        k = len(self._tail_t)
        all_t = np.concatenate((self._tail_t, t))
        all_y = np.concatenate((self._tail_y, y_axis), axis=1)
        all_g = np.concatenate((self._tail_g, grav))
        all_p = np.concatenate((self._tail_p, pitch))
        idx = k + np.arange(n)

        # still: no step of STILL_STEP_S beyond the limits for STILL_WINDOW_S (a NaN is
        # never within them)
        back = all_t.searchsorted(t - STILL_STEP_S, "right") - 1  # -1: no sample that early
        calm = (np.abs(all_g[idx] - all_g[back]) <= STILL_AXIAL_DEG) & (
            np.abs(all_p[idx] - all_p[back]) <= STILL_PITCH_DEG
        )
        calm &= back >= 0
        busy = np.maximum.accumulate(np.where(calm, -1, np.arange(n)))
        t_busy = np.where(busy >= 0, t[np.maximum(busy, 0)], self._t_busy)
        still = t - t_busy >= STILL_WINDOW_S

        # walk the still stretches: classify each when it starts; the references they fix
        ref_idx = np.full(n, -1, np.int64)  # per sample, its reference in all_*, -1: carried
        edges = np.flatnonzero(np.diff(still.astype(np.int8))) + 1
        starts = [0, *edges.tolist()]
        ends = [*edges.tolist(), n]
        done = 0  # samples before this are in the peak already
        for a, b in zip(starts, ends, strict=True):
            if not still[a]:
                self._run_start_t = None
                continue
            if self._run_start_t is None:  # a new still stretch: a rest, or a hold at the top?
                self._track_peak(grav[done : a + 1])
                done = a + 1
                self._run_start_t = float(t[a])
                self._run_is_rest = self._is_rest(float(grav[a]), float(pitch[a]))
                if self._run_is_rest:
                    if self._peak > MIN_REST_TOLERANCE_DEG:
                        self._kick_g = self._peak
                    self._peak = 0.0
            if not self._run_is_rest:
                continue
            # within a rest: each sample's reference is the one REST_LAG_S before it, once the
            # rest has lasted that long
            lagged = np.flatnonzero(t[a:b] - self._run_start_t >= REST_LAG_S)
            if len(lagged):
                j = a + int(lagged[0])
                ref_idx[j:b] = all_t.searchsorted(t[j:b] - REST_LAG_S, "right") - 1
                self._ref_g = float(all_g[ref_idx[b - 1]])
                self._ref = all_y[:, ref_idx[b - 1]].copy()
                self._peak = 0.0
                done = b
        self._track_peak(grav[done:])
        if not still[-1]:
            self._run_start_t = None
        self._t_busy = float(t_busy[-1])

        # the signal: the turn from each sample's reference (the latest fixed at or before it,
        # else the one in force when the chunk began), in the kick's direction, on the baseline
        fixed = np.maximum.accumulate(ref_idx)
        j = int(np.argmax(fixed >= 0)) if fixed[-1] >= 0 else n  # the first fixed in the chunk
        first = 0 if carried is not None else j  # samples before it have no reference yet
        turn = np.zeros(n)
        if carried is not None and j > 0:
            turn[:j] = axial_turn_deg(x_axis[:, :j], y_axis[:, :j], carried)
        if j < n:
            refs = all_y.take(fixed[j:], axis=1)
            turn[j:] = axial_turn_deg(x_axis[:, j:], y_axis[:, j:], refs)
        if first < n:
            out[first:] = self._directed(turn[first:], ref_idx[first:] >= 0)

        # keep what the next samples may look back to: the sample at or before REST_LAG_S and
        # STILL_STEP_S ago (a reference, a step)
        look_back = max(REST_LAG_S, STILL_STEP_S)
        keep = max(int(all_t.searchsorted(all_t[-1] - look_back, "right")) - 1, 0)
        self._tail_t, self._tail_y = all_t[keep:], all_y[:, keep:]
        self._tail_g, self._tail_p = all_g[keep:], all_p[keep:]
        return out

    def _directed(self, turn: np.ndarray, sliding: np.ndarray) -> np.ndarray:
        """The rep signal from the signed turns (``sliding``: the sample's reference is the one
        ``REST_LAG_S`` before it, in a rest): see the module docstring (the kick's direction,
        the baseline).

        Per sample: where a rest's reference starts to slide, the baseline becomes the last
        output and the largest turn so far (if a kick) becomes the previous kick; outside a
        rest, the direction is set by the first turn past ``REST_TOLERANCE_DEG`` and flips where
        the turn the other way exceeds the tolerance, half the previous kick and the largest
        turn this way; the output is the baseline plus the turn in the direction. Walked a run
        of samples at a time (the state changes only at a rest's start and at a flip), with NaN
        turns leaving the largest turn as it was."""
        n = len(turn)
        out = np.empty(n)
        if n == 0:
            return out
        sign, base, most, last = self._sign, self._base, self._most, self._last
        kick, was_sliding = self._kick, self._sliding
        edges = np.flatnonzero(sliding[1:] != sliding[:-1]) + 1
        for a, b in zip([0, *edges.tolist()], [*edges.tolist(), n], strict=True):
            if sliding[a]:
                if not was_sliding:  # a rest's reference starts to slide: the new baseline
                    base = last
                    if most > REST_TOLERANCE_DEG:
                        kick = most
                    most = 0.0
                was_sliding = True
                out[a:b] = base + (sign * turn[a:b] if sign else np.abs(turn[a:b]))
                last = float(out[b - 1])
                continue
            was_sliding = False
            i = a
            while i < b:
                if sign == 0.0:
                    past = np.flatnonzero(np.abs(turn[i:b]) > DIRECTION_DEG)
                    j = i + int(past[0]) if len(past) else b
                    out[i:j] = base + np.abs(turn[i:j])
                    if j == b:
                        break
                    sign = 1.0 if turn[j] > 0 else -1.0
                else:
                    along = sign * turn[i:b]
                    # the largest turn this way before each sample (NaN leaves it unchanged)
                    before = np.fmax.accumulate(np.concatenate(([most], along)))
                    floor = max(REST_TOLERANCE_DEG, RETURN_FRACTION * kick)
                    flips = np.flatnonzero(-along > np.maximum(before[:-1], floor))
                    if len(flips) == 0:
                        out[i:b] = base + along
                        most = float(before[-1])
                        break
                    k = int(flips[0])
                    out[i : i + k] = base + along[:k]
                    most = float(before[k])
                    j = i + k
                    sign = -sign  # a kick the other way (with the other leg)
                c = float(turn[j])
                if sign * c > most:
                    most = sign * c
                out[j] = base + sign * c
                i = j + 1
            last = float(out[b - 1])
        self._sign, self._base, self._most, self._last = sign, base, most, last
        self._kick, self._sliding = kick, was_sliding
        return out

    def _is_rest(self, grav: float, pitch: float) -> bool:
        if abs(grav) < START_AXIAL_DEG and abs(pitch) < START_PITCH_DEG:
            return True
        if self._ref is None:
            return False
        turn = abs(grav - self._ref_g)
        if turn < RETURN_FRACTION * self._peak:
            return True
        at_top = self._peak > MIN_REST_TOLERANCE_DEG and turn >= AT_TOP_FRACTION * self._peak
        return turn < self._tolerance() and not at_top

    def _tolerance(self) -> float:
        """How far from the previous rest a still stretch may be and still be a rest:
        ``RETURN_FRACTION`` of the previous kick, within ``MIN_REST_TOLERANCE_DEG`` and
        ``REST_TOLERANCE_DEG``."""
        scaled = RETURN_FRACTION * self._kick_g
        return min(REST_TOLERANCE_DEG, max(MIN_REST_TOLERANCE_DEG, scaled))

    def _track_peak(self, grav: np.ndarray) -> None:
        if self._ref is not None and len(grav):
            hi, lo = float(np.fmax.reduce(grav)), float(np.fmin.reduce(grav))
            self._peak = max(self._peak, hi - self._ref_g, self._ref_g - lo)
