"""Exports for research tools: BIDS-motion (``bids``), OpenSim/OpenSense ``.sto`` (``opensim``)
and C3D (``c3d``), from a recording and its batch analysis; ``tables`` holds what they share
(the channels on the sacrum's time base, the session's events, output paths), ``text`` the fast
fixed-point table writer.

Part of the storage layer: imports the core types and ``processing``; no bleak, no Qt.
"""
