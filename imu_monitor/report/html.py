"""The session report as one self-contained HTML document: inline CSS, inline SVG plots, no
script, no font or image fetched: it opens offline in any browser and prints.

Every piece of text that came from a user or a file (user name, file name, marker kinds and
notes, calibration notes) goes through ``esc``; numbers are formatted here.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from imu_monitor import __version__
from imu_monitor.events import Direction, MonitorMode
from imu_monitor.report import figures
from imu_monitor.report.session import SessionReport

TEMPO_TOLERANCE_S = 0.5
"""A phase within this of its target is on tempo (a hold only needs to reach its target)."""

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#212529;
margin:0 auto;max-width:1140px;padding:16px 24px;background:#fff;line-height:1.4}
h1{font-size:1.6em;margin:0.2em 0}h2{font-size:1.2em;margin:1.4em 0 0.4em;
border-bottom:2px solid #dee2e6;padding-bottom:2px}
.meta{color:#495057}.note{background:#fff3bf;border-left:4px solid #f59f00;padding:4px 8px;
margin:4px 0}.cards{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0}
.card{border:1px solid #dee2e6;border-radius:6px;padding:6px 12px;min-width:120px}
.card .v{font-size:1.5em;font-weight:600}.card .k{color:#495057;font-size:0.85em}
table{border-collapse:collapse;font-size:0.9em;margin:4px 0}
th,td{border-bottom:1px solid #e9ecef;padding:2px 8px;text-align:right}
th{background:#f1f3f5}td.l,th.l{text-align:left}tr.bad td{background:#fff0f0}
.fig svg{width:100%;height:auto}.flex{color:#e8590c}.ext{color:#1c64d9}
.ok{color:#2b8a3e}.warn{color:#c92a2a}details{margin:6px 0}summary{cursor:pointer}
footer{color:#868e96;font-size:0.8em;margin-top:2em}
@media print{details{display:block}}
"""


def esc(text: Any) -> str:
    """User or file text, safe inside HTML text and attribute values."""
    return html.escape(str(text), quote=True)


