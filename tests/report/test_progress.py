"""The progress report of one user's history: per exercise, session by session."""

from __future__ import annotations

import re

import pytest
from matplotlib.dates import ConciseDateFormatter

from imu_monitor.cli.main import main
from imu_monitor.report.progress import progress_figure, progress_html
from imu_monitor.storage.history import HistoryStore, SessionRow


def _row(user, day, exercise, reps, good, tempo, flex, ext, i):
    return SessionRow(
        user=user, date=f"2026-11-{day:02d}T09:00:00+00:00", exercise=exercise,
        sensors=("sacrum",), duration_s=300.0, reps=reps, alarms=reps - good,
        peak_flexion_deg=flex, peak_extension_deg=ext, path=f"/data/{user}-{i}.imr",
        sha256=f"{i:064x}", sets=2, good_reps=good, tempo_adherence=tempo,
    )  # fmt: skip


ANN = "Ann <O'Neil>"
ROWS = [
    _row(ANN, 3, "back-kick", 20, 8, 0.5, 14.0, 11.0, 1),
    _row(ANN, 10, "back-kick", 20, 14, 0.7, 10.5, 8.0, 2),
    _row(ANN, 17, "back-kick", 20, 19, 0.95, 6.2, 4.1, 3),
    _row(ANN, 12, "hip-thrust", 10, 5, None, 3.0, 7.5, 4),
]


@pytest.fixture
def history(tmp_path):
    store = HistoryStore(tmp_path / "data")
    store.add_many([*ROWS, _row("bob", 5, "back-kick", 12, 12, 1.0, 2.0, 2.0, 9)])
    return store


def test_the_progress_document_shows_each_exercise_session_by_session():
    doc = progress_html(ANN, list(reversed(ROWS)), generated_utc="2026-12-05T00:00:00+00:00")
    assert "Progress: Ann &lt;O&#x27;Neil&gt;" in doc and "<O'Neil>" not in doc
    assert doc.count("<svg") == 2  # one per exercise
    assert "Back kick" in doc and "Hip thrust" in doc
    assert "40 % → 95 %" in doc  # good reps of the first and the latest back kick session
    assert "50 % → 95 %" in doc  # reps on tempo
    dates = re.findall(r"<td class=\"l\">(2026-11-\d\d) 09:00</td>", doc)
    assert dates == ["2026-11-03", "2026-11-10", "2026-11-17", "2026-11-12"]  # oldest first
    assert "<td>-11.0</td>" in doc  # extension shown negative


def test_the_progress_plot_has_one_point_per_session():
    fig = progress_figure(ROWS[:3])
    good, tempo = fig.axes[0].get_lines()[:2]
    assert list(good.get_ydata()) == pytest.approx([40.0, 70.0, 95.0])
    assert list(tempo.get_ydata()) == pytest.approx([50.0, 70.0, 95.0])
    flex, ext = fig.axes[1].get_lines()[:2]
    assert list(ext.get_ydata()) == [-11.0, -8.0, -4.1]
    # dates as dates, the day as the axis' offset ("11:15.000000" had read as a clock time)
    assert isinstance(fig.axes[1].xaxis.get_major_formatter(), ConciseDateFormatter)


def test_report_progress_writes_the_users_history(tmp_path, history, capsys):
    out = tmp_path / "p.html"
    argv = ["report", "--progress", "--user", ANN, "-o", str(out), "--data-dir",
            str(history.directory)]  # fmt: skip
    assert main(argv) == 0
    assert "4 sessions of Ann <O'Neil> (back-kick, hip-thrust)" in capsys.readouterr().out
    doc = out.read_text(encoding="utf-8")
    assert "bob" not in doc and "Hip thrust" in doc
    assert main([*argv, "--force", "--exercise", "hip-thrust"]) == 0
    assert "Back kick" not in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        ([], 2, "whose? give --user (users in the history: Ann <O'Neil>, bob)"),
        (["--user", "carl"], 1, "no sessions of carl in the history"),
        (["--user", "bob", "x.imr"], 2, "--progress reports from the history, not a file"),
    ],
)
def test_report_progress_bad_input_is_one_line(tmp_path, history, capsys, extra, code, message):
    argv = ["report", "--progress", "-o", str(tmp_path / "p.html"), "--data-dir",
            str(history.directory), *extra]  # fmt: skip
    assert main(argv) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "p.html").exists()


def test_user_is_only_for_progress(tmp_path, capsys):
    assert main(["report", "x.imr", "--user", "ann", "-o", str(tmp_path / "r.html")]) == 2
    assert "--user is for --progress" in capsys.readouterr().err
