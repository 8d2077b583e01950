"""Talking a wearable into streaming: the MTU check, the variant probe and the start steps.

The byte logic (does a notification answer a step, is its status good, which values it carries,
which variant a probed value means, is the MTU enough) lives in ``devices.replies``; this module
does the I/O on a connected ``BleakClient``: write, wait for the reply on an event (the link
offers every notification to a ``ReplyWaiter`` before decoding it), wait a step's ``delay_s``,
and report each step (``StepReport``) as it goes. Any failure raises a ``BleError`` subclass
naming the device and the step.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

from bleak import BleakClient

from imu_monitor.devices.decode import Decoder
from imu_monitor.devices.profile_schema import ReplySpec, Write
from imu_monitor.devices.profiles import Profile
from imu_monitor.devices.replies import (
    check_mtu,
    check_reply,
    reply_matches,
    reply_timeout_error,
    select_variant,
)
from imu_monitor.errors import ProfileMismatchError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StepReport:
    """One step of the conversation, as it went: ``index`` (0-based start step; None: the
    variant probe), what was written where, the reply (None: the step waits for none), the
    values captured from it and the delay waited after it (s)."""

    index: int | None
    char_uuid: str
    written: bytes
    reply: bytes | None = None
    captured: dict[str, float] = field(default_factory=dict)
    delay_s: float = 0.0
    variant: str | None = None
    """The probe: the variant the reply named."""

    def describe(self) -> str:
        what = "probe" if self.index is None else f"step {self.index + 1}"
        text = f"{what}: write {self.written.hex(' ') or '(read)'} to {self.char_uuid}"
        if self.reply is not None:
            text += f" -> reply {self.reply.hex(' ')}"
        if self.captured:
            text += " (" + ", ".join(f"{k} = {v:g}" for k, v in self.captured.items()) + ")"
        if self.variant:
            text += f" -> variant {self.variant}"
        if self.delay_s:
            text += f", then wait {self.delay_s * 1000:g} ms"
        return text


StepCallback = Callable[[StepReport], None]


class ReplyWaiter:
    """Hands the first notification matching an armed ``ReplySpec`` to the step waiting for it.
    ``offer`` runs in the notification callback (the event loop's thread)."""

    def __init__(self) -> None:
        self._spec: ReplySpec | None = None
        self._fut: asyncio.Future[bytes] | None = None

    def arm(self, spec: ReplySpec) -> asyncio.Future[bytes]:
        """Wait for ``spec`` from now on (arm before writing: a reply can come at once)."""
        self._spec = spec
        self._fut = asyncio.get_running_loop().create_future()
        return self._fut

    def disarm(self) -> None:
        self._spec = self._fut = None

    def offer(self, char_uuid: str, data: bytes | bytearray) -> None:
        spec, fut = self._spec, self._fut
        if spec is None or fut is None or fut.done():
            return  # the hot path: nothing armed while streaming
        data = bytes(data)
        if reply_matches(spec, char_uuid, data):
            fut.set_result(data)


async def _exchange(
    client: BleakClient, waiter: ReplyWaiter, step: Write, timeout_error: Exception
) -> bytes | None:
    """Write ``step``; when it has a reply, wait for it (``timeout_error`` after its timeout)."""
    if step.reply is None:
        await client.write_gatt_char(step.char_uuid, step.data, response=step.response)
        return None
    fut = waiter.arm(step.reply)
    try:
        await client.write_gatt_char(step.char_uuid, step.data, response=step.response)
        async with asyncio.timeout(step.reply.timeout_s):
            return await fut
    except TimeoutError:
        raise timeout_error from None
    finally:
        waiter.disarm()


async def probe_variant(
    client: BleakClient,
    profile: Profile,
    waiter: ReplyWaiter,
    device: str,
    on_step: StepCallback | None = None,
) -> Profile:
    """The profile of the variant the device says it is (the profile itself when it has no
    variants). Raises ``DeviceVariantError`` / ``ProfileReplyError`` naming the device."""
    probe = profile.probe
    if probe is None or not profile.variants:
        return profile
    if probe.read_char is not None:
        data = bytes(await client.read_gatt_char(probe.read_char))
        written, char = b"", probe.read_char
    else:
        assert probe.write is not None
        got = await _exchange(
            client, waiter, probe.write, reply_timeout_error(profile, None, device=device)
        )
        data, written, char = got or b"", probe.write.data, probe.write.char_uuid
    chosen = select_variant(profile, data, device=device)
    if on_step is not None:
        on_step(StepReport(None, char, written, data, variant=chosen.variant))
    if probe.write is not None and probe.write.delay_s:
        await asyncio.sleep(probe.write.delay_s)
    return chosen


async def run_start_steps(
    client: BleakClient,
    profile: Profile,
    waiter: ReplyWaiter,
    decoder: Decoder,
    device: str,
    on_step: StepCallback | None = None,
) -> list[StepReport]:
    """Write each start step, wait for and check its reply (captured values go to
    ``decoder``), wait its delay. Raises ``ProfileReplyError`` naming the device and the step
    when a reply is an error or does not come in time."""
    reports = []
    for i, step in enumerate(profile.start_steps):
        reply = await _exchange(
            client, waiter, step, reply_timeout_error(profile, i, device=device)
        )
        captured: dict[str, float] = {}
        if reply is not None:
            captured = check_reply(profile, i, reply, device=device)
            if captured:
                decoder.set_captured(captured)
        report = StepReport(i, step.char_uuid, step.data, reply, captured, step.delay_s)
        reports.append(report)
        if on_step is not None:
            on_step(report)
        if step.delay_s:
            await asyncio.sleep(step.delay_s)  # the device needs this time, not a sync
    return reports


async def negotiated_mtu(client: BleakClient) -> int | None:
    """The connection's ATT MTU, or None when the backend cannot tell (BlueZ only knows it
    after acquiring a characteristic, as bleak's own ``mtu_size`` example does)."""
    backend = getattr(client, "_backend", None)
    acquire = getattr(backend, "_acquire_mtu", None)
    if acquire is not None and getattr(backend, "_mtu_size", 0) is None:
        try:
            await acquire()
        except Exception as e:  # not fatal: the MTU stays unknown
            log.info("could not learn the ATT MTU: %s", e)
            return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return int(client.mtu_size)


def check_services(client: BleakClient, profile: Profile, device: str) -> None:
    """``ProfileMismatchError`` naming the device, the characteristics ``profile`` needs that
    it lacks, and what it has."""
    have = {c.uuid for c in client.services.characteristics.values()}
    need = set(profile.notify_uuids)
    for w in profile.start_writes + profile.stop_writes:
        need.add(w.char_uuid)
    missing = sorted(need - have)
    if missing:
        services = "; ".join(
            f"{s.uuid}: {', '.join(c.uuid for c in s.characteristics) or 'no characteristics'}"
            for s in client.services
        )
        raise ProfileMismatchError(
            f"device {device} does not offer what firmware profile "
            f"{profile.name} needs (missing characteristics: {', '.join(missing)}); "
            f"the device has {services or 'no services'}. Pick the right --profile "
            "(imu-monitor scan shows the matching one) or fix the profile file"
        )


def require_mtu(profile: Profile, mtu: int | None, device: str) -> None:
    """``MtuTooSmallError`` naming the device when ``mtu`` is below the profile's minimum
    (an unknown MTU is logged and let through)."""
    if mtu is None:
        if profile.min_mtu > 23:
            log.warning(
                "%s: the ATT MTU is unknown; profile %s needs at least %d",
                device, profile.name, profile.min_mtu,
            )  # fmt: skip
        return
    check_mtu(profile, mtu, device=device)
