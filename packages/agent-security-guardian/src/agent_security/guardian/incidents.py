"""Incidents: what the guardian reports, and the book that keeps one open incident per agent and anomaly.

An anomaly that recurs while its incident is open adds evidence to it (up to ``max_evidence`` event
ids) instead of raising a new one: the incident stays open until the anomaly has been quiet for
``cooldown_s`` (time hysteresis), then it is closed and the next occurrence opens a new one. So an agent
hammering a tool gives one ``frequency_spike``, not one per call (Agent-SPM raised one per event).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = ["SEVERITY_RANK", "Action", "AnomalyType", "Incident", "IncidentBook", "OpenIncident"]


class AnomalyType(StrEnum):
    FREQUENCY_SPIKE = "frequency_spike"
    VOLUME_SPIKE = "volume_spike"
    SUSPICIOUS_SEQUENCE = "suspicious_sequence"
    OFF_HOURS = "off_hours"
    FIRST_USE = "first_use"
    DENIAL_BURST = "denial_burst"
    AUTO_KILL = "auto_kill"


class Action(StrEnum):
    """What the guardian did about an incident (true, unlike Agent-SPM's label)."""

    LOGGED = "logged"
    """Recorded; nothing enforced (monitor mode, or below the kill threshold)."""
    KILLED = "killed"
    """The agent was killed through the kill switch: its next calls are denied (block mode)."""
    REVIEW = "review"
    """The agent was put under review: its next calls need a human (correct mode)."""
    WOULD_KILL = "would_kill"
    """Monitor mode reached the kill threshold: block mode would have killed the agent."""


SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}


@dataclass(frozen=True, slots=True)
class Incident:
    """One anomaly of one agent, as written to the audit trail (``guardian.incident``)."""

    incident_id: str
    timestamp: datetime
    """The timestamp of the event that opened it."""
    agent_id: str
    type: AnomalyType
    severity: str
    description: str
    subject: str = ""
    """What the anomaly is about: the tool, the sequence, ``""`` for the agent as a whole."""
    details: dict[str, Any] = field(default_factory=dict)
    evidence: tuple[str, ...] = ()
    """The audit event ids that showed it (for ``auto_kill``: the incident ids that led to it)."""
    action_taken: Action = Action.LOGGED
    tool_name: str | None = None
    guardian: str = "Guardian"

    @property
    def reason_code(self) -> str:
        return f"GUARDIAN_{self.type.value.upper()}"

    def as_data(self) -> dict[str, Any]:
        """The ``data`` of the incident's audit event."""
        return {
            "incident_id": self.incident_id,
            "type": self.type.value,
            "severity": self.severity,
            "subject": self.subject,
            "description": self.description,
            "details": self.details,
            "evidence": list(self.evidence),
            "action_taken": self.action_taken.value,
            "guardian": self.guardian,
            "opened_at": self.timestamp.isoformat(),
        }


class OpenIncident:
    """An open incident and what happened since it opened."""

    __slots__ = ("evidence", "incident", "last_seen", "repeats")

    def __init__(self, incident: Incident, ts: float) -> None:
        self.incident = incident
        self.last_seen = ts
        self.repeats = 0
        self.evidence: list[str] = list(incident.evidence)


Key = tuple[str, AnomalyType, str]


class IncidentBook:
    """Open incidents by ``(agent, type, subject)`` and the last ``max_incidents`` incidents (not thread-safe:
    the guardian holds its lock)."""

    __slots__ = ("closed", "cooldown_s", "history", "max_evidence", "max_open", "open")

    def __init__(self, cooldown_s: float, max_incidents: int, max_evidence: int, max_open: int) -> None:
        self.cooldown_s = cooldown_s
        self.max_evidence = max_evidence
        self.max_open = max_open
        self.open: dict[Key, OpenIncident] = {}
        self.history: deque[Incident] = deque(maxlen=max_incidents)
        self.closed: list[OpenIncident] = []
        """Closed since the caller last took them (:meth:`take_closed`)."""

    def recur(self, key: Key, ts: float, evidence: tuple[str, ...]) -> bool:
        """True when ``key`` has an open incident (which takes the evidence); closes it first when quiet."""
        current = self.open.get(key)
        if current is None:
            return False
        if ts - current.last_seen > self.cooldown_s:
            self.closed.append(self.open.pop(key))
            return False
        current.last_seen = max(current.last_seen, ts)
        current.repeats += 1
        room = self.max_evidence - len(current.evidence)
        if room > 0:
            current.evidence.extend(e for e in evidence[-room:] if e not in current.evidence)
        return True

    def opened(self, key: Key, incident: Incident, ts: float) -> None:
        if len(self.open) >= self.max_open:
            oldest = next(iter(self.open))
            self.closed.append(self.open.pop(oldest))
        self.open[key] = OpenIncident(incident, ts)
        self.history.append(incident)

    def logged(self, incident: Incident) -> None:
        """Keep an incident that is never open (``auto_kill``)."""
        self.history.append(incident)

    def sweep(self, ts: float) -> None:
        """Close every incident quiet for ``cooldown_s`` at ``ts``."""
        quiet = [k for k, o in self.open.items() if ts - o.last_seen > self.cooldown_s]
        for key in quiet:
            self.closed.append(self.open.pop(key))

    def take_closed(self) -> list[OpenIncident]:
        closed, self.closed = self.closed, []
        return closed

    def close_agent(self, agent_id: str) -> None:
        for key in [k for k in self.open if k[0] == agent_id]:
            self.closed.append(self.open.pop(key))

    def clear(self) -> None:
        self.open.clear()
        self.history.clear()
        self.closed.clear()
