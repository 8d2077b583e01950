"""The ``receive_nominal`` time base (no counter, no timestamp): the first packet anchors a grid of
nominal-rate sample times; later packets continue it, jumping forward by whole samples when
receive time runs ahead (lost packets, a fast device clock) and pulling back by at most a quarter
sample per packet when the grid runs ahead (see ``imu_monitor.devices.decode``)."""

from __future__ import annotations

import numpy as np

from imu_monitor.devices.decode_stats import DecodeStats, KindState


class NominalGrid:
    """One sensor's nominal-rate grid, shared by its packet kinds (each keeps its ``grid_k``)."""

    def __init__(self, rate_hz: float, reanchor_samples: float, stats: DecodeStats) -> None:
        self.rate_hz = rate_hz
        self.reanchor_samples = reanchor_samples
        self.stats = stats
        self._grid0: float | None = None

    def times(self, st: KindState, n: int, tr: np.ndarray) -> np.ndarray:
        """(P, n) sample times on the grid for ``P`` packets of ``n`` samples of one kind whose
        last samples were received at session times ``tr`` (P,); advances ``st.grid_k``."""
        period = 1.0 / self.rate_hz
        p = len(tr)
        if self._grid0 is None:
            self._grid0 = float(tr[0]) - (st.grid_k + n - 1) * period
        thresh = self.reanchor_samples * period
        if p <= 8:  # the usual live case: scalar arithmetic is cheaper than numpy here
            firsts = []
            k = st.grid_k
            for tr_i in tr.tolist():
                lag = tr_i - (self._grid0 + (k + n - 1) * period)
                if lag > thresh:  # lost packets or a fast device clock: jump forward
                    jump = int(round(lag * self.rate_hz))
                    k += jump
                    self.stats.reanchors += 1
                    self.stats.lost_samples_estimated += jump
                elif lag < -0.5 * period:  # grid ahead of receive time: pull it back a little
                    self._grid0 -= min(-lag, 0.25 * period)
                firsts.append(self._grid0 + k * period)
                k += n
            st.grid_k = k
            return np.asarray(firsts)[:, None] + np.arange(n) * period
        ks = st.grid_k + np.arange(p) * n
        t_first = np.empty(p)
        start = 0
        while start < p:
            lag = tr[start:] - (self._grid0 + (ks[start:] + n - 1) * period)
            bad = np.flatnonzero((lag > thresh) | (lag < -0.5 * period))
            stop = p if len(bad) == 0 else start + int(bad[0])
            t_first[start:stop] = self._grid0 + ks[start:stop] * period
            if stop == p:
                break
            lag_j = float(lag[bad[0]])
            if lag_j > thresh:  # lost packets or a fast device clock: jump forward
                jump = int(round(lag_j * self.rate_hz))
                ks[stop:] += jump
                self.stats.reanchors += 1
                self.stats.lost_samples_estimated += jump
            else:  # the grid runs ahead of receive time: pull it back a little
                self._grid0 -= min(-lag_j, 0.25 * period)
            t_first[stop] = self._grid0 + ks[stop] * period
            start = stop + 1
        st.grid_k = int(ks[-1] + n)
        return t_first[:, None] + np.arange(n) * period
