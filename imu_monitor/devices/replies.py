"""The byte logic of a device conversation, so the BLE link only does I/O: does a notification
answer a step, is its status good (the vendor's error named when not), which values does it
carry into decoding, which variant a probed value means, and is the negotiated MTU enough.

The link's loop (see ``/work/notes/profile_schema.md``): for each ``profile.start_steps`` step,
write; if ``step.reply``: wait for a notification for which ``reply_matches`` holds, then
``check_reply`` -> captured values (``Decoder.set_captured``) or ``ProfileReplyError``.
"""

from __future__ import annotations

import math

import numpy as np

from imu_monitor.devices.profile_schema import (
    Capture,
    Profile,
    ReplySpec,
    ValueField,
    normalize_uuid,
)
from imu_monitor.errors import DeviceVariantError, MtuTooSmallError, ProfileReplyError

ATT_HEADER_BYTES = 3
"""A notification carries at most MTU - 3 bytes of value."""


def read_value(data: bytes, vf: ValueField) -> int | float | None:
    """The value at ``vf`` in ``data`` (int for integer types), or None when ``data`` is short."""
    if vf.offset + vf.nbytes > len(data):
        return None
    v = np.frombuffer(data, dtype=vf.dtype, count=1, offset=vf.offset)[0]
    return float(v) if vf.dtype[1] == "f" else int(v)


def reply_matches(reply: ReplySpec, char_uuid: str, data: bytes) -> bool:
    """True when ``data``, notified on ``char_uuid``, is the reply ``reply`` waits for."""
    if normalize_uuid(char_uuid) != reply.char_uuid:
        return False
    return all(data[o : o + len(h)] == h for o, h in reply.match)


def _step_name(profile: Profile, index: int | None) -> str:
    if index is None:
        return f"the {profile.probe.what} probe" if profile.probe else "the probe"
    step = profile.start_steps[index]
    return f"start step {index + 1} (write {step.data.hex(' ')})"


def _capture(cap: Capture, data: bytes) -> float | None:
    """The captured value in ``data`` (None when absent)."""
    if cap.tlv_id is None:
        v = read_value(data, cap.value)
        return None if v is None else float(v)
    off = cap.value.offset
    while off + 2 <= len(data):
        tid, count = data[off], data[off + 1]
        size = cap.tlv_sizes.get(tid)
        if size is None:
            raise ValueError(f"setting id {tid} at byte {off} of unknown size")
        body = off + 2
        end = body + count * size
        if end > len(data):
            raise ValueError(f"setting id {tid} at byte {off} runs past the reply's end")
        if tid == cap.tlv_id and count >= 1:
            v = np.frombuffer(data, dtype=cap.value.dtype, count=1, offset=body)[0]
            return float(v)
        off = end
    if off != len(data):
        raise ValueError(f"{len(data) - off} stray byte(s) at the end of the settings")
    return None


def check_reply(
    profile: Profile, step_index: int, data: bytes, device: str | None = None
) -> dict[str, float]:
    """Check the reply ``data`` to start step ``step_index`` of ``profile``; return the values
    it captures (name -> float; a capture the reply lacks gets its default).

    Raises ``ProfileReplyError`` naming the device, the step and the vendor's status name when
    the status is not ok, or when a mandatory value is missing or the reply is malformed."""
    step = profile.start_steps[step_index]
    if step.reply is None:
        return {}
    return _check(profile, step.reply, step_index, data, device)


