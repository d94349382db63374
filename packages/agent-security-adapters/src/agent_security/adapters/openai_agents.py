"""OpenAI Agents SDK (``openai-agents`` 0.25): tool input and output guardrails and ``needs_approval``.

::

    from agents import Agent, function_tool
    from agents.mcp import MCPServerStdio
    from agent_security.adapters.openai_agents import OpenAIAgentsGuard

    guard = OpenAIAgentsGuard(security, agent_id="support-bot")
    send_email = guard.protect(function_tool(send_email))          # guardrails + needs_approval
    server = MCPServerStdio(params, **guard.mcp_server_options())   # every tool of the server

What each outcome becomes:

* ALLOW: the tool runs; its output goes through :meth:`AgentSecurity.acheck_result`.
* DENY: ``reject_content(reason)``: the tool does not run, the model reads the reason, the run goes on.
* A kill switch (``GLOBAL_KILL_SWITCH``, ``AGENT_KILL_SWITCH``): ``raise_exception()``; the SDK raises
  ``ToolInputGuardrailTripwireTriggered`` and the run stops.
* An approval-like outcome (REQUIRE_APPROVAL, STEP_UP, REQUIRE_TICKET, REQUIRE_HUMAN): with
  :meth:`OpenAIAgentsGuard.protect` (or :meth:`needs_approval_for`) the SDK interrupts the run for a human
  (``result.interruptions``); once ``state.approve(item)`` resumes it, the pipeline's resolve phase is
  answered by that approval (``resolver`` ``openai-agents``) and the call is checked again, so a kill or a
  limit reached in between still stops it. Without ``needs_approval`` wired the call is rejected.
* Malformed arguments (not a JSON object, larger than ``max_args_bytes``): rejected, never checked as empty.
* Any failure of ours (the pipeline raising, a store down): an exception from the guardrail, which aborts
  the run (the SDK does not run the tool): fail closed.

Output guardrails cannot rewrite an output in the SDK: they allow it or replace it with a message
(``reject_content``). A redacted output is therefore handed to the model as that message (the redacted
text); a withheld one as the reason. Hosted tools, shell/computer/apply-patch tools and handoffs carry no
tool guardrails in the SDK: govern them by other means.

Importing this module does not import the SDK; building a guard does.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent_security.core import Resolution, hookimpl

if TYPE_CHECKING:
    from agent_security.core import ActionRequest, CheckContext, CheckResult, Decision
    from agent_security.core.pipeline.facade import AgentSecurity

__all__ = ["KILL_CODES", "OpenAIAgentsGuard", "SdkApprovalResolver"]

KILL_CODES = frozenset({"GLOBAL_KILL_SWITCH", "AGENT_KILL_SWITCH"})
"""Reason codes that stop the run (``raise_exception``) rather than reject one call."""
RESOLVER_NAME = "openai_agents_approval"
MAX_PENDING = 4096
"""Checks remembered between ``needs_approval``, the input and the output guardrail (per guard)."""


@dataclass(frozen=True, slots=True)
class _SdkAnswer:
    approved: bool
    call_id: str
    args_digest: str


_sdk_answer: contextvars.ContextVar[_SdkAnswer | None] = contextvars.ContextVar(
    "agent_security_openai_agents_answer", default=None
)


class SdkApprovalResolver:
    """The ``agent_security_resolve`` plugin that answers an approval-like outcome with the SDK's own
    human-in-the-loop answer, only inside a check this adapter runs for that very call (a context
    variable, not a request field: nothing a model or another caller writes can approve a call)."""

    name = RESOLVER_NAME

    @hookimpl
    def agent_security_resolve(self, request: ActionRequest, decision: Decision, ctx: CheckContext) -> Any:
        answer = _sdk_answer.get()
        if answer is None or answer.args_digest != _digest(request.tool_name, request.action.tool_args):
            return None
        if answer.approved:
            return Resolution(approved=True, resolver="openai-agents", message="Approved in the OpenAI Agents SDK")
        return Resolution(
            approved=False,
            resolver="openai-agents",
            message=f"Waiting for approval in the OpenAI Agents SDK (call {answer.call_id[:64]})",
        )


def _digest(tool_name: str, args: Mapping[str, Any]) -> str:
    body = json.dumps([tool_name, args], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _reason(check: CheckResult) -> str:
    reasons = check.final_decision.reasons
    text = "; ".join(f"{r.code}: {r.message}" for r in reasons) or check.final_decision.outcome.value
    return f"agent-security: blocked: {text}"[:4000]


def _is_kill(check: CheckResult) -> bool:
    return any(r.code in KILL_CODES for r in check.final_decision.reasons)


class OpenAIAgentsGuard:
    """Guardrails and an approval rule for one :class:`AgentSecurity`. Thread-safe and asyncio-friendly.

    ``agent_id`` names the agent in every check (default: the SDK agent's ``name``); ``check_fields``
    are passed to every check (``environment``, ``session_id``, ``data_labels``, ...).
    """

    def __init__(
        self,
        security: AgentSecurity,
        *,
        agent_id: str | None = None,
        max_args_bytes: int = 1 << 20,
        **check_fields: Any,
    ) -> None:
        from agents import ToolGuardrailFunctionOutput, ToolInputGuardrail, ToolOutputGuardrail

        self.security = security
        self.agent_id = agent_id
        self.max_args_bytes = max_args_bytes
        self.check_fields = dict(check_fields)
        self._out = ToolGuardrailFunctionOutput
        self._checks: OrderedDict[str, tuple[str, CheckResult]] = OrderedDict()
        self._lock = threading.Lock()
        if security.get_plugin(RESOLVER_NAME) is None:  # one resolver serves every guard of the instance
            security.register_plugin(SdkApprovalResolver(), name=RESOLVER_NAME)
        self.input_guardrail: Any = ToolInputGuardrail(guardrail_function=self._input, name="agent_security_input")
        self.output_guardrail: Any = ToolOutputGuardrail(guardrail_function=self._output, name="agent_security_output")

    # ---- attaching ----------------------------------------------------------------------------------
    def protect(self, tool: Any, *, approvals: bool = True) -> Any:
        """Attach the guardrails (first in line) and, with ``approvals``, the ``needs_approval`` rule to a
        ``FunctionTool``; returns the same tool."""
        tool.tool_input_guardrails = [self.input_guardrail, *(tool.tool_input_guardrails or ())]
        tool.tool_output_guardrails = [self.output_guardrail, *(tool.tool_output_guardrails or ())]
        if approvals:
            tool.needs_approval = self.needs_approval_for(tool.name)
        return tool

    def mcp_server_options(self) -> dict[str, Any]:
        """Keyword arguments for ``MCPServerStdio`` (and the other MCP servers): the guardrails, applied to
        every tool of the server. (The SDK's MCP ``require_approval`` callable does not see arguments, so
        an approval-like outcome on an MCP tool is rejected with its reason.)"""
        return {"tool_input_guardrails": [self.input_guardrail], "tool_output_guardrails": [self.output_guardrail]}

    def needs_approval_for(self, tool_name: str) -> Any:
        """The ``needs_approval`` callable for the tool ``tool_name``: True when the pipeline's decision is
        approval-like (the decision is kept for the input guardrail, so the call is not counted twice)."""

        async def needs_approval(run_context: Any, params: Any, call_id: str) -> bool:
            if not isinstance(params, dict):
                return True  # the SDK could not read the arguments: let a human see them
            agent = getattr(run_context, "agent", None)
            check = await self._check(tool_name, params, call_id, agent, sdk_answer=False)
            self._remember(call_id, _digest(tool_name, params), check)
            return check.decision.outcome.approval_like and not _is_kill(check)

        return needs_approval

    # ---- the guardrails -----------------------------------------------------------------------------
    async def _input(self, data: Any) -> Any:
        ctx = data.context
        tool_name: str = ctx.tool_name
        call_id: str = ctx.tool_call_id
        args = self._parse_args(ctx.tool_arguments)
        if isinstance(args, str):
            return self._out.reject_content(f"agent-security: blocked: {args}", output_info={"reason": "MALFORMED"})
        digest = _digest(tool_name, args)
        approved = _approval(ctx, tool_name, call_id)
        check = self._recall(call_id, digest, keep=True)
        if check is None or (approved and check.decision.outcome.approval_like):
            # approved in the SDK: that approval answers the resolve phase; otherwise the application's own
            # approval callbacks (if any) answer it, as for any other caller
            check = await self._check(tool_name, args, call_id, data.agent, sdk_answer=True if approved else None)
            self._remember(call_id, digest, check)
        info = {"outcome": check.final_decision.outcome.value, "request_id": check.request.request_id}
        if check.allowed:
            return self._out.allow(output_info=info)
        self._forget(call_id)
        if _is_kill(check):
            return self._out.raise_exception(output_info={**info, "reason": _reason(check)})
        return self._out.reject_content(_reason(check), output_info=info)

    async def _output(self, data: Any) -> Any:
        ctx = data.context
        tool_name: str = ctx.tool_name
        call_id: str = ctx.tool_call_id
        check = self._recall(call_id, None, keep=False)
        if check is not None:
            res = await self.security.acheck_result(data.output, check=check)
        else:  # decided elsewhere (the guard's input guardrail was not attached): check with the call's fields
            args = self._parse_args(ctx.tool_arguments)
            fields = self._fields(tool_name, args if isinstance(args, dict) else {}, data.agent)
            res = await self.security.acheck_result(data.output, **fields)
        if not res.allowed:
            reasons = "; ".join(f"{r.code}: {r.message}" for r in res.decision.reasons) or "output withheld"
            if any(r.code in KILL_CODES for r in res.decision.reasons):
                return self._out.raise_exception(output_info={"reason": reasons})
            return self._out.reject_content(f"agent-security: output withheld: {reasons}"[:4000])
        if res.redacted:
            # the SDK cannot rewrite an output: the redacted text replaces it as the guardrail's message
            text = res.result if isinstance(res.result, str) else json.dumps(res.result, default=str)
            return self._out.reject_content(text, output_info={"redacted_by": list(res.redacted_by)})
        return self._out.allow()

    # ---- helpers --------------------------------------------------------------------------------------
    def _parse_args(self, raw: Any) -> dict[str, Any] | str:
        """The arguments as an object, or why they cannot be read (strict: no silent empty dict)."""
        if not isinstance(raw, str):
            return f"tool arguments are a {type(raw).__name__}, not a JSON string"
        if len(raw.encode("utf-8", "surrogatepass")) > self.max_args_bytes:
            return f"tool arguments are larger than {self.max_args_bytes} bytes"
        if not raw.strip():
            return {}
        try:
            value = json.loads(raw, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:
            return f"tool arguments are not valid JSON ({type(exc).__name__})"
        if not isinstance(value, dict):
            return f"tool arguments are a JSON {type(value).__name__}, not an object"
        return value

    def _fields(self, tool_name: str, args: Mapping[str, Any], agent: Any) -> dict[str, Any]:
        agent_id = self.agent_id or (getattr(agent, "name", None) if agent is not None else None) or "openai-agents"
        fields: dict[str, Any] = {"environment": None, **self.check_fields}
        fields.update(tool_name=tool_name, tool_args=dict(args), agent_id=str(agent_id))
        if fields["environment"] is None:
            del fields["environment"]
        return fields

    async def _check(
        self, tool_name: str, args: Mapping[str, Any], call_id: str, agent: Any, *, sdk_answer: bool | None
    ) -> CheckResult:
        """One audited check. ``sdk_answer`` True: a human approved this call in the SDK; False: the SDK
        will ask one (``needs_approval``), so the pipeline's own callbacks are not asked now."""
        fields = self._fields(tool_name, args, agent)
        if sdk_answer is None:
            return await self.security.acheck_tool_call(**fields)
        token = _sdk_answer.set(_SdkAnswer(sdk_answer, call_id, _digest(tool_name, args)))
        try:
            return await self.security.acheck_tool_call(**fields)
        finally:
            _sdk_answer.reset(token)

    def _remember(self, call_id: str, digest: str, check: CheckResult) -> None:
        with self._lock:
            self._checks[call_id] = (digest, check)
            self._checks.move_to_end(call_id)
            while len(self._checks) > MAX_PENDING:
                self._checks.popitem(last=False)

    def _recall(self, call_id: str, digest: str | None, *, keep: bool) -> CheckResult | None:
        with self._lock:
            entry = self._checks.get(call_id) if keep else self._checks.pop(call_id, None)
        if entry is None or (digest is not None and entry[0] != digest):
            return None  # another call under the same id, or arguments changed since: check afresh
        return entry[1]

    def _forget(self, call_id: str) -> None:
        with self._lock:
            self._checks.pop(call_id, None)


def _approval(ctx: Any, tool_name: str, call_id: str) -> bool:
    """True only when the SDK records a human approval of exactly this call."""
    is_approved = getattr(ctx, "is_tool_approved", None)
    if not callable(is_approved):
        return False
    return is_approved(tool_name, call_id) is True


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
