"""Recordings: one open, documented, crash-safe file format (``.imr``) for everything recorded.

Raw samples per sensor in SI units with their time base, sensors (device, profile, placement),
meta data (exercise, source, ...), calibration, markers, monitor events, gaps and, for
simulated sessions, the ground truth. The format is specified in docs/recording-format.md so
files can be read without this code.
"""

from imu_monitor.errors import RecordingError
from imu_monitor.storage.recording.format import EXTENSION, FORMAT_VERSION
from imu_monitor.storage.recording.reader import load_recording
from imu_monitor.storage.recording.writer import RecordingWriter, add_marker, save_recording

__all__ = [
    "EXTENSION",
    "FORMAT_VERSION",
    "RecordingError",
    "RecordingWriter",
    "add_marker",
    "load_recording",
    "save_recording",
]
