"""``secure_tool``: a classic LangChain ``BaseTool`` guarded by the pipeline, for use outside an agent
built with ``create_agent`` (chains, LangGraph graphs of your own, the legacy agents).

The guarded tool is a ``StructuredTool`` with the inner tool's name, description and argument schema.
A denial raises ``ToolException`` and ``handle_tool_error=True`` turns it into the text the model reads;
a kill raises :class:`~agent_security.adapters.framework.AgentHalted`; the output goes through
``check_result``. Approval-like outcomes are resolved by the instance's resolvers and callbacks (no answer
is a DENY): outside a LangGraph node there is nothing to interrupt.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool, ToolException

from agent_security.adapters import framework
from agent_security.core import AgentSecurity, CheckResult, Decision, ResultCheck

__all__ = ["secure_tool"]


def secure_tool(
    tool: BaseTool,
    security: AgentSecurity,
    *,
    agent_id: str = "langchain-agent",
    session_id: str | None = None,
    environment: str | None = None,
    fields: Mapping[str, Any] | None = None,
    kill_codes: Iterable[str] = framework.KILL_CODES,
) -> StructuredTool:
    """``tool`` behind ``security``: every call checked, every output result-checked."""
    kills = frozenset(kill_codes)
    base: dict[str, Any] = {
        "agent_name": "LangChain Agent",
        "agent_type": "workflow_agent",
        "tool_identity": {"tool_name": tool.name, "provider": "langchain"},
        **dict(fields or {}),
        "tool_name": tool.name,
        "agent_id": agent_id,
    }
    if session_id is not None:
        base["session_id"] = session_id
    if environment is not None:
        base["environment"] = environment

    def call_fields(kwargs: Mapping[str, Any]) -> dict[str, Any]:
        return {**base, "tool_args": dict(kwargs)}

    def gate(outcome: CheckResult | Decision) -> CheckResult:
        if framework.allowed(outcome):
            assert isinstance(outcome, CheckResult)
            return outcome
        decision = framework.final(outcome)
        check = outcome if isinstance(outcome, CheckResult) else None
        if framework.is_kill(decision, kills):
            raise framework.AgentHalted(framework.reason_text(decision, prefix="Agent halted"), decision, check)
        raise ToolException(framework.reason_text(decision))

    def output(rc: ResultCheck | Decision, raised: Exception | None) -> Any:
        if isinstance(rc, Decision) or not rc.allowed:
            decision = rc if isinstance(rc, Decision) else rc.decision
            prefix = "Tool error withheld" if raised is not None else "Tool output withheld by agent-security"
            raise ToolException(framework.reason_text(decision, prefix=prefix))
        if raised is not None:
            raise (rc.error if rc.error is not None else raised)
        return rc.result

    def run(**kwargs: Any) -> Any:
        check = gate(framework.check_or_deny(security, call_fields(kwargs)))
        try:
            result = tool.invoke(kwargs)
        except Exception as exc:
            return output(_result_check(security, check, None, exc), exc)
        return output(_result_check(security, check, result, None), None)

    async def arun(**kwargs: Any) -> Any:
        check = gate(await framework.acheck_or_deny(security, call_fields(kwargs)))
        try:
            result = await tool.ainvoke(kwargs)
        except Exception as exc:
            return output(await _aresult_check(security, check, None, exc), exc)
        return output(await _aresult_check(security, check, result, None), None)

    return StructuredTool.from_function(
        func=run,
        coroutine=arun,
        name=tool.name,
        description=tool.description,
        args_schema=tool.args_schema if tool.args_schema is not None else tool.get_input_schema(),
        return_direct=tool.return_direct,
        handle_tool_error=True,
        infer_schema=False,
    )


def _result_check(
    security: AgentSecurity, check: CheckResult, result: Any, error: BaseException | None
) -> ResultCheck | Decision:
    try:
        return security.check_result(result, check=check, error=error)
    except Exception as exc:
        return framework.error_decision(exc, "check_result")


async def _aresult_check(
    security: AgentSecurity, check: CheckResult, result: Any, error: BaseException | None
) -> ResultCheck | Decision:
    try:
        return await security.acheck_result(result, check=check, error=error)
    except Exception as exc:
        return framework.error_decision(exc, "acheck_result")
