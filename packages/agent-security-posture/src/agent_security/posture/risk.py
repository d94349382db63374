"""``RiskScorer``: a risk score per item and for the fleet, each with the factors that made it.

Static factors are the original's (trust, production, code execution, web browsing, autonomy; an
unverified tool or MCP server, high-risk permissions), same weights. Behaviour from the audit trail adds
to them: an agent acting without being registered, a revoked agent still acting, a kill in force, open
guardian incidents (by severity), a high share of denials. Scores are capped at 100; levels are
``critical`` >= 70, ``high`` >= 50, ``medium`` >= 25, else ``low``.

The fleet score is the score of its riskiest agent, not the mean of every item: the original averaged
agents with zero-score tools and plugins, so a fleet with a critical and a high agent came out "low" (18).
The mean over agents is reported beside it (``mean_agent_score``), with how many agents sit at each level.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from agent_security.posture.activity import AgentActivity, Incident, TrailSummary
from agent_security.posture.inventory import InventoryItem

__all__ = ["FleetRiskScore", "RiskFactor", "RiskLevel", "RiskScore", "RiskScorer", "level_of"]

RiskLevel = Literal["low", "medium", "high", "critical"]
_HIGH_RISK_PERMISSION = re.compile(r"write|execute|admin|delete", re.IGNORECASE)
_INCIDENT_WEIGHT = {"low": 5, "medium": 10, "high": 15, "critical": 25}
MIN_DECISIONS_FOR_RATE = 5
HIGH_DENY_RATE = 0.2


def level_of(score: int) -> RiskLevel:
    if score >= 70:
        return "critical"
    if score >= 50:
        return "high"
    if score >= 25:
        return "medium"
    return "low"


@dataclass(frozen=True)
class RiskFactor:
    factor: str
    impact: int
    description: str
    evidence: tuple[str, ...] = ()
    """Audit event ids behind a behavioural factor."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "factor": self.factor,
            "impact": self.impact,
            "description": self.description,
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True)
class RiskScore:
    item_id: str
    item_type: str
    score: int
    level: RiskLevel
    factors: tuple[RiskFactor, ...] = ()

    @property
    def description(self) -> str:
        return "; ".join(f.description for f in self.factors)

    def as_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "item_type": self.item_type,
            "score": self.score,
            "level": self.level,
            "factors": [f.as_dict() for f in self.factors],
        }


@dataclass(frozen=True)
class FleetRiskScore:
    overall_score: int
    level: RiskLevel
    mean_agent_score: int
    agent_scores: tuple[RiskScore, ...]
    top_risks: tuple[RiskScore, ...]
    levels: dict[str, int] = field(default_factory=dict)
    factors: tuple[RiskFactor, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "overall_score": self.overall_score,
            "level": self.level,
            "mean_agent_score": self.mean_agent_score,
            "levels": self.levels,
            "factors": [f.as_dict() for f in self.factors],
            "agent_scores": [s.as_dict() for s in self.agent_scores],
            "top_risks": [
                {
                    "item_id": s.item_id,
                    "item_type": s.item_type,
                    "score": s.score,
                    "level": s.level,
                    "description": s.description,
                }
                for s in self.top_risks
            ],
        }


def _static_agent(meta: dict[str, Any]) -> list[RiskFactor]:
    out: list[RiskFactor] = []
    trust = meta.get("trust_level")
    if not trust or trust == "untrusted":
        out.append(RiskFactor("low_trust", 30, "Agent has low or no trust level"))
    elif trust == "basic":
        out.append(RiskFactor("basic_trust", 10, "Agent has basic trust only"))
    if meta.get("environment") in ("prod", "production"):
        out.append(RiskFactor("production", 15, "Agent operates in production"))
    caps = meta.get("capabilities") or ()
    if "code_execute" in caps:
        out.append(RiskFactor("code_execution", 20, "Agent can execute code"))
    if "web_browse" in caps:
        out.append(RiskFactor("web_access", 10, "Agent can browse the web"))
    if meta.get("agent_type") == "autonomous_agent":
        out.append(RiskFactor("autonomous", 15, "Autonomous agent with reduced oversight"))
    return out


