"""``AgentSecurityMiddleware``: every tool call of a LangChain 1.x agent (``create_agent``) through the
pipeline, sync and async.

* ALLOW: the tool runs; its output goes through ``check_result`` (redacted in place, or withheld).
* DENY: the tool does not run; the model reads an error ``ToolMessage`` with the reason.
* A kill (``AGENT_KILL_SWITCH``, ``GLOBAL_KILL_SWITCH``): :class:`~agent_security.adapters.framework.AgentHalted`
  is raised and the run stops.
* Approval-like outcomes (``approval="interrupt"``, the default): a LangGraph ``interrupt``; the resume
  value goes back to the pipeline as its resolution (see :mod:`.approval`). With ``approval="pipeline"``
  the instance's own resolvers and callbacks answer (no answer is a DENY).
* Any failure of the check itself is a DENY (``ADAPTER_ERROR``), never a pass.

List it **after** ``HumanInTheLoopMiddleware`` (inner): a reviewer's edit, which may switch the tool, is
applied by HITL before this middleware sees the call, so the call that runs is the call that is checked,
once. See docs/adapters/langchain.md.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any, Literal

from langchain.agents.middleware import AgentMiddleware
from langchain_core.messages import ToolMessage
from langgraph.errors import GraphBubbleUp
from langgraph.prebuilt.tool_node import ToolCallRequest
from langgraph.types import Command, interrupt

from agent_security.adapters import framework
from agent_security.adapters.langchain.approval import (
    PendingCalls,
    Slot,
    parse_answer,
    reset_slot,
    resolver_for,
    set_slot,
)
from agent_security.core import AgentSecurity, CheckResult, Decision, ResultCheck

__all__ = ["AgentSecurityMiddleware", "ApprovalMode"]

ApprovalMode = Literal["interrupt", "pipeline"]
Field = str | Callable[[ToolCallRequest], str | None] | None
Handler = Callable[[ToolCallRequest], ToolMessage | Command[Any]]
AsyncHandler = Callable[[ToolCallRequest], Awaitable[ToolMessage | Command[Any]]]


def _configurable(request: ToolCallRequest) -> Mapping[str, Any]:
    config = getattr(request.runtime, "config", None) or {}
    conf = config.get("configurable") if isinstance(config, Mapping) else None
    return conf if isinstance(conf, Mapping) else {}


class AgentSecurityMiddleware(AgentMiddleware):  # type: ignore[misc]  # langchain is untyped for mypy here
    """Guard every tool call of the agent with ``security``.

    ``agent_id`` / ``session_id`` / ``environment``: a string, a function of the
    ``ToolCallRequest``, or ``None`` for the default: ``agent_id`` from the run's
    ``configurable["agent_id"]`` else ``"langchain-agent"``; ``session_id`` from the run's ``thread_id``;
    ``environment`` the instance's default. ``fields`` adds any other ``check_tool_call`` field (``owner``,
    ``agent_type``, ``data_labels``, ...). ``check_results`` runs each output through ``check_result``.
    """

    def __init__(
        self,
        security: AgentSecurity,
        *,
        agent_id: Field = None,
        session_id: Field = None,
        environment: Field = None,
        fields: Mapping[str, Any] | None = None,
        approval: ApprovalMode = "interrupt",
        check_results: bool = True,
        kill_codes: Iterable[str] = framework.KILL_CODES,
    ) -> None:
        super().__init__()
        if approval not in ("interrupt", "pipeline"):
            raise ValueError(f"approval must be 'interrupt' or 'pipeline', not {approval!r}")
        self.security = security
        self._agent_id, self._session_id, self._environment = agent_id, session_id, environment
        self._fields = dict(fields or {})
        self.approval: ApprovalMode = approval
        self.check_results = check_results
        self.kill_codes = frozenset(kill_codes)
        self._pending = PendingCalls()
        if approval == "interrupt":
            resolver_for(security)

    @property
    def name(self) -> str:
        return "AgentSecurityMiddleware"

    # -- the call's fields ---------------------------------------------------------------------------
    def call_fields(self, request: ToolCallRequest) -> dict[str, Any]:
        """The ``check_tool_call`` fields of ``request``."""
        conf = _configurable(request)
        call = request.tool_call
        args = call.get("args")
        fields: dict[str, Any] = {
            "agent_name": "LangChain Agent",
            "agent_type": "workflow_agent",
            "tool_identity": {"tool_name": str(call.get("name", "")), "provider": "langchain"},
            **self._fields,
            "tool_name": str(call.get("name", "")),
            "tool_args": dict(args) if isinstance(args, Mapping) else {"input": args},
        }
        agent_id = self._value(self._agent_id, request) or conf.get("agent_id") or "langchain-agent"
        fields["agent_id"] = str(agent_id)
        session = self._value(self._session_id, request) or conf.get("thread_id")
        if session is not None:
            fields["session_id"] = str(session)
        environment = self._value(self._environment, request)
        if environment is not None:
            fields["environment"] = environment
        return fields

    @staticmethod
    def _value(value: Field, request: ToolCallRequest) -> str | None:
        return value(request) if callable(value) else value

    def _key(self, request: ToolCallRequest, fields: Mapping[str, Any]) -> tuple[str, str] | None:
        call_id = request.tool_call.get("id")
        if not call_id:
            return None
        return (str(_configurable(request).get("thread_id", "")), str(call_id))

    # -- verdicts --------------------------------------------------------------------------------------
    def _denial(self, request: ToolCallRequest, decision: Decision, check: CheckResult | None) -> ToolMessage:
        if framework.is_kill(decision, self.kill_codes):
            raise framework.AgentHalted(framework.reason_text(decision, prefix="Agent halted"), decision, check)
        return self._error_message(request, framework.reason_text(decision))

    @staticmethod
    def _error_message(request: ToolCallRequest, text: str) -> ToolMessage:
        call = request.tool_call
        return ToolMessage(content=text, tool_call_id=call.get("id") or "", name=call.get("name"), status="error")

    def _interrupt_value(self, fields: Mapping[str, Any], deferred: Decision, request_hash: str) -> dict[str, Any]:
        return {
            "type": "agent_security_approval",
            "tool_name": fields["tool_name"],
            "tool_args": fields["tool_args"],
            "agent_id": fields["agent_id"],
            "outcome": deferred.outcome.value,
            "reasons": [{"code": r.code, "message": r.message} for r in deferred.reasons],
            "approver_role": deferred.approver_role,
            "request_hash": request_hash,
            "allowed_answers": ["approve", "reject"],
        }

    # -- sync ------------------------------------------------------------------------------------------
    def _check(self, fields: Mapping[str, Any], answer: Any = None, request_hash: str = "") -> tuple[Any, Slot]:
        slot = Slot(answer=None if answer is None else parse_answer(answer, request_hash))
        token = set_slot(slot if self.approval == "interrupt" else None)
        try:
            return framework.check_or_deny(self.security, fields), slot
        finally:
            reset_slot(token)

    async def _acheck(self, fields: Mapping[str, Any], answer: Any = None, request_hash: str = "") -> tuple[Any, Slot]:
        slot = Slot(answer=None if answer is None else parse_answer(answer, request_hash))
        token = set_slot(slot if self.approval == "interrupt" else None)
        try:
            return await framework.acheck_or_deny(self.security, fields), slot
        finally:
            reset_slot(token)

    def _gate(self, request: ToolCallRequest) -> CheckResult | ToolMessage:
        """The allowing check of the call, or the ToolMessage that replaces it (may interrupt or raise)."""
        fields = self.call_fields(request)
        key = self._key(request, fields)
        reviewed = self._pending.pop(key) if key is not None else None
        if reviewed is not None:  # resumed after our own interrupt: the answer is waiting
            outcome, _ = self._check(fields, interrupt(reviewed[1]), reviewed[0])
        else:
            outcome, slot = self._check(fields)
            if slot.deferred is not None:
                value = self._interrupt_value(fields, slot.deferred, slot.request_hash)
                if key is not None:
                    self._pending.put(key, (slot.request_hash, value))
                answer = interrupt(value)
                if key is not None:  # resumed in a process that did not raise it
                    self._pending.pop(key)
                outcome, _ = self._check(fields, answer, slot.request_hash)
        if framework.allowed(outcome):
            assert isinstance(outcome, CheckResult)
            return outcome
        return self._denial(request, framework.final(outcome), outcome if isinstance(outcome, CheckResult) else None)

    async def _agate(self, request: ToolCallRequest) -> CheckResult | ToolMessage:
        fields = self.call_fields(request)
        key = self._key(request, fields)
        reviewed = self._pending.pop(key) if key is not None else None
        if reviewed is not None:
            outcome, _ = await self._acheck(fields, interrupt(reviewed[1]), reviewed[0])
        else:
            outcome, slot = await self._acheck(fields)
            if slot.deferred is not None:
                value = self._interrupt_value(fields, slot.deferred, slot.request_hash)
                if key is not None:
                    self._pending.put(key, (slot.request_hash, value))
                answer = interrupt(value)
                if key is not None:
                    self._pending.pop(key)
                outcome, _ = await self._acheck(fields, answer, slot.request_hash)
        if framework.allowed(outcome):
            assert isinstance(outcome, CheckResult)
            return outcome
        return self._denial(request, framework.final(outcome), outcome if isinstance(outcome, CheckResult) else None)

    def wrap_tool_call(self, request: ToolCallRequest, handler: Handler) -> ToolMessage | Command[Any]:
        gate = self._gate(request)
        if isinstance(gate, ToolMessage):
            return gate
        try:
            output = handler(request)
        except GraphBubbleUp:
            raise
        except Exception as exc:
            return self._raised(request, gate, exc, self._result_check(gate, None, exc))
        return self._checked(request, gate, output, lambda content: self._result_check(gate, content, None))

    async def awrap_tool_call(self, request: ToolCallRequest, handler: AsyncHandler) -> ToolMessage | Command[Any]:
        gate = await self._agate(request)
        if isinstance(gate, ToolMessage):
            return gate
        try:
            output = await handler(request)
        except GraphBubbleUp:
            raise
        except Exception as exc:
            return self._raised(request, gate, exc, await self._aresult_check(gate, None, exc))
        checks = []
        for content in self._contents(request, output):
            checks.append(await self._aresult_check(gate, content, None))
        replies = iter(checks)
        return self._checked(request, gate, output, lambda _content: next(replies))

    # -- results ---------------------------------------------------------------------------------------
    def _result_check(self, gate: CheckResult, content: Any, error: BaseException | None) -> ResultCheck | Decision:
        try:
            return self.security.check_result(content, check=gate, error=error)
        except Exception as exc:
            return framework.error_decision(exc, "check_result")

    async def _aresult_check(
        self, gate: CheckResult, content: Any, error: BaseException | None
    ) -> ResultCheck | Decision:
        try:
            return await self.security.acheck_result(content, check=gate, error=error)
        except Exception as exc:
            return framework.error_decision(exc, "acheck_result")

    def _raised(
        self, request: ToolCallRequest, gate: CheckResult, exc: Exception, rc: ResultCheck | Decision
    ) -> ToolMessage:
        if isinstance(rc, Decision) or not rc.allowed:
            decision = rc if isinstance(rc, Decision) else rc.decision
            return self._error_message(request, framework.reason_text(decision, prefix="Tool error withheld"))
        if rc.error is not None and rc.error is not exc:
            raise rc.error from None
        raise exc

    def _contents(self, request: ToolCallRequest, output: ToolMessage | Command[Any]) -> list[Any]:
        if not self.check_results:
            return []
        return [m.content for m in self._tool_messages(request, output)]

    @staticmethod
    def _tool_messages(request: ToolCallRequest, output: ToolMessage | Command[Any]) -> list[ToolMessage]:
        if isinstance(output, ToolMessage):
            return [output]
        update = getattr(output, "update", None)
        messages = update.get("messages") if isinstance(update, Mapping) else None
        if not isinstance(messages, list):
            return []
        return [m for m in messages if isinstance(m, ToolMessage)]

    def _checked(
        self,
        request: ToolCallRequest,
        gate: CheckResult,
        output: ToolMessage | Command[Any],
        check: Callable[[Any], ResultCheck | Decision],
    ) -> ToolMessage | Command[Any]:
        if not self.check_results:
            return output
        replaced: dict[int, ToolMessage] = {}
        for message in self._tool_messages(request, output):
            rc = check(message.content)
            if isinstance(rc, Decision) or not rc.allowed:
                decision = rc if isinstance(rc, Decision) else rc.decision
                text = framework.reason_text(decision, prefix="Tool output withheld by agent-security")
                replaced[id(message)] = message.model_copy(update={"content": text, "status": "error"})
            elif rc.redacted:
                replaced[id(message)] = message.model_copy(update={"content": rc.result})
        if not replaced:
            return output
        if isinstance(output, ToolMessage):
            return replaced[id(output)]
        update = dict(output.update)  # a Command carrying ToolMessages in its state update
        update["messages"] = [replaced.get(id(m), m) for m in update["messages"]]
        return replace(output, update=update)
