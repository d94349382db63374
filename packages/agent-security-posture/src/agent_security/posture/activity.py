"""What the audit trail says happened: one pass over the events, bounded memory, no wall clock.

:class:`TrailSummary` counts decisions per agent and tool, denied tools, reason codes, kills and revives
(``kill_switch.*`` events), guardian incidents (any ``guardian.*`` event that carries an incident), the
plugins a startup event says were registered, and the decisions over time. Every table is bounded: past
:data:`MAX_KEYS` distinct agents or tools, the rest is counted under :data:`OTHER`; event ids kept as
evidence are at most :data:`MAX_EVIDENCE` per fact. The chain is followed too (``prev_hash`` of each
event against the ``hash`` before it): a break is recorded, a full verification is
:func:`agent_security.core.audit.verify_file`'s job.

Guardian incidents are read from the event, without importing the guardian: an event whose kind starts
with ``guardian.`` and whose ``data`` holds an ``incident_id`` (or ``id``) is an incident; its
``data.status`` (``open`` by default; ``closed``, ``resolved`` or ``dismissed`` close it), ``severity``,
``type`` (or ``anomaly``), ``description`` and ``action_taken`` are read when present.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agent_security.core.models import APPROVAL_LIKE, AuditEvent, Outcome
from agent_security.core.resolution import GATES

__all__ = [
    "CLOSED_STATUSES",
    "MAX_EVIDENCE",
    "MAX_KEYS",
    "OTHER",
    "AgentActivity",
    "Incident",
    "KillRecord",
    "TrailSummary",
    "summarize",
]

MAX_KEYS = 10_000
MAX_EVIDENCE = 5
MAX_INCIDENTS = 10_000
MAX_RECENT = 50
OTHER = "(other)"
CLOSED_STATUSES = frozenset({"closed", "resolved", "dismissed", "false_positive"})
_SEVERITIES = ("low", "medium", "high", "critical")
_BASE_RESOLUTION_S = 60
_HUMAN_CODES = frozenset(code for gate in GATES.values() for code in (gate.approved_code, gate.rejected_code))
"""Reason codes of an approval-like outcome answered by its callback (a person, a ticket system)."""


def _text(value: Any, limit: int = 512) -> str:
    return value[:limit] if isinstance(value, str) else ("" if value is None else str(value)[:limit])


def _bounded_key(table: dict[str, Any] | Counter[str], key: str) -> str:
    return key if key in table or len(table) < MAX_KEYS else OTHER


@dataclass
class Incident:
    """A guardian incident as the trail records it."""

    incident_id: str
    agent_id: str | None
    type: str
    severity: str
    description: str
    status: str
    timestamp: datetime
    event_id: str
    action_taken: str = ""
    evidence: tuple[str, ...] = ()

    @property
    def open(self) -> bool:
        return self.status not in CLOSED_STATUSES

    def as_dict(self) -> dict[str, Any]:
        return {
            "incident_id": self.incident_id,
            "agent_id": self.agent_id,
            "type": self.type,
            "severity": self.severity,
            "description": self.description,
            "status": self.status,
            "timestamp": self.timestamp.isoformat(),
            "event_id": self.event_id,
            "action_taken": self.action_taken,
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True)
class KillRecord:
    """A kill (or a revive) from the kill switch's audit events."""

    op: str
    agent_id: str | None
    reason: str
    timestamp: datetime
    event_id: str


@dataclass
class AgentActivity:
    """One agent's decisions in the trail."""

    agent_id: str
    decisions: int = 0
    allowed: int = 0
    denied: int = 0
    approval_like: int = 0
    observed_would_block: int = 0
    tools: Counter[str] = field(default_factory=Counter)
    denied_tools: Counter[str] = field(default_factory=Counter)
    environments: set[str] = field(default_factory=set)
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    killed: bool = False
    kill_reason: str = ""
    deny_evidence: list[str] = field(default_factory=list)

    @property
    def deny_rate(self) -> float:
        return self.denied / self.decisions if self.decisions else 0.0


