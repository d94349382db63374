"""Inventory from the registries and the trail, risk with its factors, compliance from evidence."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent_security.identity.registry import AgentRegistry
from agent_security.identity.tools import ToolRegistry
from agent_security.posture.activity import summarize
from agent_security.posture.compliance import ComplianceFacts, ComplianceMapper
from agent_security.posture.inventory import PostureInventory
from agent_security.posture.report import PostureReport
from agent_security.posture.risk import RiskScorer
from agent_security.posture.trail import TrailReader

NOW = datetime(2026, 6, 2, tzinfo=UTC)

# The agents of the original's examples/05-full-spm demo (its §11.8 figures)
DEMO_AGENTS = [
    {
        "agent_id": "finance-bot",
        "environment": "prod",
        "agent_type": "workflow_agent",
        "trust_level": "privileged",
        "capabilities": ["tool_call"],
    },
    {"agent_id": "support-bot", "environment": "prod", "agent_type": "chat_agent", "trust_level": "verified"},
    {
        "agent_id": "devops-bot",
        "environment": "prod",
        "agent_type": "autonomous_agent",
        "trust_level": "verified",
        "capabilities": ["tool_call", "code_execute"],
    },
    {
        "agent_id": "rogue-bot",
        "environment": "prod",
        "agent_type": "autonomous_agent",
        "trust_level": "basic",
        "capabilities": ["tool_call", "code_execute", "web_browse"],
    },
]
DEMO_TOOLS = [
    {"tool_name": "trigger_payment", "permissions_required": ["finance.write"], "verified": True},
    {"tool_name": "query_customer_db", "permissions_required": ["db.read"], "verified": True},
    {"tool_name": "write_db", "permissions_required": ["db.write"], "verified": True},
    {"tool_name": "terminal", "permissions_required": ["code.execute"], "verified": True},
]


def test_static_scores_match_the_original_and_the_fleet_is_its_riskiest_agent() -> None:
    inventory = PostureInventory(now=lambda: NOW)
    for agent in DEMO_AGENTS:
        inventory.register_agent(agent)
    for tool in DEMO_TOOLS:
        inventory.register_tool(tool)
    inventory.register_plugin("kill_switch")
    scorer = RiskScorer()
    scores = {s.item_id: s for s in (scorer.score_item(i) for i in inventory.get_all())}
    assert {k: scores[k].score for k in ("finance-bot", "support-bot", "devops-bot", "rogue-bot")} == {
        "finance-bot": 15,
        "support-bot": 15,
        "devops-bot": 50,
        "rogue-bot": 70,
    }
    assert [f.factor for f in scores["rogue-bot"].factors] == [
        "basic_trust",
        "production",
        "code_execution",
        "web_access",
        "autonomous",
    ]
    assert scores["trigger_payment"].score == 10 and scores["query_customer_db"].score == 0
    fleet = scorer.score_fleet(inventory.get_all())
    # the original averaged every item and called this fleet "low" (18); it holds a critical agent
    assert (fleet.overall_score, fleet.level, fleet.mean_agent_score) == (70, "critical", 38)
    assert fleet.levels == {"critical": 1, "high": 1, "medium": 0, "low": 2}
    assert [s.item_id for s in fleet.top_risks] == ["rogue-bot", "devops-bot"]
    assert inventory.summary() == {"agent": 4, "tool": 4, "plugin": 1}


def test_behaviour_from_the_trail_adds_factors_with_evidence(standard_trail: Path) -> None:
    summary = summarize(TrailReader(standard_trail).events())
    inventory = PostureInventory.build(
        summary=summary, agents=[{"agent_id": "finance-bot", "trust_level": "privileged", "environment": "prod"}]
    )
    scorer = RiskScorer(summary)
    rogue = scorer.score_item(inventory.get("agent:rogue-bot"))  # type: ignore[arg-type]
    factors = {f.factor: f for f in rogue.factors}
    assert {"unregistered", "killed", "open_incidents", "high_denial_rate"} <= set(factors)
    assert factors["open_incidents"].impact == 15 and len(factors["open_incidents"].evidence) == 1
    assert factors["high_denial_rate"].evidence  # the denied events' ids
    finance = scorer.score_item(inventory.get("agent:finance-bot"))  # type: ignore[arg-type]
    assert [f.factor for f in finance.factors] == ["production"]  # registered: no unregistered factor
    assert inventory.get("agent:finance-bot").registered  # type: ignore[union-attr]
    assert not inventory.get("agent:rogue-bot").registered  # type: ignore[union-attr]


def test_the_inventory_reads_the_identity_registries_through_a_store() -> None:
    agents, tools = AgentRegistry(), ToolRegistry()
    agents.register(agent_id="finance-bot", owner="fin@example.com", trust_level="privileged", environment="prod")
    agents.register(agent_id="old-bot")
    agents.revoke("old-bot", "retired")
    tools.register(tool_name="trigger_payment", permissions_required=["finance.write"])
    inventory = PostureInventory.build(agent_registry=agents, tool_registry=tools, now=lambda: NOW)
    assert inventory.summary() == {"agent": 2, "tool": 1}
    finance = inventory.get("agent:finance-bot")
    assert finance is not None and finance.metadata["owner"] == "fin@example.com"
    assert finance.metadata["trust_level"] == "privileged" and finance.sources == ("registry",)
    assert inventory.get("agent:old-bot").metadata["revoked"] is True  # type: ignore[union-attr]
    assert inventory.get("tool:trigger_payment").metadata["verified"] is True  # type: ignore[union-attr]
    first = finance.registered_at
    inventory.register_agent({"agent_id": "finance-bot", "owner": "new@example.com"})
    again = inventory.get("agent:finance-bot")
    assert again is not None and again.registered_at == first and again.metadata["owner"] == "new@example.com"
    assert inventory.remove("agent:finance-bot") and inventory.get("agent:finance-bot") is None


def _statuses(report: PostureReport, framework: str) -> dict[str, str]:
    found = next(r for r in report.compliance if r.framework == framework)
    return {c.control_id: c.status for c in found.controls}


def test_compliance_comes_from_the_trail_not_from_booleans(standard_trail: Path) -> None:
    report = PostureReport.from_trail(standard_trail, now=NOW)
    assert report.verified is True
    eu = _statuses(report, "eu_ai_act")
    assert eu["EU-AI-4"] == "met"  # record keeping: the chain verified
    assert eu["EU-AI-6"] == "met"  # human oversight: a payment was held and answered
    assert eu["EU-AI-2"] == "met"  # the egress DLP plugin registered at startup
    assert eu["EU-AI-1"] == "partial"  # an open high incident
    assert eu["EU-AI-3"] == "partial"  # agents act without being registered
    uk = _statuses(report, "uk_ai_principles")
    assert uk["UK-AI-3"] == "not_applicable"  # the original called fairness "met" whatever happened
    assert uk["UK-AI-5"] == "met"
    assert set(_statuses(report, "owasp_agentic")) == {f"ASI{i:02d}" for i in range(1, 11)}
    assert _statuses(report, "nist_ai_rmf")["MANAGE-2.4"] == "met"  # a kill is recorded
    control = next(c for c in report.compliance[0].controls if c.control_id == "EU-AI-6")
    assert any(e.event_ids for e in control.evidence)
    eu_report = report.compliance[0]
    s = eu_report.summary
    assert s["compliance_score"] == round((s["met"] + s["partial"] / 2) / (s["total"] - s["not_applicable"]) * 100)


def test_a_tampered_trail_fails_record_keeping(standard_trail: Path) -> None:
    lines = standard_trail.read_text().splitlines(keepends=True)
    lines[3] = lines[3].replace('"finance-bot"', '"finance-bob"')
    standard_trail.write_text("".join(lines))
    report = PostureReport.from_trail(standard_trail, now=NOW)
    assert report.verified is False
    assert _statuses(report, "eu_ai_act")["EU-AI-4"] == "not_met"
    unverified = PostureReport.from_trail(standard_trail, now=NOW, verify=False)
    assert _statuses(unverified, "eu_ai_act")["EU-AI-4"] == "partial"


def test_an_empty_trail_meets_nothing_it_cannot_show() -> None:
    facts = ComplianceFacts.gather(summarize([]))
    mapper = ComplianceMapper(facts, now=NOW)
    report = mapper.generate_report("eu_ai_act")
    assert {c.status for c in report.controls} == {"not_met"}
    assert report.compliance_score == 0
    assert mapper.generate_report("uk_ai_governance").framework == "uk_ai_principles"  # the original's name
    with pytest.raises(ValueError, match="unknown compliance framework"):
        mapper.generate_report("sox")


def test_the_report_serialises(standard_trail: Path) -> None:
    import json

    report = PostureReport.from_trail(standard_trail, now=NOW)
    data = json.loads(report.to_json())
    assert data["risk"]["level"] == "critical" and data["open_incidents"][0]["incident_id"] == "inc-1"
    assert data["top_denied_tools"][0] == {"tool_name": "delete_records", "denied": 4}
    assert data["recent_kills"][0]["agent_id"] == "rogue-bot"
    assert sum(b.get("DENY", 0) for b in data["decisions_over_time"]) == 5
    assert len(data["compliance"]) == 4
