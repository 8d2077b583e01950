import pytest

from imu_monitor.app.sources import parse_sensors
from imu_monitor.errors import ImuMonitorError


def test_parse_sensors():
    assert parse_sensors("1", None) == {"sacrum": "sim"}
    assert parse_sensors("2", "sim") == {"sacrum": "sim", "upper_lumbar": "sim"}
    assert parse_sensors("1", "AA:BB:CC:DD:EE:FF") == {"sacrum": "AA:BB:CC:DD:EE:FF"}
    assert parse_sensors("sacrum=A, thigh=B", None) == {"sacrum": "A", "thigh": "B"}
    with pytest.raises(ImuMonitorError, match="sacrum=NAME,upper_lumbar=NAME"):
        parse_sensors("2", "MyIMU")
    with pytest.raises(ImuMonitorError, match="unknown sensor placement 'neck'"):
        parse_sensors("sacrum=A,neck=B", None)
    with pytest.raises(ImuMonitorError, match="must include a sacrum"):
        parse_sensors("thigh=B", None)
    with pytest.raises(ImuMonitorError, match="1, 2 or 3"):
        parse_sensors("4", None)
