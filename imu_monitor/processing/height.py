"""How high a sensor is: what tells lowering the hips from arching the back at the top.

With one sacrum sensor in a hip thrust or glute bridge, the rep signal is the pelvis' tilt, and a
lumbar fault at the lockout tilts the pelvis the same way as lowering the hips does: in a bridge
an arch of 9-15 deg against a whole movement of 17-35 deg of tilt looked like a shallower bottom
and split the rep in two. The hips' height does not have that ambiguity: lowering them takes the
sacrum down by the rep's whole rise (13-35 cm), an arch at the top by 2-3 cm (the pelvis turns
about the lumbar spine; the hips stay up).

``HeightTracker`` integrates the accelerometer's vertical component (world frame, from the
orientation filter) twice over each movement between two still moments, where the velocity is
zero (zero-velocity updates, as pedestrian dead reckoning does with a foot's stance). What the
accelerometer gets wrong there (offset, scale error, the filter's inclination error) is a bias
that follows the sensor's orientation: each still moment measures it, and a model of it, linear
in the direction of gravity in the sensor's frame (an offset's projection is exactly that; a
scale error nearly so over the tilts of one exercise), is fitted to the still moments of the last
``BIAS_MODEL_S``. Along a movement the bias is the model's at each sample's orientation, plus
what the model misses at the two ends, interpolated in time. A faulty rep's lowering starts from
an arched hold and passes through the neutral top on its way down: the model knows the bias
there from the other reps' holds, which a straight interpolation between the two ends did not
know (that lowering read 23 cm for 15). The height is known at still
samples (NaN while moving) and where a movement turns back (a touch-and-go bottom, never still:
``TURN_MIN_DEG``), relative to the first still moment; errors add up from
movement to movement, so compare heights a few movements apart, not a session apart. Across a gap
in the data the acceleration is taken as straight between its ends: a sensor still on both sides
of a gap has not changed height, whatever it did meanwhile. Within a movement, the velocity a
gap's straight line gets wrong is what the zero-velocity ends correct, so the correction goes
there rather than spread over the movement's time (``_drift``): at 52 Hz a lost burst (4-8
samples, 77-154 ms) at the start of a fast rise had put a bottom 16 cm above the one before
(worst height error, one-sensor hip thrust and bridge at 52 Hz, seeds 0-19 ; 100-119: 2.6 ;
15.9 and 5.4 ; 26.6 cm -> 2.6 ; 2.7 and 2.2 ; 2.6 cm; at 200 Hz unchanged, 1.8 and 1.7).
``benchmarks/bench_height.py`` measures it against the simulator's sensor positions (simulated
people: skin motion, accelerometer offsets and scale errors; 2026-12-06): the change of height
between still moments 1-6 s apart is within 0.7 cm in 90 % of pairs and 2.0 cm at worst at
200 Hz (the offline and the live filter alike), 0.8 / 2.6 cm at 52 Hz (2.8 before the still
test took the gyro, 5.4 before gaps were corrected as above; the early heights included; held-out
seeds 7100-7119: 0.8-1.1 / 3.0-6.7, 39 before the gyro), and up to 16 cm at 10 Hz
(``MIN_RATE_HZ``); a person 1.6 times slower than the tempo (``--tempo-scale 1.6``): 1.1 / 5.7
cm (before the model and ``STILL_TURN_DEG``: 3.2 / 10.3). CPU per hour of data: 1.4-1.8 s in
one call (0.3 before ``held`` below), 15-17 s fed in 10-sample chunks as live (11-12 before).

Between still moments the tracker also says whether the hips are held up
(``HeightTracker.held``): the vertical velocity integrated forward from the last still moment
(one-ended, so only over a few seconds: ``HELD_SPAN_S``) is small and the hips have not come
down from the top of their rise. That is known while the pelvis still tilts, so the one-sensor
lockout gate judges an arch as it happens rather than once the tilt is still
(``monitor.lockout``). The velocity against the simulator's over the exercise's movements
(``bench_height.py``, seeds 0-19, p50 / p90 / max): hip thrusts 0.6 / 2.2 / 13 cm/s, bridges
0.4 / 1.4 / 4.5. Held up at every arch's true crossing of the limit plus the dwell (39 of 39
each), at none of the good reps' ways down where the reading passes the limit (0 of 160 each).
"""

from __future__ import annotations

import math

import numpy as np

from imu_monitor.exercises import Exercise
from imu_monitor.processing.angles import rep_signal_is_sacrum_tilt
from imu_monitor.processing.monitor.lockout import window_range

