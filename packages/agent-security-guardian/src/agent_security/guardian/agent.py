"""The guardian: anomaly detection over the audit stream, with incidents and a kill that holds.

:class:`GuardianAgent` is a plugin: registered on an ``AgentSecurity`` (by the ``[guardian]`` section, or
``AgentSecurity(plugins=[GuardianAgent(BLUEPRINT_FINANCE)])``) it receives every audit event through
``agent_security_audit_event``, after the event is chained and outside the trail's lock. It can also be
fed by hand (:meth:`GuardianAgent.process_event`), as Agent-SPM's ``GuardianAgent`` was.

What it reads: a ``decision`` event is one tool call (an approval-gated call is counted once, not once
per event); a ``decision`` or ``resolution`` event whose outcome is DENY is one denial. Calls already
refused by the kill switch (or sent to review by this guardian) are not analysed again. Time is the
events' own timestamps, so a replayed or forwarded trail is judged at its own time.

What it writes, through ``host.record_event``: ``guardian.incident`` (one per new incident, ``data`` =
:meth:`Incident.as_data`, reason code ``GUARDIAN_<TYPE>``), ``guardian.incident_closed`` when an incident
was quiet for ``cooldown_s``, and ``guardian.state_invalid`` when a stored state could not be read (the
agent starts afresh). In block mode a kill goes through the kill switch (``kill_switch.kill``, with the
incident id in its reason), so the agent's next calls are DENY ``AGENT_KILL_SWITCH`` in every process
sharing the store.

Failures are not swallowed: a store that cannot be read or written raises from the hook, and the pipeline
turns the call being recorded into DENY ``AUDIT_FAILURE`` (with ``PLUGIN_ERROR`` naming the guardian).

With ``analysis = "background"`` the hook only queues the event and a worker thread analyses it
(:mod:`agent_security.guardian.backlog`).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agent_security.core import Decision, MemoryStore, Outcome, Reason, hookimpl
from agent_security.core.normalize import canonical_agent_id
from agent_security.guardian._speedups import InlineAnalysis
from agent_security.guardian.backlog import Backlog
from agent_security.guardian.config import GuardianConfig
from agent_security.guardian.detect import Detectors, Finding
from agent_security.guardian.incidents import SEVERITY_RANK, Action, AnomalyType, Incident, IncidentBook, OpenIncident
from agent_security.guardian.state import PREFIX, key

if TYPE_CHECKING:
    from agent_security.core import AuditEvent, Store
    from agent_security.core.context import CheckContext
    from agent_security.core.host import Host
    from agent_security.core.models import ActionRequest

__all__ = ["GuardianAgent", "ReviewGate"]

SWEEP_INTERVAL_S = 10.0
"""How often (event time) open incidents are checked for the end of their cooldown (or every
``sync_interval_s``, if shorter)."""
_DENY = Outcome.DENY
_REVIVALS = frozenset({"kill_switch.revive", "kill_switch.revive_all"})
_ANALYSED = frozenset({"decision", "resolution", *_REVIVALS})


@dataclass
class _Work:
    """What one event made the guardian do once its lock is released."""

    agent_id: str
    incidents: list[Incident] = field(default_factory=list)
    kill: Incident | None = None
    closed: list[OpenIncident] = field(default_factory=list)
    invalid: list[tuple[str, str]] = field(default_factory=list)


class GuardianAgent:
    """Behavioural anomaly detection with incidents and auto-kill (see the module documentation).

    :param config: a :class:`GuardianConfig`, a blueprint, or a mapping of its fields.
    :param store: where detection state, open incidents and kills are shared; default: the store of the
        ``AgentSecurity`` it is registered with (a private memory store until then).
    :param kill_switch: the kill switch to kill through in block mode; default: the instance's
        ``kill_switch`` plugin (one is registered if there is none).
    :param on_incident: called with each new :class:`Incident` (after it is in the audit trail).
    :param on_kill: called with ``(agent_id, incident)`` once an agent is killed or put under review.
    """

    name = "guardian-agent"
    """The registered plugin name (the entry-point module is ``guardian``); an application's own
    ``GuardianAgent`` replaces the one the ``[guardian]`` section built."""
    fail_open = False

    def __init__(
        self,
        config: GuardianConfig | Mapping[str, Any] | None = None,
        *,
        store: Store | None = None,
        kill_switch: Any = None,
        on_incident: Callable[[Incident], None] | None = None,
        on_kill: Callable[[str, Incident], None] | None = None,
        guardian_id: str | None = None,
    ) -> None:
        cfg = config if isinstance(config, GuardianConfig) else GuardianConfig.model_validate(dict(config or {}))
        self.config = cfg
        self.id = guardian_id or str(uuid.uuid4())
        self._store: Store = store if store is not None else MemoryStore()
        self._store_fixed = store is not None
        self._host: Host | None = None
        self._kill_switch = kill_switch
        self._on_incident = on_incident
        self._on_kill = on_kill
        self._lock = threading.Lock()
        self._detectors = Detectors(cfg, self._store)
        self._book = IncidentBook(cfg.cooldown_s, cfg.max_incidents, cfg.max_evidence, max_open=4 * cfg.max_agents)
        self._kill_rank = SEVERITY_RANK[cfg.kill_min_severity]
        self._sweep_s = min(cfg.sync_interval_s, SWEEP_INTERVAL_S)
        self.next_sweep = float("-inf")
        """When (event time) open incidents are next checked for the end of their cooldown."""
        self._analyse = InlineAnalysis(self, self._detectors, self._book, self._lock).analyse
        self._backlog = Backlog(self._analyse, self._act, cfg.queue_size) if cfg.analysis == "background" else None

    # -- wiring ---------------------------------------------------------------------------------------
    @property
    def store(self) -> Store:
        return self._store

    @property
    def mode(self) -> str:
        return self.config.mode

    def bind_store(self, store: Store) -> None:
        """Use the instance's store (called on registration), unless one was given."""
        if not self._store_fixed:
            with self._lock:
                self._store = self._detectors.store = store
                self._store_fixed = True

    def bind_host(self, host: Host) -> None:
        """Remember the host (its trail and plugins); in correct mode, add the review gate."""
        self._host = host
        if self.config.mode == "correct" and host.get_plugin(ReviewGate.name) is None:
            host.register_plugin(ReviewGate(self), name=ReviewGate.name)

    # -- the audit stream -----------------------------------------------------------------------------
    @hookimpl
    def agent_security_audit_event(self, event: AuditEvent) -> None:
        backlog = self._backlog
        if backlog is None:
            work = self._analyse(event)
            if work is not None:
                self._act(work)
        elif event.kind in _ANALYSED:
            backlog.put(event)
        elif event.kind == "lifecycle" and event.data.get("lifecycle") == "shutdown":
            backlog.drain()  # while the trail still takes the incidents

    @hookimpl
    def agent_security_shutdown(self) -> None:
        if self._backlog is not None:
            self._backlog.close()
        self.flush()

    def drain(self) -> None:
        """Background analysis: analyse every queued event now, in this thread (a no-op inline)."""
        if self._backlog is not None:
            self._backlog.drain()

    def process_event(self, event: AuditEvent) -> list[Incident]:
        """Analyse one audit event now; return the incidents it opened (an ``auto_kill`` one last)."""
        work = self._analyse(event)
        if work is None:
            return []
        return self._act(work)

    def _observe_event(self, event: AuditEvent) -> _Work | None:
        kind = event.kind
        if kind == "decision":
            call = True
        elif kind == "resolution" and event.outcome is _DENY:
            call = False
        else:
            if kind in _REVIVALS and self.config.mode == "block":
                self._revived(event.agent_id)
            return None
        agent = event.agent_id
        if not agent:
            return None
        ts = event.timestamp.timestamp()
        with self._lock:
            return self._observe_locked(event, agent, call, ts)

    def _observe_locked(self, event: AuditEvent, agent: str, call: bool, ts: float) -> _Work | None:
        """Analyse ``event`` (of ``agent``, at epoch second ``ts``; ``call``: a ``decision`` event). Holds the lock."""
        found = self._detectors.observe(event, agent, call, ts)
        return self._follow_up(found, agent, event, ts)

    def _follow_up(self, found: list[Finding] | None, agent: str, event: AuditEvent, ts: float) -> _Work | None:
        """What an analysed event leads to: incidents for its findings, states written when due, incidents
        closed once quiet. Holds the lock."""
        detectors, book = self._detectors, self._book
        work: _Work | None = None
        if detectors.invalid:
            work = _Work(agent, invalid=detectors.invalid)
            detectors.invalid = []
        if found is not None:
            work = self._open(found, agent, event, ts, work)
        if ts >= detectors.next_due:
            detectors.save_due(ts)
        if ts >= self.next_sweep:
            book.sweep(ts)
            self.next_sweep = ts + self._sweep_s
        if book.closed:
            work = work or _Work(agent)
            work.closed = book.take_closed()
        return work

    def _revived(self, agent: str | None) -> None:
        """The kill switch revived ``agent`` (``None``: every agent), by whatever means: its incidents are
        closed and its count starts afresh, so that it is killed again if it goes on."""
        with self._lock:
            self._forget(agent)

    def _forget(self, agent: str | None) -> None:
        """Close ``agent``'s incidents (``None``: everyone's) and clear its count and kill. Holds the lock."""
        store = self._store
        if agent is None:
            self._book.sweep(float("inf"))
            for kind in ("violations", "kill", "open"):
                store.delete_prefix(f"{PREFIX}{kind}:")
        else:
            self._book.close_agent(agent)
            for kind in ("violations", "kill"):
                store.delete(key(kind, agent))
            store.delete_prefix(key("open", agent) + ":")

    def _open(self, found: list[Finding], agent: str, event: AuditEvent, ts: float, work: _Work | None) -> _Work | None:
        """Open an incident for each finding that has none open; count them; decide a kill."""
        cfg, book, store = self.config, self._book, self._store
        new: list[Incident] = []
        counted = 0
        for typ, subject, severity, description, details, evidence in found:
            k = (agent, typ, subject)
            if book.recur(k, ts, evidence):
                continue
            incident = Incident(
                incident_id=str(uuid.uuid4()),
                timestamp=event.timestamp,
                agent_id=agent,
                type=typ,
                severity=severity,
                description=description,
                subject=subject,
                details=details,
                evidence=evidence[-cfg.max_evidence :],
                tool_name=event.tool_name,
                guardian=cfg.name,
            )
            book.opened(k, incident, ts)
            # one incident per agent, anomaly and cooldown across every process sharing the store
            if store.incr(key("open", agent, typ.value, subject), ttl_s=cfg.cooldown_s) != 1:
                continue
            new.append(incident)
            counted += SEVERITY_RANK[severity] >= self._kill_rank
        if not new:
            return work
        work = work or _Work(agent)
        work.incidents = new
        if cfg.auto_kill_threshold and counted:
            total = store.incr(key("violations", agent), counted)
            if total >= cfg.auto_kill_threshold and store.incr(key("kill", agent)) == 1:
                # once, whichever process gets there first, until the agent is revived
                work.kill = self._kill_incident(agent, event, total, new)
        return work

    def _kill_incident(self, agent: str, event: AuditEvent, total: int, new: list[Incident]) -> Incident:
        cfg = self.config
        opened = [o.incident.incident_id for (a, _, _), o in self._book.open.items() if a == agent]
        action = {"block": Action.KILLED, "correct": Action.REVIEW, "monitor": Action.WOULD_KILL}[cfg.mode]
        verb = {"block": "auto-killed", "correct": "put under review", "monitor": "would be auto-killed"}[cfg.mode]
        incident = Incident(
            incident_id=str(uuid.uuid4()),
            timestamp=event.timestamp,
            agent_id=agent,
            type=AnomalyType.AUTO_KILL,
            severity="critical",
            description=f'Agent "{agent}" {verb} after {total} incidents (threshold: {cfg.auto_kill_threshold})',
            details={"total_violations": total, "mode": cfg.mode, "trigger": new[-1].incident_id},
            evidence=tuple(opened[-cfg.max_evidence :]),
            action_taken=action,
            tool_name=event.tool_name,
            guardian=cfg.name,
        )
        self._book.logged(incident)
        return incident

    # -- side effects, outside the lock ---------------------------------------------------------------
    def _act(self, work: _Work) -> list[Incident]:
        host, agent = self._host, work.agent_id
        try:
            if host is not None:
                for who, error in work.invalid:
                    host.record_event("guardian.state_invalid", {"error": error}, agent_id=who)
                for inc in work.incidents:
                    self._record(host, inc)
                for closed in work.closed:
                    inc = closed.incident
                    host.record_event(
                        "guardian.incident_closed",
                        {"incident_id": inc.incident_id, "type": inc.type.value, "subject": inc.subject,
                         "repeats": closed.repeats, "evidence": closed.evidence, "last_seen": closed.last_seen},
                        agent_id=inc.agent_id,
                    )  # fmt: skip
        finally:
            kill = work.kill
            if kill is not None:
                self._enforce(agent, kill)
        incidents = work.incidents if kill is None else [*work.incidents, kill]
        if kill is not None and host is not None:
            self._record(host, kill)
        if self._on_incident is not None:
            for inc in incidents:
                self._on_incident(inc)
        if kill is not None and self._on_kill is not None:
            self._on_kill(agent, kill)
        return incidents

    @staticmethod
    def _record(host: Host, inc: Incident) -> None:
        host.record_event(
            "guardian.incident",
            inc.as_data(),
            agent_id=inc.agent_id,
            tool_name=inc.tool_name,
            reasons=(Reason(code=inc.reason_code, message=inc.description[:1000]),),
        )

    def _enforce(self, agent: str, incident: Incident) -> None:
        mode = self.config.mode
        if mode == "block":
            reason = f"Killed by the guardian: {incident.description} (incident {incident.incident_id})"
            self._kill_switch_plugin().kill(agent, reason)
        elif mode == "correct":
            review = {"incident_id": incident.incident_id, "since": incident.timestamp.isoformat()}
            self._store.set(key("review", agent), review)

    def _kill_switch_plugin(self) -> Any:
        if self._kill_switch is not None:
            return self._kill_switch
        host = self._host
        if host is None:
            from agent_security.core.builtin import kill_switch

            self._kill_switch = kill_switch(store=self._store)
            return self._kill_switch
        ks = host.get_plugin("kill_switch")
        if ks is None:  # block mode needs a kill switch: install the built-in one on this instance
            from agent_security.core.builtin import kill_switch

            host.register_plugin(kill_switch())
            ks = host.get_plugin("kill_switch")
        return ks

    # -- state ----------------------------------------------------------------------------------------
    def flush(self) -> None:
        """Write every changed detection state to the store now (also done at shutdown)."""
        with self._lock:
            self._detectors.save_all()

    # -- queries and operator actions -----------------------------------------------------------------
    def incidents(self, agent_id: str | None = None) -> list[Incident]:
        """The last incidents this guardian opened (``max_incidents``), oldest first; one agent's with ``agent_id``."""
        with self._lock:
            history = list(self._book.history)
        if agent_id is None:
            return history
        agent = canonical_agent_id(agent_id)
        return [i for i in history if i.agent_id == agent]

    get_incidents = incidents
    """Agent-SPM's name."""

    def get_agent_incidents(self, agent_id: str) -> list[Incident]:
        """Agent-SPM's name for ``incidents(agent_id)``."""
        return self.incidents(agent_id)

    def open_incidents(self, agent_id: str | None = None) -> list[Incident]:
        agent = None if agent_id is None else canonical_agent_id(agent_id)
        with self._lock:
            return [o.incident for (a, _, _), o in self._book.open.items() if agent is None or a == agent]

    def is_killed(self, agent_id: str) -> bool:
        """Whether the agent is stopped: killed (the kill switch, in block mode), under review (correct
        mode), or, in monitor mode, past the kill threshold."""
        agent = canonical_agent_id(agent_id)
        mode = self.config.mode
        if mode == "block":
            ks = self._kill_switch or (self._host.get_plugin("kill_switch") if self._host is not None else None)
            return bool(ks is not None and ks.is_killed(agent))
        if mode == "correct":
            return self.under_review(agent)
        return self._store.get(key("kill", agent)) is not None

    def under_review(self, agent_id: str) -> bool:
        return self._store.get(key("review", canonical_agent_id(agent_id))) is not None

    def revive(self, agent_id: str) -> None:
        """Lift this guardian's kill or review of an agent and forget its incident count (its learned
        baselines stay)."""
        agent = canonical_agent_id(agent_id)
        with self._lock:
            self._forget(agent)
            self._store.delete(key("review", agent))
        if self.config.mode == "block":
            ks = self._kill_switch_plugin()
            if ks.is_killed(agent):
                ks.revive(agent)

    def reset(self) -> None:
        """Forget everything: in-memory state and every ``guardian:`` key of the store (fleet-wide)."""
        with self._lock:
            self._detectors.clear()
            self._book.clear()
            self.next_sweep = float("-inf")
            self._store.delete_prefix(PREFIX)

    def __repr__(self) -> str:
        cfg = self.config
        return f"GuardianAgent(name={cfg.name!r}, mode={cfg.mode!r}, agents={len(self._detectors.agents)})"


class ReviewGate:
    """Correct mode: a call of an agent under review needs a human (``REQUIRE_HUMAN`` ``GUARDIAN_REVIEW``).
    Registered by the guardian itself; reads one store key per check."""

    name = "guardian-review"
    fail_open = False

    def __init__(self, guardian: GuardianAgent) -> None:
        self._guardian = guardian

    @hookimpl
    def agent_security_after_decision(
        self, request: ActionRequest, decision: Decision, ctx: CheckContext
    ) -> Decision | None:
        if decision.outcome in (Outcome.DENY, Outcome.REQUIRE_HUMAN):
            return None
        review = self._guardian.store.get(key("review", request.agent.agent_id))
        if review is None:
            return None
        incident = review.get("incident_id", "") if isinstance(review, dict) else ""
        return decision.with_reason(
            "GUARDIAN_REVIEW",
            f"Agent {request.agent.agent_id} is under review by the guardian (incident {incident}); "
            "a human must approve each call",
            outcome=Outcome.REQUIRE_HUMAN,
        ).model_copy(update={"plugin_source": "guardian"})
