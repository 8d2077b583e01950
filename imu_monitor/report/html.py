"""The session report as one self-contained HTML document: inline CSS, inline SVG plots, no
script, no font or image fetched: it opens offline in any browser and prints.

Every piece of text that came from a user or a file (user name, file name, marker kinds and
notes, calibration notes) goes through ``esc``; numbers are formatted here.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from imu_monitor import __version__
from imu_monitor.events import DIRECTIONS, Direction, MonitorMode
from imu_monitor.processing.sets import SetSummary
from imu_monitor.report import figures
from imu_monitor.report.markup import CSS, card, clock, esc, num, table
from imu_monitor.report.quality_html import quality_section
from imu_monitor.report.session import SessionReport


def _summary(r: SessionReport) -> str:
    s = r.summary
    lim = r.limits
    tempo = r.exercise.tempo
    mean = s.get("mean_tempo_s", {})
    tempo_faults = sum(1 for j in r.judgements if any(f not in DIRECTIONS for f in j.faults))
    cards = [
        card(f"{s['good_reps']} / {s['reps']}", "good reps (limits and tempo)", "ok"),
        card(str(s["reps_alarmed"]), "reps with an alarm", "warn" if s["reps_alarmed"] else ""),
        card(str(tempo_faults), "reps off the tempo", "warn" if tempo_faults else ""),
        card(
            f'{s["alarms"]} <small>(<span class="flex">{s["alarms_flexion"]} flex</span>, '
            f'<span class="ext">{s["alarms_extension"]} ext</span>)</small>',
            "alarms",
        ),
        card(num(s["max_flexion_deg"], "+.1f", "°"), "largest flexion", "flex"),
        card(num(-abs(s["max_extension_deg"]), "+.1f", "°"), "largest extension", "ext"),
        card(num(s["alarm_time_s"], ".1f", " s"), "time in alarm"),
        card(str(len(r.sets)), "sets"),
    ]
    if mean:
        cards.append(
            card(
                " / ".join(num(mean[k], ".1f") for k in ("concentric", "hold", "eccentric")),
                f"mean up / hold / down (s); target {tempo.up_s:g} / {tempo.hold_s:g} / "
                f"{tempo.down_s:g}",
            )
        )
    rules = r.exercise.sets
    limits = (
        f"limits: flexion +{lim.flexion_deg:g}°"
        + (" (not judged)" if r.analysis.mode == MonitorMode.LOCKOUT else "")
        + f", extension −{lim.extension_deg:g}°, dwell {lim.dwell_s * 1000:.0f} ms; a good rep "
        f"stays within them with up and down within ±{rules.tempo_tolerance_s:g} s of the "
        f"target and a hold of at least {tempo.hold_s:g} s; a set ends at a rest over "
        f"{rules.pause_s:g} s or a set marker"
    )
    return f'<div class="cards">{"".join(cards)}</div><p class="meta">{esc(limits)}</p>'


def _phase(s: SetSummary, name: str) -> str:
    p = s.phase(name)
    if p.mean_s is None:
        return "–"
    return f"{p.mean_s:.2f} ± {p.sd_s or 0.0:.2f}"


def _setstable(r: SessionReport) -> str:
    rows, classes = [], []
    for s in r.sets:
        rows.append(
            [
                str(s.index + 1),
                f"{clock(s.t_start_s)}–{clock(s.t_end_s)}",
                str(s.reps),
                str(s.good_reps),
                str(s.faulty_flexion),
                str(s.faulty_extension),
                str(s.faulty_tempo),
                num(s.peak_flexion_deg, "+.1f"),
                num(-s.peak_extension_deg, "+.1f"),
                _phase(s, "up"),
                _phase(s, "hold"),
                _phase(s, "down"),
                num(s.drift_slope_deg_per_rep, "+.2f"),
                "–" if s.drift_first_rep is None else str(s.drift_first_rep - s.first_rep + 1),
                "–" if s.rest_before_s is None else num(s.rest_before_s, ".0f"),
            ]
        )
        classes.append("bad" if s.good_reps < s.reps else "")
    t = r.exercise.tempo
    cols = ["set", "time", "reps", "good", "flexion faults", "extension faults", "tempo faults",
            "peak flex °", "peak ext °", f"up s ({t.up_s:g})", f"hold s ({t.hold_s:g})",
            f"down s ({t.down_s:g})", "drift °/rep", "drift warning at rep",
            "rest before s"]  # fmt: skip
    note = (
        "<p class=meta>Tempo: mean ± spread of the set's reps (target in brackets). Drift: the "
        "trend of the reps' lumbar excursion over the set, and the rep of the set whose "
        f"excursion first passed {r.exercise.sets.drift_warning_fraction:.0%} of its limit.</p>"
    )
    return table(cols, rows, left=2, classes=classes) + note


def _figure_block(fig) -> str:
    return f'<div class="fig">{figures.svg_text(fig)}</div>'


def _plots(r: SessionReport) -> str:
    t, y = r.trace
    lim = r.limits
    alarms = [a.to_dict() for a in r.analysis.result.alarms if a.t_end_s is not None]
    breaks = [s.first_rep + 1 for s in r.sets[1:]]
    parts = ["<h2>Lumbar angle</h2>"]
    if r.analysis.mode == "lockout":  # between lockouts the hips move the pelvis, not the back
        parts = [
            "<h2>Pelvis tilt from the lockout neutral</h2><p class=meta>One sensor: the tilt is "
            "the lumbar angle only at a held lockout, where it is judged; between lockouts it is "
            "the hips moving, not the lower back.</p>"
        ]
    if len(t):
        parts.append(
            _figure_block(
                figures.trace_figure(
                    t,
                    y,
                    flexion_limit_deg=lim.flexion_deg,
                    extension_limit_deg=lim.extension_deg,
                    mode=r.analysis.mode,
                    alarms=alarms,
                    sets=[(s.t_start_s, s.t_end_s) for s in r.sets],
                    markers=[m["t_s"] for m in r.markers if not m["kind"].startswith("calib")],
                )
            )
        )
    js = r.judgements
    if not js:
        parts.append("<p>No rep was found in this recording.</p>")
        return "".join(parts)
    parts.append(
        "<h2>Lumbar excursion per rep</h2><p class=meta>Bars: each rep's peak flexion (up) and "
        "extension (down), coloured where an alarm went off; a cross over every rep that did "
        "not count (lumbar or tempo); dotted lines between sets.</p>"
    )
    parts.append(
        _figure_block(
            figures.rep_bars_figure(
                [j.peak_flexion_deg for j in js],
                [j.peak_extension_deg for j in js],
                [Direction.FLEXION in j.faults for j in js],
                [Direction.EXTENSION in j.faults for j in js],
                flexion_limit_deg=lim.flexion_deg,
                extension_limit_deg=lim.extension_deg,
                set_breaks=breaks,
                not_good=[not j.good for j in js],
            )
        )
    )
    tempo = r.exercise.tempo
    tol = r.exercise.sets.tempo_tolerance_s
    parts.append(
        f"<h2>Tempo against the target</h2><p class=meta>Target up {tempo.up_s:g} s, hold "
        f"{tempo.hold_s:g} s, down {tempo.down_s:g} s; on tempo within ±{tol:g} s (a hold at "
        "least its target): the green band. Open marks: phase split approximate (not "
        "judged).</p>"
    )
    parts.append(
        _figure_block(
            figures.tempo_figure(
                {
                    "concentric_s": [j.up_s for j in js],
                    "hold_s": [j.hold_s for j in js],
                    "eccentric_s": [j.down_s for j in js],
                },
                {"concentric_s": tempo.up_s, "hold_s": tempo.hold_s, "eccentric_s": tempo.down_s},
                tol,
                approximate=[j.tempo_approximate for j in js],
                set_breaks=breaks,
            )  # fmt: skip
        )
    )
    frac = r.exercise.sets.drift_warning_fraction
    parts.append(
        "<h2>Form drift per set</h2><p class=meta>Each rep's lumbar excursion as a share of its "
        f"limit, one line per set, the warning at {frac:.0%} (ringed: the first rep past it); "
        "below, each set's trend in degrees per rep.</p>"
    )
    per_set = [[j for j in js if j.set_index == s.index] for s in r.sets]
    parts.append(
        _figure_block(
            figures.drift_figure(
                [[100.0 * j.excursion_fraction for j in sj] for sj in per_set],
                [
                    math.nan if s.drift_slope_deg_per_rep is None else s.drift_slope_deg_per_rep
                    for s in r.sets
                ],
                100.0 * frac,
                first_warning=[
                    None if s.drift_first_rep is None else s.drift_first_rep - s.first_rep
                    for s in r.sets
                ],
            )
        )
    )
    return "".join(parts)


def _repstable(r: SessionReport) -> str:
    rows, classes = [], []
    for x, j in zip(r.reps, r.judgements, strict=True):
        rows.append(
            [
                str(x.index + 1),
                str(j.set_index + 1),
                clock(x.t_start_s),
                ("~" if x.tempo_approximate else "") + num(x.concentric_s, ".2f"),
                num(x.hold_s, ".2f"),
                num(x.eccentric_s, ".2f"),
                num(x.peak_flexion_deg, "+.1f"),
                num(-x.peak_extension_deg, "+.1f"),
                "good" if j.good else esc(j.reason),
            ]
        )
        classes.append("" if j.good else "bad")
    cols = ["rep", "set", "start", "up s", "hold s", "down s", "flex °", "ext °", "verdict"]
    body = table(cols, rows, left=3, classes=classes)
    return f"<details open><summary>Every rep ({len(rows)})</summary>{body}</details>"


def _alarmstable(r: SessionReport) -> str:
    alarms = [a for a in r.analysis.result.alarms if a.t_end_s is not None]
    if not alarms:
        return "<p>No alarm.</p>"
    rows = [
        [
            f'<span class="{"flex" if a.direction == "flexion" else "ext"}">{a.direction}</span>',
            clock(a.t_start_s),
            num(a.duration_s, ".2f"),
            num(a.peak_deg, "+.1f"),
            str(a.phase),
            "–" if a.rep is None else str(a.rep + 1),
        ]
        for a in alarms
    ]
    body = table(["direction", "start", "s", "peak °", "phase", "rep"], rows, left=1)
    return f"<details open><summary>Every alarm ({len(rows)})</summary>{body}</details>"


def _markerstable(r: SessionReport) -> str:
    if not r.markers:
        return ""
    rows = []
    for m in r.markers:
        span = clock(m["t_s"]) + ("" if m["t_end_s"] is None else f"–{clock(m['t_end_s'])}")
        data = ", ".join(f"{esc(k)}: {esc(v)}" for k, v in m["data"].items())
        rows.append([span, esc(m["kind"]), data])
    return "<h2>Markers</h2>" + table(["time", "kind", "details"], rows, left=3)


def session_html(r: SessionReport, *, generated_utc: str | None = None) -> str:
    """The whole document for ``r``."""
    ex = r.exercise
    when = generated_utc or datetime.now(UTC).isoformat(timespec="seconds")
    created = r.meta.get("created_utc", "")
    meta = [
        f"file {esc(r.source)}",
        f"user {esc(r.user)}" if r.user else "",
        f"recorded {esc(created)}" if created else "",
        f"duration {clock(r.duration_s)}",
        "sensors " + esc(", ".join(r.analysis.placements)),
        "judged " + esc(r.analysis.mode),
    ]
    notes = "".join(f'<p class="note">{esc(n)}</p>' for n in r.notes)
    if r.analysis.calibration.windows_guessed:
        notes += (
            '<p class="note">The calibration windows were guessed (see Measurement quality).</p>'
        )
    body = [
        f"<h1>Session report: {esc(ex.title)}</h1>",
        f'<p class="meta">{" · ".join(m for m in meta if m)}</p>',
        notes,
        "<h2>Summary</h2>",
        _summary(r),
        "<h2>Sets</h2>",
        _setstable(r) if r.sets else "<p>No set: no rep was found.</p>",
        _plots(r),
        "<h2>Reps and alarms</h2>",
        _repstable(r) if r.reps else "",
        _alarmstable(r),
        _markerstable(r),
        quality_section(r),
        f"<footer>imu-monitor {esc(__version__)}, report written {esc(when)} (UTC). Angles in "
        "degrees from the calibrated neutral: flexion (rounding) +, extension (arching) −."
        "</footer>",
    ]
    title = f"{ex.title} – {r.source}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        + "".join(body)
        + "</body></html>\n"
    )
