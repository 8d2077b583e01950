"""``python -m imu_monitor``: the same as the ``imu-monitor`` command."""

import sys

from imu_monitor.cli import main

sys.exit(main())
