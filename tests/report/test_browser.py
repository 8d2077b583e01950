"""The report in a real browser: headless Chromium (Debian's ``chromium``, which
``scripts/setup.sh --test`` installs) renders it to a PNG that is not blank, with the plots'
colours on it, and its page text holds the session's numbers."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from imu_monitor.report import figures
from imu_monitor.report.progress import progress_html
from imu_monitor.report.write import write_session_report
from tests.report.test_progress import ANN, ROWS

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    assert Path(CHROMIUM).exists(), (
        "Debian's chromium is needed for this test: bash scripts/setup.sh --test installs it"
    )
    profile = tmp / "chromium-profile"
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=180, check=True,
    )  # fmt: skip


@pytest.fixture(scope="module")
def rendered(back_kick, tmp_path_factory):
    rec, an = back_kick
    tmp = tmp_path_factory.mktemp("browser")
    page = tmp / "report.html"
    report = write_session_report(rec, page, source="back-kick.imr", analysis=an)
    png = tmp / "report.png"
    chromium(tmp, f"--screenshot={png}", "--window-size=1200,3000", page.as_uri())
    dom = chromium(tmp, "--dump-dom", page.as_uri()).stdout
    return report, imread(png), dom


def _has_colour(img: np.ndarray, hex_colour: str, tol: float = 0.06) -> int:
    rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255.0
    return int((np.abs(img[..., :3] - rgb).max(axis=-1) < tol).sum())


def test_the_report_renders_to_a_picture_that_is_not_blank(rendered):
    _, img, _ = rendered
    assert img.shape[:2] == (3000, 1200)
    rgb = img[..., :3]
    assert rgb.std() > 0.05
    colours = np.unique((rgb[::3, ::3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 50
    # the plots were drawn: the flexion and extension colours of the limits, bars and alarms
    assert _has_colour(img, figures.FLEXION) > 200
    assert _has_colour(img, figures.EXTENSION) > 200
    assert _has_colour(img, figures.GOOD) > 200
    # and the page is not all at the top: something is drawn in the lower half
    assert rgb[1500:].std() > 0.05


def test_the_page_text_holds_the_sessions_numbers(rendered):
    report, _, dom = rendered
    s = report.summary
    assert "Session report: Back kick" in dom
    assert f'{s["good_reps"]} / {s["reps"]}</div><div class="k">good reps' in dom
    assert f"{s['max_flexion_deg']:+.1f}°" in dom
    assert f"Every alarm ({s['alarms']})" in dom
    assert dom.count("<svg") == 4


def test_the_progress_report_renders_with_its_plots(tmp_path):
    page = tmp_path / "progress.html"
    page.write_text(progress_html(ANN, ROWS), encoding="utf-8")
    png = tmp_path / "progress.png"
    chromium(tmp_path, f"--screenshot={png}", "--window-size=1200,1600", page.as_uri())
    img = imread(png)
    assert img[..., :3].std() > 0.05
    assert _has_colour(img, figures.GOOD) > 100 and _has_colour(img, figures.EXTENSION) > 100
    dom = chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    assert "Progress: Ann &lt;O'Neil&gt;" in dom and "40 % → 95 %" in dom
