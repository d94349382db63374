"""The data that crosses the hook contract: requests, decisions, plugin results and audit events.

Every model is a frozen pydantic v2 model. Plugins never mutate a request in place: they return a
:class:`PluginResult` and the pipeline builds the next request with :meth:`ActionRequest.model_copy`.
Field names follow Agent-SPM's schema (snake_case already), so bundles, events and fixtures written for
it read the same here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agent_security.core._ids import new_id, utcnow
from agent_security.core.normalize import canonical_agent_id

__all__ = [
    "APPROVAL_LIKE",
    "CORE_EVENT_KINDS",
    "EVENT_KIND_PATTERN",
    "SCHEMA_VERSION",
    "TRUST_LEVELS",
    "Action",
    "ActionRequest",
    "AgentAttestation",
    "AgentInfo",
    "AuditEvent",
    "CheckResult",
    "Decision",
    "ExecutionResult",
    "Outcome",
    "PluginResult",
    "Reason",
    "RequestContext",
    "ResultCheck",
    "ToolIdentity",
    "TrustLevel",
    "new_id",
    "restrictiveness",
    "trust_rank",
    "utcnow",
]

SCHEMA_VERSION = "1.1"
"""Version of the audit event schema: the major part changes on an incompatible change, the minor part
when something is added (1.1: plugin event kinds). Posture and SIEM exports rely on it."""

CORE_EVENT_KINDS = frozenset({"decision", "resolution", "execution", "lifecycle", "alert", "error"})
"""The kinds the core writes itself; a plugin's kinds are namespaced (``guardian.incident``)."""
EVENT_KIND_PATTERN = r"^(?:decision|resolution|execution|lifecycle|alert|error|[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+)$"
"""What ``AuditEvent.kind`` may be: a core kind, or lowercase words joined by dots (``guardian.incident``)."""


