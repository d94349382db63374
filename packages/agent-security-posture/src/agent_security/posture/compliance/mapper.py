"""``ComplianceMapper``: control-by-control reports for four frameworks, with evidence from the audit trail.

Frameworks: ``eu_ai_act`` (Articles 9-15), ``uk_ai_principles`` (the five principles of the UK's AI
regulation white paper; ``uk_ai_governance`` is the original's name for it), ``owasp_agentic`` (the OWASP
Top 10 for Agentic Applications, ASI01-ASI10) and ``nist_ai_rmf`` (subcategories of the NIST AI RMF 1.0
that runtime controls can show). An unknown framework is an error (the original fell through to the UK
list). Each control's status comes from a check of :mod:`agent_security.posture.compliance.checks`, never
from a caller's booleans. Score: ``round((met + partial / 2) / applicable * 100)``.

The report states what it is: a runtime-evidence assessment, not a conformity assessment or legal advice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent_security.posture.compliance.checks import CHECKS, Status
from agent_security.posture.compliance.facts import ComplianceFacts, Evidence

__all__ = ["FRAMEWORKS", "ComplianceControl", "ComplianceMapper", "ComplianceReport", "Control"]

DISCLAIMER = (
    "Assessment of runtime evidence from the agent-security audit trail; not a conformity assessment or legal advice."
)


@dataclass(frozen=True)
class Control:
    control_id: str
    title: str
    description: str
    check: str
    reference: str = ""


@dataclass(frozen=True)
class Framework:
    key: str
    title: str
    controls: tuple[Control, ...]


FRAMEWORKS: dict[str, Framework] = {
    f.key: f
    for f in (
        Framework(
            "eu_ai_act",
            "EU AI Act (Regulation (EU) 2024/1689), high-risk requirements",
            (
                Control(
                    "EU-AI-1",
                    "Risk Management System",
                    "Risks of each agent identified and scored",
                    "risk_management",
                    "Art. 9",
                ),
                Control(
                    "EU-AI-2",
                    "Data Governance",
                    "Personal and sensitive data kept from leaving",
                    "data_governance",
                    "Art. 10",
                ),
                Control(
                    "EU-AI-3",
                    "Technical Documentation",
                    "An inventory of agents, tools and controls",
                    "inventory",
                    "Art. 11",
                ),
                Control(
                    "EU-AI-4",
                    "Record-Keeping",
                    "Automatic, tamper-evident logging of events",
                    "record_keeping",
                    "Art. 12",
                ),
                Control(
                    "EU-AI-5",
                    "Transparency",
                    "Every decision explained; deployers know the system",
                    "transparency",
                    "Art. 13",
                ),
                Control(
                    "EU-AI-6", "Human Oversight", "People can intervene, approve and stop", "human_oversight", "Art. 14"
                ),
                Control(
                    "EU-AI-7",
                    "Accuracy, Robustness, Cybersecurity",
                    "Resilient against misuse and faults",
                    "robustness",
                    "Art. 15",
                ),
            ),
        ),
        Framework(
            "uk_ai_principles",
            "UK AI regulation principles (white paper, 2023)",
            (
                Control(
                    "UK-AI-1", "Safety, Security and Robustness", "Risks monitored and acted on", "safety_monitoring"
                ),
                Control(
                    "UK-AI-2", "Appropriate Transparency and Explainability", "Decisions explained", "transparency"
                ),
                Control("UK-AI-3", "Fairness", "Outcomes are fair", "fairness"),
                Control(
                    "UK-AI-4",
                    "Accountability and Governance",
                    "Each agent has an identity and an owner",
                    "accountability",
                ),
                Control(
                    "UK-AI-5", "Contestability and Redress", "Decisions can be contested and reviewed", "contestability"
                ),
            ),
        ),
        Framework(
            "owasp_agentic",
            "OWASP Top 10 for Agentic Applications (2026)",
            (
                Control(
                    "ASI01", "Agent Goal Hijack", "A hijacked goal cannot turn into harmful actions", "goal_hijack"
                ),
                Control("ASI02", "Tool Misuse and Exploitation", "Every tool call decided by policy", "tool_policy"),
                Control(
                    "ASI03", "Identity and Privilege Abuse", "Registered identities, least privilege", "identity_abuse"
                ),
                Control("ASI04", "Agentic Supply Chain Vulnerabilities", "Tools and servers verified", "supply_chain"),
                Control("ASI05", "Unexpected Code Execution", "Code runs governed and contained", "code_execution"),
                Control("ASI06", "Memory and Context Poisoning", "Tool outputs screened", "memory_poisoning"),
                Control("ASI07", "Insecure Inter-Agent Communication", "Delegation checked", "inter_agent"),
                Control("ASI08", "Cascading Failures", "Limits and circuit breakers", "cascading"),
                Control(
                    "ASI09", "Human-Agent Trust Exploitation", "Humans approve sensitive actions", "human_oversight"
                ),
                Control("ASI10", "Rogue Agents", "Misbehaving agents detected and stopped", "rogue_agents"),
            ),
        ),
        Framework(
            "nist_ai_rmf",
            "NIST AI Risk Management Framework 1.0",
            (
                Control("GOVERN-1.6", "Inventory of AI systems", "Mechanisms to inventory AI systems", "inventory"),
                Control("GOVERN-2.1", "Roles and responsibilities", "Accountability for each agent", "accountability"),
                Control(
                    "MAP-4.1", "Risks of third-party components mapped", "Tools and servers verified", "supply_chain"
                ),
                Control(
                    "MEASURE-2.4",
                    "Behaviour monitored in production",
                    "Decisions and anomalies tracked",
                    "safety_monitoring",
                ),
                Control("MEASURE-2.7", "Security and resilience evaluated", "Controls against misuse", "robustness"),
                Control(
                    "MEASURE-2.8",
                    "Transparency and accountability risks examined",
                    "Records and explanations",
                    "record_keeping",
                ),
                Control("MANAGE-1.2", "Treatment of documented risks", "Risky calls denied or held", "tool_policy"),
                Control("MANAGE-2.4", "Disengage or deactivate", "Agents can be stopped at once", "deactivation"),
                Control(
                    "MANAGE-4.1", "Post-deployment monitoring and override", "Humans can intervene", "human_oversight"
                ),
            ),
        ),
    )
}
_ALIASES = {"uk_ai_governance": "uk_ai_principles", "owasp": "owasp_agentic", "nist": "nist_ai_rmf", "eu": "eu_ai_act"}


@dataclass(frozen=True)
class ComplianceControl:
    control_id: str
    framework: str
    title: str
    description: str
    status: Status
    evidence: tuple[Evidence, ...] = ()
    reference: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "control_id": self.control_id,
            "framework": self.framework,
            "title": self.title,
            "description": self.description,
            "reference": self.reference,
            "status": self.status,
            "evidence": [e.as_dict() for e in self.evidence],
        }


@dataclass(frozen=True)
class ComplianceReport:
    framework: str
    title: str
    generated_at: datetime
    controls: tuple[ComplianceControl, ...]
    period: tuple[datetime | None, datetime | None] = (None, None)
    summary: dict[str, int] = field(default_factory=dict)
    disclaimer: str = DISCLAIMER

    @property
    def compliance_score(self) -> int:
        return self.summary.get("compliance_score", 0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "framework": self.framework,
            "title": self.title,
            "generated_at": self.generated_at.isoformat(),
            "period": [p.isoformat() if p else None for p in self.period],
            "summary": self.summary,
            "controls": [c.as_dict() for c in self.controls],
            "disclaimer": self.disclaimer,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.as_dict(), indent=indent)


def _summary(controls: list[ComplianceControl]) -> dict[str, int]:
    counts = {s: sum(1 for c in controls if c.status == s) for s in ("met", "partial", "not_met", "not_applicable")}
    applicable = len(controls) - counts["not_applicable"]
    score = round((counts["met"] + 0.5 * counts["partial"]) / applicable * 100) if applicable else 100
    return {"total": len(controls), **counts, "compliance_score": score}


class ComplianceMapper:
    """Reports for :data:`FRAMEWORKS` from :class:`ComplianceFacts`. ``now`` stamps ``generated_at``."""

    def __init__(self, facts: ComplianceFacts, *, now: datetime) -> None:
        self.facts = facts
        self.now = now

    @staticmethod
    def frameworks() -> list[str]:
        return list(FRAMEWORKS)

    def generate_report(self, framework: str) -> ComplianceReport:
        key = _ALIASES.get(framework, framework)
        spec = FRAMEWORKS.get(key)
        if spec is None:
            raise ValueError(f"unknown compliance framework {framework!r}; known: {', '.join(FRAMEWORKS)}")
        controls = []
        for control in spec.controls:
            status, evidence = CHECKS[control.check](self.facts)
            controls.append(
                ComplianceControl(
                    control.control_id,
                    key,
                    control.title,
                    control.description,
                    status,
                    tuple(evidence),
                    control.reference,
                )
            )
        return ComplianceReport(
            key,
            spec.title,
            self.now,
            tuple(controls),
            (self.facts.summary.first, self.facts.summary.last),
            _summary(controls),
        )

    def generate_all(self) -> list[ComplianceReport]:
        return [self.generate_report(k) for k in FRAMEWORKS]
