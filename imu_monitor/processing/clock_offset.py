"""The clock offset between two sensors of one session, measured from their data.

Each wearable samples on its own clock and the host puts every sample on the session clock
(``devices.timebase``); if that went wrong for one sensor (a device whose clock started late, a
delayed first notification taken as its time zero) its samples sit early or late against the
others', and the lumbar angle mixes two instants. Two sensors on one body turn together at
every movement, so the lag at which their angular speeds (``|gyro|``, rad/s) correlate best is
that offset. It is measured over the movement, resampled onto one uniform grid; the peak of the
normalised cross-correlation gives the lag to a sample, refined by a parabola through its
neighbours. A low peak means the two segments hardly moved together (one sensor on a supported
trunk while the other turns with the leg): then the offset is not measurable and says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from imu_monitor.model import SensorSeries

MAX_LAG_S = 0.5
"""Largest offset looked for (s), either way."""
MAX_SPAN_S = 600.0
"""At most this much of the session is correlated (s): ten minutes of reps settle the lag."""
MIN_CORRELATION = 0.5
"""Below this peak normalised correlation the offset is reported as not measurable."""
TAKE_OFF_MIN_S = 0.015
"""The upper-lumbar sensor's clock offset against the sacrum's, when it can be measured and is
this large or larger (s), is taken off its sample times: before ``analysis`` judges a recording,
and live from when it is measured (``live_clock_offset``). Two wearables' clocks are put on the
session clock each from its own first notification, which can come a connection interval or two
apart (7.5-50 ms); in a hip thrust the trunk turns at up to 80 deg/s, and 40 ms between the two
sensors read as 1-3 deg of lumbar angle (simulated: 28 false alarms in 20 two-sensor hip
thrusts, RMSE 0.73 -> 1.72 deg). Measured in simulated hip thrusts and bridges, the offset is
found within 8 ms; under this threshold the times stay as recorded. Only the upper-lumbar
sensor: its orientation enters the lumbar angle; the thigh times the reps, and in a back kick
the pelvis leads it by design."""
TAKE_OFF_MIN_CORRELATION = 0.9
"""... and only where the two sensors' turning correlates this well at that lag: the trunk turns
with the pelvis (simulated hip thrusts and bridges: 0.97-1.0). In a back kick the trunk is
supported and hardly turns (0.68-0.77), the offset comes out up to 31 ms wrong, and 40 ms
between the sensors cost nothing there (0.01 deg)."""


@dataclass(frozen=True)
class ClockOffset:
    """``offset_s``: how much later the other sensor's samples are stamped than the reference's
    for the same movement (s; positive: the other's clock runs late). ``correlation``: the
    normalised cross-correlation at that lag (1 = identical shapes). ``measurable``: the
    correlation reached ``MIN_CORRELATION`` (else ``offset_s`` is NaN and ``reason`` says why)."""

    offset_s: float
    correlation: float
    measurable: bool
    reason: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "offset_s": self.offset_s,
            "correlation": self.correlation,
            "measurable": self.measurable,
            "reason": self.reason,
        }


def _speed(series: SensorSeries) -> tuple[np.ndarray, np.ndarray]:
    t, gyr = series.t_s, series.gyr_rad_s
    ok = np.isfinite(t) & np.isfinite(gyr).all(axis=1)
    return t[ok], np.linalg.norm(gyr[ok], axis=1)


def _not_measurable(reason: str, correlation: float = math.nan) -> ClockOffset:
    return ClockOffset(math.nan, correlation, False, reason)


def estimate_clock_offset(
    reference: SensorSeries,
    other: SensorSeries,
    *,
    rate_hz: float,
    t_from_s: float | None = None,
    max_lag_s: float = MAX_LAG_S,
    max_span_s: float = MAX_SPAN_S,
) -> ClockOffset:
    """The clock offset of ``other`` against ``reference`` (module docstring), from the common
    time span starting at ``t_from_s`` (the end of the calibration capture, say), at most
    ``max_span_s`` of it, resampled at ``rate_hz``."""
    return offset_of_speeds(
        *_speed(reference),
        *_speed(other),
        rate_hz=rate_hz,
        t_from_s=t_from_s,
        max_lag_s=max_lag_s,
        max_span_s=max_span_s,
    )


def offset_of_speeds(
    t_a: np.ndarray,
    w_a: np.ndarray,
    t_b: np.ndarray,
    w_b: np.ndarray,
    *,
    rate_hz: float,
    t_from_s: float | None = None,
    max_lag_s: float = MAX_LAG_S,
    max_span_s: float = MAX_SPAN_S,
) -> ClockOffset:
    """``estimate_clock_offset`` from the two sensors' angular speeds: ``w_a`` (rad/s) at
    times ``t_a`` (s, increasing) of the reference, ``w_b`` at ``t_b`` of the other (the live
    monitor keeps only these)."""
    if len(t_a) < 2 or len(t_b) < 2:
        return _not_measurable("a sensor has fewer than two samples")
    t0 = max(t_a[0], t_b[0], -math.inf if t_from_s is None else t_from_s)
    t1 = min(t_a[-1], t_b[-1], t0 + max_span_s)
    lag_n = int(math.ceil(max_lag_s * rate_hz))
    n = int(math.floor((t1 - t0) * rate_hz)) + 1
    if n < 8 * lag_n:
        return _not_measurable(
            f"the sensors share only {max(t1 - t0, 0.0):.1f} s of data (need {8 * max_lag_s:g} s)"
        )
    grid = t0 + np.arange(n) / rate_hz
    a = np.interp(grid, t_a, w_a)
    b = np.interp(grid, t_b, w_b)
    window = _correlation_by_lag(a, b, lag_n)
    if not np.isfinite(window).any():
        return _not_measurable("neither sensor turned")
    lags = np.arange(-lag_n, lag_n + 1)
    k = int(np.nanargmax(window))
    peak = float(window[k])
    if peak < MIN_CORRELATION:
        return _not_measurable(
            f"the two sensors' turning hardly matches (correlation {peak:.2f} < "
            f"{MIN_CORRELATION:g}): their segments did not move together enough",
            peak,
        )
    shift = 0.0
    if 0 < k < len(window) - 1:
        y0, y1, y2 = window[k - 1], window[k], window[k + 1]
        den = y0 - 2 * y1 + y2
        if den < 0:
            shift = float(0.5 * (y0 - y2) / den)
    return ClockOffset((lags[k] + shift) / rate_hz, peak, True)


def _correlation_by_lag(a: np.ndarray, b: np.ndarray, lag_n: int) -> np.ndarray:
    """The Pearson correlation of ``a``'s middle (``lag_n`` samples left off at each end)
    with ``b`` as many samples later, for every lag from ``-lag_n`` to ``lag_n`` (NaN where
    ``b``'s stretch does not vary). Every lag compares the same samples of ``a`` with as many of
    ``b``: a correlation of the whole series against a shifted copy loses samples at the ends as
    the lag grows, and there the rests between movements (speed below the mean) counted for the
    shortest lag, pulling a 40 ms offset measured over one move into a posture to 13-31 ms."""
    m = len(a) - 2 * lag_n
    core = a[lag_n : lag_n + m] - a[lag_n : lag_n + m].mean()
    dots = np.correlate(b, core, mode="valid")  # dots[j] = sum_i b[i + j] core[i], lag j - lag_n
    c1 = np.concatenate(([0.0], np.cumsum(b)))
    c2 = np.concatenate(([0.0], np.cumsum(b * b)))
    j = np.arange(2 * lag_n + 1)
    s1, s2 = c1[j + m] - c1[j], c2[j + m] - c2[j]
    spread = np.sqrt(np.maximum(s2 - s1 * s1 / m, 0.0) * float(core @ core))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(spread > 0.0, dots / spread, np.nan)


def usable(offset: ClockOffset) -> bool:
    """The measure can be trusted for the upper-lumbar sensor: measurable, the two sensors'
    turning correlating at ``TAKE_OFF_MIN_CORRELATION`` or better."""
    return offset.measurable and offset.correlation >= TAKE_OFF_MIN_CORRELATION


def worth_taking_off(offset: ClockOffset) -> bool:
    """The offset is to be taken off the upper-lumbar sensor's times: ``usable`` and at least
    ``TAKE_OFF_MIN_S``."""
    return usable(offset) and abs(offset.offset_s) >= TAKE_OFF_MIN_S
