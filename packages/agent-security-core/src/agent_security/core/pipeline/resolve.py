"""Phase 4, resolve: an approval-like outcome (REQUIRE_APPROVAL, STEP_UP, REQUIRE_TICKET, REQUIRE_HUMAN)
becomes ALLOW or DENY.

The ``agent_security_resolve`` plugins are asked in order until one answers; the application's callbacks
answer last. The whole wait is bounded by ``approval_timeout_s``. Only an explicit ``True``/``False`` or a
:class:`~agent_security.core.resolution.Resolution` (for REQUIRE_TICKET: a ticket id) is an answer; an
answer bound to another request, or one already used, is refused. Every way of failing is a DENY with its
own reason code.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from agent_security.core.context import CheckContext
from agent_security.core.models import ActionRequest, Decision, Outcome
from agent_security.core.pipeline.drive import Cancelled, Saturated
from agent_security.core.pipeline.hooks import PluginFailure
from agent_security.core.pipeline.phases import wait_for
from agent_security.core.pipeline.runtime import Runtime
from agent_security.core.resolution import GATES, Resolution

__all__ = ["INVALID_ANSWER", "NONCE_TTL_S", "as_resolution", "resolve"]

NONCE_TTL_S = 7 * 86_400.0
"""How long a consumed approval nonce is remembered (a replay after that is beyond any approval's life)."""
INVALID_ANSWER = "APPROVAL_INVALID_ANSWER"
"""Reason code for an answer that is neither a bool, a Resolution nor (for a ticket) a ticket id."""


def as_resolution(outcome: Outcome, answer: Any) -> Resolution | None:
    """``answer`` as a :class:`Resolution`; ``None`` when it is not a valid answer to ``outcome``."""
    if isinstance(answer, Resolution):
        return answer
    if outcome is Outcome.REQUIRE_TICKET:
        if isinstance(answer, str):
            return Resolution(approved=bool(answer.strip()), ticket_id=answer.strip() or None)
        if answer is False:
            return Resolution(approved=False)
        return None  # True or anything else is not a ticket
    if isinstance(answer, bool):
        return Resolution(approved=answer)
    return None  # only an explicit bool or Resolution approves; truthy junk does not


def _denied(decision: Decision, code: str, message: str) -> Decision:
    return decision.with_reason(code, message, outcome=Outcome.DENY)


def _failed(decision: Decision, failure: PluginFailure, error_code: str, timeout_message: str) -> Decision:
    error, outcome = failure.error, decision.outcome.value
    if isinstance(error, TimeoutError):
        return _denied(decision, error_code, timeout_message)
    if isinstance(error, Saturated):
        return _denied(decision, "APPROVAL_UNAVAILABLE", f"{error}: no answer can be waited for now ({outcome})")
    if isinstance(error, Cancelled):
        return _denied(decision, "CHECK_CANCELLED", f"The check was cancelled while waiting for {outcome}")
    return _denied(
        decision, "PLUGIN_ERROR", f'Plugin "{failure.impl.plugin_name}" failed during resolve: {type(error).__name__}'
    )


def resolve(
    rt: Runtime, request: ActionRequest, decision: Decision, rhash: str, ctx: CheckContext
) -> Generator[Any, Any, Decision]:
    """The resolved decision: ``decision`` with the answer's reason appended, ALLOW or DENY."""
    ctx.phase = "resolve"
    gate = GATES[decision.outcome]
    deadline = rt.clock.monotonic() + rt.approval_timeout_s
    answer: Any = None
    answered_by: str | None = None
    for impl in rt.relay.plan.resolve:
        remaining = deadline - rt.clock.monotonic()
        if remaining <= 0:
            return _denied(decision, gate.error_code, gate.timeout_message)
        try:
            answer = yield from wait_for(rt, impl, "resolve", rt.relay.resolve(impl, request, decision, ctx), remaining)
        except PluginFailure as failure:
            rt.report(failure.error, f"plugin:{failure.impl.plugin_name}:resolve")
            return _failed(decision, failure, gate.error_code, gate.timeout_message)
        if answer is not None:
            answered_by = impl.plugin_name
            break
    if answered_by is None:
        return _denied(decision, "NO_RESOLVER", f"No handler is configured for {decision.outcome.value}")
    res = as_resolution(decision.outcome, answer)
    if res is None:
        return _denied(
            decision,
            INVALID_ANSWER,
            f"{answered_by} answered with a {type(answer).__name__}, which "
            "is not an answer (expected a bool or a Resolution; a ticket id for REQUIRE_TICKET)",
        )
    if (res.request_hash is not None and res.request_hash != rhash) or (
        res.request_id is not None and res.request_id != request.request_id
    ):
        return _denied(decision, "APPROVAL_MISMATCH", "The approval was granted for a different request")
    if decision.outcome is Outcome.REQUIRE_TICKET and res.approved and not (res.ticket_id or "").strip():
        res = res.model_copy(update={"approved": False})
    if res.approved and res is answer:
        # The same resolution approving a second call (a cached token, a replay): single use only. A plain
        # answer (True, a ticket id) became a Resolution just now, with a nonce nobody else has seen.
        try:
            first_use = rt.store.claim(f"approval:nonce:{res.nonce}", ttl_s=NONCE_TTL_S)
        except Exception as exc:  # full of live claims, or unreachable: the single use is not assured
            rt.report(exc, "store:claim")
            return _denied(
                decision,
                "APPROVAL_UNVERIFIABLE",
                f"The approval's single use could not be recorded ({type(exc).__name__})",
            )
        if not first_use:
            return _denied(decision, "APPROVAL_REPLAYED", "This approval has already been used")
    if res.approved:
        message = gate.approved_message
        if decision.outcome is Outcome.REQUIRE_TICKET:
            message = f"Ticket {str(res.ticket_id)[:128]} validated"
        ctx.annotate("resolution", {"by": res.resolver or answered_by, "ticket_id": res.ticket_id})
        return decision.with_reason(gate.approved_code, res.message or message, outcome=Outcome.ALLOW)
    ctx.annotate("resolution", {"by": res.resolver or answered_by})
    return _denied(decision, gate.rejected_code, res.message or gate.rejected_message)
