"""How an approval-like outcome gets resolved (the ``agent_security_resolve`` phase)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from agent_security.core._ids import random_id
from agent_security.core.models import Outcome

__all__ = ["GATES", "Approval", "Resolution"]


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


GATES: dict[Outcome, tuple[str, str, str, str, str, str, str]] = {
    Outcome.REQUIRE_APPROVAL: ("on_approval_required", "APPROVED", "Request approved via callback",
                               "REJECTED", "Request rejected via callback", "APPROVAL_TIMEOUT",
                               "Approval timed out"),
    Outcome.STEP_UP: ("on_step_up_required", "STEP_UP_PASSED", "Step-up verification passed",
                      "STEP_UP_FAILED", "Step-up verification failed", "STEP_UP_ERROR",
                      "Step-up verification timed out"),
    Outcome.REQUIRE_TICKET: ("on_ticket_required", "TICKET_VALIDATED", "Ticket validated",
                             "TICKET_MISSING", "No valid ticket provided", "TICKET_ERROR",
                             "Ticket validation timed out"),
    Outcome.REQUIRE_HUMAN: ("on_human_required", "HUMAN_APPROVED", "Human reviewer approved",
                            "HUMAN_REJECTED", "Human reviewer rejected", "HUMAN_REVIEW_ERROR",
                            "Human review timed out"),
}
"""Per approval-like outcome: the ``AgentSecurity`` callback option that answers it, then the reason
codes and messages of approved, rejected and failed/timed-out resolutions (the original's codes, so
dashboards keep working)."""
