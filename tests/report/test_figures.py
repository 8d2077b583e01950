"""The report's plots: the envelope keeps every extreme, alarms are marked, the SVG inlines."""

from __future__ import annotations

import matplotlib.colors
import numpy as np

from imu_monitor.report import figures


def test_the_envelope_keeps_a_one_sample_spike_and_dip():
    t = np.arange(720_000) / 200.0  # an hour at 200 Hz
    y = np.sin(t)
    y[123_457] = 25.0
    y[654_321] = -30.0
    tc, lo, hi = figures.envelope(t, y, 1100)
    assert len(tc) == len(lo) == len(hi) == 1100
    assert hi.max() == 25.0 and lo.min() == -30.0
    column = np.searchsorted(tc, t[123_457]) + np.array([-1, 0])
    assert 25.0 in hi[column]
    assert np.all(lo <= hi)


def test_the_envelope_leaves_columns_without_data_empty():
    t = np.concatenate([np.linspace(0, 10, 1000), np.linspace(50, 60, 1000)])
    y = np.ones_like(t)
    y[5] = np.nan
    tc, lo, hi = figures.envelope(t, y, 60)
    gap = (tc > 11) & (tc < 50)  # bins [11, 12) .. [49, 50)
    assert np.isnan(lo[gap]).all() and np.isnan(hi[gap]).all()
    assert np.isfinite(lo[~gap]).all() and np.isfinite(hi[~gap]).all()  # NaN samples skipped


def _alarm(t, direction, peak):
    return {"t_start_s": t, "t_end_s": t + 0.2, "direction": direction, "peak_deg": peak}


def test_every_alarm_of_an_hour_is_marked_on_the_trace():
    t = np.arange(0, 3600, 0.005)
    y = np.zeros_like(t)
    alarms = [_alarm(60.0 * k, "flexion" if k % 2 else "extension", 12.0) for k in range(1, 50)]
    fig = figures.trace_figure(
        t, y, flexion_limit_deg=9, extension_limit_deg=9, mode="continuous",
        alarms=alarms, sets=[(0, 1800), (1900, 3600)], markers=[100.0],
    )  # fmt: skip
    ax = fig.axes[0]
    marks = [c for c in ax.collections if c.get_offsets().shape[1:] == (2,) and c.get_label()]
    counted = {c.get_label(): len(c.get_offsets()) for c in marks if "alarm" in c.get_label()}
    assert counted == {"flexion alarm (25)": 25, "extension alarm (24)": 24}
    svg = figures.svg_text(fig)
    assert svg.startswith("<svg") and "<?xml" not in svg and "DOCTYPE" not in svg
    assert len(svg) < 400_000  # the envelope, not 720 000 points


def test_the_same_figure_gives_the_same_svg():
    def draw():
        return figures.svg_text(
            figures.rep_bars_figure(
                [3, 12, 1],
                [2, 1, 11],
                [False, True, False],
                [False, False, True],
                flexion_limit_deg=9,
                extension_limit_deg=9,
            )  # fmt: skip
        )

    assert draw() == draw()


def test_faulty_reps_are_marked_in_their_direction():
    fig = figures.rep_bars_figure(
        [3, 12, 1, 2], [2, 1, 11, 1], [False, True, False, False], [False, False, True, False],
        flexion_limit_deg=9, extension_limit_deg=9,
    )  # fmt: skip
    ax = fig.axes[0]
    crosses = [c for c in ax.collections if c.get_label() == "rep not counted"]
    assert [list(p) for p in crosses[0].get_offsets()[:, 0:1]] == [[2.0], [3.0]]
    filled = {p.get_label(): p for p in ax.patches}
    # the flexion-alarm outline reaches the faulty rep's 12 degrees, nothing else's
    flex = filled["flexion alarm"].get_path().vertices
    assert flex[:, 1].max() == 12.0


def test_tempo_marks_in_red_the_phases_the_count_judged_off():
    # hip thrust 1-2-2 s, +-0.5 s: the 1.996 s hold reads "2.00" and counts; 1.99 does not
    fig = figures.tempo_figure(
        {"concentric_s": [1.0, 1.0, 1.7], "hold_s": [1.996, 1.99, 2.5], "eccentric_s": [2, 2, 2]},
        {"concentric_s": 1.0, "hold_s": 2.0, "eccentric_s": 2.0},
        0.5,
    )
    red = matplotlib.colors.to_rgba("#c92a2a")

    def off(ax):  # each colour and fill is one scatter
        marks = [c for c in ax.collections if np.allclose(c.get_edgecolors()[0], red)]
        return sorted(int(x) for c in marks for x in c.get_offsets()[:, 0])

    up, hold, down = fig.axes[:3]
    assert off(up) == [3] and off(hold) == [2] and off(down) == []


def test_a_small_drift_trend_is_drawn_small():
    # autoscaled, a trend of 0.05 deg/rep filled the whole panel as if the back had drifted far
    fig = figures.drift_figure([[10.0, 12.0, 11.0]], [0.05], 80.0)
    lo, hi = fig.axes[1].get_ylim()
    assert lo <= -figures.TREND_SCALE_DEG_PER_REP and hi >= figures.TREND_SCALE_DEG_PER_REP
    fig = figures.drift_figure([[10.0, 40.0, 80.0]], [-3.0], 80.0)
    assert fig.axes[1].get_ylim()[0] < -3.0  # a large one still fits
