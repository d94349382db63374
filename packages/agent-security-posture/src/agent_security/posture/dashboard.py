"""``agent-security posture``: the posture of a deployment in the terminal (rich).

Fleet risk with its factors, agents by risk, open incidents, top denied tools (as bars) and recent kills,
from a :class:`~agent_security.posture.report.PostureReport`. Every string from the trail is rendered as
plain text (never as rich markup) with its control characters escaped: an agent id cannot style the
screen or move the cursor.
"""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from agent_security.posture.report import PostureReport

__all__ = ["render_dashboard", "safe_text"]

_LEVEL_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow", "low": "green"}


def _printable(value: object) -> str:
    text = "" if value is None else str(value)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def safe_text(value: object, style: str = "", limit: int = 120) -> Text:
    """``value`` as rich :class:`Text`: no markup, control characters escaped, at most ``limit`` characters."""
    text = _printable(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return Text(text, style=style)


def _overview(report: PostureReport) -> Panel:
    s, fleet = report.summary, report.fleet
    verified = {
        True: Text("chain verified", "green"),
        False: Text("CHAIN VERIFICATION FAILED", "bold red"),
        None: Text("chain not verified", "yellow"),
    }[report.verified]
    line = Text.assemble(
        ("Fleet risk ", "bold"),
        (f"{fleet.overall_score} {fleet.level}", _LEVEL_STYLE[fleet.level]),
        f"   mean agent {fleet.mean_agent_score}   agents {len(fleet.agent_scores)}   ",
        f"decisions {s.decisions}   denied {s.outcomes.get('DENY', 0)}   ",
        f"open incidents {len(s.open_incidents)}   events {s.events}   ",
        verified,
    )
    factors = [safe_text(f"• {f.description}") for f in fleet.factors]
    period = f"{s.first:%Y-%m-%d %H:%M} → {s.last:%Y-%m-%d %H:%M} UTC" if s.first and s.last else "no event"
    return Panel(Group(line, *factors), title="agent-security posture", subtitle=safe_text(period))


def _agents(report: PostureReport, rows: int) -> Table:
    table = Table(title="Agents by risk", expand=True)
    table.add_column("agent", max_width=28, no_wrap=True, overflow="ellipsis")
    table.add_column("risk", no_wrap=True)
    table.add_column("calls", justify="right")
    table.add_column("denied", justify="right")
    table.add_column("factors", ratio=1, min_width=24)
    for score in report.fleet.agent_scores[:rows]:
        act = report.summary.agents.get(score.item_id)
        table.add_row(
            safe_text(score.item_id, limit=40),
            Text(f"{score.score} {score.level}", _LEVEL_STYLE[score.level]),
            str(act.decisions if act else 0),
            str(act.denied if act else 0),
            safe_text(", ".join(f"+{f.impact} {f.factor.replace('_', ' ')}" for f in score.factors) or "-", limit=300),
        )
    return table


def _incidents(report: PostureReport, rows: int) -> Table:
    table = Table(title="Open incidents", expand=True)
    for name in ("severity", "agent", "type", "description", "when"):
        table.add_column(name)
    for incident in report.summary.open_incidents[:rows]:
        table.add_row(
            Text(incident.severity, _LEVEL_STYLE.get(incident.severity, "")),
            safe_text(incident.agent_id, limit=40),
            safe_text(incident.type, limit=40),
            safe_text(incident.description, limit=160),
            incident.timestamp.strftime("%Y-%m-%d %H:%M:%S"),
        )
    if not report.summary.open_incidents:
        table.add_row("-", "none", "", "", "")
    return table


def _denied(report: PostureReport, rows: int) -> Table:
    table = Table(title="Top denied tools", expand=True)
    table.add_column("tool", no_wrap=True)
    table.add_column("denied", justify="right")
    table.add_column("", ratio=1)
    top = report.summary.top_denied_tools(rows)
    peak = max((n for _, n in top), default=1)
    for tool, n in top:
        table.add_row(safe_text(tool, limit=40), str(n), Text("█" * max(1, round(30 * n / peak)), "red"))
    if not top:
        table.add_row("none", "", "")
    return table


def _kills(report: PostureReport, rows: int) -> Table:
    table = Table(title="Recent kills", expand=True)
    for name in ("when", "operation", "agent", "reason"):
        table.add_column(name)
    for kill in report.summary.recent_kills(rows):
        table.add_row(
            kill.timestamp.strftime("%Y-%m-%d %H:%M:%S"),
            safe_text(kill.op),
            safe_text(kill.agent_id or "all agents", limit=40),
            safe_text(kill.reason, limit=160),
        )
    if not report.summary.kills:
        table.add_row("-", "none", "", "")
    return table


def _compliance(report: PostureReport) -> Table:
    table = Table(title="Compliance (runtime evidence)", expand=True)
    for name in ("framework", "score", "met", "partial", "not met", "n/a"):
        table.add_column(name)
    for r in report.compliance:
        s = r.summary
        table.add_row(
            r.title,
            f"{s['compliance_score']}%",
            str(s["met"]),
            str(s["partial"]),
            str(s["not_met"]),
            str(s["not_applicable"]),
        )
    return table


def render_dashboard(report: PostureReport, console: Console | None = None, *, rows: int = 10) -> None:
    """Print the dashboard of ``report`` on ``console`` (a new stdout console by default)."""
    console = console or Console()
    console.print(_overview(report))
    console.print(_agents(report, rows))
    console.print(_incidents(report, rows))
    console.print(_denied(report, rows))
    console.print(_kills(report, rows))
    console.print(_compliance(report))
    for problem in report.problems[:5]:
        console.print(safe_text(f"skipped: {problem}", "yellow", limit=300))