STANDARD_GRAVITY_M_S2 = 9.80665
STILL_WINDOW_S = 0.25
"""A sample is still when the last this long (it included) was: the window also gives the still
moment's accelerometer bias and orientation."""
STILL_ACC_RANGE_M_S2 = 0.15
"""Largest range of the vertical acceleration (averaged over ``ACC_MEAN_S``) over a still
window (at rest the noise and skin make 0.05-0.15 m/s^2)."""
ACC_MEAN_S = 0.04
"""The vertical acceleration's range is taken of its mean over this long (s) at each sample:
an accelerometer's white noise alone spans 4-5 sd over a still window's 50 samples (200 Hz),
and an MPU-6050-class part (4 mg rms) made that 0.16-0.2 m/s^2, so a still bridge or hip
thrust had no still moment, hence no height (simulated one-sensor bridge: 9 of 20 sessions
counted exactly). A movement's acceleration changes over tenths of a second: its range hardly
moves."""
STILL_TURN_DEG = 0.15
"""Largest turn of the sensor over a still window (0.6 deg/s): of the filter's inclination or,
where the filter gives it (``OrientationResult.turn_rate_rad_s``), of the gyro's (its bias
estimate off; its part about the vertical left out, as the inclination leaves it). The filter's
inclination also moves while it settles towards the accelerometer, which the sensor does not:
after a burst of samples lost inside a fast rep (52 Hz, 0.15 s) it settled by 0.17-0.27 deg per
window for seconds at the bottom that followed; that bottom had no still moment, and the next
rep's height came from a movement integrated across two reps (live one-sensor bridge, seed
7119: an arched rep and the good one after it counted as one). The gyro alone would not do
either: the bias it keeps (0.1-0.3 deg/s) turns it by up to half the limit per window, which the
filter's inclination, held by the accelerometer, does not (online still share 0.47 -> 0.44).
A bridge's 2 s lowering changes its vertical acceleration by less than the range above, so the
turn is what tells it from rest: 2-3.5 deg per window in its middle, 0.4-1 deg in its last
tenths of a second. A slower lowering (3-4 s, a person at 1.6-2 times the exercise's tempo)
moves its acceleration by only +-0.06 m/s^2 and turns the pelvis under 1.2 deg/s for its first
and last few tenths of a second: at 0.3 deg (1.2 deg/s) those tails passed for still, the bias
was taken inside the movement, and a 15 cm lowering read as 6-9 cm (a bottom taken for an
arched lockout). At 0.1 deg the live filter's hip thrust at 1.6 times the tempo lost a bottom's
still moment."""
EARLY_WINDOW_S = 0.1
"""A movement still over this long (the same acceleration range, the inclination's turn in
proportion) gets an early height (``HeightTracker``), before a still window of
``STILL_WINDOW_S`` has passed: an arch far off a bridge's top is judged 0.15-0.3 s sooner."""
CONFIRM_S = 0.15
"""A still stretch ends a movement once it has lasted this long (a pause shorter than that in
a movement's tail belongs to the movement); the bias after the movement is the mean over that
time, clear of the movement's last deceleration (the still window before it may hold some)."""
MIN_RATE_HZ = 25.0
"""Below this sample rate the height is not used (``height_usable``): at 10 Hz a still window
holds 3 samples, and heights were off by up to 51 cm (``benchmarks/bench_height.py``)."""
BIAS_MODEL_S = 60.0
"""The bias model is fitted to the still moments of the last this long (s): the same postures
come back rep after rep, and the accelerometer's errors do not change within a minute."""
TURN_MIN_DEG = 5.0
"""A turning point (``HeightTracker``): the sensor's inclination, having turned at least this far
from the last still moment or turning point, turns back ``TURN_BACK_DEG``..."""
TURN_BACK_DEG = 1.5
"""... this far. Its largest turn is taken as the moment the movement reversed: a hip thrust's or
bridge's sacrum tilts with the hips' height, so there the hips' vertical speed is zero too (a
touch-and-go bottom, 0.25-0.5 s, is never still for ``STILL_WINDOW_S`` + ``CONFIRM_S``)."""
TURN_MAX_CORRECTION_M = 0.06
"""... unless taking the velocity the integral has there (since the last zero) for drift moves the
height by more than this (m; at the touch-and-go bottoms of simulated bridges 1-3.5 cm): the
pelvis can stop turning while the hips still move (where an arch is let go of as the lowering
begins; 0.1-0.35 m/s), or the largest turn of a short rest falls at the start of the next rise.
Touch-and-go one-sensor bridges and hip thrusts, seeds 0-19, 100-119 and 500-519 (120 sessions):
reps exact in 113 at 0.06 or 0.08 m, 108 at 0.04, 107 at 0.03; a speed limit of 0.1 m/s instead:
110 (without turning points: 89)."""
TURN_MAX_SPAN_S = 20.0
"""No turning point more than this long (s) after the last still moment: the integral's error grows
with the square of the time (and each turning point integrates all of it again)."""
HELD_SPEED_M_S = 0.10
"""The hips are held up (``HeightTracker.held``) while their vertical speed, integrated from the
last zero of the velocity, is at most this (m/s)..."""
HELD_DROP_M = 0.03
"""... and they are at most this far (m) below the top of their latest rise (``_rise_tops``; an
arch takes them 0.4-1.9 cm down)..."""
HELD_RISE_M = 0.05
"""... which is at least this far (m) above where that rise began: they came up from the bottom
(a bridge rises 10-35 cm). Without it, a slow lowering with a still moment on its way (a person
1.6 times slower than the tempo) measured its drop from there, and its bottom passed for held
up."""
HELD_SPAN_S = 4.0
"""No such speed more than this long (s) after the last zero of the velocity (a still moment or
a pause): the integral's error grows with the time."""
GAP_STEPS = 1.5
"""A time step longer than this many times the median is a gap in the data (lost samples)."""
BIAS_RESIDUAL_M_S2 = 0.02
"""What the bias model typically misses along a movement (m/s^2; ``_drift``)."""
BIAS_RIDGE = 1e-3
"""Ridge weight on the model's orientation terms (per still moment, (m/s^2) per unit of
direction): with the few postures of one exercise the direction it cannot see stays near 0."""


