"""How an approval-like outcome gets resolved (the ``agent_security_resolve`` phase), and what an
approval is bound to (:func:`request_hash`)."""

from __future__ import annotations

from hashlib import sha256
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from agent_security.core._ids import random_id
from agent_security.core._speedups import canonical_json_bytes
from agent_security.core.models import ActionRequest, Outcome

__all__ = ["GATES", "Approval", "Gate", "Resolution", "hashed_fields", "hashes_alike", "request_hash"]


def request_hash(request: ActionRequest) -> str:
    """SHA-256 over what an approval covers: who, where, which tool, with which arguments and input.

    Two requests with the same hash are the same call; an approval bound to one hash cannot be used for
    a call whose arguments, tool, agent, environment, session or user input differ. The hashed bytes are
    the canonical JSON (sorted keys, no whitespace, UTF-8) of ``{"action_type", "agent_id",
    "environment", "session_id", "tool_args", "tool_name", "user_input"}``. Raises ``TypeError`` or
    ``ValueError`` for arguments that are not JSON (a pre-built request that was never bounded).
    """
    return sha256(canonical_json_bytes(hashed_fields(request), "tool_args")).hexdigest()


def hashed_fields(request: ActionRequest) -> dict[str, Any]:
    """What :func:`request_hash` hashes, keys in canonical order: two requests with equal fields here
    have the same hash."""
    agent, action, context = request.agent, request.action, request.context
    return {
        "action_type": action.type,
        "agent_id": agent.agent_id,
        "environment": agent.environment,
        "session_id": context.session_id,
        "tool_args": action.tool_args,
        "tool_name": action.tool_name,
        "user_input": context.user_input,
    }


def hashes_alike(old: ActionRequest, new: ActionRequest) -> bool:
    """Whether ``new`` has the :func:`hashed_fields` of ``old`` (so the same hash). A request that kept
    ``old``'s action and context (frozen: the same objects) can differ only by its agent's fields."""
    if new.action is old.action and new.context is old.context:
        return new.agent.agent_id == old.agent.agent_id and new.agent.environment == old.agent.environment
    return hashed_fields(old) == hashed_fields(new)


class Resolution(BaseModel):
    """The answer to REQUIRE_APPROVAL, STEP_UP, REQUIRE_TICKET or REQUIRE_HUMAN.

    ``request_hash``, when given, must equal the hash of the request being resolved: an approval
    granted for one request cannot be replayed for another. ``request_id``, when given, must equal the
    request's id. Every resolution is **single-use**: its ``nonce`` is claimed in the state store
    (:meth:`Store.claim`, kept until it expires) when it approves a call, so handing the same
    ``Resolution`` back for a later identical call is refused (``APPROVAL_REPLAYED``); an approval service
    returns a new one per request. When the store cannot record the claim, the approval is refused
    (``APPROVAL_UNVERIFIABLE``). A plain answer (``True``, a ticket id) is turned into a ``Resolution``
    with a fresh nonce that nobody else holds, so it claims nothing. ``ticket_id`` carries
    the ticket for REQUIRE_TICKET (an empty or missing ticket is never a valid one).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    approved: bool
    message: str = ""
    request_hash: str | None = None
    ticket_id: str | None = None
    resolver: str | None = None
    """Who resolved it (an approver id, a plugin name); recorded in the audit trail."""
    request_id: str | None = None
    nonce: str = Field(default_factory=random_id, min_length=8, max_length=128)
    """Single-use identifier, generated when the resolution is created."""


Approval = Resolution
"""Alias for application code that returns an explicit approval from ``on_approval_required``."""


class Gate(NamedTuple):
    """How one approval-like outcome is answered and reported."""

    callback: str
    """The ``AgentSecurity`` option whose callback answers it (``on_approval_required``, ...)."""
    approved_code: str
    approved_message: str
    rejected_code: str
    rejected_message: str
    error_code: str
    """For a failed or timed-out wait."""
    timeout_message: str


GATES: dict[Outcome, Gate] = {
    Outcome.REQUIRE_APPROVAL: Gate(
        "on_approval_required",
        "APPROVED",
        "Request approved via callback",
        "REJECTED",
        "Request rejected via callback",
        "APPROVAL_TIMEOUT",
        "Approval timed out",
    ),
    Outcome.STEP_UP: Gate(
        "on_step_up_required",
        "STEP_UP_PASSED",
        "Step-up verification passed",
        "STEP_UP_FAILED",
        "Step-up verification failed",
        "STEP_UP_ERROR",
        "Step-up verification timed out",
    ),
    Outcome.REQUIRE_TICKET: Gate(
        "on_ticket_required",
        "TICKET_VALIDATED",
        "Ticket validated",
        "TICKET_MISSING",
        "No valid ticket provided",
        "TICKET_ERROR",
        "Ticket validation timed out",
    ),
    Outcome.REQUIRE_HUMAN: Gate(
        "on_human_required",
        "HUMAN_APPROVED",
        "Human reviewer approved",
        "HUMAN_REJECTED",
        "Human reviewer rejected",
        "HUMAN_REVIEW_ERROR",
        "Human review timed out",
    ),
}
"""Per approval-like outcome, its :class:`Gate` (the original's reason codes, so dashboards keep working)."""
