"""Building a source from plain parameters: the one place the command line, the dashboard and
its device panel get their wearables (BLE or simulated) and their replays from.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from imu_monitor.errors import ImuMonitorError, UsageError
from imu_monitor.model import PLACEMENTS, SENSOR_SETS, Recording, check_placement
from imu_monitor.sources.ble import BleSource, SensorTarget, scan_devices, sim_backend, sim_source
from imu_monitor.sources.replay import ReplaySource, ReplayThreadSource
from imu_monitor.sources.scanning import FoundDevice
from imu_monitor.sources.sim import SimWorld, make_world

SIM_DEVICE = "sim"
"""The device name that means the built-in simulated wearable."""
DEFAULT_SIM_PROFILE = "diy_imu"


class SourceKind(StrEnum):
    SIM = "sim"
    BLE = "ble"
    REPLAY = "replay"


@dataclass(frozen=True)
class SimulatedPerson:
    """What the simulated wearer does: the exercise, the session's random seed, how fast the
    simulated clock runs (1 = real time), reps per simulated session and how many are faulty;
    ``procedure``: the device calibration's procedure with that session's wearables instead."""

    exercise: str = "back-kick"
    seed: int = 1
    speed: float = 1.0
    reps: int = 10
    faulty: int = 3
    procedure: bool = False


@dataclass
class LiveSource:
    """A BLE source (real or simulated wearables) and, for the simulated one, its world."""

    source: BleSource
    world: SimWorld | None

    @property
    def kind(self) -> SourceKind:
        return SourceKind.SIM if self.world is not None else SourceKind.BLE


def parse_sensors(text: str | None, device: str | None) -> dict[str, str]:
    """``--sensors`` and ``--device`` -> {placement: device name, address or "sim"}.

    ``text``: a sensor count (1, 2, 3: the standard placements of ``model.SENSOR_SETS``, all on
    ``device``) or ``placement=device,...``.
    """
    text = (text or "1").strip()
    if text.isdigit():
        n = int(text)
        if n not in SENSOR_SETS:
            raise UsageError(f"--sensors takes 1, 2 or 3 (or placement=device,...), not {n}")
        placements = SENSOR_SETS[n]
        dev = device or SIM_DEVICE
        if dev != SIM_DEVICE and n > 1:
            raise UsageError(
                f"--device {dev} names one wearable but --sensors {n} needs {n}: name each, e.g. "
                f"--sensors {','.join(p + '=NAME' for p in placements)}"
            )
        return {p: dev for p in placements}
    out: dict[str, str] = {}
    for part in text.split(","):
        placement, sep, dev = part.partition("=")
        placement, dev = placement.strip(), dev.strip()
        if not sep or not dev:
            raise UsageError(
                f"--sensors entry {part!r} is not placement=device (placements: "
                f"{', '.join(PLACEMENTS)})"
            )
        check_placement(placement)
        if placement in out:
            raise UsageError(f"--sensors names placement {placement!r} twice")
        out[placement] = dev
    if "sacrum" not in out:
        raise UsageError("--sensors must include a sacrum sensor (sacrum=DEVICE)")
    return out


def live_source(
    devices: dict[str, str],
    *,
    profile: str | None = None,
    person: SimulatedPerson | None = None,
    sim_firmware: str | None = None,
) -> LiveSource:
    """The (unopened) source for ``devices`` ({placement: device name, address or "sim"}).

    All "sim": the simulated wearable doing what ``person`` says, one device per placement, on
    ``profile`` (default ``diy_imu``); ``sim_firmware``: the profile its firmware speaks when
    that differs from the one the client uses (check-device's test of a wrong profile).
    Otherwise real wearables through bleak.
    """
    sims = [p for p, d in devices.items() if d == SIM_DEVICE]
    if sims and len(sims) != len(devices):
        raise ImuMonitorError(
            "mixing simulated and real wearables is not supported: use sim for all or none"
        )
    if not sims:
        source = BleSource([SensorTarget(p, d, profile) for p, d in devices.items()])
        source.kind = SourceKind.BLE
        return LiveSource(source, None)
    person = person or SimulatedPerson()
    world = make_world(
        profile=sim_firmware or profile or DEFAULT_SIM_PROFILE,
        exercise=person.exercise,
        placements=tuple(p for p in PLACEMENTS if p in devices),
        seed=person.seed,
        speed=person.speed,
        reps=person.reps,
        faulty=person.faulty,
        procedure=person.procedure,
    )
    by_placement = {d.placement: d.address for d in world.devices.values()}
    source = sim_source(world, by_placement, profile=profile)
    source.kind = SourceKind.SIM
    return LiveSource(source, world)


def procedure_wearables(
    devices: dict[str, str], *, person: SimulatedPerson | None, profile: str | None = None
) -> BleSource:
    """The (unopened) source of ``devices`` ({placement: device}) for the device calibration's
    procedure: real wearables as they are (their wearer does it); with ``person``, simulated
    ones in a world of their own, where that wearer does the procedure with the same wearables
    (``device-cal record --device sim`` with the same options)."""
    if person is None:
        return live_source(devices, profile=profile).source
    doing = replace(person, procedure=True)
    return live_source({p: SIM_DEVICE for p in devices}, profile=profile, person=doing).source


def chosen_devices_source(
    chosen: dict[str, str], *, profile: str | None = None, world: SimWorld | None = None
) -> BleSource:
    """The (unopened) source for devices picked from a scan ({placement: address}), on the
    simulated backend of ``world`` when there is one (the dashboard's device panel)."""
    targets = [SensorTarget(p, a, profile) for p, a in chosen.items()]
    if world is None:
        source = BleSource(targets)
        source.kind = SourceKind.BLE
    else:
        source = BleSource(targets, backend=sim_backend(world), clock=world.clock.now)
        source.kind = SourceKind.SIM
    return source


def idle_simulated_wearables(placements: tuple[str, ...], profile: str | None = None) -> SimWorld:
    """Simulated wearables at ``placements`` that advertise (for ``scan``), their wearer idle."""
    return make_world(
        profile=profile or DEFAULT_SIM_PROFILE, placements=placements, reps=1, faulty=0
    )


def scan_wearables(timeout_s: float, world: SimWorld | None = None) -> list[FoundDevice]:
    """Wearables in range (strongest first), or the simulated ones of ``world``."""
    return scan_devices(timeout_s, None if world is None else sim_backend(world))


@dataclass
class Replay:
    """A recording as a ``Source`` (``source``) and the player behind it (pause, seek, speed)."""

    source: ReplayThreadSource
    player: ReplaySource
    start_s: float
    """Where playing starts (s from the first sample): the start asked for, clamped to the
    recording."""


def replay_source(
    rec: Recording, *, speed: float | None = 1.0, loop: bool = False, start_s: float = 0.0
) -> Replay:
    """``rec`` played at ``speed`` x real time (None: as fast as possible) from ``start_s``."""
    player = ReplaySource(rec, speed=speed, loop=loop)
    start = player.seek(start_s) if start_s else 0.0
    return Replay(ReplayThreadSource(player), player, float(start))
