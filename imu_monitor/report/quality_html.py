"""The session report's measurement-quality section: the calibration and what it assumed, the
neutral capture's stillness, the angle left over after each set, packets and gaps, clock
offsets (measured in ``session.quality_record``)."""

from __future__ import annotations

import math

from imu_monitor.processing.clock_offset import TAKE_OFF_MIN_CORRELATION, TAKE_OFF_MIN_S
from imu_monitor.processing.monitor.leak import describe as describe_leak
from imu_monitor.report.markup import clock, esc, num, table
from imu_monitor.report.session import SessionReport

STILL = '<span class="ok">still</span>'
MOVED = '<span class="warn">moved</span>'


def quality_section(r: SessionReport) -> str:
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
    leak = q.get("pelvis_turn_leak")
    if leak:
        out.append(f"<p><b>Rep timing</b>: {esc(describe_leak(leak))}.</p>")
    nc = q["neutral_capture"]
    if nc["window_s"] is None:
        out.append(f"<p><b>Neutral capture</b>: {esc(nc['how'])}.</p>")
    else:
        a, b = nc["window_s"]
        out.append(
            f"<p><b>Neutral capture</b> {clock(a)}–{clock(b)} ({esc(nc['how'])}): how still "
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
            table(["sensor", "verdict", "gyro p99 dev °/s", "acc dev m/s²", "tilt dev °"], rows)
        )
    res = q["rest_residuals"]
    if res:
        if res[0]["where"] == "rest":
            about = (
                "<p><b>Angle left over at rest after each set</b> (median lumbar angle "
                "1–3 s after the last rep, back in the start posture: the calibrated neutral, so "
                "anything left is drift or a changed posture).</p>"
            )
        else:
            about = (
                "<p><b>Angle left over at the top at the end of each set</b> (median lumbar "
                "angle over the hold of the set's last rep without an alarm: the neutral is "
                "calibrated at the top, so anything left is drift or a changed lockout; the "
                "rest between sets is at the bottom, as deep as the person sits)."
                + (
                    " With one sensor it is the pelvis' tilt, hip extension included (simulated:"
                    " within 1.5° of the lumbar angle)."
                    if res[0].get("pelvis_tilt")
                    else ""
                )
                + "</p>"
            )
        out.append(about)
        rows = [
            [
                str(x["set"]),
                "–"
                if x["window_s"] is None
                else clock(x["window_s"][0]) + (f" (rep {x['rep']})" if "rep" in x else ""),
                num(x["residual_deg"], "+.2f"),
                num(x.get("spread_deg"), ".2f"),
                esc(x.get("reason", "")),
            ]
            for x in res
        ]
        out.append(table(["set", "from", "left-over °", "p10–p90 °", "note"], rows, note=True))
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
            esc(f"not applied: {s['acc_offset_not_applied']}")
            if s["acc_offset_not_applied"]
            else "not estimated"
            if s["acc_offset_mg"] is None
            else f"{s['acc_offset_mg']:.0f} (the calibration's)"
            if s["acc_offset_from_calibration"]
            else f"{s['acc_offset_mg']:.0f} ({s['acc_offset_pairs']} "
            + ("pair)" if s["acc_offset_pairs"] == 1 else "pairs)"),
            esc(s["device_calibration"]) if s.get("device_calibration") else "none",
        ]
        for p, s in q["sensors"].items()
    ]
    out.append(
        "<p><b>Packets and gaps</b> per sensor, and the accelerometer offset the analysis "
        "estimated from the session's postures (with the gyroscope's help) and took off, or the "
        "one the calibration was made with (the live monitor measures it over the first reps); "
        "and the wearable's own calibration (scale and offset, measured on a table: "
        "<code>imu-monitor device-cal</code>) its samples carry, by its file.</p>"
    )
    cols = ["sensor", "profile", "Hz", "samples", "lost", "loss %", "gaps", "bridged",
            "longest gap s", "link gaps", "acc offset taken off, mg",
            "device calibration"]  # fmt: skip
    out.append(table(cols, rows, left=2))
    if q["clock_offsets"]:
        out.append(
            "<p><b>Clock offset against the sacrum</b>, measured from the movement (the lag at "
            "which the sensors' turning correlates best; positive: the sensor's samples are "
            "stamped late). The analysis takes an upper-lumbar offset of "
            f"{1000 * TAKE_OFF_MIN_S:.0f} ms or more off its sample times where the two "
            f"correlate at {TAKE_OFF_MIN_CORRELATION:g} or better (in a hip thrust or bridge "
            "the live monitor measures it too, from the move into the start posture and the "
            "first reps).</p>"
        )
        rows = [
            [
                esc(p),
                num(c["offset_s"] * 1000 if c["measurable"] else math.nan, "+.1f"),
                num(c["correlation"], ".2f"),
                esc(
                    c["reason"]
                    or ("taken off by the analysis" if c.get("taken_off") else c.get("note", ""))
                ),
            ]
            for p, c in q["clock_offsets"].items()
        ]
        out.append(table(["sensor", "offset ms", "correlation", "note"], rows, note=True))
    else:
        out.append("<p><b>Clock offset</b>: one sensor, nothing to compare.</p>")
    return "".join(out)
