"""The simulated world: people and devices sharing one clock, and the ``--device sim`` setup."""

from __future__ import annotations

import re
from typing import Any

from imu_monitor.devices.profiles import Profile, load_profile
from imu_monitor.errors import SimError
from imu_monitor.model import SENSOR_SETS
from imu_monitor.sources.sim.clock import SimClock
from imu_monitor.sources.sim.device import BATTERY_DRAIN_S, SimDevice
from imu_monitor.sources.sim.faults import SimFaults
from imu_monitor.sources.sim.person import SimPerson


def sim_device_name(profile: Profile, placement: str, index: int) -> str:
    """A device name that fits the profile's ``name_pattern`` when one can be derived: the first
    literal alternative of the pattern, plus a suffix; else ``SimIMU-...`` (the device is then
    still recognised by its advertised service UUIDs)."""
    suffix = f"-{placement}-{index}"
    pat = profile.name_pattern
    if pat:
        m = re.match(r"\^?\(?([A-Za-z0-9_ -]+)", pat)
        if m and re.search(pat, m.group(1) + suffix):
            return m.group(1) + suffix
    return f"SimIMU{suffix}"


class SimWorld:
    """A registry of simulated people and devices sharing one ``SimClock``.

    >>> world = SimWorld(SimClock(speed=100))
    >>> world.add_person("p1", exercise="back-kick", sensors=2, seed=3)    # doctest: +SKIP
    >>> world.add_device(profile="diy_imu", placement="sacrum", person="p1")  # doctest: +SKIP
    """

    def __init__(self, clock: SimClock | None = None) -> None:
        self.clock = clock or SimClock()
        self.people: dict[str, SimPerson] = {}
        self.devices: dict[str, SimDevice] = {}
        """By upper-case address."""

    def add_person(self, name: str = "p1", **options: Any) -> SimPerson:
        """A person (``SimPerson`` keyword options: exercise, sensors, seed, rate_hz, reps,
        faulty, and further ``SimulationConfig`` fields)."""
        if name in self.people:
            raise SimError(f"simulated person {name!r} exists already")
        person = SimPerson(name, **options)
        self.people[name] = person
        return person

    def add_device(
        self,
        *,
        profile: str | Profile = "diy_imu",
        placement: str = "sacrum",
        person: str = "p1",
        name: str | None = None,
        address: str | None = None,
        rssi: int | None = None,
        faults: SimFaults | None = None,
        battery_pct: int | None = None,
        battery_drain_s: float = BATTERY_DRAIN_S,
        battery_notify: bool = True,
        mtu: int | None = None,
        protocol_options: dict[str, Any] | None = None,
    ) -> SimDevice:
        """A device worn by ``person`` at ``placement``, speaking ``profile``. Battery (when the
        profile has one): level at time 0 (percent; None: seeded 60-100), simulated seconds
        per 1 % drained, and whether it notifies. ``mtu``: the ATT MTU of its links (None: the
        vendor's); ``protocol_options``: see ``SimDevice.protocol_options``."""
        prof = profile if isinstance(profile, Profile) else load_profile(profile)
        if person not in self.people:
            raise SimError(
                f"no simulated person {person!r}; add it first "
                f"(people: {', '.join(self.people) or 'none'})"
            )
        who = self.people[person]
        if abs(who.rate_hz - prof.rate_hz) > 1e-9:
            raise SimError(
                f"simulated person {person!r} is sampled at {who.rate_hz} Hz but profile "
                f"{prof.name} streams at {prof.rate_hz} Hz; add the person with rate_hz="
                f"{prof.rate_hz}"
            )
        index = len(self.devices) + 1
        address = (address or f"5A:1A:00:00:{index // 256:02X}:{index % 256:02X}").upper()
        if address in self.devices:
            raise SimError(f"a simulated device with address {address} exists already")
        dev = SimDevice(
            name=name or sim_device_name(prof, placement, index),
            address=address,
            profile=prof,
            placement=placement,
            person=who,
            world=self,
            rssi=-52 - 4 * index if rssi is None else rssi,
            faults=faults or SimFaults(),
            battery_pct=battery_pct,
            battery_drain_s=battery_drain_s,
            battery_notify=battery_notify,
            mtu=mtu,
            protocol_options=dict(protocol_options or {}),
        )
        who.samples(placement, 0, 1)  # fails early if the person has no such sensor
        self.devices[address] = dev
        return dev

    def device(self, name_or_address: str) -> SimDevice:
        """A device by address or name."""
        key = name_or_address.upper()
        if key in self.devices:
            return self.devices[key]
        for dev in self.devices.values():
            if dev.name == name_or_address:
                return dev
        raise SimError(
            f"no simulated device {name_or_address!r}; devices: "
            + ", ".join(f"{d.name} ({d.address})" for d in self.devices.values())
        )


def make_world(
    *,
    profile: str = "diy_imu",
    exercise: str = "back-kick",
    placements: tuple[str, ...] = ("sacrum",),
    seed: int = 0,
    speed: float = 1.0,
    reps: int = 10,
    faulty: int = 3,
    faults: SimFaults | None = None,
    procedure: bool = False,
    **device_options: Any,
) -> SimWorld:
    """One person wearing one device per placement (the ``--device sim`` setup);
    ``device_options`` go to every ``add_device`` (``mtu``, ``protocol_options``, ...);
    ``procedure``: the person does the device calibration's procedure instead."""
    prof = load_profile(profile)
    sensors = next((n for n, ps in sorted(SENSOR_SETS.items()) if set(placements) <= set(ps)), None)
    if sensors is None:
        raise SimError(f"no simulated sensor set holds the placements {placements}")
    world = SimWorld(SimClock(speed))
    world.add_person(
        "p1",
        exercise=exercise,
        sensors=sensors,
        seed=seed,
        rate_hz=prof.rate_hz,
        reps=reps,
        faulty=faulty,
        procedure=procedure,
    )
    for p in placements:
        world.add_device(profile=prof, placement=p, person="p1", faults=faults, **device_options)
    return world
