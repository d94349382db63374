"""One check, end to end: the phases in order, the audit events, and the result.

::

    build request ─► identify ─► before_check ─► evaluate ─► after_decision ─► audit "decision"
       ─► resolve (approval-like outcomes, enforce mode) ─► audit "resolution"
       ─► record alerts ─► notify ─► CheckResult

A guard's DENY (identify, before_check) skips evaluate and after_decision. Every event is written before
the check returns; a write the trail refuses turns the answer into DENY ``AUDIT_FAILURE``.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from agent_security.core._speedups import assemble
from agent_security.core.models import APPROVAL_LIKE, ActionRequest, AuditEvent, CheckResult, Decision, Outcome
from agent_security.core.pipeline import events, phases
from agent_security.core.pipeline.request import request_or_denial
from agent_security.core.pipeline.resolve import resolve
from agent_security.core.pipeline.runtime import Runtime
from agent_security.core.resolution import request_hash

__all__ = ["run_check"]


def _unchanged(request: ActionRequest, rhash: str) -> bool:
    try:
        return request_hash(request) == rhash
    except (TypeError, ValueError):  # mutated into something that cannot even be hashed
        return False


def _request(
    rt: Runtime, params: Mapping[str, Any] | None, request: ActionRequest | None
) -> tuple[ActionRequest, str, Decision | None]:
    """The request to decide, its hash, and the DENY it already deserves (``INVALID_REQUEST``), if any."""
    denial: Decision | None = None
    if request is None:
        assert params is not None
        request, denial = request_or_denial(rt.defaults, rt.clock.now(), params)
    try:
        rhash = request_hash(request)
    except (TypeError, ValueError, RecursionError):  # a pre-built request (check_request) is not bounded
        rhash = ""
        denial = denial or Decision.deny("INVALID_REQUEST", "the request's arguments cannot be hashed")
    return request, rhash, denial


def run_check(
    rt: Runtime, params: Mapping[str, Any] | None, request: ActionRequest | None = None
) -> Generator[Any, Any, CheckResult]:
    """The pipeline of one check, for a driver of :mod:`.drive`: from the caller's fields (``params``)
    or a built ``request``."""
    rt.ensure_ready()
    built, rhash, denial = _request(rt, params, request)
    state = phases.CheckState(
        built, rhash, rt.new_context(rhash, built.timestamp if request is None else None), decision=denial
    )
    if params is not None and denial is None:
        _note_spelling(state, params.get("agent_id"))
    if denial is None:
        yield from phases.guards(rt, state)
    if state.decision is None:
        yield from phases.evaluate(rt, state)
        yield from phases.after_decision(rt, state)
    decision = state.decision
    assert decision is not None
    request, rhash, ctx = state.request, state.rhash, state.ctx

    primary, audit_denial = events.audit_check(rt, "decision", request, decision, rhash, ctx, state.phase)
    recorded: list[AuditEvent] = [primary]
    final = decision
    if audit_denial is not None:
        final = events.merge_denial(decision, audit_denial)
    elif decision.outcome in APPROVAL_LIKE and rt.mode == "enforce":
        final = yield from resolve(rt, request, decision, rhash, ctx)
        if final.outcome is Outcome.ALLOW and not _unchanged(request, rhash):
            # Something holding the request (a callback, a UI) changed it in place during the wait.
            final = final.with_reason(
                "APPROVAL_MISMATCH", "The request changed while it was being approved", outcome=Outcome.DENY
            )
        event, audit_denial = events.audit_check(rt, "resolution", request, final, rhash, ctx, "resolve")
        recorded.append(event)
        if audit_denial is not None:
            final = events.merge_denial(final, audit_denial)
    # Alerts raised so far (DLP ``alert`` actions...) are recorded before notify, so that an alert the trail
    # refuses withdraws an allow like any refused write, and notify sees the final answer.
    final = _alerts(rt, state, 0, recorded, final, "alert")
    alerts_recorded = len(ctx.alerts)
    notified = yield from phases.notify(rt, state, final)
    if notified is not final:
        final = notified
        recorded.append(events.audit_check(rt, "resolution", request, final, rhash, ctx, "notify")[0])
    final = _alerts(rt, state, alerts_recorded, recorded, final, "notify")  # raised by notify hooks

    blocked = final.outcome is not Outcome.ALLOW  # (observe mode: approval-like outcomes stay unresolved)
    observe = rt.mode == "observe"
    return _result(
        {
            "allowed": not blocked or observe,
            "decision": decision,
            "final_decision": final,
            "event": primary,
            "events": tuple(recorded),
            "request": request,
            "request_hash": rhash,
            "tool_args": dict(request.action.tool_args),
            "would_block": blocked and observe,
        }
    )


def _note_spelling(state: phases.CheckState, claimed: Any) -> None:
    """Audit the spelling the caller used for the agent id when it is not the canonical one (``Agent-7``,
    ``agent-7\u200b``): the check, its kill and its limits are the canonical agent's."""
    if type(claimed) is str and claimed != state.request.agent.agent_id:
        state.ctx.annotate("identity", {"claimed_agent_id": claimed[:256]})


def _result(values: dict[str, Any]) -> CheckResult:
    """The one builder of a check's result. Its values are the pipeline's own records; what a plugin or
    a caller could have built unvalidated is checked, and anything unexpected is validated."""
    if (
        type(values["decision"]) is Decision
        and type(values["final_decision"]) is Decision
        and type(values["request"]) is ActionRequest
        and type(values["event"]) is AuditEvent
        and all(type(e) is AuditEvent for e in values["events"])
        and all(type(k) is str for k in values["tool_args"])
        and type(values["request_hash"]) is str
    ):
        return assemble(CheckResult, values)
    return CheckResult(**values)


def _alerts(
    rt: Runtime, state: phases.CheckState, start: int, recorded: list[AuditEvent], final: Decision, phase: str
) -> Decision:
    """Record the alerts raised since ``start``; when the trail refuses one, the DENY it causes is audited
    as a ``resolution`` event of ``phase``."""
    if len(state.ctx.alerts) <= start:
        return final
    after = events.record_alerts(rt, state.request, state.rhash, state.ctx, start, recorded, final)
    if after is not final:
        recorded.append(events.audit_check(rt, "resolution", state.request, after, state.rhash, state.ctx, phase)[0])
    return after
