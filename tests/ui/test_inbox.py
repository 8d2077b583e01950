"""GuiInbox and the event bridge: calls from other threads run in the GUI thread, in order, and
the posting thread makes no Qt call (a Qt call there can deadlock against the GUI thread:
``imu_monitor.ui.inbox``)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtWidgets import QWidget  # noqa: E402

from imu_monitor.app.dashboard import DashboardSession  # noqa: E402
from imu_monitor.events import AlarmStarted  # noqa: E402
from imu_monitor.processing.calibration import calibrate_recording  # noqa: E402
from imu_monitor.settings import Settings  # noqa: E402
from imu_monitor.simulator import SimulationConfig, simulate_session  # noqa: E402
from imu_monitor.sources.base import SourceState, SourceStatus  # noqa: E402
from imu_monitor.sources.sim import make_world  # noqa: E402
from imu_monitor.ui.bridge import EventBridge  # noqa: E402
from imu_monitor.ui.device_panel import DevicePanel  # noqa: E402
from imu_monitor.ui.inbox import GuiInbox  # noqa: E402
from imu_monitor.ui.main_window import DashboardWindow  # noqa: E402
from imu_monitor.ui.sound import AlarmSound  # noqa: E402
from tests.ui.fake_sources import IdleSource  # noqa: E402
from tests.ui.qt_marks import WINDOW_MARKS  # noqa: E402
from tests.ui.qt_threads import QtCallsOffTheGuiThread  # noqa: E402

pytestmark = WINDOW_MARKS  # (a window with a sound: the audio backend's chatter is allowed)


def _alarm(t_s: float, direction: str) -> AlarmStarted:
    return AlarmStarted(
        t_s=t_s, direction=direction, angle_deg=0.0, limit_deg=20.0, phase="hold", rep=0
    )


def test_the_recorder_sees_a_queued_signal_emitted_off_the_gui_thread(qtbot):
    """The recorder sees a PySide call made in another thread (so the checks below can fail:
    the queued emit the bridge used to make there is one)."""
    bridge = EventBridge()
    rec = QtCallsOffTheGuiThread()
    rec.run(bridge.event.emit, object(), 0.0)
    assert rec.calls and rec.calls[0][1].endswith("emit")
    bridge.close()


def test_the_bridge_makes_no_qt_call_in_the_stream_thread_and_delivers_in_order(qtbot):
    bridge = EventBridge()
    got: list[tuple[str, object]] = []
    bridge.connect_event(lambda ev, _t: got.append((threading.current_thread().name, ev.direction)))
    bridge.connect_status(lambda st: got.append((threading.current_thread().name, st.state)))
    rec = QtCallsOffTheGuiThread()

    def stream():
        bridge.on_status(SourceStatus(SourceState.CONNECTED, sensor="sacrum"))
        for i in range(200):
            bridge.listener(_alarm(i, f"d{i}"))

    rec.run(stream)
    assert rec.calls == []
    qtbot.waitUntil(lambda: len(got) == 201, timeout=5_000)
    main = threading.main_thread().name
    assert got == [(main, SourceState.CONNECTED)] + [(main, f"d{i}") for i in range(200)]
    bridge.close()
    bridge.listener(_alarm(0, "late"))  # dropped, no error
    qtbot.wait(50)
    assert len(got) == 201


def test_posts_from_two_threads_more_than_the_socket_holds_all_arrive_in_each_order(qtbot):
    inbox = GuiInbox()
    got: dict[str, list[int]] = {"a": [], "b": []}
    n = 100_000  # far more wakes than the socket pair buffers: the rest are dropped, not lost

    def post_all(key):
        for i in range(n):
            inbox.post(got[key].append, i)

    threads = [threading.Thread(target=post_all, args=(k,)) for k in got]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert inbox.pending() == 2 * n
    qtbot.waitUntil(lambda: inbox.pending() == 0, timeout=10_000)
    assert got == {"a": list(range(n)), "b": list(range(n))}
    inbox.close()
    inbox.close()  # (idempotent)


def test_a_failing_call_does_not_stop_the_others_and_is_raised_after_them(qtbot):
    inbox = GuiInbox()
    ran: list[int] = []

    def boom():
        raise ValueError("posted call failed")

    inbox.post(ran.append, 1)
    inbox.post(boom)
    inbox.post(ran.append, 2)
    with pytest.raises(ValueError, match="posted call failed"):
        inbox.run_posted()
    assert ran == [1, 2]
    inbox.close()


def test_the_device_panel_connects_and_the_window_switches_with_no_qt_call_off_its_thread(
    qtbot, tmp_path
):
    """Devices... in a running dashboard: scan the simulated wearables, pick two, connect (the
    shipping BLE client on the simulated backend, opened in a worker) and the window streams
    from them."""
    world = make_world(placements=("sacrum", "upper_lumbar"), speed=20.0, reps=2, faulty=0, seed=5)
    rec = simulate_session(SimulationConfig(reps=1, seed=3, motion="ramps"))
    ds = DashboardSession(IdleSource(rec), Settings(), calibration=calibrate_recording(rec))
    window = DashboardWindow(
        ds,
        sound=AlarmSound(output_problem="no audio output device (test)", cache_dir=tmp_path),
        device_panel_factory=lambda w: DevicePanel(w, world=world, scan_s=0.3),
    )
    qtbot.addWidget(window)
    with QtCallsOffTheGuiThread() as rec_calls:
        window.open_devices()
        panel = window.device_dialog
        panel.scan()
        qtbot.waitUntil(lambda: panel.connect_btn.isEnabled(), timeout=10_000)
        assert panel.scan_state.text() == "2 device(s) found"
        wanted = {d.placement: d.address for d in world.devices.values()}
        for placement, box in panel.pick.items():
            box.setCurrentIndex(max(0, box.findData(wanted.get(placement))))
        assert panel.selection() == wanted
        panel.connect_selected()
        qtbot.waitUntil(lambda: window.ds is not ds, timeout=20_000)
        # the new wearables' reps reach the reps panel (events through the bridge's inbox)
        qtbot.waitUntil(lambda: _reps_shown(window) >= 1, timeout=20_000)
    assert rec_calls.calls == []
    assert list(window.plots.placements) == ["sacrum", "upper_lumbar"]
    assert panel.connect_state.text().startswith("connected (sacrum: ")
    assert "upper\xa0lumbar:\xa0200\xa0Hz" in window.sensor_strip.text()
    window.shutdown()


def _reps_shown(window) -> int:
    """The total of the reps panel's "good / reps" counter."""
    text = window.reps_panel.count.text()
    return int(text.split("/")[-1]) if "/" in text else 0


def test_the_device_panel_scans_in_a_worker_without_a_qt_call_there(qtbot):
    window = QWidget()
    window.ds = SimpleNamespace(source=SimpleNamespace(sensors={}))
    qtbot.addWidget(window)
    panel = DevicePanel(window, world=make_world(reps=1, faulty=0), scan_s=0.2, parent=window)
    with QtCallsOffTheGuiThread() as rec:
        panel.scan()
        qtbot.waitUntil(lambda: panel.scan_btn.isEnabled(), timeout=10_000)
    assert rec.calls == []
    assert panel.scan_state.text() == "1 device(s) found"