class Model(BaseModel):
    """Base of every core model: frozen, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Outcome(StrEnum):
    """The six outcomes a check can reach."""

    ALLOW = "ALLOW"
    DENY = "DENY"
    REQUIRE_APPROVAL = "REQUIRE_APPROVAL"
    STEP_UP = "STEP_UP"
    REQUIRE_TICKET = "REQUIRE_TICKET"
    REQUIRE_HUMAN = "REQUIRE_HUMAN"

    # Enum's own ``__hash__`` is a Python function (``hash(self._name_)``); each member's name is its value,
    # so the string's C hash gives the same number without a Python call on every dict and set lookup.
    __hash__ = str.__hash__

    @property
    def approval_like(self) -> bool:
        """True for the four outcomes that wait on a callback before they become ALLOW or DENY."""
        return self in APPROVAL_LIKE


APPROVAL_LIKE = frozenset({Outcome.REQUIRE_APPROVAL, Outcome.STEP_UP, Outcome.REQUIRE_TICKET, Outcome.REQUIRE_HUMAN})

_RESTRICTIVENESS = {
    Outcome.ALLOW: 0,
    Outcome.REQUIRE_APPROVAL: 1,
    Outcome.STEP_UP: 2,
    Outcome.REQUIRE_TICKET: 3,
    Outcome.REQUIRE_HUMAN: 4,
    Outcome.DENY: 5,
}


def restrictiveness(outcome: Outcome | str) -> int:
    """Rank of an outcome from the most permissive (ALLOW, 0) to the most restrictive (DENY, 5).

    Used wherever two opinions meet: several evaluators combine to the most restrictive, and an
    ``after_decision`` plugin may only move a decision up this scale unless it is trusted to relax.
    """
    try:
        return _RESTRICTIVENESS[outcome]  # type: ignore[index]  # an Outcome, or its value (a StrEnum)
    except (KeyError, TypeError):
        return _RESTRICTIVENESS[Outcome(outcome)]  # raises ValueError for what is no outcome


class TrustLevel(StrEnum):
    """Agent trust, ordered from least to most trusted. The ordering is defined here and only here."""

    UNTRUSTED = "untrusted"
    BASIC = "basic"
    VERIFIED = "verified"
    PRIVILEGED = "privileged"
    SYSTEM = "system"


TRUST_LEVELS: tuple[TrustLevel, ...] = tuple(TrustLevel)


def trust_rank(level: TrustLevel | str) -> int:
    """0 for ``untrusted`` up to 4 for ``system``. Raises ``ValueError`` on an unknown level."""
    return TRUST_LEVELS.index(TrustLevel(level))


class Reason(Model):
    """Why a decision was reached. Messages never carry raw argument values (no secrets, no PII)."""

    code: str
    """Stable machine-readable code: a policy rule id, ``DEFAULT_<OUTCOME>``, ``PLUGIN_ERROR``, ..."""
    message: str = ""
    """Human-readable explanation."""


class Decision(Model):
    """What the pipeline (or one plugin) decided about a request."""

    outcome: Outcome
    reasons: tuple[Reason, ...] = ()
    approver_role: str | None = None
    """Role that must approve, for approval-like outcomes (copied from the policy rule)."""
    constraints: Mapping[str, Any] | None = None
    """Constraints attached by the matching rule or plugin; returned to the caller with the result."""
    plugin_source: str | None = None
    """Name of the plugin that produced this decision, when it was not the policy engine."""

    @property
    def allowed(self) -> bool:
        return self.outcome is Outcome.ALLOW

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)

    @classmethod
    def deny(cls, code: str, message: str, *, plugin_source: str | None = None) -> Decision:
        return cls(outcome=Outcome.DENY, reasons=(Reason(code=code, message=message),), plugin_source=plugin_source)

    @classmethod
    def allow(cls, code: str, message: str = "", *, plugin_source: str | None = None) -> Decision:
        return cls(outcome=Outcome.ALLOW, reasons=(Reason(code=code, message=message),), plugin_source=plugin_source)

    def with_reason(self, code: str, message: str, *, outcome: Outcome | None = None) -> Decision:
        """A copy with one more reason appended and, optionally, a new outcome."""
        return self.model_copy(
            update={
                "reasons": (*self.reasons, Reason(code=code, message=message)),
                "outcome": outcome or self.outcome,
            }
        )


def _agent_id(value: str) -> str:
    """An agent id in its one canonical form (:func:`~agent_security.core.normalize.canonical_agent_id`),
    so that every spelling reaching an agent meets its kill, its limits and its registration."""
    canonical = canonical_agent_id(value)
    if not canonical:
        raise ValueError("an agent id must have a visible character")
    return canonical


class AgentAttestation(Model):
    issuer: str
    issued_at: str
    expires_at: str | None = None
    signature: str | None = None


class AgentInfo(Model):
    """The acting agent. Caller-supplied fields are claims until an identity plugin confirms them."""

    agent_id: str
    name: str = ""
    owner: str = "unknown"
    environment: str = "unknown"
    agent_type: str | None = None
    trust_level: TrustLevel | None = None
    roles: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    max_delegation_depth: int | None = None
    attestation: AgentAttestation | None = None
    verified: bool = False
    """True only when an identity plugin replaced the claims with registered values."""

    @field_validator("agent_id")
    @classmethod
    def _canonical_agent_id(cls, value: str) -> str:
        return _agent_id(value)


class ToolIdentity(Model):
    tool_name: str
    version: str | None = None
    provider: str | None = None
    manifest_hash: str | None = None
    permissions_required: tuple[str, ...] = ()
    data_access: tuple[str, ...] = ()
    verified: bool | None = None


class Action(Model):
    type: str = "tool_call"
    """``tool_call``, ``shell``, ``code_execute``, ``memory_access``, ``web_browse``, ..."""
    tool_name: str
    tool_args: Mapping[str, Any] = Field(default_factory=dict)
    tool_identity: ToolIdentity | None = None


class RequestContext(Model):
    user_input: str | None = None
    data_labels: tuple[str, ...] = ()
    risk_hints: tuple[str, ...] = ()
    trace_id: str | None = None
    session_id: str | None = None
    parent_agent_id: str | None = None
    delegation_chain: tuple[str, ...] = ()
    extra: Mapping[str, Any] = Field(default_factory=dict)
    """Free-form context (the original's ``[key: string]: any``); never used by core decisions."""

    @field_validator("parent_agent_id")
    @classmethod
    def _canonical_parent(cls, value: str | None) -> str | None:
        return None if value is None else _agent_id(value)

    @field_validator("delegation_chain")
    @classmethod
    def _canonical_chain(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_agent_id(v) for v in value)


class ActionRequest(Model):
    """One tool call to decide about."""

    request_id: str = Field(default_factory=new_id)
    timestamp: datetime = Field(default_factory=utcnow)
    agent: AgentInfo
    action: Action
    context: RequestContext = Field(default_factory=RequestContext)

    @property
    def tool_name(self) -> str:
        return self.action.tool_name

    @property
    def agent_id(self) -> str:
        return self.agent.agent_id

    @property
    def environment(self) -> str:
        return self.agent.environment


class PluginResult(Model):
    """What a ``before_check`` or ``identify`` hook may return.

    A ``decision`` ends the check early (after audit and callbacks). ``request`` replaces the request
    for the phases that follow; the pipeline checks that the replacement keeps the same ``request_id``
    and, outside the ``identify`` phase, the same agent identity.

    An ``identify`` hook may instead name only what it replaces: ``agent``, ``tool_identity`` and
    ``delegation_chain`` (each ``None`` to keep the request's). The pipeline builds the next request from
    them, and such a result holds nothing of one request, so a plugin may return the same result for
    every check of the same caller.
    """

    decision: Decision | None = None
    request: ActionRequest | None = None
    agent: AgentInfo | None = None
    """``identify`` only: the registered agent that replaces the claimed one."""
    tool_identity: ToolIdentity | None = None
    """``identify`` only: the registered identity of the tool."""
    delegation_chain: tuple[str, ...] | None = None
    """``identify`` only: the verified delegation chain."""
    annotations: Mapping[str, Any] | None = None
    """Safe (already redacted) facts to record in the audit event under the plugin's name."""

    @property
    def replaces_identity(self) -> bool:
        """Whether this result names an agent, a tool identity or a delegation chain to replace."""
        return self.agent is not None or self.tool_identity is not None or self.delegation_chain is not None


class ExecutionResult(Model):
    """What an ``after_execution`` hook may return: a replacement (redacted) result or a block."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    result: Any = None
    replace: bool = False
    """True when ``result`` replaces the tool's result (redaction)."""
    block: Decision | None = None
    """A DENY that turns the call into a :class:`~agent_security.core.errors.SecurityError`."""


class AuditEvent(Model):
    """One line of the audit trail. Stable, versioned schema: see :data:`SCHEMA_VERSION`.

    ``prev_hash`` and ``hash`` chain events together; ``sequence`` numbers them from 1 per trail.
    ``data`` holds only redacted, structural facts (never tool arguments or user input).
    """

    schema_version: str = SCHEMA_VERSION
    event_id: str = Field(default_factory=new_id)
    sequence: int = 0
    timestamp: datetime = Field(default_factory=utcnow)
    kind: str = Field("decision", max_length=64, pattern=EVENT_KIND_PATTERN)
    """One of the core's kinds (:data:`CORE_EVENT_KINDS`) or a plugin's namespaced kind
    (``guardian.incident``, ``kill_switch.kill``: lowercase words joined by dots, at most 64 characters)."""
    request_id: str | None = None
    agent_id: str | None = None
    tool_name: str | None = None
    environment: str | None = None
    outcome: Outcome | None = None
    allowed: bool | None = None
    reasons: tuple[Reason, ...] = ()
    plugin_source: str | None = None
    mode: Literal["enforce", "observe"] = "enforce"
    request_hash: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    prev_hash: str | None = None
    hash: str | None = None


class CheckResult(Model):
    """The answer to ``check_tool_call``."""

    allowed: bool
    decision: Decision
    """The decision as reached by the pipeline (for an approval-like outcome, before resolution)."""
    final_decision: Decision
    """The decision after callbacks resolved it (ALLOW or DENY for approval-like outcomes)."""
    event: AuditEvent
    """The primary audit event of this check."""
    events: tuple[AuditEvent, ...] = ()
    """Every audit event this check wrote (primary first)."""
    request: ActionRequest
    """The request as decided (after identity and plugin enrichment)."""
    request_hash: str
    """Hash binding this decision (and any approval) to the exact request."""
    tool_args: Mapping[str, Any] = Field(default_factory=dict)
    """Arguments to execute with: equal to the caller's unless a plugin redacted them."""
    would_block: bool = False
    """In observe mode: True when enforce mode would have blocked the call."""

    @property
    def outcome(self) -> Outcome:
        return self.decision.outcome

    @property
    def reasons(self) -> tuple[Reason, ...]:
        return self.final_decision.reasons


class ResultCheck(Model):
    """The answer to ``check_result``: whether a tool's output may go back to the agent, and in what form."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    allowed: bool
    """False when a plugin withheld the output (in observe mode: always True, see ``would_block``)."""
    decision: Decision
    """ALLOW ``EXECUTION_OK`` (or ``EXECUTION_ERROR`` when the tool raised), or the DENY that withheld it."""
    result: Any = None
    """The output to hand back: the tool's, or a plugin's redacted replacement; ``None`` when withheld."""
    error: BaseException | None = None
    """When the tool raised: the exception to raise (the tool's, or a plugin's sanitised replacement)."""
    redacted_by: tuple[str, ...] = ()
    """Plugins that replaced the output (or the exception)."""
    event: AuditEvent
    """The ``execution`` audit event."""
    request: ActionRequest
    """The request the output belongs to."""
    would_block: bool = False
    """In observe mode: True when enforce mode would have withheld the output."""

    @property
    def redacted(self) -> bool:
        return bool(self.redacted_by)
