"""The ``imu-monitor`` command: argparse, console output, one module per subcommand.

Top layer beside ``ui``: it may import everything below (``app``, ``storage``, ``sources``,
``processing``, ``devices``, ``simulator`` and the core types). It imports ``ui`` only inside the
functions of GUI commands, so that headless commands never load Qt.
"""

from imu_monitor.cli.main import main

__all__ = ["main"]