def fit_bias_model(ups: np.ndarray, biases: np.ndarray) -> np.ndarray:
    """``[c, ox, oy, oz]`` of the bias model ``c + o . up`` (m/s^2), least squares over still
    moments: ``ups`` (k, 3), the direction of gravity (world up) in the sensor's frame at each,
    ``biases`` (k,), the vertical acceleration less gravity measured there."""
    x = np.hstack([np.ones((len(ups), 1)), np.asarray(ups, dtype=np.float64)])
    reg = BIAS_RIDGE * len(ups) * np.diag([0.0, 1.0, 1.0, 1.0])
    return np.linalg.solve(x.T @ x + reg, x.T @ np.asarray(biases, dtype=np.float64))


def height_usable(rate_hz: float) -> bool:
    """Whether a sensor streaming at ``rate_hz`` gives a usable height (``MIN_RATE_HZ``)."""
    return rate_hz >= MIN_RATE_HZ


def height_checked(
    exercise: Exercise, placements: list[str] | tuple[str, ...], rate_hz: float
) -> bool:
    """Whether the monitor checks the hips' height, in a recording's analysis and live alike:
    the rep signal is the sacrum's own tilt and the sacrum sensor (``rate_hz``) is fast enough."""
    return rep_signal_is_sacrum_tilt(exercise, placements) and height_usable(rate_hz)


def vertical_acc_m_s2(quat_ws: np.ndarray, acc_m_s2: np.ndarray) -> np.ndarray:
    """The specific force along the world's vertical, less standard gravity (m/s^2), shape (n,).

    ``quat_ws``: (n, 4) sensor-to-earth orientations (w, x, y, z), as ``orientation`` gives them;
    ``acc_m_s2``: (n, 3) the same samples' accelerometer readings, sensor frame.
    """
    return _vertical(world_up_in_sensor(quat_ws), acc_m_s2)


def world_up_in_sensor(quat_ws: np.ndarray) -> np.ndarray:
    """The world's vertical in sensor coordinates (the third row of each rotation), (n, 3).
    Element by element, so that any chunking gives the same bits (``frames.up_in_segment``
    gives the same vector through a matrix product, whose rounding depends on the chunk's
    length, and ``HeightTracker`` promises identical heights for any chunking)."""
    q = np.asarray(quat_ws, dtype=np.float64)
    w, x, y, z = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    return np.stack([2.0 * (x * z - w * y), 2.0 * (y * z + w * x), 1.0 - 2.0 * (x * x + y * y)], 1)


def _vertical(up: np.ndarray, acc_m_s2: np.ndarray) -> np.ndarray:
    """``vertical_acc_m_s2`` from the world's vertical in sensor coordinates (n, 3)."""
    acc = np.asarray(acc_m_s2, dtype=np.float64)
    return np.einsum("ij,ij->i", up, acc) - STANDARD_GRAVITY_M_S2


def _still_windows(
    all_t: np.ndarray,
    means: np.ndarray,
    all_u: np.ndarray,
    k: int,
    window_s: float,
    all_c: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Whether the window of ``window_s`` ending at each sample from ``k`` on was still, and
    each window's first sample: from the last sample at or before its start (a window the data
    do not reach back over is no still moment); the vertical acceleration's range (of its means
    over ``ACC_MEAN_S``, ``means``: over the window's readings alone) and the sensor's turn
    (``STILL_TURN_DEG`` per ``STILL_WINDOW_S``): that of the inclination ``all_u`` or, where
    given, of ``all_c``, the gyro's integral (rad, (n, 3))."""
    n = len(all_t) - k
    back = all_t[k:] - window_s
    first = np.maximum(np.searchsorted(all_t, back, side="right") - 1, 0)
    full = all_t[first] <= back
    first_a = np.maximum(np.searchsorted(all_t, back + ACC_MEAN_S, side="right") - 1, 0)
    acc_range = window_range(means, first_a, np.arange(k + 1, k + n + 1))
    turn = math.radians(STILL_TURN_DEG * window_s / STILL_WINDOW_S)
    steady = np.einsum("ij,ij->i", all_u[first], all_u[k:]) >= math.cos(turn)
    if all_c is not None:
        # or the gyro's turn (over a few tenths of a degree, the sum of the steps is the rotation
        # vector) less its part about the vertical, which the inclination does not see either
        d = all_c[k:] - all_c[first]
        u = all_u[k:]
        d = d - np.einsum("ij,ij->i", d, u)[:, None] * u
        steady |= np.linalg.norm(d, axis=1) <= turn
    still = full & (acc_range <= STILL_ACC_RANGE_M_S2) & steady
    return still, first


