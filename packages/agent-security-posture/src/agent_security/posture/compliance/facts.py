"""What a compliance control is judged on: facts drawn from the trail, the inventory and the risk scores.

Nothing here is self-declared: a control protected by a plugin counts as present when a startup event of
the trail registered that plugin or a decision of the trail came from it, and every fact carries the
event ids that show it (:class:`Evidence`). A chain verification report (``verify_file``), when given,
decides record keeping; without one, only the links between consecutive events are checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agent_security.posture.activity import OTHER, TrailSummary
from agent_security.posture.inventory import PostureInventory
from agent_security.posture.risk import FleetRiskScore, RiskScorer

__all__ = ["CAPABILITIES", "ComplianceFacts", "Evidence"]

CAPABILITIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # capability: (plugin name fragments, reason-code prefixes of its decisions)
    "dlp": (("egress", "dlp"), ("EGRESS_", "DLP_", "DATA_")),
    "supply_chain": (
        ("supply_chain", "supply-chain", "governor", "mcp_scan", "provenance"),
        ("COMMAND_", "SHELL_", "MCP_", "PROVENANCE_", "TOOL_HASH"),
    ),
    "containment": (("containment", "sandbox"), ("SANDBOX_", "TICKET_", "CONTAINMENT_")),
    "identity": (
        ("identity",),
        ("AGENT_UNREGISTERED", "INSUFFICIENT_TRUST", "IDENTITY_", "DELEGATION_", "TOOL_UNREGISTERED"),
    ),
    "guardian": (("guardian",), ("GUARDIAN_",)),
    "kill_switch": (("kill_switch",), ("AGENT_KILL_SWITCH", "GLOBAL_KILL_SWITCH")),
    "rate_limit": (("rate_limiter", "session_context"), ("RATE_LIMIT", "SESSION_")),
}
"""The security capabilities a control may rely on, and how the trail shows each."""

FAIL_CLOSED_CODES = ("AUDIT_FAILURE", "PLUGIN_ERROR", "STORE_UNAVAILABLE", "CLOCK_UNAVAILABLE", "TIMEOUT")


@dataclass(frozen=True)
class Evidence:
    """One fact a control status rests on, with the audit events that show it."""

    description: str
    event_ids: tuple[str, ...] = ()
    count: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"description": self.description, "count": self.count, "event_ids": list(self.event_ids)}


@dataclass
class ComplianceFacts:
    summary: TrailSummary
    inventory: PostureInventory
    fleet: FleetRiskScore
    verified: bool | None = None
    verify_detail: str = ""
    capabilities: dict[str, list[str]] = field(default_factory=dict)
    """Capability -> event ids showing it (empty list: not seen)."""

    @classmethod
    def gather(
        cls,
        summary: TrailSummary,
        inventory: PostureInventory | None = None,
        fleet: FleetRiskScore | None = None,
        verify_report: Any = None,
    ) -> ComplianceFacts:
        if inventory is None:
            inventory = PostureInventory.build(summary=summary)
        if fleet is None:
            fleet = RiskScorer(summary).score_fleet(inventory.get_all())
        facts = cls(summary, inventory, fleet)
        if verify_report is not None:
            facts.verified = bool(verify_report.ok)
            facts.verify_detail = (
                f"{verify_report.events} event(s) verified, head sequence {verify_report.last_sequence}"
                if verify_report.ok
                else f"verification failed: {'; '.join(str(p) for p in list(verify_report.problems)[:3])}"
            )
        for capability, (fragments, prefixes) in CAPABILITIES.items():
            ids: list[str] = []
            for plugin in summary.registered_plugins:
                if any(f in plugin.lower() for f in fragments):
                    ids += summary.cite(f"plugin:{plugin}")
            for fact in list(summary.evidence):
                by_code = fact.startswith("deny:") and fact[5:].startswith(prefixes)
                by_plugin = fact.startswith("deny_by:") and any(f in fact[8:].lower() for f in fragments)
                if by_code or by_plugin:
                    ids += summary.cite(fact)
            if capability == "kill_switch":
                ids += summary.cite("kill_switch")
            if capability == "guardian":
                ids += summary.cite("guardian")
            seen = bool(ids) or any(
                any(f in p.lower() for f in fragments) for p in summary.registered_plugins | set(summary.plugin_sources)
            )
            facts.capabilities[capability] = list(dict.fromkeys(ids))[:5] if seen else []
            if seen and not facts.capabilities[capability]:
                facts.capabilities[capability] = ["(plugin source)"]
        return facts

    # -- helpers for the controls ------------------------------------------------------------------
    def has(self, capability: str) -> bool:
        return bool(self.capabilities.get(capability))

    def shown_by(self, capability: str, what: str) -> Evidence:
        ids = tuple(i for i in self.capabilities.get(capability, ()) if i != "(plugin source)")
        return Evidence(what, ids)

    def denials_with(self, prefixes: tuple[str, ...]) -> tuple[int, tuple[str, ...]]:
        count, ids = 0, []
        for code, n in self.summary.reason_codes.items():
            if code.startswith(prefixes):
                count += n
                ids += self.summary.cite(f"deny:{code}")
        return count, tuple(ids[:5])

    @property
    def acting_unregistered(self) -> list[str]:
        return [
            i.id
            for i in self.inventory.get_by_type("agent")
            if not i.registered and i.id != OTHER and self.summary.agents.get(i.id) is not None
        ]

    @property
    def open_critical(self) -> int:
        return sum(1 for i in self.summary.open_incidents if i.severity in ("critical", "high"))
