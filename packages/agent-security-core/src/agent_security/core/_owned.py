"""The plugins an :class:`~agent_security.core.sdk.AgentSecurity` registers for itself: the policy
evaluator, the application's callbacks and the ``on_audit_event`` forwarder.

They live apart from the pipeline, which never defines hook implementations itself. This module is
compiled in the optional compiled core (``hatch_build.py``): the core's plugin manager registers compiled
hook implementations (see :func:`~agent_security.core.plugins.make_plugin_manager`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agent_security.core._drive import _Blocking, _run_coroutine_sync
from agent_security.core.context import CheckContext
from agent_security.core.hookspecs import hookimpl
from agent_security.core.models import ActionRequest, AuditEvent, Decision, Outcome
from agent_security.core.resolution import GATES

if TYPE_CHECKING:
    from agent_security.core.sdk import AgentSecurity

__all__ = ["_AuditCallbackSink", "_CallbacksPlugin", "_PolicyPlugin"]
_ALLOW = Outcome.ALLOW  # read once (an Enum class attribute is slow to read on Python 3.11)


class _PolicyPlugin:
    """Evaluates the active policy bundle (phase ``evaluate``)."""

    name = "policy"
    fail_open = False
    priority = 0

    def __init__(self, security: AgentSecurity) -> None:
        self._security = security

    @hookimpl
    def agent_security_evaluate(self, request: ActionRequest, ctx: CheckContext) -> Decision:
        decision: Decision = self._security._engine.evaluate(request, now=ctx.now)
        return decision


class _CallbacksPlugin:
    """The application's callbacks: resolves approval-like outcomes last, and notifies allow/deny."""

    name = "callbacks"
    fail_open = False
    priority = 1_000_000  # resolve: answers after every other resolver

    def __init__(self, security: AgentSecurity) -> None:
        self._security = security

    @hookimpl
    def agent_security_resolve(self, request: ActionRequest, decision: Decision, ctx: CheckContext) -> Any:
        attr = GATES[decision.outcome][0]
        callback = getattr(self._security, "_" + attr)
        if callback is None:
            return None
        return _Blocking(callback, (request, decision), None)

    @hookimpl
    def agent_security_notify(self, request: ActionRequest, decision: Decision, ctx: CheckContext) -> Any:
        cb = self._security._on_allow if decision.outcome is _ALLOW else self._security._on_deny
        if cb is None:
            return None
        return cb(request, decision)


class _AuditCallbackSink:
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
            _run_coroutine_sync(result, 10.0)
