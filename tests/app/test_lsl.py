"""LSL outlets of a running session, read back by inlets in the same process and checked against
the recording the same session wrote beside them: every sample, in order, same values, time
stamps within 1 ms of the recording's (after the one offset the session_clock marker gives);
orientations as the batch filter computes them; markers for reps, phases and alarms."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import numpy as np
import pylsl
import pytest

from imu_monitor.app.lsl import LslOutlets
from imu_monitor.app.session import Session
from imu_monitor.app.sources import SimulatedPerson, live_source
from imu_monitor.processing.orientation import estimate_orientation
from imu_monitor.processing.pipeline import Pipeline
from imu_monitor.storage.recording import RecordingWriter, load_recording

PLACEMENTS = ("sacrum", "upper_lumbar", "thigh")
TIMEOUT_S = 60.0
"""Wall-clock bound of every wait on LSL data (a hang guard, not a performance assertion)."""


class Inlets:
    """One inlet per stream of ``source``, pulled into lists."""

    def __init__(self, source: str, n_streams: int) -> None:
        found = pylsl.resolve_bypred(
            f"contains(source_id,'{source}')", minimum=n_streams, timeout=TIMEOUT_S
        )
        assert len(found) == n_streams, [i.name() for i in found]
        self.inlets = {}
        for info in found:
            inlet = pylsl.StreamInlet(info, max_buflen=360, recover=False)
            inlet.open_stream(TIMEOUT_S)
            self.inlets[info.name()] = inlet
        self.data: dict[str, list] = {n: [] for n in self.inlets}
        self.stamps: dict[str, list[float]] = {n: [] for n in self.inlets}

    def close(self) -> None:
        for inlet in self.inlets.values():
            inlet.close_stream()
        self.inlets = {}

    def pull(self, timeout: float = 0.2) -> None:
        for name, inlet in self.inlets.items():
            values, stamps = inlet.pull_chunk(timeout=timeout if name.endswith("acc") else 0.0)
            self.data[name].extend(values)
            self.stamps[name].extend(stamps)

    def pull_until(self, done, what: str) -> None:
        deadline = pylsl.local_clock() + TIMEOUT_S
        while not done():
            assert pylsl.local_clock() < deadline, f"no {what} within {TIMEOUT_S} s"
            self.pull()


class _Orientations:
    """A pipeline data sink beside the outlets: every orientation the filters gave, and for each
    sensor the first time it was given once ``pipeline`` had its calibration (the filters take
    their inclination afresh from each sensor's next chunk: behind the others by the feed's
    skew, which a loaded machine makes over 0.1 s)."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.t_s: dict[str, list[np.ndarray]] = {p: [] for p in PLACEMENTS}
        self.quat_ws: dict[str, list[np.ndarray]] = {p: [] for p in PLACEMENTS}
        self.calibrated_from: dict[str, float] = {}

    def samples(self, chunk) -> None:
        pass

    def orientation(self, sensor, t_s, quat_ws) -> None:
        if self.pipeline.calibration is not None:
            self.calibrated_from.setdefault(sensor, float(t_s[0]))
        self.t_s[sensor].append(np.array(t_s))
        self.quat_ws[sensor].append(np.array(quat_ws))

    def angles(self, columns) -> None:
        pass


@pytest.fixture
def session(tmp_path):
    """A three-sensor simulated session (the real BLE client on the simulated backend, 8x real
    time) recorded to a file and sent on LSL; the test's inlets are connected before it starts."""
    source_name = f"test-{uuid.uuid4().hex[:8]}"
    live = live_source(
        {p: "sim" for p in PLACEMENTS},
        person=SimulatedPerson("back-kick", seed=3, speed=8.0, reps=3, faulty=1),
    )
    source = live.source
    source.open()
    path = tmp_path / "s.imr"
    meta = {"exercise": "back-kick", "created_utc": datetime.now(UTC).isoformat()}
    recorder = RecordingWriter(path, meta, source.sensors)
    pipeline = Pipeline("back-kick", source.sensors, recorder=recorder)
    outlets = LslOutlets(source.sensors, source=source_name)
    outlets.attach(pipeline)
    kept = _Orientations(pipeline)
    pipeline.add_data_sink(kept)
    inlets = Inlets(source_name, len(outlets.outlets))
    assert outlets.wait_for_consumers(TIMEOUT_S)
    sess = Session(source, pipeline, wearable_alerts=False)
    sess.start()
    yield source, sess, pipeline, recorder, path, outlets, inlets, kept
    source.stop()
    inlets.close()
    outlets.close()


