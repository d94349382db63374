"""``secure_tool``: a CrewAI tool guarded by the pipeline itself, for the paths where CrewAI's hooks do
not fire (its LangGraph and OpenAI-agents adapters, flows calling tools directly).

The guarded tool keeps the inner tool's name, description and argument schema. A denial returns the
reason as the tool's output (the model reads it; the inner tool does not run); a kill raises
:class:`~agent_security.adapters.framework.AgentHalted`; the output goes through ``check_result``. The
guarded tool is marked, so :class:`~agent_security.adapters.crewai.CrewAIGuard`'s hooks leave it to check
itself (one check per call).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from crewai.tools import BaseTool
from pydantic import PrivateAttr

from agent_security.adapters import framework
from agent_security.adapters.crewai.fields import call_fields
from agent_security.core import AgentSecurity, CheckResult, Decision

__all__ = ["GuardedTool", "secure_tool"]


class GuardedTool(BaseTool):  # type: ignore[misc]  # crewai is untyped for mypy here
    """A CrewAI ``BaseTool`` that checks each call before running ``inner``."""

    agent_security_guarded: bool = True
    inner: BaseTool
    _security: Any = PrivateAttr(default=None)
    _options: dict[str, Any] = PrivateAttr(default_factory=dict)
    _kill_codes: frozenset[str] = PrivateAttr(default=framework.KILL_CODES)

    def _fields(self, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        return call_fields(self.name, kwargs, **self._options)

    def _gate(self, outcome: CheckResult | Decision) -> str | None:
        if framework.allowed(outcome):
            return None
        decision = framework.final(outcome)
        if framework.is_kill(decision, self._kill_codes):
            check = outcome if isinstance(outcome, CheckResult) else None
            raise framework.AgentHalted(framework.reason_text(decision, prefix="Agent halted"), decision, check)
        return framework.reason_text(decision)

    def _output(self, check: CheckResult, result: Any) -> Any:
        try:
            rc = self._security.check_result(result, check=check)
        except Exception as exc:
            return framework.reason_text(
                framework.error_decision(exc, "check_result"), prefix="Tool output withheld by agent-security"
            )
        if not rc.allowed:
            return framework.reason_text(rc.decision, prefix="Tool output withheld by agent-security")
        return rc.result

    def _run(self, *args: Any, **kwargs: Any) -> Any:
        if args:  # CrewAI passes keyword arguments; a positional one is not ours to guess
            kwargs = {**kwargs, "input": args[0] if len(args) == 1 else list(args)}
        outcome = framework.check_or_deny(self._security, self._fields(kwargs))
        denial = self._gate(outcome)
        if denial is not None:
            return denial
        assert isinstance(outcome, CheckResult)
        return self._output(outcome, self.inner.run(**kwargs))

    async def _arun(self, *args: Any, **kwargs: Any) -> Any:
        if args:
            kwargs = {**kwargs, "input": args[0] if len(args) == 1 else list(args)}
        outcome = await framework.acheck_or_deny(self._security, self._fields(kwargs))
        denial = self._gate(outcome)
        if denial is not None:
            return denial
        assert isinstance(outcome, CheckResult)
        return self._output(outcome, await self.inner.arun(**kwargs))


def secure_tool(
    tool: BaseTool,
    security: AgentSecurity,
    *,
    agent_id: str | None = None,
    session_id: str | None = None,
    environment: str | None = None,
    fields: Mapping[str, Any] | None = None,
    kill_codes: Iterable[str] = framework.KILL_CODES,
) -> GuardedTool:
    """``tool`` behind ``security`` (see the module)."""
    guarded = GuardedTool(
        name=tool.name,
        description=tool.description,
        args_schema=tool.args_schema,
        inner=tool,
        result_as_answer=tool.result_as_answer,
    )
    guarded._security = security
    guarded._options = {
        "agent_id": agent_id,
        "session_id": session_id,
        "environment": environment,
        "extra": dict(fields or {}),
    }
    guarded._kill_codes = frozenset(kill_codes)
    return guarded