def _recent_mean(t: np.ndarray, a: np.ndarray) -> np.ndarray:
    """The mean of ``a`` over the samples of the last ``ACC_MEAN_S`` at each sample (it
    included; fewer at the start). Each mean is summed over its own samples, so it does not
    depend on where the arrays begin (``HeightTracker`` joins a tail to each chunk)."""
    n = len(a)
    if n == 0:
        return a
    start = np.searchsorted(t, t - ACC_MEAN_S, side="right")
    edges = np.empty(2 * n, dtype=np.intp)
    edges[0::2], edges[1::2] = start, np.arange(1, n + 1)
    sums = np.add.reduceat(np.append(a, 0.0), edges)[0::2]
    return sums / (np.arange(1, n + 1) - start)


class HeightTracker:
    """The height (m) of one sensor at its still samples, chunk by chunk (any chunking gives the
    same result): ``update`` returns it for each sample, NaN while moving, before a still
    stretch has lasted ``CONFIRM_S`` and before the first. Relative to the first still moment.

    Early heights, before that: at the first sample of a movement still over
    ``EARLY_WINDOW_S``, and at a still stretch's first sample (``CONFIRM_S`` before its own),
    integrated from the last still moment with zero velocity at both ends, the bias the model's
    (the bias after the movement is not measured yet) and no turning point in between (at an
    arch the pelvis turns back while the hips still rise: anchored there, an arched lockout read
    7 cm low, a bottom). A still stretch too short to be a still moment is a zero of the
    velocity for what comes after it (``_pauses``): without it, the turning points after a
    0.5 s rest were integrated over 2.5 s and read 20 cm off. Against the still moment's own
    height that follows within 0.6 s (seeds 0-19, past the move into position, where the model
    has not yet seen the exercise's postures: up to 7 cm), p90 / worst: bridges 0.5 / 2.4 cm,
    hip thrusts 0.7 / 3.1 cm.

    ``turning_points``: also the height where a movement reverses (``TURN_MIN_DEG``,
    ``TURN_BACK_DEG``), integrated from the last still moment with zero velocity at both ends
    (the bias there is the model's), given at the sample that confirms the reversal (1.5 deg of
    turn later) and only there: the only height a touch-and-go bottom has. The still moments'
    heights do not depend on it."""

    def __init__(self, turning_points: bool = True) -> None:
        self.turning_points = turning_points
        self.height_m = math.nan
        """The height at the latest still moment (NaN before the first)."""
        self._tail_t = np.zeros(0)
        self._tail_a = np.zeros(0)
        self._tail_u = np.zeros((0, 3))
        """The samples of the last two ``STILL_WINDOW_S`` before this chunk (and one more)."""
        self._tail_c: np.ndarray | None = np.zeros((0, 3))
        """The gyro's integral (rad) at those samples (None: the turn rate was not given)."""
        self._turn_rate_last = np.zeros(3)
        self._moving: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        """The movement since the last still moment: (t, vertical acc, up) pieces, starting a
        still window before that moment's last sample."""
        self._run_t0: float | None = None
        """First sample time of the still stretch going on (None while moving)."""
        self._confirmed = False
        """Whether that stretch has lasted ``CONFIRM_S`` (it is a still moment)."""
        self._bias = math.nan
        self._up = np.zeros(3)
        """The latest still window's mean vertical acceleration and inclination."""
        self._moments: list[tuple[float, np.ndarray, float]] = []
        """(time, up, bias) of the still moments the bias model is fitted to (``BIAS_MODEL_S``)."""
        self._turn_ref = np.zeros(3)
        """The inclination turns are measured from (the last still moment's or turning point's)."""
        self._turn_max = 0.0
        self._turn_max_t = math.nan
        self._turn_max_up = np.zeros(3)
        """The largest turn from ``_turn_ref`` since then (deg), its time and inclination."""
        self._anchors: list[float] = []
        """Times of the turning points since the last still moment (zero velocity there)."""
        self._pauses: list[float] = []
        """Times of still stretches since then too short to be still moments (zero velocity)."""
        self._early_prev = False
        self.held = np.zeros(0, bool)
        """Per sample of the latest chunk, whether the hips are held up while not yet still
        (``_held``): moving at most ``HELD_SPEED_M_S``, at most ``HELD_DROP_M`` below the top of
        their latest rise. False at still moments (their height is known) and where it cannot
        tell."""
        self.velocity_m_s = np.zeros(0)
        """Per sample of the latest chunk, the hips' vertical velocity (m/s, up positive) where
        ``held`` knows it between still moments; 0 at still moments; NaN elsewhere."""

    def update(
        self,
        t_s: np.ndarray,
        acc_m_s2: np.ndarray,
        quat_ws: np.ndarray,
        turn_rate_rad_s: np.ndarray | None = None,
    ) -> np.ndarray:
        """Feed one chunk: times (n,), accelerometer readings (n, 3), orientations (n, 4) and,
        where known, the sensor's turn rate (n, 3; ``OrientationResult.turn_rate_rad_s``) for
        the still test (``STILL_TURN_DEG``)."""
        t = np.asarray(t_s, dtype=np.float64)
        n = len(t)
        out = np.full(n, math.nan)
        self.held = np.zeros(n, bool)
        self.velocity_m_s = np.full(n, math.nan)
        if n == 0:
            return out
        up = world_up_in_sensor(quat_ws)
        az = _vertical(up, acc_m_s2)
        all_t = np.concatenate([self._tail_t, t])
        all_a = np.concatenate([self._tail_a, az])
        all_u = np.concatenate([self._tail_u, up])
        k = len(self._tail_t)
        all_c = self._turn_integral(t, turn_rate_rad_s)
        # the still window ending at each sample of the chunk: [first, k + i]
        means = _recent_mean(all_t, all_a)
        still, first = _still_windows(all_t, means, all_u, k, STILL_WINDOW_S, all_c)
        early = _still_windows(all_t, means, all_u, k, EARLY_WINDOW_S, all_c)[0]
        early_from = early & ~np.concatenate([[self._early_prev], early[:-1]])

        def mean(a: int, b: int) -> tuple[float, np.ndarray]:
            """Mean vertical acceleration and inclination of joined samples a..b (inclusive;
            a mean of the same samples whatever the chunking)."""
            return float(all_a[a : b + 1].mean()), all_u[a : b + 1].mean(axis=0)

        i = 0
        while i < n:
            j = i + int(np.argmax(still[i:] != still[i])) if (still[i:] != still[i]).any() else n
            if not still[i]:
                self._run_t0, self._confirmed = None, False
                self._add_moving(t[i:j], az[i:j], up[i:j])
                self.held[i:j], self.velocity_m_s[i:j] = self._held(t[i:j])
                for e in np.flatnonzero(early_from[i:j]):
                    out[i + e] = self._early_height(float(t[i + e]))
                if self.turning_points and self._moving:
                    self._turning_points(t[i:j], up[i:j], out[i:j])
                i = j
                continue
            if self._run_t0 is None:
                self._run_t0 = float(t[i])
                if self._moving and math.isfinite(self.height_m):
                    out[i] = self._early_height(self._run_t0)
                    self._pauses.append(self._run_t0)
            c = i
            if not self._confirmed:
                c = i + int(np.searchsorted(t[i:j], self._run_t0 + CONFIRM_S - 1e-9))
                self._add_moving(t[i:c], az[i:c], up[i:c])
                self.held[i:c], self.velocity_m_s[i:c] = self._held(t[i:c])
                if c < j:
                    self._confirmed = True
                    # after the movement: from the stretch's first sample on (the still window
                    # before it can hold the movement's last deceleration)
                    bias, u = mean(int(np.searchsorted(all_t, self._run_t0)), k + c)
                    if math.isnan(self.height_m):
                        self.height_m = 0.0
                    else:
                        self.height_m += self._movement_height(bias, u)
            if self._confirmed:
                out[c:j] = self.height_m
                self.velocity_m_s[c:j] = 0.0
                # the next movement starts a still window before the stretch's last sample: it
                # may have begun within that window (its first tenths of a second move little
                # but accelerate); the bias before it is the mean over the window before that
                last = k + j - 1
                run0 = int(np.searchsorted(all_t, self._run_t0))
                anchor = max(int(first[j - 1]), run0)
                since = max(int(np.searchsorted(all_t, all_t[anchor] - STILL_WINDOW_S)), run0)
                self._bias, self._up = mean(since, anchor) if anchor > since else mean(run0, last)
                self._moving = [
                    (all_t[anchor : last + 1], all_a[anchor : last + 1], all_u[anchor : last + 1])
                ]
                self._turn_ref, self._turn_max, self._anchors = self._up, 0.0, []
                self._pauses = []
            i = j
        self._early_prev = bool(early[-1])
        # keep two windows and one sample before them: the next chunk's still windows and the
        # window before a movement's start are complete
        kk = max(int(np.searchsorted(all_t, all_t[-1] - 2.0 * STILL_WINDOW_S)) - 1, 0)
        self._tail_t, self._tail_a, self._tail_u = all_t[kk:], all_a[kk:], all_u[kk:]
        self._tail_c = None if all_c is None else all_c[kk:]
        return out

    def _turn_integral(self, t: np.ndarray, rate: np.ndarray | None) -> np.ndarray | None:
        """The gyro's integral (rad, trapezoids; (tail + n, 3)) at the tail's and the chunk's
        samples, continued from the tail's (NaN at tail samples fed without a rate: no still
        window reaches back over them); None without a rate."""
        if rate is None:
            return None
        if self._tail_c is None:
            self._tail_c = np.full((len(self._tail_t), 3), math.nan)
        rate = np.asarray(rate, dtype=np.float64)
        prev_t = self._tail_t[-1:] if len(self._tail_t) else t[:1]
        prev_w = self._turn_rate_last[None, :] if len(self._tail_t) else rate[:1]
        dt = np.diff(np.concatenate([prev_t, t]))[:, None]
        steps = 0.5 * (rate + np.concatenate([prev_w, rate[:-1]])) * dt
        start = self._tail_c[-1] if len(self._tail_c) else np.zeros(3)
        if not np.isfinite(start).all():
            start = np.zeros(3)
        self._turn_rate_last = rate[-1]
        return np.concatenate([self._tail_c, start + np.cumsum(steps, axis=0)])

    def offset_changed(self, delta_m_s2: np.ndarray) -> None:
        """The accelerometer offset taken off the samples grew by ``delta_m_s2`` (sensor frame,
        m/s^2) from the next chunk on (the live monitor measures it after the first reps): what
        is kept of the samples before (the still moments' biases, the movement going on, the
        tail) is corrected alike. The bias model fits the still moments of the last minute: a
        mix of moments with and without the offset made a 12-cm lowering to a touch-and-go
        bottom read as still moving there (a bridge's rep lost, live only)."""
        d = np.asarray(delta_m_s2, dtype=np.float64)
        self._tail_a = self._tail_a - self._tail_u @ d
        self._moving = [(t, a - u @ d, u) for t, a, u in self._moving]
        self._moments = [(t, u, b - float(u @ d)) for t, u, b in self._moments]
        self._bias -= float(self._up @ d)

    def _add_moving(self, t: np.ndarray, az: np.ndarray, up: np.ndarray) -> None:
        if self._moving and len(t):  # (before the first still moment there is nothing to add to)
            self._moving.append((t, az, up))

    def _turning_points(self, t: np.ndarray, up: np.ndarray, out: np.ndarray) -> None:
        """Find the turning points among moving samples ``t``, ``up`` (already in ``_moving``);
        write each one's height into ``out`` (a view of the chunk's output) at the sample that
        confirms it."""
        i, n = 0, len(t)
        while i < n:
            cos = np.clip(up[i:] @ self._turn_ref, -1.0, 1.0)
            turn = np.degrees(np.arccos(cos))
            top = np.fmax.accumulate(np.maximum(turn, self._turn_max))
            back = np.flatnonzero((top >= TURN_MIN_DEG) & (turn <= top - TURN_BACK_DEG))
            if len(back) == 0:
                k = int(np.argmax(turn))
                if turn[k] > self._turn_max:
                    self._turn_max = float(turn[k])
                    self._turn_max_t, self._turn_max_up = float(t[i + k]), up[i + k]
                return
            c = int(back[0])
            k = int(np.argmax(turn[: c + 1]))
            if turn[k] > self._turn_max:
                self._turn_max_t, self._turn_max_up = float(t[i + k]), up[i + k]
            change = self._height_since_still(self._turn_max_t)
            if change is not None:
                out[i + c] = self.height_m + change
                self._anchors.append(self._turn_max_t)
            self._turn_ref, self._turn_max = self._turn_max_up, 0.0
            i += c + 1

    def _early_height(self, t_end: float) -> float:
        """The early height at ``t_end`` (class docstring): NaN before the first still moment,
        outside a movement, or where the integral is not trusted."""
        if not self._moving or math.isnan(self.height_m):
            return math.nan
        change = self._height_since_still(t_end, anchors=False)
        return math.nan if change is None else self.height_m + change

    def _height_since_still(self, t_end: float, anchors: bool = True) -> float | None:
        """The height change from the last still moment to ``t_end`` (a turning point: zero
        velocity there, the bias the model's), from the movement so far, the velocity zero at
        the turning points (``anchors``) and the pauses since that moment too; None where the
        integral says the sensor was
        still moving at ``t_end`` (``TURN_MAX_CORRECTION_M``) or the still moment is over
        ``TURN_MAX_SPAN_S`` back."""
        if t_end - float(self._moving[0][0][0]) > TURN_MAX_SPAN_S:
            return None
        ts, acc = self._movement_acc(t_end)
        if len(ts) < 2 or ts[-1] <= ts[0]:
            return 0.0
        zeros = sorted([*self._pauses, *self._anchors]) if anchors else self._pauses
        change, correction = _zero_velocity_height(ts, acc, zeros)
        if correction > TURN_MAX_CORRECTION_M:
            return None  # still moving there, or too long since the last zero: not trusted
        return change

    def _movement_acc(
        self, t_end: float, fixed_model: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """The movement since the last still moment up to ``t_end``: times and vertical
        acceleration less the bias (the model's at each sample's orientation, matched to the
        bias measured at that still moment). The model is of the still moments up to
        ``BIAS_MODEL_S`` before ``t_end``, or with ``fixed_model`` before the movement's start
        (the same whatever ``t_end``)."""
        ts = np.concatenate([p[0] for p in self._moving])
        az = np.concatenate([p[1] for p in self._moving])
        ups = np.concatenate([p[2] for p in self._moving])
        end = int(np.searchsorted(ts, t_end, side="right"))
        ts, az, ups = ts[:end], az[:end], ups[:end]
        if len(ts) < 2:
            return ts, az
        moments = [*self._moments, (float(ts[0]), self._up, self._bias)]
        model = _bias_model(moments, float(ts[0] if fixed_model else ts[-1]))
        return ts, az - (model(ups) + (self._bias - model(self._up)))

    def _held(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Whether the hips are held up at the moving samples ``t`` (the latest in ``_moving``),
        and their vertical velocity there (m/s, NaN where not known): integrated forward from
        the last still moment, zero again at each pause since (``_pauses``), known from the
        first still moment on and within ``HELD_SPAN_S`` of the last zero. The height that
        velocity gives is compared with the top of the latest rise: the highest since the hips
        last rose faster than ``HELD_SPEED_M_S`` from a standstill or a turn down there (or
        since the still moment, before any). Held up: the velocity at most ``HELD_SPEED_M_S``,
        at most ``HELD_DROP_M`` below that top, which is ``HELD_RISE_M`` above where the rise
        began. Each sample's values depend on the samples up to it alone (any chunking gives
        the same)."""
        held, velocity = np.zeros(len(t), bool), np.full(len(t), math.nan)
        if not self._moving or math.isnan(self.height_m) or len(t) == 0:
            return held, velocity
        last_zero = max([float(self._moving[0][0][0]), *self._pauses])
        if t[0] - last_zero > HELD_SPAN_S:
            return held, velocity  # (not known: spare the integral)
        ts, acc = self._movement_acc(float(t[-1]), fixed_model=True)
        if len(ts) < 2:
            return held, velocity
        dt = np.diff(ts)
        v = np.concatenate([[0.0], np.cumsum(0.5 * (acc[1:] + acc[:-1]) * dt)])
        zero = np.full(len(ts), ts[0])
        for p in self._pauses:  # (in time order)
            after = ts >= p
            v[after] -= np.interp(p, ts, v)
            zero[after] = p
        h = np.concatenate([[0.0], np.cumsum(0.5 * (v[1:] + v[:-1]) * dt)])
        top, base = _rise_tops(h, v)
        i = np.searchsorted(ts, t)
        known = t - zero[i] <= HELD_SPAN_S
        velocity[known] = v[i[known]]
        held = (
            known
            & (np.abs(v[i]) <= HELD_SPEED_M_S)
            & (top[i] - h[i] <= HELD_DROP_M)
            & (top[i] - base[i] >= HELD_RISE_M)
        )
        return held, velocity

    def _movement_height(self, bias_b: float, up_b: np.ndarray) -> float:
        """The height change over the movement that ended at the still stretch's first sample
        (``_run_t0``): integrated with zero velocity at both ends, less the bias model's value at
        each sample's orientation, corrected to the bias measured at both ends (in time between
        them)."""
        ts = np.concatenate([p[0] for p in self._moving])
        az = np.concatenate([p[1] for p in self._moving])
        ups = np.concatenate([p[2] for p in self._moving])
        self._moving = []
        end = int(np.searchsorted(ts, self._run_t0, side="right"))
        ts, az, ups = ts[:end], az[:end], ups[:end]
        if len(ts) < 2 or ts[-1] <= ts[0]:
            return 0.0
        self._moments.append((float(ts[0]), self._up, self._bias))
        self._moments.append((float(ts[-1]), up_b, bias_b))
        self._moments = [m for m in self._moments if m[0] >= ts[-1] - BIAS_MODEL_S]
        model = _bias_model(self._moments, float(ts[-1]))
        miss_a, miss_b = self._bias - model(self._up), bias_b - model(up_b)
        share = (ts - ts[0]) / (ts[-1] - ts[0])
        return _zero_velocity_height(ts, az - (model(ups) + miss_a + (miss_b - miss_a) * share))[0]


def _rise_tops(h: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At each sample of heights ``h`` and velocities ``v`` (a movement from a still moment),
    the top of the latest rise so far and the height it began at. A rise begins at the last
    sample with ``v <= 0`` before the velocity passes ``HELD_SPEED_M_S`` (the hips at a
    standstill or turning back up), and its top is the highest since; before the first rise,
    the highest since the start and the start. Causal: a rise counts from where it is known."""
    idx = np.arange(len(h))
    last_low = np.maximum.accumulate(np.where(v <= 0.0, idx, 0))
    begin = np.maximum.accumulate(np.where(v > HELD_SPEED_M_S, last_low, 0))
    # the running maximum afresh from each rise on: lift each rise above all before it
    rank = np.cumsum(np.concatenate([[0], np.diff(begin) > 0]))
    lift = rank * (float(np.ptp(h)) + 1.0)
    top = np.maximum.accumulate(h + lift) - lift  # (h rises from a rise's begin to where known)
    return top, h[begin]