def num(x: Any, fmt: str = ".1f", unit: str = "") -> str:
    """A number as shown (NaN / None: an en dash)."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    return f"{x:{fmt}}{unit}"


def _table(
    columns: Sequence[str], rows: Iterable[Sequence[str]], *, left: int = 1, classes=()
) -> str:
    """A table of already-escaped cells; the first ``left`` columns are left-aligned."""
    head = "".join(
        f'<th class="l">{c}</th>' if i < left else f"<th>{c}</th>" for i, c in enumerate(columns)
    )
    body = []
    classes = list(classes)
    for k, r in enumerate(rows):
        cls = f' class="{classes[k]}"' if k < len(classes) and classes[k] else ""
        cells = "".join(
            f'<td class="l">{c}</td>' if i < left else f"<td>{c}</td>" for i, c in enumerate(r)
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _card(value: str, key: str, cls: str = "") -> str:
    return f'<div class="card"><div class="v {cls}">{value}</div><div class="k">{key}</div></div>'


def _clock(t_s: float) -> str:
    """A session time as m:ss.s (h:mm:ss past an hour)."""
    if not math.isfinite(t_s):
        return "–"
    sign = "-" if t_s < 0 else ""
    t_s = abs(t_s)
    h, rem = divmod(t_s, 3600.0)
    m, s = divmod(rem, 60.0)
    if h >= 1:
        return f"{sign}{int(h)}:{int(m):02d}:{s:04.1f}"
    return f"{sign}{int(m)}:{s:04.1f}"


def _alarm_directions(r: SessionReport) -> dict[int, set[str]]:
    """Per rep (0-based), the directions it alarmed in."""
    out: dict[int, set[str]] = {}
    for a in r.analysis.result.alarms:
        if a.rep is not None:
            out.setdefault(a.rep, set()).add(str(a.direction))
    return out


def _fault_counts(reps, directions: dict[int, set[str]]) -> tuple[int, int]:
    """Faulty reps of ``reps`` with a flexion alarm, with an extension alarm (a rep with both
    counts in both)."""
    flex = sum(1 for x in reps if Direction.FLEXION in directions.get(x.index, ()))
    ext = sum(1 for x in reps if Direction.EXTENSION in directions.get(x.index, ()))
    return flex, ext


def _summary(r: SessionReport) -> str:
    s = r.summary
    lim = r.limits
    tempo = r.exercise.tempo
    mean = s.get("mean_tempo_s", {})
    cards = [
        _card(str(s["reps"]), "reps"),
        _card(str(s["reps"] - s["reps_alarmed"]), "reps within limits", "ok"),
        _card(str(s["reps_alarmed"]), "reps with an alarm", "warn" if s["reps_alarmed"] else ""),
        _card(
            f'{s["alarms"]} <small>(<span class="flex">{s["alarms_flexion"]} flex</span>, '
            f'<span class="ext">{s["alarms_extension"]} ext</span>)</small>',
            "alarms",
        ),
        _card(num(s["max_flexion_deg"], "+.1f", "°"), "largest flexion", "flex"),
        _card(num(-abs(s["max_extension_deg"]), "+.1f", "°"), "largest extension", "ext"),
        _card(num(s["alarm_time_s"], ".1f", " s"), "time in alarm"),
        _card(str(len(r.sets)), "sets"),
    ]
    if mean:
        cards.append(
            _card(
                " / ".join(num(mean[k], ".1f") for k in ("concentric", "hold", "eccentric")),
                f"mean up / hold / down (s); target {tempo.up_s:g} / {tempo.hold_s:g} / "
                f"{tempo.down_s:g}",
            )
        )
    limits = (
        f"limits: flexion +{lim.flexion_deg:g}°"
        + (" (not judged)" if r.analysis.mode == MonitorMode.LOCKOUT else "")
        + f", extension −{lim.extension_deg:g}°, dwell {lim.dwell_s * 1000:.0f} ms"
    )
    return f'<div class="cards">{"".join(cards)}</div><p class="meta">{esc(limits)}</p>'


def _sets_table(r: SessionReport) -> str:
    rows, classes = [], []
    directions = _alarm_directions(r)
    for s in r.sets:
        flex, ext = _fault_counts(s.reps, directions)
        n = len(s.reps)
        good = sum(1 for x in s.reps if not x.alarmed)

        def mean(key: str, reps=s.reps, n=n) -> str:
            return num(sum(getattr(x, key) for x in reps) / n, ".2f") if n else "–"

        rows.append(
            [
                str(s.number),
                f"{_clock(s.t_start_s)}–{_clock(s.t_end_s)}",
                str(n),
                str(good),
                str(flex),
                str(ext),
                num(max((x.peak_flexion_deg for x in s.reps), default=math.nan), "+.1f"),
                num(-max((x.peak_extension_deg for x in s.reps), default=math.nan), "+.1f"),
                mean("concentric_s"),
                mean("hold_s"),
                mean("eccentric_s"),
            ]
        )
        classes.append("bad" if good < n else "")
    cols = ["set", "time", "reps", "within limits", "flexion faults", "extension faults",
            "peak flex °", "peak ext °", "up s", "hold s", "down s"]  # fmt: skip
    return _table(cols, rows, left=2, classes=classes)


def _figure_block(fig) -> str:
    return f'<div class="fig">{figures.svg_text(fig)}</div>'


def _plots(r: SessionReport) -> str:
    t, y = r.trace
    lim = r.limits
    alarms = [a.to_dict() for a in r.analysis.result.alarms if a.t_end_s is not None]
    starts = [s.reps[0].index + 1 for s in r.sets[1:] if s.reps]
    parts = ["<h2>Lumbar angle</h2>"]
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
    reps = r.reps
    directions = _alarm_directions(r)
    if not reps:
        parts.append("<p>No rep was found in this recording.</p>")
        return "".join(parts)
    parts.append("<h2>Lumbar excursion per rep</h2>")
    parts.append(
        _figure_block(
            figures.rep_bars_figure(
                [x.peak_flexion_deg for x in reps],
                [x.peak_extension_deg for x in reps],
                [Direction.FLEXION in directions.get(x.index, ()) for x in reps],
                [Direction.EXTENSION in directions.get(x.index, ()) for x in reps],
                flexion_limit_deg=lim.flexion_deg,
                extension_limit_deg=lim.extension_deg,
                set_breaks=starts,
            )
        )
    )
    tempo = r.exercise.tempo
    parts.append(
        f"<h2>Tempo against the target</h2><p class=meta>Target up {tempo.up_s:g} s, hold "
        f"{tempo.hold_s:g} s, down {tempo.down_s:g} s; on tempo within ±{TEMPO_TOLERANCE_S:g} s "
        "(a hold at least its target). Open marks: phase split approximate.</p>"
    )
    parts.append(
        _figure_block(
            figures.tempo_figure(
                {k: [getattr(x, k) for x in reps] for k, _ in figures.PHASES},
                {"concentric_s": tempo.up_s, "hold_s": tempo.hold_s, "eccentric_s": tempo.down_s},
                TEMPO_TOLERANCE_S,
                approximate=[x.tempo_approximate for x in reps],
                set_breaks=starts,
            )
        )
    )
    return "".join(parts)


def _reps_table(r: SessionReport) -> str:
    rows, classes = [], []
    for x in r.reps:
        rows.append(
            [
                str(x.index + 1),
                _clock(x.t_start_s),
                ("~" if x.tempo_approximate else "") + num(x.concentric_s, ".2f"),
                num(x.hold_s, ".2f"),
                num(x.eccentric_s, ".2f"),
                num(x.peak_flexion_deg, "+.1f"),
                num(-x.peak_extension_deg, "+.1f"),
                ("alarm" if x.alarmed else "ok") + (", too fast" if x.too_fast else ""),
            ]
        )
        classes.append("bad" if x.alarmed else "")
    cols = ["rep", "start", "up s", "hold s", "down s", "flex °", "ext °", "verdict"]
    table = _table(cols, rows, left=2, classes=classes)
    return f"<details><summary>Every rep ({len(rows)})</summary>{table}</details>"


def _alarms_table(r: SessionReport) -> str:
    alarms = [a for a in r.analysis.result.alarms if a.t_end_s is not None]
    if not alarms:
        return "<p>No alarm.</p>"
    rows = [
        [
            f'<span class="{"flex" if a.direction == "flexion" else "ext"}">{a.direction}</span>',
            _clock(a.t_start_s),
            num(a.duration_s, ".2f"),
            num(a.peak_deg, "+.1f"),
            str(a.phase),
            "–" if a.rep is None else str(a.rep + 1),
        ]
        for a in alarms
    ]
    table = _table(["direction", "start", "s", "peak °", "phase", "rep"], rows, left=1)
    return f"<details><summary>Every alarm ({len(rows)})</summary>{table}</details>"


def _markers_table(r: SessionReport) -> str:
    if not r.markers:
        return ""
    rows = []
    for m in r.markers:
        span = _clock(m["t_s"]) + ("" if m["t_end_s"] is None else f"–{_clock(m['t_end_s'])}")
        data = ", ".join(f"{esc(k)}: {esc(v)}" for k, v in m["data"].items())
        rows.append([span, esc(m["kind"]), data])
    return "<h2>Markers</h2>" + _table(["time", "kind", "details"], rows, left=3)


STILL = '<span class="ok">still</span>'
MOVED = '<span class="warn">moved</span>'


def _quality(r: SessionReport) -> str:
    q = r.quality
    out = ["<h2>Measurement quality</h2>"]
    cal = q["calibration"]
    out.append(
        f"<p><b>Calibration</b>: {esc(cal['method'])}"
        + (' <span class="warn">(capture windows guessed)</span>' if cal["guessed"] else "")
        + f"; orientation filter {esc(q['orientation_filter'])}.</p>"
    )
    if cal["notes"]:
        out.append("<ul>" + "".join(f"<li>{esc(n)}</li>" for n in cal["notes"]) + "</ul>")
    nc = q["neutral_capture"]
    if nc["window_s"] is None:
        out.append(f"<p><b>Neutral capture</b>: {esc(nc['how'])}.</p>")
    else:
        a, b = nc["window_s"]
        out.append(
            f"<p><b>Neutral capture</b> {_clock(a)}–{_clock(b)} ({esc(nc['how'])}): how still "
            "each sensor held (limits of a capture: 6 deg/s, 0.5 m/s²).</p>"
        )
        rows = [
            [
                esc(p),
                STILL if s["still"] else MOVED,
                num(s["gyro_dev_deg_s"], ".2f"),
                num(s["acc_dev_m_s2"], ".3f"),
                num(s["tilt_dev_deg"], ".2f"),
            ]
            for p, s in nc["sensors"].items()
        ]
        out.append(
            _table(["sensor", "verdict", "gyro p99 dev °/s", "acc dev m/s²", "tilt dev °"], rows)
        )
    res = q["rest_residuals"]
    if res:
        out.append(
            "<p><b>Angle left over at rest after each set</b> (median lumbar angle "
            "1–3 s after the last rep, back in the start posture: the calibrated neutral, so "
            "anything left is drift or a changed posture).</p>"
        )
        rows = [
            [
                str(x["set"]),
                "–" if x["window_s"] is None else f"{_clock(x['window_s'][0])}",
                num(x["residual_deg"], "+.2f"),
                num(x.get("spread_deg"), ".2f"),
                esc(x.get("reason", "")),
            ]
            for x in res
        ]
        out.append(_table(["set", "from", "left-over °", "p10–p90 °", "note"], rows, left=1))
    rows = [
        [
            esc(p),
            esc(s["profile"]) + (f" ({esc(s['device'])})" if s["device"] else ""),
            num(s["rate_hz"], ".0f"),
            str(s["samples"]),
            str(s["samples_missing"]),
            num(s["loss_percent"], ".2f"),
            str(s["gaps"]),
            str(s["gaps_bridged"]),
            num(s["longest_gap_s"], ".3f"),
            f"{s['link_gaps']} ({num(s['link_gap_s'], '.1f')} s)",
        ]
        for p, s in q["sensors"].items()
    ]
    out.append("<p><b>Packets and gaps</b> per sensor.</p>")
    cols = ["sensor", "profile", "Hz", "samples", "lost", "loss %", "gaps", "bridged",
            "longest gap s", "link gaps"]  # fmt: skip
    out.append(_table(cols, rows, left=2))
    if q["clock_offsets"]:
        out.append(
            "<p><b>Clock offset against the sacrum</b>, measured from the movement (the lag at "
            "which the sensors' turning correlates best; positive: the sensor's samples are "
            "stamped late).</p>"
        )
        rows = [
            [
                esc(p),
                num(c["offset_s"] * 1000 if c["measurable"] else math.nan, "+.1f"),
                num(c["correlation"], ".2f"),
                esc(c["reason"]),
            ]
            for p, c in q["clock_offsets"].items()
        ]
        out.append(_table(["sensor", "offset ms", "correlation", "note"], rows, left=1))
    else:
        out.append("<p><b>Clock offset</b>: one sensor, nothing to compare.</p>")
    return "".join(out)


def session_html(r: SessionReport, *, generated_utc: str | None = None) -> str:
    """The whole document for ``r``."""
    ex = r.exercise
    when = generated_utc or datetime.now(UTC).isoformat(timespec="seconds")
    created = r.meta.get("created_utc", "")
    meta = [
        f"file {esc(r.source)}",
        f"user {esc(r.user)}" if r.user else "",
        f"recorded {esc(created)}" if created else "",
        f"duration {_clock(r.duration_s)}",
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
        _sets_table(r) if r.sets else "<p>No set: no rep was found.</p>",
        _plots(r),
        "<h2>Reps and alarms</h2>",
        _reps_table(r) if r.reps else "",
        _alarms_table(r),
        _markers_table(r),
        _quality(r),
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
