"""Composition: a source and a pipeline built from plain parameters, wired into a session; used
by the command line and the dashboard alike. Also the Python API (``app.api``).

May import every layer below it (``sources``, ``storage``, ``processing``, ``devices``,
``simulator``, core types); never ``ui`` or ``cli``, and never Qt.
"""
