"""The session report document: self-contained, escaped, and saying the session's numbers."""

from __future__ import annotations

import re

import pytest

from imu_monitor.model import SensorSeries
from imu_monitor.processing.analysis import analyze_recording
from imu_monitor.report.html import session_html
from imu_monitor.report.session import build_session_report
from imu_monitor.simulator import SimulationConfig, simulate_session


@pytest.fixture(scope="module")
def document(back_kick):
    rec, an = back_kick
    report = build_session_report(rec, an, source='session "<1>".imr')
    return report, session_html(report, generated_utc="2026-12-05T12:00:00+00:00")


def test_user_text_is_escaped(document):
    _, doc = document
    assert "<script" not in doc.lower()
    assert "&lt;script&gt;alert(&#x27;ann&#x27;)&lt;/script&gt; &amp; Bob" in doc
    assert "<img" not in doc  # the marker note is shown as text
    assert "&lt;img src=x onerror=&quot;boom&quot;&gt;" in doc
    assert "session &quot;&lt;1&gt;&quot;.imr" in doc


def test_nothing_is_fetched_when_it_is_viewed(document):
    _, doc = document
    assert not re.search(r"<(script|link|iframe|object|embed|img)\b", doc, re.I)
    assert not re.search(r"<[^>]*\bsrc\s*=", doc, re.I)  # no tag with a source
    assert "@import" not in doc
    assert all(u.startswith("#") for u in re.findall(r"url\(([^)]*)\)", doc))  # clip paths
    # the only addresses are the SVG namespace names (identifiers, never fetched)
    addresses = set(re.findall(r"https?://[^\s\"'<>]+", doc))
    assert addresses <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    links = re.findall(r"<[^>]*\bhref\s*=\s*\"([^\"]*)\"", doc, re.I)
    assert all(h.startswith("#") for h in links)  # within the page only


def test_the_document_says_the_sessions_numbers(document):
    report, doc = document
    s = report.summary
    assert doc.count("<svg") == 4  # trace, excursion per rep, tempo, drift
    cards = dict(
        (k, v)
        for v, k in re.findall(r'<div class="v[^"]*">(.*?)</div><div class="k">(.*?)</div>', doc)
    )
    assert cards["good reps (limits and tempo)"] == f"{s['good_reps']} / {s['reps']}"
    assert cards["sets"] == str(len(report.sets)) == str(s["sets_count"])
    assert cards["reps with an alarm"] == str(s["reps_alarmed"])
    assert cards["largest flexion"] == f"{s['max_flexion_deg']:+.1f}°"
    rep_rows = re.search(r"Every rep \((\d+)\)", doc)
    assert rep_rows and int(rep_rows.group(1)) == len(report.reps)
    alarm_rows = re.search(r"Every alarm \((\d+)\)", doc)
    assert alarm_rows and int(alarm_rows.group(1)) == s["alarms"]


def test_the_quality_record_is_in_the_document(document):
    report, doc = document
    assert "Measurement quality" in doc
    assert "gravity-two-postures" in report.quality["calibration"]["method"]
    assert report.quality["calibration"]["method"] in doc
    assert "Neutral capture" in doc and "Clock offset against the sacrum" in doc
    loss = report.quality["sensors"]["sacrum"]["loss_percent"]
    assert f"<td>{loss:.2f}</td>" in doc
    # timed from the pelvis (no thigh sensor): the leak its reps measured, and what it means
    leak = report.quality["pelvis_turn_leak"]
    assert leak == pytest.approx(0.0075, abs=0.01) and leak != 0  # (this session: 0.75 %)
    assert "<b>Rep timing</b>: the pelvis&#x27; turn the reps are timed from carried" in doc
    assert f"{round(100 * leak, 2):+.1f} %" in doc


def test_a_session_without_reps_still_gets_its_report():
    rec = simulate_session(SimulationConfig(exercise="back-kick", reps=2, sensors=1, seed=1))
    s = rec.series["sacrum"]
    keep = s.t_s < 9.0  # the calibration only
    rec.series["sacrum"] = SensorSeries(s.t_s[keep], s.acc_m_s2[keep], s.gyr_rad_s[keep], None)
    doc = session_html(build_session_report(rec, analyze_recording(rec), source="still.imr"))
    assert "No rep was found in this recording." in doc and "No set: no rep was found." in doc
    assert doc.count("<svg") == 1  # the trace alone
    assert "Measurement quality" in doc


def test_every_rep_and_alarm_are_listed_open_so_they_print(document):
    # a closed <details> prints as its title only: a printed report had lost every rep's reason
    _, doc = document
    assert "<details open><summary>Every rep (" in doc
    assert "<details open><summary>Every alarm (" in doc


def test_one_sensor_in_a_hip_thrust_plots_the_pelvis_tilt_as_such():
    rec = simulate_session(SimulationConfig(exercise="hip-thrust", reps=3, faulty=1, seed=2))
    doc = session_html(build_session_report(rec, analyze_recording(rec), source="ht.imr"))
    assert "<h2>Pelvis tilt from the lockout neutral</h2>" in doc
    assert "<h2>Lumbar angle</h2>" not in doc