def _bias_model(moments: list[tuple[float, np.ndarray, float]], t_end: float):
    """The bias model (``fit_bias_model``) of the still ``moments`` (time, up, bias) within
    ``BIAS_MODEL_S`` before ``t_end``, as a function of the inclination ``up`` ((n, 3) or (3,))."""
    recent = [m for m in moments if m[0] >= t_end - BIAS_MODEL_S]
    coef = fit_bias_model(np.array([m[1] for m in recent]), np.array([m[2] for m in recent]))

    def model(up: np.ndarray) -> np.ndarray:
        return coef[0] + up @ coef[1:]

    return model


def _zero_velocity_height(
    ts: np.ndarray, acc: np.ndarray, zeros: list[float] | tuple[float, ...] = ()
) -> tuple[float, float]:
    """The height change over samples ``ts`` of vertical acceleration ``acc`` (bias taken off),
    the velocity zero at both ends and at the times ``zeros`` between them: what the integral has
    at each is drift, taken off between that zero and the one before (``_drift``). Also how much
    taking the last of them off moved the height (m): the velocity there times half the time
    since the zero before."""
    dt = np.diff(ts)
    v = np.concatenate([[0.0], np.cumsum(0.5 * (acc[1:] + acc[:-1]) * dt)])
    knots = np.array([ts[0], *(z for z in zeros if ts[0] < z < ts[-1]), ts[-1]])
    at = np.interp(knots, ts, v)
    at[0] = 0.0
    v -= _drift(ts, acc, knots, at)
    correction = abs(float(at[-1] - at[-2])) * float(knots[-1] - knots[-2]) / 2.0
    return float(np.sum(0.5 * (v[1:] + v[:-1]) * dt)), correction