def test_every_sample_orientation_and_marker_reaches_the_inlets(session):
    source, sess, pipeline, recorder, path, outlets, inlets, kept = session
    # wait on the data itself: 30 s of session (past the calibration and three reps)
    inlets.pull_until(lambda: len(inlets.stamps["imu-monitor sacrum acc"]) >= 30 * 200, "data")
    sess.stop()
    outlets.flush()  # the last part-chunk (close() would send it too)
    recorder.close()
    rec = load_recording(path)
    counts = {p: len(rec.series[p]) for p in PLACEMENTS}
    inlets.pull_until(
        lambda: (
            all(len(inlets.stamps[f"imu-monitor {p} gyro"]) >= n for p, n in counts.items())
            and all(len(inlets.stamps[f"imu-monitor {p} acc"]) >= n for p, n in counts.items())
        ),
        "all samples",
    )
    offset = outlets.offset_s
    markers = [json.loads(m[0]) for m in inlets.data["imu-monitor markers"]]
    assert markers[0]["type"] == "session_clock"
    assert markers[0]["lsl_minus_session_s"] == pytest.approx(offset, abs=1e-9)

    for p in PLACEMENTS:
        s = rec.series[p]
        for kind, values in (("acc", s.acc_m_s2), ("gyro", s.gyr_rad_s)):
            name = f"imu-monitor {p} {kind}"
            assert len(inlets.data[name]) == len(s)  # every sample, none twice
            np.testing.assert_array_equal(np.array(inlets.data[name]), values)
            t = np.array(inlets.stamps[name]) - offset
            assert np.all(np.diff(t) > 0)  # in order
            assert np.max(np.abs(t - s.t_s)) < 1e-3
        # orientations: every one the pipeline's filters gave (a sink beside the outlets kept
        # them), in order; until the calibration, what the online filter gives for the series
        # (the filters then take their inclination afresh, and after reps 1 and 3 they are run
        # again without the accelerometer offsets: ``live_acc_offset``)
        t_kept = np.concatenate(kept.t_s[p])
        name, k = f"imu-monitor {p} orientation", len(t_kept)
        inlets.pull_until(lambda n=name, k=k: len(inlets.data[n]) >= k, "orientations")
        got = np.array(inlets.data[name])
        np.testing.assert_allclose(got, np.concatenate(kept.quat_ws[p]), rtol=0, atol=1e-12)
        assert np.max(np.abs(np.array(inlets.stamps[name]) - offset - t_kept)) < 1e-3
        plain = estimate_orientation(s, rec.sensors[p].rate_hz)
        before = plain.t_s < kept.calibrated_from[p]
        assert before.sum() > 3 * 200  # (past the standing capture)
        np.testing.assert_allclose(got[before], plain.quat_ws[before], atol=1e-9)

    # the monitor's events, as recorded, are on the markers stream at their session times
    recorded = [e for e in rec.events if e["type"] != "recording_failed"]
    inlets.pull_until(
        lambda: (
            len(inlets.data["imu-monitor markers"])
            >= 1 + len(recorded) + 3 * len([e for e in recorded if e["type"] == "rep_ended"])
        ),
        "markers",
    )
    markers = [json.loads(m[0]) for m in inlets.data["imu-monitor markers"]]
    stamps = inlets.stamps["imu-monitor markers"]
    kinds = {"rep_started", "rep_ended", "alarm_started", "alarm_ended", "acc_offset_applied"}
    events = [(m, t) for m, t in zip(markers, stamps, strict=True) if m["type"] in kinds]
    assert [m["type"] for m, _ in events] == [e["type"] for e in recorded]
    assert [m["type"] for m, _ in events].count("acc_offset_applied") == 3  # calibration, 1, 3
    assert any(m["type"] == "alarm_started" for m, _ in events)  # the faulty rep
    for (_, t), e in zip(events, recorded, strict=True):
        assert abs(t - offset - e["t_s"]) < 1e-3
    reps = [e for e in recorded if e["type"] == "rep_ended"]
    assert len(reps) >= 3  # (the simulated wearer goes on after its three reps)
    phases = [(m, t) for m, t in zip(markers, stamps, strict=True) if m["type"] == "phase"]
    assert [m["phase"] for m, _ in phases] == ["concentric", "hold", "eccentric"] * len(reps)
    for i, rep in enumerate(reps):
        for (m, t), key in zip(phases[3 * i : 3 * i + 3], ("t_start_s", "t_top_s", "t_hold_end_s"),
                               strict=True):  # fmt: skip
            assert m["rep"] == rep["index"]
            assert abs(t - offset - rep[key]) < 1e-3

    # the angles once calibrated: the degrees the dashboard shows, on the sacrum's clock
    name = "imu-monitor angles"
    angles = np.array(inlets.data[name])
    assert angles.shape[1] == 3  # lumbar flexion, lateral flexion, hip flexion (a thigh sensor)
    t = np.array(inlets.stamps[name]) - offset
    assert len(t) > 10 * 200 and np.all(np.diff(t) > 0)
    assert np.all(np.isin(np.round(t, 9), np.round(rec.series["sacrum"].t_s, 9)))
    assert np.nanmax(np.abs(angles[:, 0])) > 5.0  # the faulty rep's excursion is there


def test_stream_metadata_follows_the_xdf_conventions(session):
    source, sess, pipeline, recorder, path, outlets, inlets, kept = session
    sess.stop()
    recorder.close()
    info = inlets.inlets["imu-monitor thigh gyro"].info(TIMEOUT_S)
    assert (info.type(), info.channel_count(), info.nominal_srate()) == ("GYRO", 3, 200.0)
    assert info.channel_format() == pylsl.cf_double64
    ch = info.desc().child("channels").child("channel")
    assert (ch.child_value("label"), ch.child_value("unit"), ch.child_value("type")) == (
        "thigh_gyro_x", "rad/s", "GYRO")  # fmt: skip
    assert info.desc().child_value("placement") == "thigh"
    acq = info.desc().child("acquisition")
    assert acq.child_value("model") == "diy_imu"  # the firmware profile of the simulated wearable
    ori = inlets.inlets["imu-monitor sacrum orientation"].info(TIMEOUT_S)
    assert ori.type() == "MoCap"
    ch, types = ori.desc().child("channels").child("channel"), []
    while not ch.empty():
        types.append((ch.child_value("type"), ch.child_value("object")))
        ch = ch.next_sibling()
    assert types == [(f"Orientation{c}", "sacrum") for c in "ABCD"]
    markers = inlets.inlets["imu-monitor markers"].info(TIMEOUT_S)
    assert (markers.type(), markers.nominal_srate()) == ("Markers", pylsl.IRREGULAR_RATE)
    assert markers.channel_format() == pylsl.cf_string
