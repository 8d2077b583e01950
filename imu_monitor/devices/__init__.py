"""Wearables as data: firmware profiles (``firmware_profiles/*.toml``), their validation, and
packet layouts that turn notification bytes into sample chunks in SI units (and back, for the
simulated wearable).

Modules: ``profile_schema`` (the typed profile), ``profile_parse`` (TOML -> validated profile),
``profiles`` (lookup by name / scan); ``packet_layout`` (byte layouts, Polar delta codec,
encoder), ``batch`` (classifying notifications), ``decode_stats`` (stats, counter/timestamp
continuity), ``timebase`` (receive-time grid), ``pairing`` (acc/gyr halves), ``decode`` (the
``Decoder``).

Imports only the core types and numpy: no bleak (the BLE link lives in ``sources``).
"""