def _check(
    profile: Profile, reply: ReplySpec, index: int | None, data: bytes, device: str | None
) -> dict[str, float]:
    who = device or profile.name
    where = _step_name(profile, index)
    st = reply.status
    if st is not None:
        code = read_value(data, st.value)
        if code is None:
            raise ProfileReplyError(
                f"{who}: the reply to {where} is too short for its status byte "
                f"({data.hex(' ')}); check the firmware version against profile {profile.name}",
                device=device,
                step=index,
            )
        if code not in st.ok:
            name = st.names.get(int(code), "an unknown status")
            raise ProfileReplyError(
                f"{who}: {where} failed with status {code} ({name}), reply {data.hex(' ')}; "
                "the device refused the request: check the profile's settings for this "
                "device and that no other app is using it",
                device=device,
                step=index,
                status=int(code),
                status_name=st.names.get(int(code)),
            )
    out: dict[str, float] = {}
    for cap in reply.captures:
        try:
            v = _capture(cap, data)
        except ValueError as e:
            raise ProfileReplyError(
                f"{who}: the reply to {where} is malformed ({e}): {data.hex(' ')}",
                device=device,
                step=index,
            ) from None
        if v is None:
            if cap.default is None:
                raise ProfileReplyError(
                    f"{who}: the reply to {where} lacks the mandatory value {cap.name!r}: "
                    f"{data.hex(' ')}",
                    device=device,
                    step=index,
                )
            v = cap.default
        if not math.isfinite(v) or v == 0.0:
            raise ProfileReplyError(
                f"{who}: the reply to {where} carries an unusable {cap.name!r} ({v}): "
                f"{data.hex(' ')}",
                device=device,
                step=index,
            )
        out[cap.name] = float(v)
    return out


def reply_timeout_error(
    profile: Profile, step_index: int | None, device: str | None = None
) -> ProfileReplyError:
    """The error to raise when a step's (or the probe's, ``step_index`` None) reply never came."""
    if step_index is None:
        reply = profile.probe.write.reply if profile.probe and profile.probe.write else None
    else:
        reply = profile.start_steps[step_index].reply
    timeout = reply.timeout_s if reply else 0.0
    return ProfileReplyError(
        f"{device or profile.name}: no reply to {_step_name(profile, step_index)} within "
        f"{timeout:g} s; is this the device profile {profile.name} is for, and is it awake?",
        device=device,
        step=step_index,
    )


def select_variant(profile: Profile, data: bytes, device: str | None = None) -> Profile:
    """The variant of ``profile`` the probe's bytes ``data`` name (a GATT read's value, or the
    probe step's reply). A profile without variants comes back unchanged.

    Raises ``DeviceVariantError`` naming the value found and the variants supported, or
    ``ProfileReplyError`` when the probe reply's status is bad."""
    if not profile.variants or profile.probe is None:
        return profile
    pr = profile.probe
    if pr.write is not None and pr.write.reply is not None:
        _check(profile, pr.write.reply, None, data, device)
    who = device or profile.name
    supported = ", ".join(f"{v.name} ({'/'.join(map(str, v.values))})" for v in profile.variants)
    value = read_value(data, pr.value)
    if value is None:
        raise DeviceVariantError(
            f"{who}: the device reports no {pr.what} (probe reply {data.hex(' ') or 'empty'}); "
            f"profile {profile.name} supports {supported}",
            device=device,
            what=pr.what,
        )
    for v in profile.variants:
        if value in v.values:
            return v.profile
    raise DeviceVariantError(
        f"{who}: {pr.what} is {value}, which profile {profile.name} does not support "
        f"(it supports {supported}); a new [[variant]] is needed for this device",
        device=device,
        value=value,
        what=pr.what,
    )


def variant_named(profile: Profile, name: str) -> Profile:
    """The variant ``name`` of ``profile`` (for replaying bytes of a known chip)."""
    for v in profile.variants:
        if v.name == name:
            return v.profile
    known = ", ".join(v.name for v in profile.variants) or "none"
    raise DeviceVariantError(
        f"profile {profile.name} has no variant {name!r} (variants: {known})", value=name
    )


def check_mtu(profile: Profile, mtu: int, device: str | None = None) -> None:
    """Raise ``MtuTooSmallError`` when the negotiated ATT ``mtu`` is below ``profile.min_mtu``."""
    if mtu < profile.min_mtu:
        raise MtuTooSmallError(
            f"{device or profile.name}: the link negotiated an ATT MTU of {mtu} bytes, but "
            f"profile {profile.name} needs at least {profile.min_mtu} (its packets are up to "
            f"{profile.min_mtu - ATT_HEADER_BYTES} bytes); use a Bluetooth adapter/OS that "
            "supports a larger MTU (BlueZ 5.48+ negotiates 517)",
            device=device,
            mtu=mtu,
            min_mtu=profile.min_mtu,
        )