@dataclass
class TrailSummary:
    """Facts of a trail (see the module documentation); built by :func:`summarize`."""

    events: int = 0
    first: datetime | None = None
    last: datetime | None = None
    kinds: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    decisions: int = 0
    decisions_with_reasons: int = 0
    reason_codes: Counter[str] = field(default_factory=Counter)
    plugin_sources: Counter[str] = field(default_factory=Counter)
    agents: dict[str, AgentActivity] = field(default_factory=dict)
    tools: Counter[str] = field(default_factory=Counter)
    denied_tools: Counter[str] = field(default_factory=Counter)
    incidents: dict[str, Incident] = field(default_factory=dict)
    incidents_dropped: int = 0
    kills: deque[KillRecord] = field(default_factory=lambda: deque(maxlen=MAX_RECENT))
    global_kill: bool = False
    registered_plugins: set[str] = field(default_factory=set)
    modes: Counter[str] = field(default_factory=Counter)
    resolutions: int = 0
    human_resolutions: int = 0
    chain_breaks: int = 0
    evidence: dict[str, list[str]] = field(default_factory=dict)
    """Event ids (at most :data:`MAX_EVIDENCE`) for each fact a compliance control cites."""
    resolution_s: int = _BASE_RESOLUTION_S
    timeline: dict[int, Counter[str]] = field(default_factory=dict)
    """Bucket start (seconds since the epoch, a multiple of :attr:`resolution_s`) -> outcomes."""
    _last_hash: str | None = None

    # -- reading -----------------------------------------------------------------------------------
    @property
    def open_incidents(self) -> list[Incident]:
        order = {s: i for i, s in enumerate(_SEVERITIES)}
        found = [i for i in self.incidents.values() if i.open]
        return sorted(found, key=lambda i: (-order.get(i.severity, 1), -i.timestamp.timestamp()))

    def top_denied_tools(self, n: int = 10) -> list[tuple[str, int]]:
        return self.denied_tools.most_common(n)

    def recent_kills(self, n: int = 10) -> list[KillRecord]:
        return list(self.kills)[-n:][::-1]

    def cite(self, fact: str) -> list[str]:
        return list(self.evidence.get(fact, ()))

    def series(self, buckets: int = 48) -> list[tuple[datetime, Counter[str]]]:
        """Decisions over time in at most ``buckets`` equal buckets from the first to the last event."""
        if not self.timeline:
            return []
        keys = sorted(self.timeline)
        start, end = keys[0], keys[-1] + self.resolution_s
        width = max(self.resolution_s, -(-(end - start) // buckets))
        width = -(-width // self.resolution_s) * self.resolution_s
        out: dict[int, Counter[str]] = {}
        for key in keys:
            slot = start + (key - start) // width * width
            out.setdefault(slot, Counter()).update(self.timeline[key])
        slots = range(start, end, width)
        return [(datetime.fromtimestamp(s, UTC), out.get(s, Counter())) for s in slots]

    def apply_kill_state(self, killed_agents: dict[str, str], global_kill: bool = False) -> None:
        """Take the kill switch's current state (read from its store) over what the trail says: the store is
        authoritative for who is stopped now."""
        for agent in self.agents.values():
            agent.killed, agent.kill_reason = agent.agent_id in killed_agents, killed_agents.get(agent.agent_id, "")
        for agent_id, reason in list(killed_agents.items())[:MAX_KEYS]:
            activity = self._agent(agent_id[:256])
            activity.killed, activity.kill_reason = True, reason
        self.global_kill = global_kill

    # -- building ----------------------------------------------------------------------------------
    def _cite(self, fact: str, event_id: str) -> None:
        ids = self.evidence.setdefault(fact, [])
        if len(ids) < MAX_EVIDENCE:
            ids.append(event_id)

    def _agent(self, agent_id: str) -> AgentActivity:
        key = _bounded_key(self.agents, agent_id)
        found = self.agents.get(key)
        if found is None:
            found = self.agents[key] = AgentActivity(key)
        return found

    def _tick(self, when: datetime, outcome: str) -> None:
        ts = int(when.timestamp())
        self.timeline.setdefault(ts - ts % self.resolution_s, Counter())[outcome] += 1
        while len(self.timeline) > 4096:  # coarsen: minutes -> hours -> days ...
            self.resolution_s *= 24 if self.resolution_s >= 3600 else 60
            merged: dict[int, Counter[str]] = {}
            for key, counts in self.timeline.items():
                merged.setdefault(key - key % self.resolution_s, Counter()).update(counts)
            self.timeline = merged

    def add(self, event: AuditEvent) -> None:
        """Take one event into account (events in trail order)."""
        self.events += 1
        when = event.timestamp if event.timestamp.tzinfo else event.timestamp.replace(tzinfo=UTC)
        self.first = when if self.first is None or when < self.first else self.first
        self.last = when if self.last is None or when > self.last else self.last
        self.kinds[event.kind] += 1
        self.modes[event.mode] += 1
        if self._last_hash is not None and event.prev_hash != self._last_hash:
            self.chain_breaks += 1
            self._cite("chain_break", event.event_id)
        self._last_hash = event.hash
        for reason in event.reasons:
            self.reason_codes[_bounded_key(self.reason_codes, reason.code[:128])] += 1
        if event.plugin_source:
            self.plugin_sources[_bounded_key(self.plugin_sources, event.plugin_source[:128])] += 1
        kind = event.kind
        if kind == "decision":
            self._decision(event, when)
        elif kind == "resolution":
            self.resolutions += 1
            self._cite("resolution", event.event_id)
            if any(r.code in _HUMAN_CODES for r in event.reasons):
                self.human_resolutions += 1
                self._cite("human_resolution", event.event_id)
        elif kind == "lifecycle":
            self._lifecycle(event)
        elif kind.startswith("kill_switch."):
            self._kill(event, when)
        elif kind.startswith("guardian."):
            self._guardian(event, when)
        elif kind.startswith("identity."):
            self._cite("identity_event", event.event_id)

    def _decision(self, event: AuditEvent, when: datetime) -> None:
        self.decisions += 1
        outcome = event.outcome.value if event.outcome is not None else "UNKNOWN"
        self.outcomes[outcome] += 1
        self._tick(when, outcome)
        if event.reasons:
            self.decisions_with_reasons += 1
            self._cite("reasoned_decision", event.event_id)
        tool = (event.tool_name or "")[:256]
        if tool:
            self.tools[_bounded_key(self.tools, tool)] += 1
        agent = self._agent((event.agent_id or "(unknown)")[:256])
        agent.decisions += 1
        agent.first_seen = when if agent.first_seen is None else min(agent.first_seen, when)
        agent.last_seen = when if agent.last_seen is None else max(agent.last_seen, when)
        if event.environment and len(agent.environments) < 16:
            agent.environments.add(event.environment[:128])
        if tool:
            agent.tools[_bounded_key(agent.tools, tool)] += 1
        if event.outcome is Outcome.DENY:
            agent.denied += 1
            self._cite("deny", event.event_id)
            if len(agent.deny_evidence) < MAX_EVIDENCE:
                agent.deny_evidence.append(event.event_id)
            if tool:
                self.denied_tools[_bounded_key(self.denied_tools, tool)] += 1
                agent.denied_tools[_bounded_key(agent.denied_tools, tool)] += 1
            for reason in event.reasons:
                self._cite(f"deny:{reason.code[:128]}", event.event_id)
            if event.plugin_source:
                self._cite(f"deny_by:{event.plugin_source[:128]}", event.event_id)
        elif event.outcome in APPROVAL_LIKE:
            agent.approval_like += 1
            self._cite("approval_like", event.event_id)
        elif event.outcome is Outcome.ALLOW:
            agent.allowed += 1
        if event.mode == "observe" and event.allowed and event.outcome is Outcome.DENY:
            agent.observed_would_block += 1

    def _lifecycle(self, event: AuditEvent) -> None:
        data = event.data
        if data.get("lifecycle") == "startup":
            self._cite("startup", event.event_id)
            names = data.get("registered")
            entries = data.get("plugins")
            # the distributions' entry-point modules and config validators are not controls themselves: the
            # plugins they register in turn are (``egress-enforcer``, ``supply_chain_guard``, ...)
            skip = {p.get("name") for p in entries if isinstance(p, dict)} if isinstance(entries, list) else set()
            if isinstance(names, list):
                for name in names[:256]:
                    if not isinstance(name, str) or name in skip or name.endswith("_config"):
                        continue
                    if len(self.registered_plugins) < 256:
                        self.registered_plugins.add(name[:128])
                        self._cite(f"plugin:{name[:128]}", event.event_id)

    def _kill(self, event: AuditEvent, when: datetime) -> None:
        op = event.kind.removeprefix("kill_switch.")
        reason = _text(event.data.get("reason"))
        if op in ("kill", "revive", "kill_all", "revive_all"):
            self.kills.append(KillRecord(op, event.agent_id, reason, when, event.event_id))
            self._cite("kill_switch", event.event_id)
        if op == "kill" and event.agent_id:
            agent = self._agent(event.agent_id[:256])
            agent.killed, agent.kill_reason = True, reason
        elif op == "revive" and event.agent_id:
            agent = self._agent(event.agent_id[:256])
            agent.killed, agent.kill_reason = False, ""
        elif op == "kill_all":
            self.global_kill = True
        elif op == "revive_all":
            self.global_kill = False
            for agent in self.agents.values():
                agent.killed, agent.kill_reason = False, ""

    def _guardian(self, event: AuditEvent, when: datetime) -> None:
        data = event.data
        self._cite("guardian", event.event_id)
        incident_id = data.get("incident_id", data.get("id"))
        if not isinstance(incident_id, str) or not incident_id:
            return
        incident_id = incident_id[:128]
        status = _text(data.get("status") or "open", 32).lower()
        known = self.incidents.get(incident_id)
        if known is not None:
            known.status = status
            return
        if len(self.incidents) >= MAX_INCIDENTS:
            self.incidents_dropped += 1
            return
        evidence = data.get("evidence")
        evidence_ids = tuple(_text(e, 128) for e in evidence[:MAX_EVIDENCE]) if isinstance(evidence, list) else ()
        severity = _text(data.get("severity") or "medium", 16).lower()
        action = _text(data.get("action_taken"), 32)
        self.incidents[incident_id] = Incident(
            incident_id=incident_id,
            agent_id=event.agent_id,
            type=_text(data.get("type") or data.get("anomaly") or "anomaly", 64),
            severity=severity if severity in _SEVERITIES else "medium",
            description=_text(data.get("description") or (event.reasons[0].message if event.reasons else "")),
            status=status,
            timestamp=when,
            event_id=event.event_id,
            action_taken=action,
            evidence=evidence_ids,
        )
        self._cite("incident", event.event_id)
        if action == "killed" and event.agent_id:
            self.kills.append(
                KillRecord("guardian_kill", event.agent_id, _text(data.get("description")), when, event.event_id)
            )


def summarize(events: Iterable[AuditEvent]) -> TrailSummary:
    """One pass over ``events`` (trail order)."""
    summary = TrailSummary()
    for event in events:
        summary.add(event)
    return summary
