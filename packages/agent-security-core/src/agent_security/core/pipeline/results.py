"""Phase 5, after_execution: what a tool returned (or raised) is checked before the agent sees it.

Any host runs it: ``protect`` after calling the tool, an adapter with ``check_result`` (an MCP proxy, a
framework's tool wrapper, a PostToolUse hook in another process than the check). Plugins may redact the
output (``ExecutionResult(replace=True, result=...)``), replace an exception with a sanitised one, or
withhold the output (``ExecutionResult(block=...)``). A failing plugin that is not ``fail_open``
withholds it. Every result check writes one ``execution`` audit event; one the trail refuses withholds
the output too.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from agent_security.core.errors import PluginContractError
from agent_security.core.models import ActionRequest, Decision, ExecutionResult, Outcome, ResultCheck
from agent_security.core.pipeline import events
from agent_security.core.pipeline.hooks import PluginFailure
from agent_security.core.pipeline.phases import attributed, plugin_error, wait_for
from agent_security.core.pipeline.request import request_or_denial
from agent_security.core.pipeline.runtime import Runtime
from agent_security.core.resolution import request_hash

__all__ = ["DECIDED_ELSEWHERE", "run_result_check"]

DECIDED_ELSEWHERE = Decision.allow("DECIDED_ELSEWHERE", "The call was decided before this result check")
"""The decision plugins see when ``check_result`` is given the request's fields instead of its check."""


def result_request(rt: Runtime, fields: Mapping[str, Any]) -> tuple[ActionRequest, Decision | None]:
    """The request a result belongs to, built from the caller's fields; a DENY when they are invalid."""
    return request_or_denial(rt.defaults, rt.clock.now(), fields)


def run_result_check(
    rt: Runtime,
    request: ActionRequest,
    decision: Decision,
    rhash: str | None,
    result: Any,
    error: BaseException | None,
    denial: Decision | None = None,
) -> Generator[Any, Any, ResultCheck]:
    """Check ``result`` (or ``error``, what the tool raised) of the call ``request`` decided as
    ``decision``; ``denial`` withholds it from the start (an invalid request)."""
    if rhash is None:
        try:
            rhash = request_hash(request)
        except (TypeError, ValueError, RecursionError):
            rhash, denial = "", denial or Decision.deny("INVALID_REQUEST", "the request cannot be hashed")
    ctx = rt.new_context(rhash)
    ctx.phase = "after_execution"
    blocked: Decision | None = denial
    redacted_by: list[str] = []
    raised = error
    for impl in rt.relay.plan.after_execution if blocked is None else ():
        try:
            res = yield from wait_for(
                rt, impl, "after_execution", rt.relay.after_execution(impl, request, decision, result, error, ctx)
            )
            if res is not None and not isinstance(res, ExecutionResult):
                raise PluginFailure(
                    impl,
                    "after_execution",
                    PluginContractError("agent_security_after_execution must return ExecutionResult or None"),
                )
            if res is not None and res.replace and raised is not None and not isinstance(res.result, BaseException):
                raise PluginFailure(
                    impl,
                    "after_execution",
                    PluginContractError("a replacement for the exception a tool raised must be an exception"),
                )
        except PluginFailure as failure:
            blocked = plugin_error(rt, failure, ctx)
            if blocked is not None:
                break
            continue
        if res is None:
            continue
        if res.block is not None:
            blocked = attributed(res.block, impl, ctx)
            if blocked.outcome is Outcome.ALLOW:
                blocked = None
                continue
            break
        if res.replace:
            if raised is not None:
                raised = res.result
            else:
                result = res.result
            redacted_by.append(impl.plugin_name)
    if redacted_by:
        ctx.annotate("execution", {"redacted_by": redacted_by})
    if error is not None:
        ctx.annotate("execution", {"error": type(error).__name__})
        if raised is not error:
            ctx.annotate("execution", {"raised": type(raised).__name__})
        passed = Decision.allow("EXECUTION_ERROR", "The tool raised; the exception passed output checks")
    else:
        passed = Decision.allow("EXECUTION_OK", "Tool result passed output checks")
    final = blocked or passed
    event, audit_denial = events.audit_check(rt, "execution", request, final, rhash, ctx, "after_execution")
    if audit_denial is not None:
        final = events.merge_denial(final, audit_denial)
    withheld = final.outcome is not Outcome.ALLOW
    observe = rt.mode == "observe"
    hold = withheld and not observe
    return ResultCheck(
        allowed=not hold,
        decision=final,
        result=None if hold else result,
        error=None if hold else raised,
        redacted_by=tuple(redacted_by),
        event=event,
        request=request,
        would_block=withheld and observe,
    )
