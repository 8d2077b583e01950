"""HTML pieces every report shares: the style sheet, escaping, numbers, tables, cards, times.

Cells given to ``table`` and ``card`` are HTML already: text from a user or a file goes through
``esc`` first, numbers through ``num``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Any

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
th,td{border-bottom:1px solid #e9ecef;padding:2px 8px;text-align:right}td{white-space:nowrap}
th{background:#f1f3f5}td.l,th.l{text-align:left}tr.bad td{background:#fff0f0}
.fig svg{width:100%;height:auto}.flex{color:#e8590c}.ext{color:#1c64d9}
.ok{color:#2b8a3e}.warn{color:#c92a2a}details{margin:6px 0}summary{cursor:pointer}
footer{color:#868e96;font-size:0.8em;margin-top:2em}
@media print{details{display:block}td{white-space:normal}}
"""


def esc(text: Any) -> str:
    """User or file text, safe inside HTML text and attribute values."""
    return html.escape(str(text), quote=True)


def num(x: Any, fmt: str = ".1f", unit: str = "") -> str:
    """A number as shown (NaN / None: an en dash)."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    return f"{x:{fmt}}{unit}"


def table(
    columns: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    left: int = 1,
    note: bool = False,
    classes=(),
) -> str:
    """A table of already-escaped cells; the first ``left`` columns are left-aligned, and with
    ``note`` the last one too (a column of text after the figures)."""
    last = len(columns) - 1 if note else len(columns)

    def aligned(i: int) -> str:
        return ' class="l"' if i < left or i == last else ""

    head = "".join(f"<th{aligned(i)}>{c}</th>" for i, c in enumerate(columns))
    body = []
    classes = list(classes)
    for k, r in enumerate(rows):
        cls = f' class="{classes[k]}"' if k < len(classes) and classes[k] else ""
        cells = "".join(f"<td{aligned(i)}>{c}</td>" for i, c in enumerate(r))
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def card(value: str, key: str, cls: str = "") -> str:
    return f'<div class="card"><div class="v {cls}">{value}</div><div class="k">{key}</div></div>'


def clock(t_s: float) -> str:
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
