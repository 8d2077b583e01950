"""Standing and the start posture told apart whatever the sensor's mounting (``posture_pair``)."""

from __future__ import annotations

import numpy as np

from imu_monitor.model import SensorSeries
from imu_monitor.processing.posture_pair import standing_and_start

RATE = 50.0
# two gravity directions 90 deg apart in the sensor's frame, neither the nominal one
STAND = np.array([-1.0, 0.0, 0.0])
FOURS = np.array([0.0, 0.6, 0.8])


def _series(spans: list[tuple[float, float, np.ndarray]], wobble_deg: float = 8.0) -> SensorSeries:
    """Gravity along each span's direction, turned back and forth by up to ``wobble_deg`` about
    an axis normal to it (the reps) outside the first 3 s of each span."""
    parts_t, parts_a = [], []
    for t0, t1, up in spans:
        t = np.arange(t0, t1, 1.0 / RATE)
        axis = np.cross(up, [0.0, 0.0, 1.0] if abs(up[2]) < 0.9 else [1.0, 0.0, 0.0])
        axis /= np.linalg.norm(axis)
        ang = np.radians(wobble_deg) * np.sin(2 * np.pi * (t - t0) / 4.0) ** 2 * (t > t0 + 3.0)
        # Rodrigues about ``axis`` (normal to ``up``)
        g = up[None, :] * np.cos(ang)[:, None] + np.cross(axis, up)[None, :] * np.sin(ang)[:, None]
        parts_t.append(t)
        parts_a.append(9.81 * g)
    t = np.concatenate(parts_t)
    return SensorSeries(t, np.concatenate(parts_a), np.zeros((len(t), 3)))


def test_standing_then_the_posture_the_reps_return_to():
    sacrum = _series([(0.0, 4.0, STAND), (4.0, 70.0, FOURS)])
    periods = [(0.0, 3.5), (5.0, 7.0)]
    assert standing_and_start(sacrum, periods, [STAND, FOURS], 90.0) == (0, 1)


def test_standing_up_between_sets_is_not_taken_for_the_start_posture():
    """No standing at the start of the recording; the person stands up after a set and gets back
    on all fours: all-fours then standing are the turn apart, but the reps return to the first."""
    sacrum = _series([(0.0, 30.0, FOURS), (30.0, 35.0, STAND), (35.0, 100.0, FOURS)])
    periods = [(0.0, 2.5), (30.5, 34.5)]
    assert standing_and_start(sacrum, periods, [FOURS, STAND], 90.0) is None


def test_postures_not_the_exercises_turn_apart_are_no_pair():
    """A hip thrust's bottom and top (45 deg apart) against its nominal 90 deg stand-to-start."""
    bottom = np.array([0.0, np.sin(np.radians(45.0)), np.cos(np.radians(45.0))])
    top = np.array([0.0, 0.0, 1.0])
    sacrum = _series([(0.0, 4.0, bottom), (4.0, 70.0, top)])
    assert standing_and_start(sacrum, [(0.0, 3.5), (5.0, 7.0)], [bottom, top], 90.0) is None
