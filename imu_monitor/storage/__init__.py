"""Files: the recording format (``storage.recording``), importers of other tools' files, export,
and the per-user stores (settings, calibrations).

Imports the core types and ``processing`` (for the calibration record it stores); no bleak,
no Qt.
"""
