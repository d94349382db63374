"""The HTML posture report: one self-contained page a person can read at a glance.

Charts are inline SVG (decisions over time as stacked bars per outcome, top denied tools as horizontal
bars, compliance scores per framework), tables for agents with their risk factors, open incidents,
recent kills and every compliance control with its evidence. Inline CSS, no script, no font or image
from the network; a Content-Security-Policy forbids loading anything. Every text from the trail is
HTML-escaped (agent ids, tool names and reasons are attacker-influenced).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent_security.posture.report import PostureReport

__all__ = ["OUTCOME_COLORS", "render_html"]

OUTCOME_COLORS = {
    "ALLOW": "#2e7d32",
    "DENY": "#c62828",
    "REQUIRE_APPROVAL": "#ef8f00",
    "STEP_UP": "#f9a825",
    "REQUIRE_TICKET": "#8d6e63",
    "REQUIRE_HUMAN": "#6a1b9a",
    "UNKNOWN": "#757575",
}
LEVEL_COLORS = {"critical": "#b71c1c", "high": "#e65100", "medium": "#f9a825", "low": "#2e7d32"}
STATUS_COLORS = {"met": "#2e7d32", "partial": "#f9a825", "not_met": "#c62828", "not_applicable": "#9e9e9e"}

_SHORT = {
    "eu_ai_act": "EU AI Act",
    "uk_ai_principles": "UK AI principles",
    "owasp_agentic": "OWASP Agentic Top 10",
    "nist_ai_rmf": "NIST AI RMF",
}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f5f6f8;color:#1d2330}
header{background:#1d2330;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#c5cad6;font-size:13px}
main{padding:20px 28px;display:grid;gap:18px;grid-template-columns:repeat(auto-fit,minmax(420px,1fr))}
section{background:#fff;border-radius:8px;padding:16px 18px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
section.wide{grid-column:1/-1}h2{font-size:16px;margin:0 0 10px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:5px 6px;
border-bottom:1px solid #e6e8ee;vertical-align:top}th{color:#5a6275;font-weight:600}
.badge{display:inline-block;border-radius:10px;padding:1px 8px;color:#fff;font-size:12px;font-weight:600}
.kpis{display:flex;gap:14px;flex-wrap:wrap}.kpi{flex:1;min-width:120px;background:#f5f6f8;border-radius:6px;padding:10px}
.kpi b{display:block;font-size:26px}.kpi span{color:#5a6275;font-size:12px}.muted{color:#5a6275;font-size:12px}
.legend span{display:inline-block;margin-right:12px;font-size:12px}.legend i{display:inline-block;width:10px;
height:10px;margin-right:4px;border-radius:2px}code{font-size:11px;color:#5a6275}
#chart-timeline{max-height:300px}
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _badge(text: str, color: str) -> str:
    return f'<span class="badge" style="background:{color}">{_e(text)}</span>'


def _timeline_svg(series: list[tuple[datetime, Counter[str]]]) -> str:
    if not series:
        return '<p class="muted">No decision in the trail.</p>'
    width, height, left, bottom = 760, 220, 40, 30
    plot_w, plot_h = width - left - 10, height - bottom - 10
    peak = max(sum(c.values()) for _, c in series) or 1
    bar_w = plot_w / len(series)
    parts = [
        f'<svg id="chart-timeline" role="img" aria-label="Decisions over time" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet">'
    ]
    for frac in (0, 0.5, 1):
        y = 10 + plot_h * (1 - frac)
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e6e8ee"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end" fill="#5a6275">'
            f"{round(peak * frac)}</text>"
        )
    for i, (start, counts) in enumerate(series):
        x = left + i * bar_w
        y = 10 + plot_h
        for outcome in OUTCOME_COLORS:
            n = counts.get(outcome, 0)
            if not n:
                continue
            h = plot_h * n / peak
            y -= h
            parts.append(
                f'<rect class="bar bar-{outcome}" x="{x + 1:.1f}" y="{y:.1f}" width="{max(bar_w - 2, 1):.1f}" '
                f'height="{h:.1f}" fill="{OUTCOME_COLORS[outcome]}"><title>{_e(start.isoformat())} '
                f"{outcome}: {n}</title></rect>"
            )
    for i in (0, len(series) - 1):
        x = left + i * bar_w + bar_w / 2
        anchor = "start" if i == 0 else "end"
        parts.append(
            f'<text x="{x:.1f}" y="{height - 10}" font-size="10" text-anchor="{anchor}" fill="#5a6275">'
            f"{_e(series[i][0].strftime('%Y-%m-%d %H:%M'))}</text>"
        )
    parts.append("</svg>")
    seen = {o for _, c in series for o in c}
    legend = "".join(f'<span><i style="background:{c}"></i>{o}</span>' for o, c in OUTCOME_COLORS.items() if o in seen)
    return "".join(parts) + f'<div class="legend">{legend}</div>'


def _hbars_svg(rows: list[tuple[str, int]], color: str, element_id: str, label: str, unit: str = "") -> str:
    if not rows:
        return '<p class="muted">Nothing to show.</p>'
    width, row_h, left = 620, 30, 250
    peak = max(n for _, n in rows) or 1
    height = row_h * len(rows) + 6
    parts = [
        f'<svg id="{element_id}" role="img" aria-label="{_e(label)}" viewBox="0 0 {width} {height}" '
        'width="100%" preserveAspectRatio="xMinYMin meet">'
    ]
    for i, (name, n) in enumerate(rows):
        y = 3 + i * row_h
        w = (width - left - 60) * n / peak
        shown = name if len(name) <= 26 else name[:25] + "…"
        parts.append(
            f'<text x="{left - 8}" y="{y + 19}" font-size="15" text-anchor="end" fill="#1d2330">'
            f"{_e(shown)}<title>{_e(name)}</title></text>"
            f'<rect class="hbar" x="{left}" y="{y + 3}" width="{max(w, 1):.1f}" height="{row_h - 8}" '
            f'fill="{color}" rx="2"/>'
            f'<text x="{left + w + 6:.1f}" y="{y + 19}" font-size="15" fill="#1d2330">{n}{unit}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _agents_table(report: PostureReport) -> str:
    rows = []
    for s in report.fleet.agent_scores[:50]:
        act = report.summary.agents.get(s.item_id)
        factors = (
            "<br>".join(f"+{f.impact} {_e(f.description)}" for f in s.factors) or '<span class="muted">none</span>'
        )
        rows.append(
            f"<tr><td>{_e(s.item_id)}</td><td>{_badge(f'{s.score} {s.level}', LEVEL_COLORS[s.level])}</td>"
            f"<td>{act.decisions if act else 0}</td><td>{act.denied if act else 0}</td><td>{factors}</td></tr>"
        )
    if not rows:
        return '<p class="muted">No agent known.</p>'
    return (
        "<table><tr><th>Agent</th><th>Risk</th><th>Calls</th><th>Denied</th><th>Factors</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _incidents_table(report: PostureReport) -> str:
    incidents = report.summary.open_incidents[:50]
    if not incidents:
        return '<p class="muted" id="no-incidents">No open incident.</p>'
    rows = "".join(
        f'<tr class="incident"><td>{_badge(i.severity, LEVEL_COLORS.get(i.severity, "#757575"))}</td>'
        f"<td>{_e(i.agent_id)}</td><td>{_e(i.type)}</td><td>{_e(i.description)}</td>"
        f"<td>{_e(i.timestamp.strftime('%Y-%m-%d %H:%M:%S'))}</td></tr>"
        for i in incidents
    )
    return (
        '<table id="incidents"><tr><th>Severity</th><th>Agent</th><th>Type</th><th>Description</th><th>When'
        "</th></tr>" + rows + "</table>"
    )


def _kills_table(report: PostureReport) -> str:
    kills = report.summary.recent_kills(20)
    if not kills:
        return '<p class="muted">No kill or revive in the trail.</p>'
    rows = "".join(
        f"<tr><td>{_e(k.op)}</td><td>{_e(k.agent_id or 'all agents')}</td><td>{_e(k.reason)}</td>"
        f"<td>{_e(k.timestamp.strftime('%Y-%m-%d %H:%M:%S'))}</td></tr>"
        for k in kills
    )
    return "<table><tr><th>Operation</th><th>Agent</th><th>Reason</th><th>When</th></tr>" + rows + "</table>"


def _compliance(report: PostureReport) -> str:
    out = []
    for r in report.compliance:
        rows = "".join(
            f'<tr class="control"><td><b>{_e(c.control_id)}</b> {_e(c.title)}<br><span class="muted">'
            f"{_e(c.reference)}</span></td><td>{_badge(c.status.replace('_', ' '), STATUS_COLORS[c.status])}</td>"
            "<td>"
            + "<br>".join(
                _e(e.description) + (f" <code>{_e(', '.join(e.event_ids[:3]))}</code>" if e.event_ids else "")
                for e in c.evidence
            )
            + "</td></tr>"
            for c in r.controls
        )
        s = r.summary
        out.append(
            f'<section class="wide framework" id="fw-{_e(r.framework)}"><h2>{_e(r.title)} — '
            f'{s["compliance_score"]}%</h2><p class="muted">{s["met"]} met, {s["partial"]} partial, '
            f"{s['not_met']} not met, {s['not_applicable']} not applicable. {_e(r.disclaimer)}</p>"
            f"<table><tr><th>Control</th><th>Status</th><th>Evidence</th></tr>{rows}</table></section>"
        )
    return "".join(out)


def render_html(report: PostureReport, title: str = "Agent security posture") -> str:
    s, fleet = report.summary, report.fleet
    period = f"{s.first:%Y-%m-%d %H:%M} to {s.last:%Y-%m-%d %H:%M} UTC" if s.first and s.last else "no event"
    verified = {True: "chain verified", False: "CHAIN VERIFICATION FAILED", None: "chain not verified"}[report.verified]
    denied = s.outcomes.get("DENY", 0)
    kpis = "".join(
        f'<div class="kpi"><b style="color:{color}">{_e(value)}</b><span>{_e(name)}</span></div>'
        for value, name, color in (
            (f"{fleet.overall_score}", f"fleet risk ({fleet.level})", LEVEL_COLORS[fleet.level]),
            (s.decisions, "decisions", "#1d2330"),
            (denied, "denied", OUTCOME_COLORS["DENY"]),
            (len(s.open_incidents), "open incidents", LEVEL_COLORS["high"] if s.open_incidents else "#1d2330"),
            (sum(1 for a in s.agents.values() if a.killed) + (1 if s.global_kill else 0), "agents stopped", "#1d2330"),
        )
    )
    scores = _hbars_svg(
        [(_SHORT.get(r.framework, r.framework), r.compliance_score) for r in report.compliance],
        "#1565c0",
        "chart-compliance",
        "Compliance score per framework",
        "%",
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title><style>{_CSS}</style></head>
<body><header><h1>{_e(title)}</h1><p>{_e(s.events)} audit events, {_e(period)} · {_e(verified)} ·
generated {_e(report.generated_at.strftime("%Y-%m-%d %H:%M UTC"))} · {_e(report.source)}</p></header>
<main>
<section class="wide" id="overview"><h2>Overview</h2><div class="kpis">{kpis}</div></section>
<section class="wide" id="timeline"><h2>Decisions over time</h2>{_timeline_svg(s.series())}</section>
<section id="denied"><h2>Top denied tools</h2>{
        _hbars_svg(s.top_denied_tools(10), OUTCOME_COLORS["DENY"], "chart-denied", "Top denied tools")
    }</section>
<section id="compliance-scores"><h2>Compliance</h2>{scores}</section>
<section class="wide" id="open-incidents"><h2>Open incidents</h2>{_incidents_table(report)}</section>
<section class="wide" id="agents"><h2>Agents by risk</h2>{_agents_table(report)}</section>
<section class="wide" id="kills"><h2>Recent kills</h2>{_kills_table(report)}</section>
{_compliance(report)}
</main></body></html>
"""
