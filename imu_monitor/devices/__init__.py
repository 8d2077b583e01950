"""Wearables as data: firmware profiles (``firmware_profiles/*.toml``), their validation, and
packet layouts that turn notification bytes into sample chunks in SI units (and back, for the
simulated wearable).

Imports only the core types and numpy: no bleak (the BLE link lives in ``sources``).
"""
