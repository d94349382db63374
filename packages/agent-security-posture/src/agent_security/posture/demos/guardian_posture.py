# ruff: noqa: S608  (the demo's queries are tool arguments, never run)
"""``agent-security demo guardian-posture``: the original's ``examples/04-guardian-posture``, guardian and posture.

First every guardian scenario (:func:`agent_security.guardian.demo.guardian_rows`: ours beside the
original's, on a fixed clock); then the original's finance guardian fed a day's calls with an audit trail
on disk, and from that trail the posture: an inventory from the identity registry, risk scores and a
compliance summary (:meth:`PostureReport.from_trail <agent_security.posture.PostureReport.from_trail>`).
Exit status 1 when an outcome is not the expected one.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console

from agent_security.posture.demos.render import make_table, posture_tables, steps, wide_console

__all__ = ["AGENTS", "ORIGINAL_FIGURES", "run_guardian_posture_demo", "run_guardian_trail"]

AGENTS: list[dict[str, Any]] = [
    {"agent_id": "finance-bot", "name": "Finance Bot", "agent_type": "workflow_agent", "trust_level": "privileged",
     "roles": ["finance.reader"], "capabilities": ["tool_call"], "environment": "prod",
     "owner": "finance@example.com"},
    {"agent_id": "rogue-bot", "name": "Rogue Bot", "agent_type": "autonomous_agent", "trust_level": "basic",
     "capabilities": ["tool_call", "code_execute", "web_browse"], "environment": "prod",
     "owner": "unknown@example.com"},
]  # fmt: skip
"""The original demo's inventory (both agents in production)."""

ORIGINAL_FIGURES = {
    "finance-bot": "15 low (static factors only)",
    "rogue-bot": "70 critical (static factors only; its incidents never counted)",
    "fleet": "12 low: the mean over every item, zero-score tools and plugins included",
    "eu_ai_act": "71% from hand-set booleans (DLP and supply chain 'absent')",
}


def run_guardian_trail(trail: Path) -> tuple[Any, Any, list[str]]:
    """The finance guardian (block mode, kill after 3 incidents) fed the original's calls and a burst, with the
    trail in ``trail``. Returns (the agent registry, the kill switch state, problems)."""
    from agent_security.core import AgentSecurity
    from agent_security.core.builtin import kill_switch
    from agent_security.core.testing import FakeClock
    from agent_security.guardian.agent import GuardianAgent
    from agent_security.guardian.blueprints import BLUEPRINT_FINANCE
    from agent_security.guardian.demo import BUSINESS, POLICY
    from agent_security.identity import AgentRegistry

    agents = AgentRegistry()
    agents.load_records(AGENTS)
    clock = FakeClock(BUSINESS)
    ks = kill_switch()
    security = AgentSecurity(
        policy_json=POLICY,
        autoload=False,
        plugins=[ks, GuardianAgent(BLUEPRINT_FINANCE.with_overrides(auto_kill_threshold=3))],
        clock=clock,
        config={"core": {"audit": {"jsonl_path": str(trail)}}},
    )
    problems: list[str] = []
    read = {"tool_name": "query_customer_db", "environment": "prod"}
    try:
        first = security.check_tool_call(agent_id="finance-bot", tool_args={"query": "SELECT name FROM c"}, **read)
        for i in range(40):  # 40 bulk reads in 20 s: a frequency spike
            clock.advance(0.5)
            security.check_tool_call(agent_id="rogue-bot", tool_args={"query": f"SELECT * FROM c OFFSET {i}"}, **read)
        clock.advance(30)
        security.check_tool_call(agent_id="rogue-bot", tool_name="send_email", environment="prod")
        for _ in range(11):  # denied again and again: a denial burst, the third incident, then the kill
            clock.advance(1)
            security.check_tool_call(agent_id="rogue-bot", tool_name="export_all", environment="prod")
        clock.advance(1)
        last = security.check_tool_call(agent_id="rogue-bot", tool_args={"query": "SELECT 1"}, **read)
        if not first.allowed:
            problems.append("finance-bot's read was denied")
        if last.allowed or "AGENT_KILL_SWITCH" not in last.final_decision.codes:
            problems.append(f"rogue-bot was not stopped after the guardian's kill: {last.final_decision.codes}")
        state = ks.get_state()
    finally:
        security.shutdown()
    return agents, state, problems


def run_guardian_posture_demo(console: Console | None = None) -> int:
    """Print the guardian scenarios, then the posture of the demo's trail; 0 when all is as expected."""
    from agent_security.guardian import demo as guardian_demo
    from agent_security.posture import PostureReport

    console = console or wide_console()
    console.print("[bold]agent-security demo guardian-posture[/] — Agent-SPM's examples/04-guardian-posture")
    rows = [row for scenario in steps(console, guardian_demo.SCENARIOS, "guardian scenarios") for row in scenario()]
    table = make_table("1. Guardian scenarios (fixed clock)", ["#", "scenario", "ours", "original", "ok"])
    for i, row in enumerate(rows, 1):
        table.add_row(str(i), row.scenario, row.ours, row.original, "ok" if row.ok else "[red]UNEXPECTED[/]")
    console.print(table)
    failures = [row.scenario for row in rows if not row.ok]

    with tempfile.TemporaryDirectory(prefix="agent-security-posture-demo-") as tmp:
        trail = Path(tmp) / "audit.jsonl"
        agents, state, problems = run_guardian_trail(trail)
        failures += problems
        report = PostureReport.from_trail(trail, agent_registry=agents, kill_state=state)
    console.print(
        f"\n[bold]2. Posture from the demo's trail[/]: {report.summary.events} events, hash chain "
        f"{'verified' if report.verified else 'NOT verified'}, {len(report.summary.open_incidents)} open "
        "guardian incident(s)"
    )
    for t in posture_tables(report, ORIGINAL_FIGURES):
        console.print(t)
    scores = {s.item_id: s for s in report.fleet.agent_scores}
    rogue, finance = scores.get("rogue-bot"), scores.get("finance-bot")
    if not report.verified:
        failures.append("the demo's trail does not verify")
    if rogue is None or finance is None or rogue.score <= finance.score or rogue.level != "critical":
        failures.append("rogue-bot is not scored the critical risk of the fleet")
    console.print(
        "Ours differ on purpose: an agent's score adds what the trail shows it did (incidents, denials, a kill), "
        "the fleet score is led by its riskiest agents instead of diluted by harmless items, and compliance is "
        "judged from evidence in the trail (a verified chain, enforced denials), not from flags set by hand."
    )
    for failure in failures:
        console.print(f"[red]UNEXPECTED:[/] {failure}")
    if not failures:
        console.print("all outcomes as expected")
    return 1 if failures else 0
