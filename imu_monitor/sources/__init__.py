"""Where samples come from: the ``Source`` protocol and its implementations.

``replay`` plays a recording back; ``ble`` is the synchronous facade over the asynchronous BLE
client (``scanning``: scan and choose devices; ``link``: one wearable per placement, with
reconnection; ``link_stats``, ``battery``); ``sim`` is the simulated wearable as a bleak backend.
The only layer that imports bleak. May import the core types, ``devices`` and ``simulator`` (the
simulated person's motion); nothing above.
"""
