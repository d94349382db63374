"""How an approval-like outcome gets resolved (the ``agent_security_resolve`` phase)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from agent_security.core.models import new_id

__all__ = ["Approval", "Resolution"]


class Resolution(BaseModel):
    """The answer to REQUIRE_APPROVAL, STEP_UP, REQUIRE_TICKET or REQUIRE_HUMAN.

    ``request_hash``, when given, must equal the hash of the request being resolved: an approval
    granted for one request cannot be replayed for another. ``request_id``, when given, must equal the
    request's id. Every resolution is **single-use**: its ``nonce`` is consumed in the state store when it
    approves a call, so handing the same ``Resolution`` back for a later identical call is refused
    (``APPROVAL_REPLAYED``); an approval service returns a new one per request. ``ticket_id`` carries
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
    nonce: str = Field(default_factory=new_id, min_length=8, max_length=128)
    """Single-use identifier, generated when the resolution is created."""


Approval = Resolution
"""Alias for application code that returns an explicit approval from ``on_approval_required``."""
