"""Data sources: everything that produces sample chunks for a pipeline.

The ``Source`` protocol (``sources.base``), replay of a recording, and BLE wearables through
bleak (``ble``, the facade): scanning (``scanning``), the per-sensor link with reconnection
(``link``, ``link_stats``, ``battery``), the conversation that starts a device
(``start_sequence``), checking a device against its profile (``device_check``), and the
simulated wearable as a bleak backend (``sim/``). The only place that imports bleak. May
import the core types, ``devices`` (to decode and encode notifications), ``simulator`` (what the
simulated wearer does) and ``storage``; never ``processing``, ``app``, ``ui`` or ``cli``.
"""
