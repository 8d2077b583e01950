"""Plausibility of decoded samples: bytes that decode to what no wearable IMU can measure are
not samples.

Devices whose packets carry no header (Thingy:52 raw motion, the Arduino Science Journal
characteristics) or only a short sync (WitMotion) cannot tell a stray or corrupted notification
from data by its bytes alone; random bytes decode to accelerations of tens of g. A packet any of
whose samples has ``|acc|`` (vector magnitude) above ``ACC_LIMIT_M_S2`` or a gyro axis above
``GYR_LIMIT_RAD_S`` is dropped and counted as malformed (reason ``"implausible"``) by the
decoder; no profile declares its sensor's range, so the limits are fixed.

The limits are the widest full scales of the IMUs the profiles name (+-16 g and +-2000 deg/s:
LSM6DS3, BMI160, BMI270, ICM-42688, MPU-9250) plus a 25 % margin for axis mapping and scale
error. Acceleration is bounded by magnitude: on a person's back it stays within a few g, and
only an impact (a dropped sensor) could saturate several axes at once; those samples are dropped
too (counted, never silent). The gyro is bounded per axis, its full scale: a device configured
for a narrower range than its profile states reads up to full scale on two or three axes at
once (MetaMotion's vendor test frame does), which is a measurement.
"""

from __future__ import annotations

import math

import numpy as np

from imu_monitor.model import GRAVITY_M_S2

ACC_LIMIT_M_S2 = 1.25 * 16.0 * GRAVITY_M_S2
"""|acc| above this (20 g) is not a measurement."""
GYR_LIMIT_RAD_S = 1.25 * math.radians(2000.0)
"""A gyro axis above this (2500 deg/s) is not a measurement."""


def implausible_packets(si: dict[str, np.ndarray], n: int) -> np.ndarray | None:
    """For ``P`` packets of ``n`` samples each (``si``: stream -> (P * n, 3) SI values): a (P,)
    bool array, True where a packet holds a sample beyond the limits (or a NaN); None when every
    packet is plausible (the common case, so callers skip the masking)."""
    bad = None
    for name, v in si.items():
        if len(v) == 0:
            continue
        # fast path (two flat reductions, no temporaries): every component within the box that
        # fits inside the limit; NaN fails the comparisons and takes the exact check
        box = ACC_LIMIT_M_S2 / math.sqrt(3.0) if name == "acc" else GYR_LIMIT_RAD_S
        if v.max() <= box and v.min() >= -box:
            continue
        if name == "acc":
            out = ~(np.einsum("ij,ij->i", v, v) <= ACC_LIMIT_M_S2**2)  # "not <=": NaN is out
        else:
            out = ~(np.abs(v).max(axis=1) <= GYR_LIMIT_RAD_S)
        if out.any():
            per_packet = out.reshape(-1, n).any(axis=1)
            bad = per_packet if bad is None else bad | per_packet
    return bad
