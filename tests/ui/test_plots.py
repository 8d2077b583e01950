"""The live plots' labels: the hip angle named only with a thigh sensor, the neutral band
labelled, limit labels clear of the y axis (offscreen geometry)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from imu_monitor.exercises import get_exercise
from imu_monitor.ui.plots import BAND_LABEL, LivePlots, segment_title
from tests.ui.qt_marks import LAYOUT_CHATTER, fail_on_qt_warnings

pytestmark = fail_on_qt_warnings(LAYOUT_CHATTER)


def _plots(qtbot, placements):
    p = LivePlots(placements, get_exercise("back-kick").limits, window_s=10.0)
    qtbot.addWidget(p)
    p.resize(760, 640)
    p.show()
    qtbot.waitExposed(p)
    QApplication.processEvents()  # the layout pass: labels follow the view's transform
    return p


def test_lower_title_names_the_hip_angle_only_with_a_thigh_sensor(qtbot):
    assert "hip" not in segment_title(["sacrum"])
    assert "hip angle" in segment_title(["sacrum", "upper_lumbar", "thigh"])
    p = _plots(qtbot, ["sacrum"])
    assert "hip" not in p.segments.titleLabel.text
    assert p.hip_trace is None


def test_neutral_band_has_a_label_inside_it(qtbot):
    p = _plots(qtbot, ["sacrum"])
    assert p.band_label.toPlainText() == BAND_LABEL and p.band_label.isVisible()
    lo, hi = p.band.getRegion()
    box = p.band_label.mapRectToView(p.band_label.boundingRect())
    assert lo <= box.bottom() and box.top() <= hi  # inside the band (view y grows upwards)
    assert box.left() >= -p.window_s


@pytest.mark.parametrize("line", ["flex_line", "ext_line"])
def test_limit_labels_do_not_overlap_the_y_axis(qtbot, line):
    p = _plots(qtbot, ["sacrum"])
    label = getattr(p, line).label
    axis = p.lumbar.getAxis("left")
    assert label.isVisible()
    assert label.sceneBoundingRect().left() >= axis.sceneBoundingRect().right()


def _window_data(t_end_s: float, rate_hz: float = 50.0):
    import numpy as np

    t = np.arange(0.0, t_end_s, 1.0 / rate_hz)
    return {"t_s": t, "lumbar_flexion_deg": np.zeros_like(t), "pitch_sacrum_deg": np.zeros_like(t)}


def test_markers_in_the_window_are_vertical_lines_with_their_names(qtbot):
    p = _plots(qtbot, ["sacrum"])
    p.set_markers([(25.0, "set end"), (4.0, "set start"), (-20.0, "old {x}")])
    p.update_window(_window_data(12.0))
    t_last = _window_data(12.0)["t_s"][-1]
    shown = [ln for ln in p.marker_lines if ln.isVisible()]
    assert len(shown) == 1
    assert shown[0].value() == pytest.approx(4.0 - t_last)
    assert shown[0].label.toPlainText() == "set start"
    p.update_window(_window_data(30.0))  # set start has left the window, set end came in
    shown = [ln for ln in p.marker_lines if ln.isVisible()]
    assert [ln.label.toPlainText() for ln in shown] == ["set end"]
    p.add_marker(29.0, "note: {braces} kept")
    p.update_window(_window_data(30.0))
    assert [ln.label.toPlainText() for ln in p.marker_lines if ln.isVisible()] == [
        "set end",
        "note: {braces} kept",
    ]


def test_a_marker_near_now_has_its_label_on_the_left(qtbot):
    # written rightwards from its line, "set end" at the plot's right edge read "set en"
    p = _plots(qtbot, ["sacrum"])
    p.set_markers([(5.0, "set start"), (11.5, "set end")])
    p.update_window(_window_data(12.0))
    start, end = (ln for ln in p.marker_lines if ln.isVisible())
    assert start.label.anchors == [(0, 0), (0, 0)]  # rightwards, as before
    assert end.label.anchors == [(1, 0), (1, 0)]


def test_a_large_excursion_stays_in_view_and_the_range_returns(qtbot):
    import numpy as np

    p = _plots(qtbot, ["sacrum"])
    base = p.lumbar.viewRange()[1]
    data = _window_data(12.0)
    data["lumbar_flexion_deg"][300] = -22.0  # a kick well past the extension limit
    p.update_window(data)
    lo, hi = p.lumbar.viewRange()[1]
    assert lo <= -22.0 and hi >= 22.0 and lo < base[0]
    later = _window_data(30.0)  # the excursion has left the 10 s window
    p.update_window(later)
    assert np.allclose(p.lumbar.viewRange()[1], base)


def test_one_sensor_lockout_range_stays_on_the_limits(qtbot):
    import numpy as np

    from imu_monitor.exercises import get_exercise

    ex = get_exercise("hip-thrust")
    p = LivePlots(["sacrum"], ex.limits, window_s=10.0, judge_flexion=False)
    qtbot.addWidget(p)
    base = p.lumbar.viewRange()[1]
    data = _window_data(12.0)
    data["lumbar_flexion_deg"][:] = -40.0  # the hips between lockouts: not judged
    p.update_window(data)
    assert np.allclose(p.lumbar.viewRange()[1], base)


def test_one_sensor_at_lockout_says_the_trace_is_the_pelvis_tilt(qtbot):
    # lowering the hips had read as -30 to -50 deg under "Lumbar angle"
    from imu_monitor.ui.plots import LOCKOUT_TITLE, LUMBAR_TITLE

    p = _plots(qtbot, ["sacrum"])
    assert p.lumbar.titleLabel.text == LUMBAR_TITLE
    p.set_limits(get_exercise("hip-thrust").limits, judge_flexion=False)
    assert p.lumbar.titleLabel.text == LOCKOUT_TITLE
