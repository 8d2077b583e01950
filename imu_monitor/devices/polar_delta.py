"""The Polar PMD delta-frame codec (polar-ble-sdk ``BlePMDClient.parseDeltaFramesAll``):
decoding one frame, many frames at once (vectorised), and encoding (for the simulated wearable)."""

from __future__ import annotations

import numpy as np


def polar_delta_decode(body: bytes, channels: int, ref_bytes: int) -> np.ndarray | None:
    """Decode a Polar PMD delta-compressed payload (the bytes after the 10-byte frame header).

    Layout (polar-ble-sdk ``BlePMDClient.parseDeltaFramesAll``): a reference sample of
    ``channels`` signed little-endian integers of ``ref_bytes`` each, then blocks of
    [u8 delta bit width][u8 sample count][count * channels deltas, ``width`` bits each, packed
    LSB first, two's complement]; each delta adds to the previous sample. Returns int64
    (n, channels) or None if the payload is malformed."""
    head = channels * ref_bytes
    if len(body) < head or ref_bytes not in (1, 2, 4):
        return None
    ref = np.frombuffer(body, dtype=f"<i{ref_bytes}", count=channels).astype(np.int64)
    parts = [ref[None, :]]
    off = head
    nb = len(body)
    while off < nb:
        if off + 2 > nb:
            return None
        width, count = body[off], body[off + 1]
        off += 2
        nbits = width * count * channels
        nbytes = (nbits + 7) // 8
        if width == 0 or width > 32 or count == 0 or off + nbytes > nb:
            return None
        bits = np.unpackbits(np.frombuffer(body, np.uint8, nbytes, off), bitorder="little")
        bits = bits[:nbits].reshape(count * channels, width).astype(np.int64)
        vals = bits @ (np.int64(1) << np.arange(width, dtype=np.int64))
        vals = np.where(vals >= (1 << (width - 1)), vals - (1 << width), vals)
        parts.append(vals.reshape(count, channels))
        off += nbytes
    deltas = np.concatenate(parts)
    return np.cumsum(deltas, axis=0)


