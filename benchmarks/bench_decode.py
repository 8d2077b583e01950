"""Decoder speed per firmware profile; prints JSON.

For each profile, 60 s (at least 60,000 samples) of random samples are encoded into the
notifications the firmware sends (realistic packet sizes), then decoded three ways:

- ``feed_many_samples_per_s``: the whole stream handed to ``Decoder.feed_many`` per
  characteristic (replay / batch use; runs of equally long packets decode in one frombuffer,
  Polar delta frames of one kind decode together, acc and gyro messages pair as arrays);
- ``bulk_samples_per_s``: the same samples packed into the largest packets the profile allows
  (throughput of the vectorised core);
- ``feed_us_per_packet`` / ``feed_samples_per_s``: one ``Decoder.feed`` call per notification
  as the live BLE callback does (per-notification overhead).

Run: ``python benchmarks/bench_decode.py [--seconds 60] [--repeat 3]``; best of ``repeat``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

import numpy as np
from _timing import best_of  # noqa: E402  (benchmarks/ is on sys.path)

from imu_monitor.devices.decode import Decoder, encode
from imu_monitor.devices.profiles import list_profiles


def bench_profile(prof, seconds: float, repeat: int, min_samples: int = 60_000) -> dict:
    rng = np.random.default_rng(0)
    m = max(int(prof.rate_hz * seconds), min_samples)
    seconds = m / prof.rate_hz
    t = np.arange(m) / prof.rate_hz
    acc = rng.normal(0, 5, (m, 3))
    gyr = rng.normal(0, 1, (m, 3))
    packets = encode(prof, t, acc, gyr, None)
    by_char: dict[str, tuple[list[bytes], list[float]]] = {}
    for c, b, ts in packets:
        by_char.setdefault(c, ([], []))[0].append(b)
        by_char[c][1].append(ts)

    def live():
        d = Decoder(prof, "sacrum")
        for c, b, ts in packets:
            d.feed(c, b, ts)

    def batch():
        d = Decoder(prof, "sacrum")
        for c, (bs, ts) in by_char.items():
            d.feed_many(c, bs, ts)

    # the largest packets the layout allows (derived-length kinds only)
    big = []
    for pk in prof.packets:
        if pk.samples is None and pk.compression is None:
            big.append(replace(pk, encode_samples=pk.max_samples))
        else:
            big.append(pk)
    prof_big = replace(prof, packets=tuple(big))
    big_packets = encode(prof_big, t, acc, gyr, None)
    big_by_char: dict[str, tuple[list[bytes], list[float]]] = {}
    for c, b, ts in big_packets:
        big_by_char.setdefault(c, ([], []))[0].append(b)
        big_by_char[c][1].append(ts)

    def bulk():
        d = Decoder(prof_big, "sacrum")
        for c, (bs, ts) in big_by_char.items():
            d.feed_many(c, bs, ts)

    t_live = best_of(live, repeat)
    t_batch = best_of(batch, repeat)
    t_bulk = best_of(bulk, repeat)
    sizes = sorted({len(b) for _, b, _ in packets})
    return {
        "profile": prof.name,
        "rate_hz": prof.rate_hz,
        "samples": m,
        "notifications": len(packets),
        "packet_bytes": [sizes[0], sizes[-1]],
        "samples_per_notification": round(m / len(packets) * len(prof.notify_uuids), 2)
        if prof.combined
        else round(m / len(packets), 2),
        "feed_us_per_packet": round(t_live / len(packets) * 1e6, 2),
        "feed_samples_per_s": round(m / t_live),
        "feed_many_samples_per_s": round(m / t_batch),
        "bulk_packet_bytes": max(len(b) for _, b, _ in big_packets),
        "bulk_samples_per_s": round(m / t_bulk),
        "realtime_factor_live": round(seconds / t_live, 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="seconds of data per profile")
    ap.add_argument("--repeat", type=int, default=3, help="take the best of this many runs")
    ap.add_argument("--profile", action="append", help="only these profiles")
    args = ap.parse_args(argv)
    results = [
        bench_profile(p, args.seconds, args.repeat)
        for p in list_profiles()
        if not args.profile or p.name in args.profile
    ]
    json.dump({"benchmark": "decode", "results": results}, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