def _gap_error(ts: np.ndarray, acc: np.ndarray, gaps: np.ndarray) -> np.ndarray:
    """How far the velocity across each gap (``gaps``: indices of the sample before one) may be
    off (m/s): the acceleration taken as straight between the gap's ends misses by about the
    bend of its course there, the change of its slope from one side of the gap to the other
    times the gap's length squared over 8 (the largest departure of a parabola from its chord is
    an eighth of its second difference); 0 where a side has no sample before or after it."""
    out = np.zeros(len(gaps))
    ok = (gaps >= 1) & (gaps + 2 < len(ts))
    i = gaps[ok]
    before = (acc[i] - acc[i - 1]) / (ts[i] - ts[i - 1])
    after = (acc[i + 2] - acc[i + 1]) / (ts[i + 2] - ts[i + 1])
    out[ok] = np.abs(after - before) * (ts[i + 1] - ts[i]) ** 2 / 8.0
    return out


def _drift(ts: np.ndarray, acc: np.ndarray, knots: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The integral's drift at each sample: ``at`` at the ``knots`` (where the velocity is
    zero), and between two knots the change between them shared out as it most likely arose.
    What the bias model misses (``BIAS_RESIDUAL_M_S2``) adds up in proportion to time; a gap in
    the data (``GAP_STEPS``), where the acceleration is taken as straight between its ends, costs
    what ``_gap_error`` says (a lost burst at the start of a fast rise had put 0.5 m/s into a
    0.66 s rep, whose bottom then read 16 cm above the one before: a bottom taken for an arched
    lockout). Each gets a share of the change in proportion to the square of its size (the
    least-squares split of errors that add up)."""
    drift = np.interp(ts, knots, at)
    dt = np.diff(ts)
    if len(dt) < 2:
        return drift
    gaps = np.flatnonzero(dt > GAP_STEPS * np.median(dt))
    if len(gaps) == 0:
        return drift
    for j in range(len(knots) - 1):
        k0, k1 = knots[j], knots[j + 1]
        inside = gaps[(ts[gaps] >= k0) & (ts[gaps + 1] <= k1)]
        if len(inside) == 0:
            continue
        var_gap = _gap_error(ts, acc, inside) ** 2
        var_bias = (BIAS_RESIDUAL_M_S2 * (k1 - k0)) ** 2
        share = var_gap / (var_bias + var_gap.sum())
        change = at[j + 1] - at[j]
        piece = (ts >= k0) & (ts <= k1)
        # the bias' share straight in time; each gap's as a step across it
        lin = np.interp(ts[piece], [k0, k1], [at[j], at[j] + change * (1.0 - share.sum())])
        steps = np.zeros(len(ts))
        steps[inside + 1] = change * share
        stepped = np.cumsum(steps)
        drift[piece] = lin + stepped[piece] - stepped[np.flatnonzero(piece)[0]]
    return drift
