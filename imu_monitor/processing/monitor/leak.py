"""How much of the lumbar angle leaks into the rep signal, measured from the session's own reps.

A back kick timed from the pelvis (one or two sensors) times each rep from the pelvis' turn
about its long axis. An error of a degree or two in the calibrated pelvic axes turns a share
``k`` of every pitch of the pelvis into that turn (``k`` is the error in radians, with a sign;
``rep_signal``), and a lumbar fault pitches the pelvis by 10-30 deg at 25-50 deg/s: at 2 % that
is 0.5-1 deg/s, against the 0.3 deg/s (5 % of the kick's peak speed) that marks the kick's onset
and offset. The axes cannot be calibrated that well: the accelerometer's offset along the pelvis'
lateral axis tilts both calibration postures alike and the stand-to-start turn, about that same
axis, cannot see it; its gyro-measured axis would, but a person who kneels down facing a few
degrees away from where they stood tilts that axis as much (docs/accuracy.md).

The reps can. A kick's speed is one rise and one fall; the lumbar angle's speed in a faulty rep
is a pulse (or, in a rocking rep, several) of its own timing. Leaked into the turn, the pulse
shows as a bump on the kick's speed: a second hump, a shoulder, a hold that is not still. So the
leak is the ``k`` for which the turn's speed less ``k`` times the lumbar angle's has the fewest
bumps: the least total variation beyond what one rise and one fall need (twice the speed's
range), and likewise of its acceleration, which sees a shoulder where the speed only runs on
(``excess``). The kick and the fault moving together does not fool it as it fooled a regression
of one speed on the other (docs/accuracy.md): a pulse that only changes the height of the kick's
own rise changes the total variation and the range alike.

With two sensors the lumbar angle is the joint angle, and only the pelvis' share of a fault
pitches the sacrum: ``k`` is then the leak per degree of the lumbar angle, right as long as the
pelvis takes a similar share of each fault (in the simulator it takes all of it).

Each rep gives a curve of that excess over a grid of ``k``; the session's estimate is the ``k``
that minimises their sum over the reps so far (each curve less its own minimum, so a rep only
says where it prefers, not how noisy it is), plus a prior that keeps it near 0 where the reps say
little (``PRIOR_SD`` and ``PRIOR_DEG_S``: a good rep's curve wanders by 0.1-0.4 deg/s over the
grid). On simulated people (``benchmarks/bench_leak.py``, one sensor, 2026-12-07) the sessions'
leaks are -5.2 to +3.2 %, and the estimate from a whole session is off by 0.50 % RMS (at most
0.94) on seeds 0-19, 0.40 (0.87) on 100-119 and 0.46 (1.19) on 7000-7019, with the sign right in
47 of the 49 sessions whose leak is over 0.5 %. Only reps whose lumbar angle moved
(``MIN_LUMBAR_RANGE_DEG``) are measured. ``RepConfig.lumbar_leak``'s allowance (1 %)
covers what it leaves. It cannot see a leak that only changes how fast the kick moves where it
is moving anyway (a fault that rises and falls within the kick's own speeding up or slowing
down, in its direction): that looks like the kick's own speed. Results do not depend on
chunking: a rep adds its curve once it has ended.
"""

from __future__ import annotations

import math

import numpy as np

STEP = 0.0025
"""The grid of leaks tried: every this much (0.25 %) ..."""
MAX = 0.15
"""... up to this either way (15 %: an 8.6 deg error in the pelvic axes, what a 150 mg offset
along its lateral axis gives; simulated people with 40 mg offsets (sd) had leaks up to 10.8 %,
and at 8 % that session's lowering of a rep was timed 0.31 s off)."""
PRIOR_SD = 0.015
"""The leak's prior sd (1.5 %: the simulated people's leaks, seeds 0-19, have an sd of 1.6 %) ..."""
PRIOR_DEG_S = 0.02
"""... weighted so that a leak of one sd costs this much excess (deg/s): a leak of 8 % costs
0.57, more than a good rep's curve wanders (0.1-0.4), and one of 4.5 % costs 0.18, far less than
a faulty rep's dip (1-7). (Tried instead, a cost growing with |k|, 0.5 at 8 % as this one:
a session of seeds 100-119 then had a phase 246 ms off.)"""

