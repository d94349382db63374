"""CrewAI's before/after tool-call hooks, failing closed.

CrewAI swallows any exception a hook raises other than ``HookAborted`` and runs the tool. So every way
this guard can fail (a denial, a kill, a plugin error, a store that is down, a bug here) ends in
``HookAborted``. A blocked call reaches the model as CrewAI's generic "Tool execution blocked by hook";
the after hook, which CrewAI also runs for blocked calls, replaces it with our reason. The after hook runs
every allowed output through ``check_result`` (redacted or withheld) and itself never raises (an error
there withholds the output).

The before and after hooks of one call share the ``tool_input`` dict CrewAI hands both: that identity,
kept in a context variable, ties the after hook to its check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from crewai.hooks import (
    HookAborted,
    ToolCallHookContext,
    register_after_tool_call_hook,
    register_before_tool_call_hook,
    unregister_after_tool_call_hook,
    unregister_before_tool_call_hook,
)

from agent_security.adapters import framework
from agent_security.adapters.crewai.fields import Field, call_fields, value_of
from agent_security.core import AgentSecurity, CheckResult

__all__ = ["SOURCE", "CrewAIGuard", "install"]

SOURCE = "agent-security"


@dataclass(frozen=True)
class _Record:
    tool_input: Any
    check: CheckResult | None
    reason: str | None


_LAST: ContextVar[_Record | None] = ContextVar("agent_security_crewai_last", default=None)


def _is_secured(ctx: ToolCallHookContext) -> bool:
    """A tool already wrapped by :func:`~agent_security.adapters.crewai.secure_tool` checks itself."""
    tool = getattr(ctx, "tool", None)
    original = getattr(tool, "_original_tool", None)
    return bool(getattr(tool, "agent_security_guarded", False) or getattr(original, "agent_security_guarded", False))


class CrewAIGuard:
    """Check every CrewAI tool call with ``security`` through CrewAI's global tool hooks.

    ``agent_id``, ``session_id``, ``environment``: a string, a function of the ``ToolCallHookContext``, or
    ``None`` (agent ``"crewai-agent"``, session the crew's id, the instance's default environment). The
    agent's role becomes ``agent_name`` and the task's description ``user_input``. ``install()`` registers
    the hooks (also as a context manager); ``uninstall()`` removes them."""

    def __init__(
        self,
        security: AgentSecurity,
        *,
        agent_id: Field = None,
        session_id: Field = None,
        environment: Field = None,
        fields: Mapping[str, Any] | None = None,
        check_results: bool = True,
        kill_codes: Iterable[str] = framework.KILL_CODES,
    ) -> None:
        self.security = security
        self._agent_id, self._session_id, self._environment = agent_id, session_id, environment
        self._fields = dict(fields or {})
        self.check_results = check_results
        self.kill_codes = frozenset(kill_codes)
        self.installed = False

    def fields(self, ctx: ToolCallHookContext) -> dict[str, Any]:
        return call_fields(
            str(ctx.tool_name),
            ctx.tool_input,
            agent=ctx.agent,
            task=ctx.task,
            crew=ctx.crew,
            agent_id=value_of(self._agent_id, ctx),
            session_id=value_of(self._session_id, ctx),
            environment=value_of(self._environment, ctx),
            extra=self._fields,
        )

    # -- hooks -------------------------------------------------------------------------------------
    def before(self, ctx: ToolCallHookContext) -> None:
        """CrewAI ``pre_tool_call`` hook: returns on ALLOW, raises ``HookAborted`` otherwise."""
        try:
            if _is_secured(ctx):
                return
            outcome = framework.check_or_deny(self.security, self.fields(ctx))
            if framework.allowed(outcome):
                assert isinstance(outcome, CheckResult)
                _LAST.set(_Record(ctx.tool_input, outcome, None))
                return
            decision = framework.final(outcome)
            if framework.is_kill(decision, self.kill_codes):
                reason = framework.reason_text(decision, prefix="Agent halted by agent-security")
            else:
                reason = framework.reason_text(decision)
        except Exception as exc:  # anything else would be swallowed by CrewAI, and the tool would run
            reason = framework.reason_text(framework.error_decision(exc, "crewai before hook"))
        _LAST.set(_Record(getattr(ctx, "tool_input", None), None, reason))
        raise HookAborted(reason=reason, source=SOURCE)

    def after(self, ctx: ToolCallHookContext) -> str | None:
        """CrewAI ``post_tool_call`` hook: our reason for a call we blocked; the checked output otherwise
        (``None`` keeps it). Never raises: an error withholds the output."""
        try:
            if _is_secured(ctx):
                return None
            record = _LAST.get()
            mine = record is not None and record.tool_input is ctx.tool_input
            if mine:
                _LAST.set(None)
            if mine and record is not None and record.reason is not None:
                return record.reason
            if not self.check_results:
                return None
            output = ctx.tool_result
            if mine and record is not None and record.check is not None:
                rc = self.security.check_result(output, check=record.check)
            else:  # decided elsewhere (another hook blocked it, or our before hook did not see it)
                rc = self.security.check_result(output, **self.fields(ctx))
            if not rc.allowed:
                return framework.reason_text(rc.decision, prefix="Tool output withheld by agent-security")
            if rc.redacted:
                return str(rc.result)
            return None
        except Exception as exc:
            return framework.reason_text(
                framework.error_decision(exc, "crewai after hook"), prefix="Tool output withheld by agent-security"
            )

    # -- registration ------------------------------------------------------------------------------
    def install(self) -> CrewAIGuard:
        if not self.installed:
            register_before_tool_call_hook(self.before)
            register_after_tool_call_hook(self.after)
            self.installed = True
        return self

    def uninstall(self) -> None:
        if self.installed:
            unregister_before_tool_call_hook(self.before)
            unregister_after_tool_call_hook(self.after)
            self.installed = False

    def __enter__(self) -> CrewAIGuard:
        return self.install()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.uninstall()


def install(security: AgentSecurity, **options: Any) -> CrewAIGuard:
    """Create a :class:`CrewAIGuard` and register its hooks globally."""
    return CrewAIGuard(security, **options).install()
