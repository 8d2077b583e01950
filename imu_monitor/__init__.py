"""imu-monitor: an open lumbar stability monitor."""

__version__ = "0.1.0"
