"""Pairing acc and gyro halves that a device sends in separate notifications: by time, within a
tolerance; halves left without a partner are dropped and counted as orphans."""

from __future__ import annotations

import numpy as np

from imu_monitor.devices.decode_stats import DecodeStats

_EMPTY3 = np.zeros((0, 3))


class HalfPairer:
    """Queues of unmatched acc / gyr halves; ``tol``: s within which two halves pair."""

    def __init__(self, tol: float, stats: DecodeStats) -> None:
        self.tol = tol
        self.stats = stats
        self._pending: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {"acc": [], "gyr": []}

    def pair(
        self, name: str, t: np.ndarray, vals: np.ndarray, last_emit_t: float, cap: int, out: list
    ) -> float:
        """Queue one half (acc or gyr) and append the 6-axis samples that now have partners to
        ``out``. Halves at or before ``last_emit_t`` (s) can no longer pair; at most ``cap``
        unmatched halves per stream wait. Returns the new last emitted time."""
        self._pending[name].append((t, vals))
        ta, va = _cat(self._pending["acc"])
        tg, vg = _cat(self._pending["gyr"])
        tol = self.tol
        old_a = ta <= last_emit_t
        old_g = tg <= last_emit_t
        matched_a = np.zeros(len(ta), dtype=bool)
        matched_g = np.zeros(len(tg), dtype=bool)
        ia = ig = np.zeros(0, dtype=np.int64)
        if len(ta) and len(tg):
            j = np.searchsorted(tg, ta - tol, side="left")
            jc = np.minimum(j, len(tg) - 1)
            ok = (j < len(tg)) & (np.abs(tg[jc] - ta) <= tol) & ~old_a & ~old_g[jc]
            ia, ig = np.flatnonzero(ok), jc[ok]
            if len(ig) > 1:
                first = np.concatenate(([True], ig[1:] != ig[:-1]))
                ia, ig = ia[first], ig[first]
            matched_a[ia] = True
            matched_g[ig] = True
        last_pair = ta[ia[-1]] if len(ia) else -np.inf
        horizon_a = (tg[-1] - tol) if len(tg) else -np.inf
        horizon_g = (ta[-1] - tol) if len(ta) else -np.inf
        orphan_a = ~matched_a & (old_a | (ta < horizon_a) | (ta < last_pair))
        orphan_g = ~matched_g & (old_g | (tg < horizon_g) | (tg < last_pair))
        for orphan, matched in ((orphan_a, matched_a), (orphan_g, matched_g)):
            keep = ~matched & ~orphan
            extra = int(keep.sum()) - cap
            if extra > 0:  # the other stream stalls: drop the oldest
                orphan[np.flatnonzero(keep)[:extra]] = True
        self.stats.orphan_acc += int(orphan_a.sum())
        self.stats.orphan_gyr += int(orphan_g.sum())
        keep_a = ~matched_a & ~orphan_a
        keep_g = ~matched_g & ~orphan_g
        self._pending["acc"] = [(ta[keep_a], va[keep_a])] if keep_a.any() else []
        self._pending["gyr"] = [(tg[keep_g], vg[keep_g])] if keep_g.any() else []
        if len(ia):
            out.append((ta[ia], va[ia], vg[ig], None))
            last_emit_t = float(ta[ia[-1]])
        return last_emit_t


def _cat(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    if not parts:
        return np.zeros(0), _EMPTY3
    if len(parts) == 1:
        return parts[0]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
