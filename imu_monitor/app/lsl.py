"""Lab Streaming Layer outlets for a running session (``--lsl``): the only module that imports
pylsl.

``LslOutlets`` is a data sink of the pipeline (``processing.pipeline.DataSink``) and one of its
event listeners; the command line and the dashboard attach it to the session's pipeline
(``attach``). One outlet per quantity, as LSL devices usually do it (muse-lsl:
alexandrebarachant/muse-lsl ``muselsl/stream.py``, one ``ACC`` and one ``GYRO`` outlet):

* per sensor ``imu-monitor <placement> acc`` (type ``ACC``, 3 x float64, m/s^2) and
  ``imu-monitor <placement> gyro`` (type ``GYRO``, 3 x float64, rad/s), at the sensor's nominal
  rate, every sample the pipeline is fed, in order;
* per sensor ``imu-monitor <placement> orientation`` (type ``MoCap``, quaternion w, x, y, z
  sensor-to-earth, channel types ``OrientationA``..``D`` as the XDF MoCap meta-data page says);
* ``imu-monitor angles`` (type ``JointAngles``, degrees: lumbar flexion, lumbar lateral flexion
  and, with a thigh sensor, hip flexion), once calibrated;
* ``imu-monitor markers`` (type ``Markers``, irregular, one JSON string per marker): reps, their
  phases (sent when the rep ends, time-stamped at the phase's start), alarms, user markers, and
  first a ``session_clock`` marker giving the offset between LSL time and session time.

Time stamps: the session's sample times (the device's clock as the source maps it) plus one
offset fixed when the first sample arrives (``pylsl.local_clock() - t``), so the relative
timing on LSL is the device's. Channel meta-data follow the XDF conventions (sccn/xdf wiki,
"Meta-Data" and "MoCap Meta Data": ``desc/channels/channel`` with ``label``, ``unit``, ``type``;
``desc/acquisition`` with ``manufacturer`` and ``model``); ``desc/placement`` names the body
site.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterable
from typing import Any

import numpy as np

from imu_monitor import __version__
from imu_monitor.errors import LslUnavailableError
from imu_monitor.events import Event, RepEnded
from imu_monitor.model import Marker, SampleChunk, SensorInfo

try:  # pylsl loads liblsl (bundled in its wheels) when imported; it may be missing or broken
    import pylsl

    LOAD_ERROR: str | None = None
except (ImportError, OSError, RuntimeError) as _e:  # pragma: no cover - depends on the machine
    pylsl = None
    LOAD_ERROR = (str(_e).strip().splitlines() or [type(_e).__name__])[0]

PREFIX = "imu-monitor"
AXES = ("x", "y", "z")
QUAT = (("w", "OrientationA"), ("x", "OrientationB"), ("y", "OrientationC"), ("z", "OrientationD"))
ANGLES = (
    ("lumbar_flexion_deg", "lumbar_flexion"),
    ("lumbar_lateral_deg", "lumbar_lateral_flexion"),
    ("hip_flexion_deg", "hip_flexion"),
)
CHUNK_S = 0.05
"""Samples go out in chunks of this much session time (10 samples at 200 Hz; muse-lsl sends 12
at 256 Hz): a push per BLE notification and quantity cost half as much CPU again as the whole
headless session (benchmarks/bench_lsl.py). Adds up to this much latency on LSL; the markers go
out at once; ``flush`` (and ``close``) sends what is left."""
MAX_BUFFERED_S = 360
"""Seconds an outlet keeps for a slow consumer (liblsl's default)."""
LINGER_S = 0.5
"""How long ``close`` keeps outlets that have consumers: liblsl drops what it has not sent yet
when an outlet is destroyed, and LSL has no acknowledgement to wait for instead. On one host the
last chunk goes out in well under a millisecond; this covers a loaded machine."""
LOG_LEVEL = -2
"""liblsl's own log: errors only (its INFO lines would mix with the command's output)."""


def lsl_available() -> bool:
    return pylsl is not None


def check_lsl() -> None:
    """Raise ``LslUnavailableError`` (one line: what failed, what to do) when pylsl or its
    liblsl cannot be loaded."""
    if pylsl is None:
        raise LslUnavailableError(LOAD_ERROR or "pylsl is not installed")


def _clean(value: Any) -> Any:
    """JSON-safe: non-finite floats become null, numpy scalars Python numbers."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def marker_text(doc: dict[str, Any]) -> str:
    return json.dumps(_clean(doc), separators=(",", ":"), sort_keys=True)


class _Chunker:
    """Collects one outlet's samples and pushes them ``CHUNK_S`` at a time."""

    def __init__(self, outlet: Any, rate_hz: float) -> None:
        self.outlet = outlet
        self.size = max(1, int(round(rate_hz * CHUNK_S)))
        self.values: list[np.ndarray] = []
        self.stamps: list[np.ndarray] = []
        self.n = 0

    def add(self, values: np.ndarray, stamps: np.ndarray) -> None:
        self.values.append(values)
        self.stamps.append(stamps)
        self.n += len(stamps)
        if self.n >= self.size:
            self.flush()

    def flush(self) -> None:
        if not self.n:
            return
        values = np.ascontiguousarray(np.concatenate(self.values), dtype=np.float64)
        stamps = np.concatenate(self.stamps).tolist()
        self.values, self.stamps, self.n = [], [], 0
        self.outlet.push_chunk(values, stamps)


def _manufacturer_model(info: SensorInfo) -> tuple[str, str]:
    if info.profile in ("sim", "import", "unknown", ""):
        what = {"sim": "simulated wearable", "import": "imported recording"}
        return PREFIX, what.get(info.profile, "unknown")
    return "", info.profile  # the firmware profile names the device family, not its maker


class LslOutlets:
    """The session's LSL outlets (module docstring). Thread-safe: samples come from the source's
    thread, user markers from the UI's."""

    def __init__(self, sensors: dict[str, SensorInfo], *, source: str = "") -> None:
        check_lsl()
        if hasattr(pylsl, "set_config_content"):
            try:  # only before liblsl's first use; later calls change nothing
                pylsl.set_config_content(f"[log]\nlevel = {LOG_LEVEL}\n")
            except Exception:  # an older liblsl: its log stays as it is
                pass
        self.sensors = dict(sensors)
        self._lock = threading.Lock()
        self.offset_s: float | None = None
        """LSL time minus session time, fixed at the first sample (None before)."""
        self._acc: dict[str, _Chunker] = {}
        self._gyr: dict[str, _Chunker] = {}
        self._ori: dict[str, _Chunker] = {}
        for p, info in self.sensors.items():
            uid = f"{PREFIX}:{source or info.device or info.profile}:{p}"
            self._acc[p] = self._outlet(
                f"{PREFIX} {p} acc", "ACC", info, uid + ":acc",
                [(f"{p}_acc_{a}", "m/s^2", "ACC") for a in AXES],
            )  # fmt: skip
            self._gyr[p] = self._outlet(
                f"{PREFIX} {p} gyro", "GYRO", info, uid + ":gyro",
                [(f"{p}_gyro_{a}", "rad/s", "GYRO") for a in AXES],
            )  # fmt: skip
            self._ori[p] = self._outlet(
                f"{PREFIX} {p} orientation", "MoCap", info, uid + ":orientation",
                [(f"{p}_quat_{c}", "normalized", t) for c, t in QUAT], mocap_object=p,
            )  # fmt: skip
        master = self.sensors.get("sacrum") or next(iter(self.sensors.values()))
        self.angle_columns = [c for c, _ in ANGLES if c != "hip_flexion_deg" or "thigh" in sensors]
        labels = dict(ANGLES)
        self._angles = self._outlet(
            f"{PREFIX} angles", "JointAngles", master, f"{PREFIX}:{source}:angles",
            [(labels[c], "degrees", "JointAngle") for c in self.angle_columns], placement="",
        )  # fmt: skip
        self._markers = self._outlet(
            f"{PREFIX} markers", "Markers", master, f"{PREFIX}:{source}:markers",
            [("marker", "", "Marker")], placement="", rate=0.0, fmt="string",
        )  # fmt: skip
        self.counts = {"markers": 0}

    # -- construction ----------------------------------------------------------------------
    def _outlet(
        self,
        name: str,
        kind: str,
        info: SensorInfo,
        uid: str,
        channels: list[tuple[str, str, str]],
        *,
        placement: str | None = None,
        mocap_object: str | None = None,
        rate: float | None = None,
        fmt: str = "double64",
    ) -> Any:
        si = pylsl.StreamInfo(
            name, kind, len(channels), info.rate_hz if rate is None else rate, fmt, uid
        )
        desc = si.desc()
        chans = desc.append_child("channels")
        for label, unit, ctype in channels:
            ch = chans.append_child("channel")
            ch.append_child_value("label", label)
            if unit:
                ch.append_child_value("unit", unit)
            ch.append_child_value("type", ctype)
            if mocap_object:
                ch.append_child_value("object", mocap_object)
        manufacturer, model = _manufacturer_model(info)
        acq = desc.append_child("acquisition")
        if manufacturer:
            acq.append_child_value("manufacturer", manufacturer)
        acq.append_child_value("model", model)
        if info.device:
            acq.append_child_value("serial_number", info.device)
        where = info.placement if placement is None else placement
        if where:
            desc.append_child_value("placement", where)
            frame = "earth (z up, heading arbitrary)" if mocap_object else "sensor"
            desc.append_child_value("reference_frame", frame)
        desc.append_child_value("software", f"{PREFIX} {__version__}")
        outlet = pylsl.StreamOutlet(si, 0, MAX_BUFFERED_S)
        return outlet if rate == 0.0 else _Chunker(outlet, si.nominal_srate())

    def attach(self, pipeline: Any) -> None:
        """Be fed by ``pipeline`` (a ``Pipeline`` or the dashboard's ``PipelineSwitch``)."""
        pipeline.add_data_sink(self)
        pipeline.add_listener(self.event)

    @property
    def _chunkers(self) -> list[_Chunker]:
        every = [*self._acc.values(), *self._gyr.values(), *self._ori.values(), self._angles]
        return [c for c in every if c is not None]

    @property
    def outlets(self) -> list[Any]:
        markers = [] if self._markers is None else [self._markers]
        return [c.outlet for c in self._chunkers] + markers

    @property
    def stream_names(self) -> list[str]:
        return [o.get_info().name() for o in self.outlets]

    def wait_for_consumers(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` until every outlet has a consumer (LabRecorder recording);
        False if the time ran out first."""
        deadline = pylsl.local_clock() + timeout_s
        for outlet in self.outlets:
            if not outlet.wait_for_consumers(max(0.0, deadline - pylsl.local_clock())):
                return False
        return True

    # -- data in (the pipeline's feeding thread) -------------------------------------------
    def _offset(self, t_s: float) -> float:
        with self._lock:
            if self.offset_s is None:
                self.offset_s = pylsl.local_clock() - t_s
                doc = {"type": "session_clock", "t_s": t_s, "lsl_minus_session_s": self.offset_s}
                self._push_markers([(t_s + self.offset_s, marker_text(doc))])
            return self.offset_s

    def samples(self, chunk: SampleChunk) -> None:
        offset = self._offset(float(chunk.t_s[-1]))  # the newest sample arrived about now
        stamps = chunk.t_s + offset
        # copies: a chunk's arrays may be reused by its source once fed (as for the recorder)
        self._acc[chunk.sensor].add(np.array(chunk.acc_m_s2, dtype=np.float64), stamps)
        self._gyr[chunk.sensor].add(np.array(chunk.gyr_rad_s, dtype=np.float64), stamps)

    def orientation(self, sensor: str, t_s: np.ndarray, quat_ws: np.ndarray) -> None:
        self._ori[sensor].add(quat_ws, t_s + self._offset(float(t_s[0])))

    def angles(self, columns: dict[str, np.ndarray]) -> None:
        t = columns["t_s"]
        if len(t) == 0:
            return
        values = np.column_stack([columns[c] for c in self.angle_columns])
        self._angles.add(values, t + self._offset(float(t[0])))

    def event(self, ev: Event) -> None:
        """A monitor event (pipeline listener): a marker; a finished rep also its phases."""
        offset = self._offset(ev.t_s)
        items = []
        if isinstance(ev, RepEnded):
            phases = (
                ("concentric", ev.t_start_s),
                ("hold", ev.t_top_s),
                ("eccentric", ev.t_hold_end_s),
            )
            for phase, t in phases:
                doc = {"type": "phase", "phase": phase, "rep": ev.index, "t_s": t}
                items.append((t + offset, marker_text(doc)))
        items.append((ev.t_s + offset, marker_text(ev.to_dict())))
        self._push_markers(items)

    def marker(self, marker: Marker) -> None:
        """A user marker (a note, a set start, a calibration capture)."""
        doc = {"type": "marker", **marker.to_dict()}
        self._push_markers([(marker.t_s + self._offset(marker.t_s), marker_text(doc))])

    def _push_markers(self, items: Iterable[tuple[float, str]]) -> None:
        for stamp, text in items:
            self._markers.push_sample([text], stamp)
            self.counts["markers"] += 1

    def flush(self) -> None:
        """Send the samples still collected for a chunk (the session stopped)."""
        for c in self._chunkers:
            c.flush()

    def close(self) -> None:
        """Flush, then destroy the outlets (consumers see the streams end), ``LINGER_S`` after
        the last sample when a consumer is connected; samples after this are errors the
        pipeline logs. Idempotent."""
        self.flush()
        if any(o.have_consumers() for o in self.outlets):
            threading.Event().wait(LINGER_S)  # a delivery delay, not a synchronisation
        self._acc, self._gyr, self._ori = {}, {}, {}
        self._angles = self._markers = None  # pylsl destroys an outlet with its last reference