def _behaviour(item: InventoryItem, act: AgentActivity | None, incidents: list[Incident]) -> list[RiskFactor]:
    out: list[RiskFactor] = []
    acted = act is not None and act.decisions > 0
    if not item.registered and acted:
        out.append(
            RiskFactor(
                "unregistered", 20, "Agent acts without being registered", tuple(act.deny_evidence) if act else ()
            )
        )
    if item.metadata.get("revoked") and acted:
        out.append(RiskFactor("revoked_active", 25, "Revoked agent still attempts tool calls"))
    if act is not None and act.killed:
        out.append(RiskFactor("killed", 20, f"Agent is stopped by the kill switch ({act.kill_reason or 'no reason'})"))
    if incidents:
        impact = min(40, sum(_INCIDENT_WEIGHT.get(i.severity, 10) for i in incidents))
        out.append(
            RiskFactor(
                "open_incidents",
                impact,
                f"{len(incidents)} open guardian incident(s)",
                tuple(i.event_id for i in incidents[:5]),
            )
        )
    if act is not None and act.decisions >= MIN_DECISIONS_FOR_RATE and act.deny_rate >= HIGH_DENY_RATE:
        out.append(
            RiskFactor(
                "high_denial_rate",
                15,
                f"{act.denied} of {act.decisions} tool calls denied ({act.deny_rate:.0%})",
                tuple(act.deny_evidence),
            )
        )
    return out


class RiskScorer:
    """See the module documentation. ``summary`` (the trail's facts) adds the behavioural factors."""

    def __init__(self, summary: TrailSummary | None = None) -> None:
        self.summary = summary or TrailSummary()
        self._incidents: dict[str | None, list[Incident]] = {}
        for incident in self.summary.open_incidents:
            self._incidents.setdefault(incident.agent_id, []).append(incident)

    def score_item(self, item: InventoryItem) -> RiskScore:
        meta = item.metadata
        factors: list[RiskFactor] = []
        if item.type == "agent":
            activity = self.summary.agents.get(item.id)
            factors = _static_agent(meta) + _behaviour(item, activity, self._incidents.get(item.id, []))
        elif item.type == "tool":
            if not meta.get("verified"):
                factors.append(RiskFactor("unverified", 25, "Tool is not verified"))
            risky = [p for p in meta.get("permissions_required") or () if _HIGH_RISK_PERMISSION.search(str(p))]
            if risky:
                factors.append(
                    RiskFactor("high_risk_permissions", 10 * len(risky), f"Tool has {len(risky)} high-risk permissions")
                )
            denied = self.summary.denied_tools.get(item.id, 0)
            if denied:
                factors.append(RiskFactor("denied_calls", min(20, denied), f"{denied} call(s) to this tool denied"))
        elif item.type == "mcp_server" and not meta.get("verified"):
            factors.append(RiskFactor("unverified_mcp", 30, "MCP server is not verified"))
        score = min(100, sum(f.impact for f in factors))
        return RiskScore(item.id, item.type, score, level_of(score), tuple(factors))

    def score_fleet(self, items: list[InventoryItem]) -> FleetRiskScore:
        scores = [self.score_item(i) for i in items]
        agents = tuple(sorted((s for s in scores if s.item_type == "agent"), key=lambda s: -s.score))
        overall = agents[0].score if agents else 0
        mean = round(sum(s.score for s in agents) / len(agents)) if agents else 0
        levels = {lvl: sum(1 for s in agents if s.level == lvl) for lvl in ("critical", "high", "medium", "low")}
        factors: list[RiskFactor] = []
        if agents:
            factors.append(RiskFactor("riskiest_agent", overall, f"Riskiest agent {agents[0].item_id}: {overall}"))
        if levels["critical"] or levels["high"]:
            factors.append(
                RiskFactor(
                    "exposed_agents", 0, f"{levels['critical']} critical and {levels['high']} high-risk agent(s)"
                )
            )
        if self.summary.global_kill:
            factors.append(RiskFactor("global_kill", 0, "Every agent is stopped by the global kill switch"))
        top = tuple(sorted((s for s in scores if s.score >= 25), key=lambda s: -s.score)[:10])
        return FleetRiskScore(overall, level_of(overall), mean, agents, top, levels, tuple(factors))
