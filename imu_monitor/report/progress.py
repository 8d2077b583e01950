"""The progress report: one user's history (``storage.history``) per exercise over sessions:
good-rep rate, the largest lumbar excursions and tempo adherence, as plots and a table, in one
self-contained HTML document like the session report."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from imu_monitor import __version__
from imu_monitor.exercises import EXERCISES
from imu_monitor.report import figures
from imu_monitor.report.markup import CSS, card, esc, num, table
from imu_monitor.storage.history import SessionRow


def _when(row: SessionRow) -> datetime:
    try:
        t = datetime.fromisoformat(row.date)
    except ValueError:
        return datetime.fromtimestamp(0, UTC)
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _pct(x: float | None) -> float:
    return math.nan if x is None else 100.0 * x


def progress_figure(rows: Sequence[SessionRow]) -> Figure:
    """Per session (by date): the good-rep rate and the tempo adherence (%), and the largest
    flexion (+) and extension (-) in degrees."""
    fig, (ax, bx) = figures.new_figure(4.4, rows=2, sharex=True)
    when = [_when(r) for r in rows]
    good = [_pct(r.good_rep_rate) for r in rows]
    tempo = [_pct(r.tempo_adherence) for r in rows]
    ax.plot(when, good, marker="o", color=figures.GOOD, label="good reps (%)")
    ax.plot(when, tempo, marker="s", color=figures.TARGET, linestyle="--",
            label="reps on tempo (%)")  # fmt: skip
    ax.set_ylim(-5, 125)
    ax.set_yticks([0, 25, 50, 75, 100])
    ax.set_ylabel("% of reps")
    ax.legend(loc="upper left", fontsize=8, ncols=2, frameon=False)
    bx.plot(when, [r.peak_flexion_deg for r in rows], marker="v", color=figures.FLEXION,
            label="largest flexion (°)")  # fmt: skip
    bx.plot(when, [-abs(r.peak_extension_deg) for r in rows], marker="^",
            color=figures.EXTENSION, label="largest extension (°)")  # fmt: skip
    bx.axhline(0.0, color=figures.TARGET, linewidth=0.6)
    lo, hi = bx.get_ylim()
    bx.set_ylim(lo, hi + 0.3 * (hi - lo))
    bx.set_ylabel("lumbar angle (°)")
    bx.legend(loc="upper left", fontsize=8, ncols=2, frameon=False)
    # concise labels with the date as their offset: sessions minutes apart had read
    # "11:15.000000" (minutes, seconds and microseconds) with no date
    locator = AutoDateLocator()
    bx.xaxis.set_major_locator(locator)
    bx.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    return fig


def _trend(values: Sequence[float | None]) -> str:
    """The first and the latest session's value (%), e.g. '40 % → 85 %'."""
    vals = [v for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return "–"
    return f"{vals[0]:.0f} % → {vals[-1]:.0f} %" if len(vals) > 1 else f"{vals[0]:.0f} %"


def _exercise_section(exercise: str, rows: list[SessionRow]) -> str:
    title = EXERCISES[exercise].title if exercise in EXERCISES else exercise
    good = [_pct(r.good_rep_rate) for r in rows]
    tempo = [_pct(r.tempo_adherence) for r in rows]
    reps = sum(r.reps for r in rows)
    cards = [
        card(str(len(rows)), "sessions"),
        card(str(reps), "reps"),
        card(_trend(good), "good reps, first → latest", "ok"),
        card(_trend(tempo), "reps on tempo, first → latest"),
        card(
            num(float(np.nanmax([r.peak_flexion_deg for r in rows])), "+.1f", "°"),
            "largest flexion",
            "flex",
        ),  # fmt: skip
        card(
            num(-float(np.nanmax([r.peak_extension_deg for r in rows])), "+.1f", "°"),
            "largest extension",
            "ext",
        ),  # fmt: skip
    ]
    body = [
        [
            esc(_when(r).strftime("%Y-%m-%d %H:%M")),
            "–" if r.sets is None else str(r.sets),
            str(r.reps),
            "–" if r.good_reps is None else str(r.good_reps),
            num(_pct(r.good_rep_rate), ".0f"),
            num(_pct(r.tempo_adherence), ".0f"),
            str(r.alarms),
            num(r.peak_flexion_deg, "+.1f"),
            num(-abs(r.peak_extension_deg), "+.1f"),
            esc(", ".join(r.sensors)),
            esc(r.path.rsplit("/", 1)[-1]),
        ]
        for r in rows
    ]
    cols = ["date", "sets", "reps", "good", "good %", "on tempo %", "alarms", "peak flex °",
            "peak ext °", "sensors", "file"]  # fmt: skip
    return (
        f'<h2>{esc(title)}</h2><div class="cards">{"".join(cards)}</div>'
        f'<div class="fig">{figures.svg_text(progress_figure(rows))}</div>'
        + table(cols, body, left=1)
    )


def progress_html(
    user: str, rows: Sequence[SessionRow], *, generated_utc: str | None = None
) -> str:
    """The progress document of ``user`` from their history rows (any order)."""
    when = generated_utc or datetime.now(UTC).isoformat(timespec="seconds")
    ordered = sorted(rows, key=_when)
    by_exercise: dict[str, list[SessionRow]] = {}
    for r in ordered:
        by_exercise.setdefault(r.exercise, []).append(r)
    span = (
        f"{_when(ordered[0]).date()} to {_when(ordered[-1]).date()}" if ordered else "no sessions"
    )
    parts = [
        f"<h1>Progress: {esc(user)}</h1>",
        f'<p class="meta">{len(ordered)} sessions, {esc(span)}; per exercise: the share of good '
        "reps (within the limits and on tempo), the share of reps on tempo, and the largest "
        "lumbar excursions, session by session.</p>",
        *(_exercise_section(ex, rs) for ex, rs in by_exercise.items()),
        f"<footer>imu-monitor {esc(__version__)}, report written {esc(when)} (UTC). Angles in "
        "degrees from the calibrated neutral: flexion (rounding) +, extension (arching) −."
        "</footer>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Progress – {esc(user)}</title><style>{CSS}</style></head><body>"
        + "".join(parts)
        + "</body></html>\n"
    )