def polar_delta_decode_many(
    buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, channels: int, ref_bytes: int
) -> tuple[np.ndarray, np.ndarray]:
    """``polar_delta_decode`` of F payloads at once, without a Python loop over frames or values.

    ``buf``: uint8 (B,) holding the payloads; payload f is ``buf[starts[f]:ends[f]]`` (the bytes
    after the frame header; ``ends[f] < starts[f]`` counts as too short). Block headers are read
    for all frames together (one pass per block index, usually one); every delta of every block
    is unpacked at once from its bit position (a few bytes gathered into a uint64, shifted and
    masked, sign-extended), and the deltas are summed per frame with one cumulative sum.

    Returns ``(raw, counts)``: ``raw`` int64 (sum(counts), channels), the samples of the valid
    frames in frame order, identical to ``polar_delta_decode`` of each; ``counts`` int64 (F,),
    samples per frame, 0 where ``polar_delta_decode`` returns None (malformed)."""
    buf = np.asarray(buf, dtype=np.uint8)
    starts = np.asarray(starts, dtype=np.int64)
    ends = np.asarray(ends, dtype=np.int64)
    f_n = len(starts)
    head = channels * ref_bytes
    ok = ends - starts >= head
    if ref_bytes not in (1, 2, 4) or f_n == 0:
        ok[:] = False
    # block headers: one pass per block index over the frames that still have bytes left
    off = starts + head
    blk_frame, blk_width, blk_count, blk_pos = [], [], [], []
    active = np.flatnonzero(ok & (off < ends))
    while len(active):
        o, e = off[active], ends[active]
        short = o + 2 > e
        oi = np.where(short, 0, o)
        width = buf[oi].astype(np.int64)
        count = buf[np.where(short, 0, o + 1)].astype(np.int64)
        nbytes = (width * count * channels + 7) // 8
        bad = short | (width == 0) | (width > 32) | (count == 0) | (o + 2 + nbytes > e)
        ok[active[bad]] = False
        good = ~bad
        a = active[good]
        blk_frame.append(a)
        blk_width.append(width[good])
        blk_count.append(count[good])
        blk_pos.append(o[good] + 2)
        off[a] = o[good] + 2 + nbytes[good]
        a = a[off[a] < ends[a]]
        active = a
    counts = np.zeros(f_n, dtype=np.int64)
    if not ok.any():
        return np.zeros((0, channels), dtype=np.int64), counts
    if blk_frame:
        bf = np.concatenate(blk_frame)
        keep_b = ok[bf]
        # blocks were collected by block index; order them by frame (stable: block order kept)
        order = np.argsort(bf[keep_b], kind="stable")
        bf = bf[keep_b][order]
        bw = np.concatenate(blk_width)[keep_b][order]
        bc = np.concatenate(blk_count)[keep_b][order]
        bp = np.concatenate(blk_pos)[keep_b][order]
    else:
        bf = bw = bc = bp = np.zeros(0, dtype=np.int64)
    counts[ok] = 1
    np.add.at(counts, bf, bc)
    # every delta value: its bit position; the 8 bytes from its first byte read as one uint64
    # (an unaligned strided view: element i = bytes i..i+7), shifted left so the value's top bit
    # is bit 63, then shifted right arithmetically: unpacked and sign-extended (w + 7 <= 64)
    nv = bc * channels
    total_v = int(nv.sum())
    vals = np.zeros(0, dtype=np.int64)
    if total_v:
        w = np.repeat(bw, nv)
        vstart = np.cumsum(nv) - nv
        bit = np.arange(total_v, dtype=np.int64) * w + np.repeat(bp * 8 - vstart * bw, nv)
        padded = np.concatenate((buf, np.zeros(8, dtype=np.uint8)))
        win = np.ndarray((len(buf),), dtype="<u8", buffer=padded, strides=(1,))
        up = (64 - w - (bit & 7)).view(np.uint64)
        vals = (win.take(bit >> 3) << up).view(np.int64) >> (64 - w)
    # rows: per valid frame its reference sample, then its deltas; cumulative sum per frame
    good_f = np.flatnonzero(ok)
    cnt = counts[good_f]
    total = int(cnt.sum())
    first_row = np.cumsum(cnt) - cnt
    ref_idx = starts[good_f][:, None] + np.arange(head)
    refs = buf[ref_idx].view(f"<i{ref_bytes}").reshape(-1, channels).astype(np.int64)
    rows = np.empty((total, channels), dtype=np.int64)
    is_ref = np.zeros(total, dtype=bool)
    is_ref[first_row] = True
    rows[is_ref] = refs
    rows[~is_ref] = vals.reshape(-1, channels)
    cs = np.cumsum(rows, axis=0)
    base = np.zeros((len(good_f), channels), dtype=np.int64)
    base[1:] = cs[first_row[1:] - 1]
    return cs - np.repeat(base, cnt, axis=0), counts


def polar_delta_encode(raw: np.ndarray, ref_bytes: int) -> bytes:
    """Inverse of ``polar_delta_decode`` for int samples (n, channels): one reference sample and
    blocks of at most 255 deltas, each block with the smallest bit width that holds its
    deltas."""
    raw = np.asarray(raw, dtype=np.int64)
    out = [raw[0].astype(f"<i{ref_bytes}").tobytes()]
    deltas = np.diff(raw, axis=0)
    for start in range(0, len(deltas), 255):
        block = deltas[start : start + 255]
        lo, hi = int(block.min()), int(block.max())
        width = 1
        while not (-(1 << (width - 1)) <= lo and hi < (1 << (width - 1))):
            width += 1
        u = (block.reshape(-1) & ((1 << width) - 1)).astype(np.uint64)
        bits = ((u[:, None] >> np.arange(width, dtype=np.uint64)) & np.uint64(1)).astype(np.uint8)
        out.append(bytes((width, len(block))))
        out.append(np.packbits(bits.reshape(-1), bitorder="little").tobytes())
    return b"".join(out)
