"""The plugins every ``AgentSecurity`` registers for itself: the policy evaluator, the application's
callbacks and the ``on_audit_event`` forwarder. The pipeline itself defines no hook implementation: what
it does through plugins, it does through these, in the calling order every plugin follows."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from agent_security.core.context import CheckContext
from agent_security.core.hookspecs import hookimpl
from agent_security.core.models import ActionRequest, AuditEvent, Decision, Outcome
from agent_security.core.pipeline.drive import Blocking, run_coroutine_sync
from agent_security.core.pipeline.policy_source import PolicySource
from agent_security.core.pipeline.runtime import Callbacks
from agent_security.core.resolution import GATES

__all__ = ["AuditCallbackSink", "CallbacksPlugin", "PolicyPlugin"]


class PolicyPlugin:
    """Evaluates the active policy (phase ``evaluate``)."""

    name = "policy"
    fail_open = False
    priority = 0

    def __init__(self, policy: PolicySource) -> None:
        self._policy = policy

    @hookimpl
    def agent_security_evaluate(self, request: ActionRequest, ctx: CheckContext) -> Decision:
        decision: Decision = self._policy.engine.evaluate(request, now=ctx.now)
        return decision


class CallbacksPlugin:
    """The application's callbacks: resolves approval-like outcomes last, and notifies allow/deny."""

    name = "callbacks"
    fail_open = False
    priority = 1_000_000  # resolve: answers after every other resolver

    def __init__(self, callbacks: Callbacks) -> None:
        self._callbacks = callbacks

    @hookimpl
    def agent_security_resolve(self, request: ActionRequest, decision: Decision, ctx: CheckContext) -> Any:
        callback = getattr(self._callbacks, GATES[decision.outcome].callback)
        if callback is None:
            return None
        return Blocking(callback, (request, decision), None)

    @hookimpl
    def agent_security_notify(self, request: ActionRequest, decision: Decision, ctx: CheckContext) -> Any:
        callbacks = self._callbacks
        callback = callbacks.on_allow if decision.outcome is Outcome.ALLOW else callbacks.on_deny
        if callback is None:
            return None
        return callback(request, decision)


class AuditCallbackSink:
    """Forwards every audit event to ``on_audit_event``. A notification, not a durable sink: its errors
    are reported to ``on_error`` and never change a decision."""

    name = "on_audit_event"
    fail_open = True

    def __init__(self, callback: Callable[[AuditEvent], Any]) -> None:
        self._callback = callback

    @hookimpl
    def agent_security_audit_event(self, event: AuditEvent) -> None:
        result = self._callback(event)
        if inspect.isawaitable(result):
            run_coroutine_sync(result, 10.0)
