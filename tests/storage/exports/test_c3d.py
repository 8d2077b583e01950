"""C3D export read back with ezc3d: the same channel values (as 32-bit floats), labels, units,
rates and events; a long session keeps every sample and as many events as C3D can hold."""

from __future__ import annotations

import stat

import ezc3d
import numpy as np
import pytest

from imu_monitor.errors import ImuMonitorError
from imu_monitor.processing.analysis import analyze_recording
from imu_monitor.simulator import SimulationConfig, simulate_session
from imu_monitor.storage.export import export_columns
from imu_monitor.storage.exports.c3d import MAX_EVENTS, write_c3d


def _events(c):
    ev = c["parameters"]["EVENT"]
    times = ev["TIMES"]["value"]
    return list(ev["LABELS"]["value"]), list(ev["CONTEXTS"]["value"]), times[0] * 60 + times[1]


def _same_as_float32(got, want):
    want32 = np.asarray(want, dtype=np.float32)
    return np.array_equal(np.isnan(got), np.isnan(want32)) and np.array_equal(
        got[~np.isnan(got)], want32[~np.isnan(want32)]
    )


def test_read_back_gives_the_same_channels_and_events(session, tmp_path):
    rec, an = session
    out = tmp_path / "s.c3d"
    kept, left = write_c3d(rec, an, out)
    assert left == 0 and stat.S_IMODE(out.stat().st_mode) == 0o600
    c = ezc3d.c3d(str(out))
    cols = export_columns(rec, an)
    n = len(cols["t_s"])
    labels = c["parameters"]["ANALOG"]["LABELS"]["value"]
    units = dict(zip(labels, c["parameters"]["ANALOG"]["UNITS"]["value"], strict=True))
    analogs = c["data"]["analogs"][0]
    assert analogs.shape == (len(labels), n)
    assert c["parameters"]["ANALOG"]["RATE"]["value"][0] == 200.0
    assert c["header"]["points"]["size"] == 0
    for p in ("sacrum", "upper_lumbar", "thigh"):
        for a in "xyz":
            i, j = labels.index(f"{p}_acc_{a}"), labels.index(f"{p}_gyr_{a}")
            assert _same_as_float32(analogs[i], cols[f"{p}_acc_{a}_m_s2"]), (p, a)
            assert _same_as_float32(analogs[j], cols[f"{p}_gyr_{a}_rad_s"]), (p, a)
            assert units[f"{p}_acc_{a}"] == "m/s^2" and units[f"{p}_gyr_{a}"] == "rad/s"
    for name in ("lumbar_flexion", "lumbar_lateral", "hip_flexion", "true_lumbar_flexion"):
        assert _same_as_float32(analogs[labels.index(name)], cols[f"{name}_deg"]), name
        assert units[name] == "deg"
    phase = analogs[labels.index("phase")]
    assert set(np.unique(phase)) == {0.0, 1.0, 2.0, 3.0}
    alarm = analogs[labels.index("alarm")]
    assert np.count_nonzero(np.diff(alarm) != 0) >= len(an.result.alarms)

    names, contexts, times = _events(c)
    assert kept == len(names)

    def on_axis(t_s):  # the file's time axis: sample index / rate (module docstring)
        return np.interp(t_s, cols["t_s"], np.arange(n)) / 200.0

    starts = [t for k, t in zip(names, times, strict=True) if k == "rep_start"]
    assert starts == pytest.approx([on_axis(r.t_start_s) for r in an.result.reps], abs=1e-4)
    alarm_starts = [
        (ctx, t) for k, ctx, t in zip(names, contexts, times, strict=True) if k == "alarm_start"
    ]
    assert [ctx.lower() for ctx, _ in alarm_starts] == [a.direction for a in an.result.alarms]
    assert [t for _, t in alarm_starts] == pytest.approx(
        [on_axis(a.t_start_s) for a in an.result.alarms], abs=1e-4
    )
    # each event lies within a sample of where the channel it marks changes (the simulated
    # sensor's jitter and lost samples had put them up to 0.3 s a minute apart)
    went_on = np.flatnonzero((alarm[1:] != 0) & (alarm[:-1] == 0)) + 1
    assert len(went_on) == len(alarm_starts)
    assert np.abs(np.array([t for _, t in alarm_starts]) - went_on / 200.0).max() <= 1 / 200.0
    rose = np.flatnonzero((phase[1:] == 1.0) & (phase[:-1] == 0.0)) + 1
    assert np.abs(np.array(starts) - rose / 200.0).max() <= 1 / 200.0
    descriptions = c["parameters"]["EVENT"]["DESCRIPTIONS"]["value"]
    first = descriptions[names.index("rep_start")]
    assert first.startswith("rep 1")  # from 1, as every output counts reps
    assert {m.kind for m in rec.markers} <= set(names)


def test_a_long_session_keeps_every_sample_and_caps_the_events(tmp_path):
    rec = simulate_session(
        SimulationConfig(
            exercise="back-kick", reps=75, faulty=10, sensors=1, seed=5, motion="ramps"
        )
    )
    an = analyze_recording(rec)
    n = len(export_columns(rec, an)["t_s"])
    assert n > 65535  # more samples than a C3D header can count
    out = tmp_path / "long.c3d"
    kept, left = write_c3d(rec, an, out)
    c = ezc3d.c3d(str(out))
    labels = c["parameters"]["ANALOG"]["LABELS"]["value"]
    acc = c["data"]["analogs"][0][labels.index("sacrum_acc_z")]
    assert acc.shape[0] >= n and np.isnan(acc[n:]).all()
    assert _same_as_float32(acc[:n], export_columns(rec, an)["sacrum_acc_z_m_s2"])
    names, _, times = _events(c)
    assert kept == len(names) == MAX_EVENTS and left > 0
    assert list(times) == sorted(times)
    assert names.count("alarm_start") == len(an.result.alarms)  # alarms and markers kept first
    assert {m.kind for m in rec.markers} <= set(names)


def test_refusals_name_the_path(session, tmp_path):
    rec, an = session
    with pytest.raises(ImuMonitorError, match="is a folder"):
        write_c3d(rec, an, tmp_path)
    with pytest.raises(ImuMonitorError, match=f"{tmp_path / 'no'}: folder does not exist"):
        write_c3d(rec, an, tmp_path / "no" / "x.c3d")
    (tmp_path / "x.c3d").write_bytes(b"")
    with pytest.raises(ImuMonitorError, match="exists; pass --force"):
        write_c3d(rec, an, tmp_path / "x.c3d")
    with pytest.raises(ImuMonitorError, match="/proc/x.c3d: cannot write"):
        write_c3d(rec, an, "/proc/x.c3d")
