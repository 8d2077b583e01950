"""Bounded, thread-safe ring buffers of named float channels (the latest window for the dashboard).

The writer (source thread) appends whole chunks; readers (the GUI frame timer) take copies of the
latest window. Memory is allocated once: a 2-hour session uses the same memory as a 2-minute one.
"""

from __future__ import annotations

import threading

import numpy as np


class RingBuffer:
    """Fixed-capacity ring of rows, one float64 column per channel name.

    ``append(columns)`` takes a dict of equally long 1-D arrays (missing channels are filled with
    NaN); ``window(seconds)`` returns the rows whose ``t_s`` lies within ``seconds`` of the newest
    one, oldest first, as copies.
    """

    def __init__(self, channels: list[str], capacity: int) -> None:
        if "t_s" not in channels:
            channels = ["t_s", *channels]
        self.channels = list(channels)
        self.capacity = int(capacity)
        self._data = np.full((len(self.channels), self.capacity), np.nan)
        self._index = {name: i for i, name in enumerate(self.channels)}
        self._head = 0  # next row to write
        self._count = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._count

    def append(self, columns: dict[str, np.ndarray]) -> None:
        n = len(columns["t_s"])
        if n == 0:
            return
        block = np.full((len(self.channels), n), np.nan)
        for name, values in columns.items():
            i = self._index.get(name)
            if i is not None and values is not None:
                block[i] = values
        if n >= self.capacity:
            block = block[:, -self.capacity :]
            n = self.capacity
        with self._lock:
            first = min(n, self.capacity - self._head)
            self._data[:, self._head : self._head + first] = block[:, :first]
            if first < n:
                self._data[:, : n - first] = block[:, first:]
            self._head = (self._head + n) % self.capacity
            self._count = min(self.capacity, self._count + n)

    def clear(self) -> None:
        with self._lock:
            self._head = 0
            self._count = 0

    def _ordered(self) -> np.ndarray:
        if self._count < self.capacity:
            return self._data[:, : self._count].copy()
        return np.concatenate([self._data[:, self._head :], self._data[:, : self._head]], axis=1)

    def window(self, seconds: float | None = None) -> dict[str, np.ndarray]:
        """The latest ``seconds`` of data (all of it when None), one array per channel."""
        with self._lock:
            data = self._ordered()
        if seconds is not None and data.shape[1]:
            t = data[self._index["t_s"]]
            start = int(np.searchsorted(t, t[-1] - seconds, side="left"))
            data = data[:, start:]
        return {name: data[i] for name, i in self._index.items()}
