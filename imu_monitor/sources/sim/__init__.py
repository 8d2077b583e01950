"""The simulated wearable as a bleak backend: ``BleakScanner(..., backend=SimScanner)`` and
``BleakClient(..., backend=SimClient)``, given a ``SimWorld`` as keyword ``sim_world``.

A ``SimWorld`` holds the simulated people and devices on one ``SimClock``. Each device advertises
like a real one, serves the GATT characteristics of its firmware profile, streams once
notifications are enabled and the start writes have arrived, and sends the motion of its
simulated person in the profile's byte layout at the profile's rate. The production client
(``sources.ble``) runs unchanged against it.

Time: ``SimClock`` runs ``speed`` times faster than the host clock (tests use 50-200x), so
seconds in this package are *simulated* seconds unless named otherwise.

Parts: ``clock`` (``SimClock``); ``person`` (``SimPerson``: the simulated session behind a
person's sensors, looped); ``device`` (``SimDevice``, ``SimFaults``: one wearable's state,
streaming, battery and injected faults); ``gatt`` (what a device serves); ``world``
(``SimWorld``, ``make_world``); ``backend`` (``SimScanner``, ``SimClient``). May import the core
types, ``devices``, ``simulator`` and bleak.
"""

from imu_monitor.sources.sim.backend import ADVERTISING_INTERVAL_S, SimClient, SimScanner
from imu_monitor.sources.sim.clock import SimClock
from imu_monitor.sources.sim.device import BATTERY_DRAIN_S, SimDevice
from imu_monitor.sources.sim.faults import SimDeviceStats, SimFaults
from imu_monitor.sources.sim.gatt import (
    BATTERY_SERVICE_UUID,
    CCCD_UUID,
    SIM_MTU,
    alert_direction,
    samples_in,
)
from imu_monitor.sources.sim.person import LOOP_LEAD_S, SimPerson
from imu_monitor.sources.sim.world import SimWorld, make_world, sim_device_name

__all__ = [
    "ADVERTISING_INTERVAL_S",
    "BATTERY_DRAIN_S",
    "BATTERY_SERVICE_UUID",
    "CCCD_UUID",
    "LOOP_LEAD_S",
    "SIM_MTU",
    "SimClient",
    "SimClock",
    "SimDevice",
    "SimDeviceStats",
    "SimFaults",
    "SimPerson",
    "SimScanner",
    "SimWorld",
    "alert_direction",
    "make_world",
    "samples_in",
    "sim_device_name",
]
