"""The one place that builds audit events, and records them in the trail.

Every event the pipeline writes is made here: a check's ``decision``, ``resolution`` and ``execution``
events, the ``alert`` events plugins raise, ``lifecycle`` and ``error`` events, and the namespaced events
plugins write through :meth:`~agent_security.core.host.Host.record_event`. Recording is fail closed: when
the trail refuses a check's event (a sink that is not ``fail_open`` failed), the check's answer becomes
DENY ``AUDIT_FAILURE``, because an unaudited allow is not allowed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from agent_security.core._speedups import assemble
from agent_security.core.arguments import InvalidArguments, freeze_json
from agent_security.core.context import CheckContext
from agent_security.core.errors import AuditWriteError
from agent_security.core.models import (
    CORE_EVENT_KINDS,
    ActionRequest,
    AuditEvent,
    Decision,
    Outcome,
    Reason,
)
from agent_security.core.pipeline.hooks import PluginFailure
from agent_security.core.pipeline.runtime import Runtime

__all__ = [
    "audit_check",
    "error_event",
    "lifecycle_event",
    "merge_denial",
    "plugin_event",
    "record",
    "record_alerts",
]


def _bounded(data: Any) -> dict[str, Any]:
    """``data`` bounded and copied like tool arguments; what cannot be recorded is replaced by its error
    (a plugin's notes must never cost a decision its audit event)."""
    try:
        frozen = freeze_json(data)
    except InvalidArguments as exc:
        return {"unrecordable": type(exc).__name__}
    return frozen if isinstance(frozen, dict) else {"value": frozen}


def record(rt: Runtime, event: AuditEvent) -> tuple[AuditEvent, Decision | None]:
    """Append ``event`` to the trail: the chained event, and ``None`` or, when the trail refused it, the
    DENY to apply (PLUGIN_ERROR naming the sink that failed, then AUDIT_FAILURE; the event is returned
    unchained)."""
    try:
        return rt.trail.record(event), None
    except Exception as exc:
        return event, _audit_denial(rt, exc)


def _audit_denial(rt: Runtime, exc: BaseException) -> Decision:
    failure = exc if isinstance(exc, PluginFailure) else exc.__cause__
    if isinstance(failure, PluginFailure):
        return Decision.deny(
            "PLUGIN_ERROR",
            f'Plugin "{failure.impl.plugin_name}" failed during audit_event: {type(failure.error).__name__}',
            plugin_source=failure.impl.plugin_name,
        ).with_reason("AUDIT_FAILURE", "The decision could not be written to the audit trail")
    rt.report(exc, "audit")
    return Decision.deny("AUDIT_FAILURE", "The decision could not be written to the audit trail")


def merge_denial(decision: Decision, denial: Decision) -> Decision:
    """``decision`` turned into DENY with ``denial``'s reasons appended."""
    return decision.model_copy(
        update={
            "outcome": Outcome.DENY,
            "reasons": (*decision.reasons, *denial.reasons),
            "plugin_source": denial.plugin_source or decision.plugin_source,
        }
    )


def audit_check(
    rt: Runtime, kind: str, request: ActionRequest, decision: Decision, rhash: str, ctx: CheckContext, phase: str
) -> tuple[AuditEvent, Decision | None]:
    """Build and record one event of a check (``decision``, ``resolution`` or ``execution``).

    A ``decision`` event is stamped with the instant the check was evaluated at (``ctx.now``: what its
    time conditions, rate windows and TTLs saw), so it can be replayed at its own time; later events
    (a resolution after a wait, an execution) read the clock again.
    """
    agent, action, context = request.agent, request.action, request.context
    data: dict[str, Any] = {"phase": phase, "action_type": action.type}
    if context.session_id:
        data["session_id"] = context.session_id
    if context.data_labels:
        data["data_labels"] = list(context.data_labels)
    if decision.approver_role:
        data["approver_role"] = decision.approver_role
    if ctx.annotations:
        data["plugins"] = _bounded(ctx.annotations)
    observe = rt.mode == "observe"
    outcome = decision.outcome
    if kind == "decision" and observe and outcome is not Outcome.ALLOW:
        data["would_block"] = True
    values = {
        "kind": kind,
        "request_id": request.request_id,
        "agent_id": agent.agent_id,
        "tool_name": action.tool_name,
        "environment": agent.environment,
        "outcome": outcome,
        "allowed": outcome is Outcome.ALLOW or observe,
        "reasons": decision.reasons,
        "plugin_source": decision.plugin_source,
        "mode": rt.mode,
        "request_hash": rhash,
        "timestamp": ctx.now if kind == "decision" else rt.clock.now(),
        "data": data,
    }
    return record(rt, _check_event(values))


_CORE_KINDS_OF_A_CHECK = frozenset({"decision", "resolution", "execution"})


def _check_event(values: dict[str, Any]) -> AuditEvent:
    """The one builder of a check's audit event. Its values come from the validated request and decision
    and from the pipeline itself; what a caller could have built unvalidated (a pre-built request, a
    plugin's decision) or read from an injected clock is checked here, and anything unexpected goes through
    the validating constructor."""
    timestamp, reasons, source = values["timestamp"], values["reasons"], values["plugin_source"]
    if (
        values["kind"] in _CORE_KINDS_OF_A_CHECK
        and type(values["request_id"]) is str
        and type(values["agent_id"]) is str
        and type(values["tool_name"]) is str
        and type(values["environment"]) is str
        and type(values["outcome"]) is Outcome
        and type(reasons) is tuple
        and all(type(r) is Reason for r in reasons)
        and (source is None or type(source) is str)
        and type(values["request_hash"]) is str
        and type(timestamp) is datetime
        and timestamp.tzinfo is not None
    ):
        return assemble(AuditEvent, values)
    return AuditEvent(**values)


def record_alerts(
    rt: Runtime,
    request: ActionRequest,
    rhash: str,
    ctx: CheckContext,
    start: int,
    events: list[AuditEvent],
    final: Decision,
) -> Decision:
    """Record ``ctx.alerts[start:]`` as ``alert`` events (appended to ``events``); returns ``final``, or
    the DENY it becomes when the trail refuses one (fail closed, as for the decision's own event)."""
    for alert in ctx.alerts[start:]:
        event, denial = record(
            rt,
            AuditEvent(
                kind="alert",
                request_id=request.request_id,
                agent_id=request.agent_id,
                tool_name=request.tool_name,
                environment=request.environment,
                mode=rt.mode,
                request_hash=rhash,
                timestamp=rt.clock.now(),
                data=_bounded(alert["data"]),
                reasons=(Reason(code=str(alert["code"])[:128], message=str(alert["message"])[:1000]),),
            ),
        )
        events.append(event)
        if denial is not None and final.outcome is not Outcome.DENY:
            final = merge_denial(final, denial)
    return final


def lifecycle_event(rt: Runtime, data: Mapping[str, Any]) -> None:
    """Record a ``lifecycle`` event (startup, policy loaded, plugin replaced, shutdown)."""
    record(rt, AuditEvent(kind="lifecycle", mode=rt.mode, timestamp=rt.clock.now(), data=_bounded(data)))


def error_event(rt: Runtime, code: str, message: str) -> None:
    """Record an ``error`` event (a failed policy reload, ...)."""
    record(
        rt,
        AuditEvent(
            kind="error", mode=rt.mode, timestamp=rt.clock.now(), reasons=(Reason(code=code, message=message[:1000]),)
        ),
    )


def plugin_event(
    rt: Runtime,
    kind: str,
    data: Mapping[str, Any] | None,
    *,
    agent_id: str | None,
    request_id: str | None,
    tool_name: str | None,
    environment: str | None,
    outcome: Outcome | None,
    reasons: Iterable[Reason],
) -> AuditEvent:
    """Record an event a plugin writes (:meth:`~agent_security.core.host.Host.record_event`)."""
    if not isinstance(kind, str) or kind in CORE_EVENT_KINDS or "." not in kind:
        raise ValueError(
            f"record_event: {kind!r} is not a namespaced kind such as 'guardian.incident' "
            "(the core's own kinds are reserved)"
        )
    try:
        frozen = freeze_json(dict(data or {}))
    except InvalidArguments as exc:
        raise ValueError(f"record_event: the event data cannot be recorded: {exc}") from exc
    event = AuditEvent(
        kind=kind,
        data=frozen,
        agent_id=agent_id,
        request_id=request_id,
        tool_name=tool_name,
        environment=environment,
        outcome=outcome,
        reasons=tuple(reasons),
        mode=rt.mode,
        timestamp=rt.clock.now(),
    )
    try:
        return rt.trail.record(event)
    except Exception as exc:
        raise AuditWriteError(f"the audit trail refused the {kind} event: {type(exc).__name__}") from exc
