"""The Qt dashboard (PySide6 + pyqtgraph): the only place that imports Qt.

Widgets pull the pipeline's ring buffers on a frame timer and receive events as Qt signals; they
never compute physics. May import every layer below (``app`` for composition); never ``cli``.
"""
