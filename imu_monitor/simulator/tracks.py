"""Smooth scalar trajectories with analytic first and second derivatives.

A ``SmoothTrack`` is a piecewise-linear function of time (knots ``t_k``, values ``v_k``, constant
before the first and after the last knot) whose corners are rounded by convolving each corner with
a raised-cosine (Hann) kernel of width ``w_k``. Between blends the speed is exactly constant, so a
move between two knots is a trapezoidal velocity profile with smooth blends, and the knots are
exactly where the steady-speed lines meet the rest levels (the tangent method). Velocity is C^1 and
acceleration is continuous, so the simulated gyroscope and accelerometer have no steps.

``sway_track`` makes a small random wander (physiological sway). ``MinimumJerkTrack`` moves
between knots along minimum-jerk paths (bell-shaped velocity, the human-motion model);
``SineTrack`` sums sinusoids (breathing). ``Signal`` adds tracks with weights.
Every component evaluates to ``(y, dy/dt, d2y/dt2)`` at sorted times ``t_s``, shape (n,) each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

Triple = tuple[np.ndarray, np.ndarray, np.ndarray]


class Track(Protocol):
    """Anything that evaluates to (value, first, second derivative) at sorted times."""

    def evaluate(self, t_s: np.ndarray, derivatives: bool = True) -> Triple: ...


def _blend_terms(s: np.ndarray, w: np.ndarray, derivatives: bool = True) -> Triple:
    """Corner correction of a unit slope change: ``g = relu * hann_w - relu`` and its derivatives.

    ``s``: time since the knot (s), ``w``: blend width (s); only valid for ``|s| <= w/2``.
    """
    phase = 2.0 * math.pi * s / w
    cos = np.cos(phase)
    g = s * s / (2.0 * w) + s / 2.0 + w / 8.0 - w / (4.0 * math.pi**2) * (1.0 + cos)
    g = g - np.maximum(s, 0.0)
    if not derivatives:
        return g, g, g
    dg = s / w + 0.5 + np.sin(phase) / (2.0 * math.pi) - (s >= 0.0)
    ddg = (1.0 + cos) / w
    return g, dg, ddg


class SmoothTrack:
    """Piecewise-linear trajectory with Hann-smoothed corners.

    ``t_knots``: strictly increasing times (s), shape (k,). ``v_knots``: values at the knots (any
    unit), shape (k,). ``w_knots``: blend width of each corner (s), shape (k,) or a scalar.
    """

    def __init__(self, t_knots: np.ndarray, v_knots: np.ndarray, w_knots: np.ndarray | float):
        self.t = np.asarray(t_knots, dtype=np.float64)
        self.v = np.asarray(v_knots, dtype=np.float64)
        if self.t.ndim != 1 or self.t.shape != self.v.shape or self.t.size == 0:
            raise ValueError("SmoothTrack needs matching 1-D knot times and values")
        if np.any(np.diff(self.t) <= 0.0):
            raise ValueError("SmoothTrack knot times must be strictly increasing")
        self.w = np.broadcast_to(np.asarray(w_knots, dtype=np.float64), self.t.shape).copy()
        if np.any(self.w <= 0.0):
            raise ValueError("SmoothTrack blend widths must be positive")
        seg_slopes = np.diff(self.v) / np.diff(self.t)
        # slope before knot 0, between knots, after the last knot
        self._slopes = np.concatenate([[0.0], seg_slopes, [0.0]])
        self._dslope = np.diff(self._slopes)  # slope change at each knot, shape (k,)

    def evaluate(self, t_s: np.ndarray, derivatives: bool = True) -> Triple:
        """Value, first and second derivative at sorted times ``t_s`` (shape (n,) each); with
        ``derivatives=False`` the derivatives are returned as zeros (faster)."""
        t = np.asarray(t_s, dtype=np.float64)
        n = t.shape[0]
        y = np.interp(t, self.t, self.v)
        if derivatives:
            seg = np.searchsorted(self.t, t, side="right")  # 0 before the first knot
            dy = self._slopes[seg]
        else:
            dy = np.zeros(n)
        ddy = np.zeros(n)
        active = self._dslope != 0.0
        if not np.any(active) or n == 0:
            return y, dy, ddy
        tk, wk, dk = self.t[active], self.w[active], self._dslope[active]
        lo = np.searchsorted(t, tk - wk / 2.0, side="left")
        hi = np.searchsorted(t, tk + wk / 2.0, side="right")
        counts = hi - lo
        total = int(counts.sum())
        if total == 0:
            return y, dy, ddy
        knot = np.repeat(np.arange(tk.size), counts)
        starts = np.cumsum(counts) - counts
        idx = np.arange(total) - np.repeat(starts, counts) + np.repeat(lo, counts)
        s = np.clip(t[idx] - tk[knot], -wk[knot] / 2.0, wk[knot] / 2.0)
        g, dg, ddg = _blend_terms(s, wk[knot], derivatives)
        d = dk[knot]
        np.add.at(y, idx, d * g)
        if derivatives:
            np.add.at(dy, idx, d * dg)
            np.add.at(ddy, idx, d * ddg)
        return y, dy, ddy


def sway_track(
    rng: np.random.Generator,
    amplitude: float,
    duration_s: float,
    spacing_s: tuple[float, float] = (0.8, 2.5),
) -> SmoothTrack:
    """Physiological sway: a smooth random wander within +-``amplitude`` over
    ``[0, duration_s]``, knots every ``spacing_s`` (s) with blends of 80 % of the shorter
    neighbouring interval, so the corners never overlap and the bound holds."""
    count = int(duration_s / spacing_s[0]) + 3
    t = np.concatenate([[0.0], np.cumsum(rng.uniform(*spacing_s, count))])
    t = t[: int(np.searchsorted(t, duration_s + 1.0)) + 1]
    v = rng.uniform(-amplitude, amplitude, t.shape[0])
    gaps = np.diff(t)
    w = 0.8 * np.minimum(np.concatenate([[gaps[0]], gaps]), np.concatenate([gaps, [gaps[-1]]]))
    return SmoothTrack(t, v, w)


@dataclass
class Signal:
    """A weighted sum of tracks (``terms``: list of (weight, track))."""

    terms: list[tuple[float, Track]] = field(default_factory=list)

    def plus(self, component: Track, weight: float = 1.0) -> Signal:
        return Signal([*self.terms, (weight, component)])

    def evaluate(self, t_s: np.ndarray, derivatives: bool = True) -> Triple:
        """Value, first and second derivative at sorted times ``t_s`` (shape (n,) each)."""
        n = np.asarray(t_s).shape[0]
        y, dy, ddy = np.zeros(n), np.zeros(n), np.zeros(n)
        for weight, comp in self.terms:
            a, b, c = comp.evaluate(t_s, derivatives)
            y += weight * a
            if derivatives:
                dy += weight * b
                ddy += weight * c
        return y, dy, ddy


def minimum_jerk(s: np.ndarray) -> Triple:
    """The minimum-jerk transition from 0 to 1 (Flash & Hogan 1985) at normalised time ``s``
    (clipped to [0, 1]): ``10 s^3 - 15 s^4 + 6 s^5`` and its first and second derivatives with
    respect to ``s``. Its velocity is bell-shaped, zero at both ends, 1.875 at its peak (s = 0.5).
    """
    s = np.clip(s, 0.0, 1.0)
    s2 = s * s
    p = s2 * s * (10.0 - 15.0 * s + 6.0 * s2)
    dp = 30.0 * s2 * (1.0 - s) ** 2
    ddp = 60.0 * s * (1.0 - s) * (1.0 - 2.0 * s)
    return p, dp, ddp


class MinimumJerkTrack:
    """Point-to-point movements: between consecutive knots ``(t_k, v_k)`` the value moves along a
    minimum-jerk path taking the whole interval (velocity and acceleration zero at every knot),
    constant before the first and after the last knot. Equal neighbouring values make a hold.

    ``t_knots``: strictly increasing times (s), shape (k,); ``v_knots``: values, shape (k,).
    """

    def __init__(self, t_knots: np.ndarray, v_knots: np.ndarray):
        self.t = np.asarray(t_knots, dtype=np.float64)
        self.v = np.asarray(v_knots, dtype=np.float64)
        if self.t.ndim != 1 or self.t.shape != self.v.shape or self.t.size == 0:
            raise ValueError("MinimumJerkTrack needs matching 1-D knot times and values")
        if np.any(np.diff(self.t) <= 0.0):
            raise ValueError("MinimumJerkTrack knot times must be strictly increasing")

    def evaluate(self, t_s: np.ndarray, derivatives: bool = True) -> Triple:
        t = np.asarray(t_s, dtype=np.float64)
        n = t.shape[0]
        if self.t.size == 1:
            return np.full(n, self.v[0]), np.zeros(n), np.zeros(n)
        k = np.clip(np.searchsorted(self.t, t, side="right") - 1, 0, self.t.size - 2)
        t0, dur = self.t[k], self.t[k + 1] - self.t[k]
        dv = self.v[k + 1] - self.v[k]
        p, dp, ddp = minimum_jerk((t - t0) / dur)
        y = self.v[k] + dv * p
        if not derivatives:
            return y, np.zeros(n), np.zeros(n)
        return y, dv * dp / dur, dv * ddp / (dur * dur)


class SineTrack:
    """A sum of sinusoids ``sum_i a_i sin(2 pi f_i t + phi_i)`` (amplitudes in the track's unit,
    frequencies in Hz, phases in rad), for quasi-periodic motion such as breathing."""

    def __init__(self, amplitudes: np.ndarray, freqs_hz: np.ndarray, phases_rad: np.ndarray):
        self.a = np.atleast_1d(np.asarray(amplitudes, dtype=np.float64))
        self.w = 2.0 * math.pi * np.atleast_1d(np.asarray(freqs_hz, dtype=np.float64))
        self.phi = np.atleast_1d(np.asarray(phases_rad, dtype=np.float64))

    def evaluate(self, t_s: np.ndarray, derivatives: bool = True) -> Triple:
        t = np.asarray(t_s, dtype=np.float64)
        y, dy, ddy = np.zeros(t.shape[0]), np.zeros(t.shape[0]), np.zeros(t.shape[0])
        for a, w, phi in zip(self.a, self.w, self.phi, strict=True):
            arg = w * t + phi
            sin = np.sin(arg)
            y += a * sin
            if derivatives:
                dy += a * w * np.cos(arg)
                ddy -= a * w * w * sin
        return y, dy, ddy