MIN_LUMBAR_RANGE_DEG = 5.0
"""Only a rep whose lumbar angle moved at least this far (deg, its range over the rep) measures
the leak: a fault moves it 10-30 deg, good form 1-3. A good rep's own small tilt comes with the
kick, and taking the turn's shape as leak of it, forty good reps in a row (simulated people,
seeds 0-7, no fault) had measured leaks of -6.75 to +9 % where the true ones were -1.9 to
+1.9 %."""
ACC_SMOOTH_S = 0.05
"""The acceleration is the speed's change over this long (s), divided by it ..."""
ACC_WEIGHT_S = 0.05
"""... and its excess counts this many seconds' worth (deg/s^2 -> deg/s) beside the speed's."""

GRID = np.linspace(-MAX, MAX, int(round(2 * MAX / STEP)) + 1)
_PRIOR = PRIOR_DEG_S * (GRID / PRIOR_SD) ** 2


def _beyond_one_swing(x: np.ndarray) -> np.ndarray:
    """Per row of ``x``: its total variation less twice its range (0 for one rise and one fall,
    or one fall and one rise)."""
    tv = np.abs(np.diff(x, axis=1)).sum(axis=1)
    return tv - 2.0 * (x.max(axis=1) - x.min(axis=1))


def excess(speed: np.ndarray, lumbar_speed: np.ndarray, dt: float) -> np.ndarray:
    """For each leak ``k`` in ``GRID``: the bumps of ``speed - k * lumbar_speed`` (deg/s, both
    (n,), one rep's samples ``dt`` s apart): its total variation beyond one rise and one fall,
    plus that of its acceleration (one rise and one fall per movement of a smooth kick), times
    ``ACC_WEIGHT_S``. The acceleration sees what the speed alone does not: a leak in the kick's
    own direction that only lengthens the rise or the lowering (a shoulder on the speed, a second
    pulse of the acceleration)."""
    x = speed[None, :] - GRID[:, None] * lumbar_speed[None, :]
    out = _beyond_one_swing(x)
    width = max(1, int(round(ACC_SMOOTH_S / dt)))
    if x.shape[1] > width + 2:
        acc = (x[:, width:] - x[:, :-width]) / (width * dt)
        out = out + ACC_WEIGHT_S * _beyond_one_swing(acc)
    return out


class LeakEstimate:
    """The session's leak so far (module docstring). ``for_rep`` gives a rep's leak from the
    reps before it and its own samples; ``commit`` adds that rep once it has ended."""

    def __init__(self) -> None:
        self._sum = np.zeros(len(GRID))
        self._pending: np.ndarray | None = None
        self.reps = 0
        """Reps whose curves are in the estimate."""

    def for_rep(
        self, speed: np.ndarray, lumbar_speed: np.ndarray, dt: float, lumbar_range_deg: float
    ) -> float:
        """The leak to take off this rep's speed (a fraction, signed; samples ``dt`` s apart). A
        rep whose lumbar angle moved less than ``MIN_LUMBAR_RANGE_DEG`` over them
        (``lumbar_range_deg``) is not measured: it gets the leak of the reps before it."""
        self._pending = None
        if len(speed) < 3 or not dt > 0 or not lumbar_range_deg >= MIN_LUMBAR_RANGE_DEG:
            return self.value
        own = excess(speed, lumbar_speed, dt)
        self._pending = own - own.min()
        return self._best(self._sum + self._pending)

    def commit(self) -> None:
        """The rep last given to ``for_rep`` has ended: its curve joins the estimate."""
        if self._pending is not None:
            self._sum += self._pending
            self.reps += 1
        self._pending = None

    @property
    def value(self) -> float:
        """The leak from the ended reps alone."""
        return self._best(self._sum)

    @staticmethod
    def _best(curve: np.ndarray) -> float:
        return float(GRID[int(np.argmin(curve + _PRIOR))])


def describe(leak: float) -> str:
    """A measured leak (a fraction, signed) as users read it: what the pelvis' turn carried and
    the error in the calibrated pelvic axes it means."""
    pct = round(100.0 * leak, 2)  # (the grid's float noise off: the same text from any copy)
    axes_deg = math.degrees(abs(leak))
    return (
        f"the pelvis' turn the reps are timed from carried {pct:+.1f} % of the lumbar "
        f"angle's movement (the calibrated pelvic axes about {axes_deg:.1f} deg off); measured "
        "from the reps and taken off their timing"
    )
