"""The checks behind the controls: each reads :class:`ComplianceFacts` and returns a status with its evidence.

A check says ``met`` only on evidence from the trail, ``partial`` when the capability is present but the
trail shows a gap (an unregistered agent acting, an open critical incident, a decision without reasons),
``not_met`` when nothing shows it, and ``not_applicable`` when runtime tool-call controls cannot speak to
the control at all (fairness of a model's outputs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from agent_security.posture.compliance.facts import FAIL_CLOSED_CODES, ComplianceFacts, Evidence

__all__ = ["CHECKS", "Check", "Status"]

Status = Literal["met", "partial", "not_met", "not_applicable"]
Result = tuple[Status, list[Evidence]]
Check = Callable[[ComplianceFacts], Result]


def record_keeping(f: ComplianceFacts) -> Result:
    s = f.summary
    if not s.events:
        return "not_met", [Evidence("The audit trail holds no event")]
    ev = [
        Evidence(
            f"{s.events} audit event(s) from {s.first:%Y-%m-%d %H:%M} to {s.last:%Y-%m-%d %H:%M} UTC",
            tuple(s.cite("reasoned_decision")[:2] + s.cite("startup")[:1]),
            s.events,
        )
    ]
    if f.verified is False:
        return "not_met", [*ev, Evidence(f"Hash chain: {f.verify_detail}")]
    if s.chain_breaks:
        return "not_met", [
            *ev,
            Evidence("Consecutive events do not link (prev_hash)", tuple(s.cite("chain_break")), s.chain_breaks),
        ]
    if f.verified:
        return "met", [*ev, Evidence(f"Hash chain verified: {f.verify_detail}")]
    return "partial", [*ev, Evidence("Events link to each other; run with the trail file to verify every hash")]


def transparency(f: ComplianceFacts) -> Result:
    s = f.summary
    if not s.decisions:
        return "not_met", [Evidence("No decision recorded")]
    ev = [
        Evidence(
            f"{s.decisions_with_reasons} of {s.decisions} decision(s) carry a reason code and message",
            tuple(s.cite("reasoned_decision")),
            s.decisions_with_reasons,
        )
    ]
    agents = f.inventory.get_by_type("agent")
    owned = [a for a in agents if a.metadata.get("owner")]
    ev.append(Evidence(f"{len(agents)} agent(s) in the inventory, {len(owned)} with an owner", count=len(agents)))
    status: Status = "met" if s.decisions_with_reasons == s.decisions and agents else "partial"
    return status, ev


def human_oversight(f: ComplianceFacts) -> Result:
    s = f.summary
    approvals = sum(a.approval_like for a in s.agents.values())
    ev: list[Evidence] = []
    if approvals:
        ev.append(
            Evidence(
                f"{approvals} call(s) held for approval, step-up, a ticket or a human",
                tuple(s.cite("approval_like")),
                approvals,
            )
        )
    if s.human_resolutions:
        ev.append(
            Evidence(
                f"{s.human_resolutions} approval(s) resolved by a person",
                tuple(s.cite("human_resolution")),
                s.human_resolutions,
            )
        )
    if f.has("kill_switch"):
        ev.append(f.shown_by("kill_switch", "Kill switch in place (an operator can stop an agent at once)"))
    if approvals or (s.kills and f.has("kill_switch")):
        return "met", ev
    if f.has("kill_switch"):
        return "partial", [*ev, Evidence("No call was held for a human in this period")]
    return "not_met", [Evidence("No approval, human decision or kill switch seen in the trail")]


def risk_management(f: ComplianceFacts) -> Result:
    agents = f.fleet.agent_scores
    if not agents:
        return "not_met", [Evidence("No agent in the inventory to score")]
    ev = [
        Evidence(
            f"{len(agents)} agent(s) scored; fleet {f.fleet.overall_score} ({f.fleet.level}), "
            f"{f.fleet.levels.get('critical', 0)} critical, {f.fleet.levels.get('high', 0)} high",
            count=len(agents),
        )
    ]
    if f.open_critical:
        return "partial", [
            *ev,
            Evidence(
                f"{f.open_critical} open high or critical incident(s)",
                tuple(i.event_id for i in f.summary.open_incidents[:5]),
                f.open_critical,
            ),
        ]
    return "met", ev


def data_governance(f: ComplianceFacts) -> Result:
    if not f.has("dlp"):
        return "not_met", [Evidence("No data-loss prevention (egress) plugin seen in the trail")]
    count, ids = f.denials_with(("EGRESS_", "DLP_", "DATA_"))
    return "met", [
        f.shown_by("dlp", "Egress DLP plugin registered"),
        Evidence(f"{count} transfer(s) blocked by classification", ids, count),
    ]


def robustness(f: ComplianceFacts) -> Result:
    present = [c for c in ("supply_chain", "containment", "dlp", "rate_limit") if f.has(c)]
    closed, ids = f.denials_with(FAIL_CLOSED_CODES)
    ev = [
        Evidence(
            f"Security controls present: {', '.join(present) or 'none'}",
            tuple(i for c in present for i in f.capabilities[c] if i != "(plugin source)")[:5],
        )
    ]
    if closed:
        ev.append(Evidence(f"{closed} failure(s) handled fail-closed (denied)", ids, closed))
    if not present:
        return "not_met", ev
    if not (f.has("supply_chain") or f.has("containment")) or f.open_critical:
        return "partial", ev
    return "met", ev


def safety_monitoring(f: ComplianceFacts) -> Result:
    incidents = f.summary.incidents
    if not f.has("guardian"):
        return "not_met", [Evidence("No anomaly detection (guardian) seen in the trail")]
    ev = [
        f.shown_by("guardian", "Anomaly detection (guardian) running"),
        Evidence(
            f"{len(incidents)} incident(s) recorded, {len(f.summary.open_incidents)} open",
            tuple(i.event_id for i in list(incidents.values())[:5]),
            len(incidents),
        ),
    ]
    return ("partial" if f.open_critical else "met"), ev


def accountability(f: ComplianceFacts) -> Result:
    unregistered = f.acting_unregistered
    agents = f.inventory.get_by_type("agent")
    owned = sum(1 for a in agents if a.metadata.get("owner"))
    ev = [Evidence(f"{len(agents)} agent(s) known, {owned} with a named owner", count=len(agents))]
    if f.has("identity"):
        ev.insert(0, f.shown_by("identity", "Identity registry enforced"))
    if unregistered:
        ev.append(
            Evidence(f"Agents acting without registration: {', '.join(unregistered[:10])}", count=len(unregistered))
        )
    if not f.has("identity"):
        return "not_met", ev
    return ("partial" if unregistered else "met"), ev


def contestability(f: ComplianceFacts) -> Result:
    s = f.summary
    revives = [k for k in s.kills if k.op in ("revive", "revive_all")]
    ev: list[Evidence] = []
    if s.human_resolutions:
        ev.append(Evidence(f"{s.human_resolutions} decision(s) put to a person", tuple(s.cite("human_resolution"))))
    if revives:
        ev.append(
            Evidence(f"{len(revives)} stopped agent(s) reinstated after review", tuple(k.event_id for k in revives[:5]))
        )
    if ev:
        return "met", ev
    if any(a.approval_like for a in s.agents.values()):
        return "partial", [
            Evidence("Approval paths exist; none was resolved by a person", tuple(s.cite("approval_like")))
        ]
    return "not_met", [Evidence("No decision was put to a person and no stop was reviewed")]


def fairness(f: ComplianceFacts) -> Result:
    return "not_applicable", [
        Evidence(
            "Runtime tool-call controls cannot assess the fairness of a model's "
            "outputs; assess the model and its data separately"
        )
    ]


def tool_policy(f: ComplianceFacts) -> Result:
    s = f.summary
    if not s.decisions:
        return "not_met", [Evidence("No tool call decided by policy")]
    denied = s.outcomes.get("DENY", 0)
    ev = [
        Evidence(f"{s.decisions} tool call(s) decided by policy, {denied} denied", tuple(s.cite("deny")), s.decisions)
    ]
    return ("met" if s.cite("startup") or denied else "partial"), ev


def capability(name: str, what: str, *, partial_without: str | None = None) -> Check:
    def check(f: ComplianceFacts) -> Result:
        if f.has(name):
            return "met", [f.shown_by(name, what)]
        if partial_without and f.has(partial_without):
            return "partial", [f.shown_by(partial_without, f"Only {partial_without.replace('_', ' ')} seen")]
        return "not_met", [Evidence(f"Not seen in the trail: {what.lower()}")]

    return check


def identity_abuse(f: ComplianceFacts) -> Result:
    status, ev = accountability(f)
    return status, ev


def goal_hijack(f: ComplianceFacts) -> Result:
    if f.has("dlp") and f.summary.decisions:
        return "partial", [
            f.shown_by("dlp", "Tool calls and outbound data are checked whatever the goal"),
            Evidence("Prompt-level injection detection is outside the tool-call pipeline"),
        ]
    if f.summary.decisions:
        return "partial", [
            Evidence(
                "Every tool call is decided by policy, limiting what a hijacked goal can do",
                tuple(f.summary.cite("deny")),
            )
        ]
    return "not_met", [Evidence("No tool call decided by policy")]


def memory_poisoning(f: ComplianceFacts) -> Result:
    executions = f.summary.kinds.get("execution", 0)
    if executions and f.has("dlp"):
        return "partial", [
            Evidence(f"{executions} tool output(s) screened before reaching the agent", count=executions)
        ]
    return "not_met", [Evidence("No screening of tool outputs or memory writes seen in the trail")]


def inter_agent(f: ComplianceFacts) -> Result:
    if f.has("identity"):
        return "partial", [
            f.shown_by("identity", "Agent identities and delegation chains checked"),
            Evidence("Messages between agents are not inspected by the tool-call pipeline"),
        ]
    return "not_met", [Evidence("No identity or delegation checks seen in the trail")]


def cascading(f: ComplianceFacts) -> Result:
    present = [c for c in ("rate_limit", "kill_switch") if f.has(c)]
    if len(present) == 2:
        return "met", [f.shown_by("rate_limit", "Rate and session limits"), f.shown_by("kill_switch", "Kill switch")]
    if present:
        return "partial", [f.shown_by(present[0], present[0].replace("_", " "))]
    return "not_met", [Evidence("No rate limit or kill switch seen in the trail")]


def rogue_agents(f: ComplianceFacts) -> Result:
    ev = []
    if f.has("guardian"):
        ev.append(f.shown_by("guardian", "Behavioural anomaly detection"))
    if f.has("kill_switch"):
        ev.append(f.shown_by("kill_switch", "Kill switch"))
    if len(ev) == 2:
        return ("partial" if f.open_critical else "met"), ev
    return ("partial" if ev else "not_met"), ev or [Evidence("No anomaly detection or kill switch seen")]


def inventory_check(f: ComplianceFacts) -> Result:
    items = f.inventory.summary()
    if not items.get("agent"):
        return "not_met", [Evidence("No agent in the inventory")]
    registered = sum(1 for a in f.inventory.get_by_type("agent") if a.registered)
    ev = [
        Evidence(
            f"Inventory: {', '.join(f'{n} {t}' for t, n in sorted(items.items()))}; {registered} agent(s) registered",
            count=sum(items.values()),
        )
    ]
    return ("met" if registered and not f.acting_unregistered else "partial"), ev


def deactivation(f: ComplianceFacts) -> Result:
    kills = [k for k in f.summary.kills if k.op in ("kill", "kill_all", "guardian_kill")]
    if kills:
        return "met", [
            Evidence(f"{len(kills)} agent stop(s) recorded", tuple(k.event_id for k in kills[:5]), len(kills))
        ]
    if f.has("kill_switch"):
        return "met", [f.shown_by("kill_switch", "Kill switch in place; not used in this period")]
    return "not_met", [Evidence("No way to stop an agent seen in the trail")]


CHECKS: dict[str, Check] = {
    "record_keeping": record_keeping,
    "transparency": transparency,
    "human_oversight": human_oversight,
    "risk_management": risk_management,
    "data_governance": data_governance,
    "robustness": robustness,
    "safety_monitoring": safety_monitoring,
    "accountability": accountability,
    "contestability": contestability,
    "fairness": fairness,
    "tool_policy": tool_policy,
    "supply_chain": capability("supply_chain", "Supply-chain checks (shell governor, MCP scanning, provenance)"),
    "code_execution": capability("containment", "Sandboxed execution", partial_without="supply_chain"),
    "identity_abuse": identity_abuse,
    "goal_hijack": goal_hijack,
    "memory_poisoning": memory_poisoning,
    "inter_agent": inter_agent,
    "cascading": cascading,
    "rogue_agents": rogue_agents,
    "inventory": inventory_check,
    "deactivation": deactivation,
}
