"""Claude Code's command hooks: PreToolUse, PostToolUse, PermissionRequest and UserPromptSubmit.

``answer(raw, security)`` reads one hook call's stdin (the host's JSON) and returns the
:class:`~agent_security.adapters.hooks.answer.HookAnswer` Claude Code acts on. The same mapping serves the
Claude Agent SDK (:mod:`agent_security.adapters.claude_agent_sdk`), whose hook callbacks take the parsed
input and return the same JSON: :func:`plan` (input to checks) and :func:`render_call` /
:func:`render_result` (decision to JSON) are shared, :func:`respond` / :func:`arespond` run the checks.

Answers (all on exit 0 with JSON on stdout, which Claude Code reads only on exit 0):

* **PreToolUse**: a DENY is ``permissionDecision: "deny"`` with the reason codes and messages; an
  approval-like outcome (REQUIRE_APPROVAL, STEP_UP, REQUIRE_TICKET, REQUIRE_HUMAN) that nothing resolved is
  ``"ask"`` in the modes where Claude Code asks the user (``default``, ``plan``, ``acceptEdits``, ``auto``)
  and ``"deny"`` in every other mode (``bypassPermissions``, ``dontAsk`` or one this version does not know):
  nobody would see the question. A policy ALLOW is ``{}``: the user's own permission rules and prompts stay
  in force (``"allow"`` would skip the prompt for tools no rule covers). A kill switch denial also sets
  ``continue: false``: Claude stops, instead of trying other tools of a killed agent.
* **PostToolUse**: the output goes through ``check_result``. Redacted: ``updatedToolOutput`` (and, for MCP
  tools, ``updatedMCPToolOutput``) carries the redacted output, in the tool's own shape. Withheld:
  ``decision: "block"`` with the reason, and the output replaced by one of the same shape whose text is the
  withholding notice (Claude Code rejects a replacement of another shape and keeps the original).
* **PermissionRequest**: a DENY is ``decision {behavior: "deny", message}``; otherwise ``{}`` (the user decides).
* **UserPromptSubmit**: the prompt is checked as a call of ``user_prompt`` (``action_type="user_prompt"``,
  ``tool_args={"prompt": ...}``, so egress DLP reads it); anything but ALLOW is ``decision: "block"``.
* Another event (PostToolUseFailure, Stop...) is ``{}``: not a tool call to judge.

Input that is not a JSON object, lacks ``hook_event_name``, or lacks a field the event needs
(``tool_name`` and an object ``tool_input`` for tool events, ``tool_response`` for PostToolUse, ``prompt``
for UserPromptSubmit) is :meth:`HookAnswer.fail_closed` (exit 2, reason on stderr). Unknown fields and
unknown values of fields we only record (``permission_mode``, ``effort``...) are fine.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agent_security.adapters.hooks.answer import HookAnswer
from agent_security.adapters.hooks.facts import (
    MAX_NAME,
    HookInputError,
    bounded_text,
    home_directory,
    load_object,
    tool_call_facts,
)

if TYPE_CHECKING:
    from agent_security.core.models import CheckResult, Decision, ResultCheck
    from agent_security.core.pipeline.facade import AgentSecurity

__all__ = [
    "ASKING_MODES",
    "HOST",
    "KILL_CODES",
    "MAX_INPUT",
    "MAX_REASON",
    "HookInputError",
    "Plan",
    "answer",
    "arespond",
    "failure_output",
    "parse",
    "plan",
    "render_call",
    "render_result",
    "respond",
]

HOST = "claude-code"
"""The agent id of every call (subagents included: a kill of ``claude-code`` stops them too)."""
MAX_INPUT = 10 * 1024 * 1024
"""Largest hook input read (bytes), as for ``agent-security check``."""
MAX_REASON = 4000
"""Longest reason text we answer (Claude Code cuts context strings at 10,000 characters)."""
ASKING_MODES = frozenset({"default", "plan", "acceptEdits", "auto"})
"""Permission modes in which Claude Code shows the user an ``ask``."""
KILL_CODES = frozenset({"GLOBAL_KILL_SWITCH", "AGENT_KILL_SWITCH"})
TOOL_EVENTS = frozenset({"PreToolUse", "PostToolUse", "PermissionRequest"})
_DISCRIMINATORS = frozenset({"type", "mode", "output_mode", "kind", "mimeType", "media_type", "encoding"})
_MAX_SHAPE_DEPTH = 32


@dataclass(frozen=True, slots=True)
class Plan:
    """What one hook call asks of the pipeline."""

    event: str
    kind: str
    """``call`` (check_tool_call), ``result`` (check_result), ``prompt`` (check_tool_call) or ``none``."""
    fields: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments of ``check_tool_call`` / ``check_result``."""
    output: Any = None
    """The tool's output (PostToolUse)."""
    mcp: bool = False
    permission_mode: str | None = None


def parse(raw: bytes) -> dict[str, Any]:
    """The hook input as a JSON object (no duplicate keys, no NaN); :class:`HookInputError` otherwise."""
    return load_object(raw, limit=MAX_INPUT)


def plan(event: Mapping[str, Any], *, agent_id: str = HOST, home: str | None = None) -> Plan:
    """The checks one hook input asks for. ``home`` expands ``~`` in paths (default: none)."""
    name = event.get("hook_event_name")
    if not isinstance(name, str) or not name:
        raise HookInputError('hook input has no "hook_event_name"')
    mode = bounded_text(event.get("permission_mode"), 64)
    if name not in TOOL_EVENTS and name != "UserPromptSubmit":
        return Plan(event=name[:MAX_NAME], kind="none", permission_mode=mode)
    cwd = bounded_text(event.get("cwd"), 4096)
    context: dict[str, Any] = {"host": HOST, "hook_event": name}
    for key in ("tool_use_id", "prompt_id", "agent_id", "transcript_path"):
        value = bounded_text(event.get(key), 1024)
        if value is not None:
            context["subagent_id" if key == "agent_id" else key] = value
    if mode is not None:
        context["permission_mode"] = mode
    if cwd is not None:
        context["cwd"] = cwd
    fields: dict[str, Any] = {"agent_id": agent_id}
    session = bounded_text(event.get("session_id"))
    if session is not None:
        fields["session_id"] = session
    agent_type = bounded_text(event.get("agent_type"), 128)
    if agent_type is not None:
        fields["agent_type"] = agent_type
    if name == "UserPromptSubmit":
        prompt = event.get("prompt")
        if not isinstance(prompt, str):
            raise HookInputError('UserPromptSubmit input has no "prompt" string')
        fields.update(tool_name="user_prompt", tool_args={"prompt": prompt}, action_type="user_prompt")
        fields["context"] = context
        return Plan(event=name, kind="prompt", fields=fields, permission_mode=mode)
    tool_name = event.get("tool_name")
    if not isinstance(tool_name, str) or not tool_name:
        raise HookInputError(f'{name} input has no "tool_name"')
    tool_input = event.get("tool_input")
    if not isinstance(tool_input, dict):
        raise HookInputError(f'{name} input has no "tool_input" object')
    facts = tool_call_facts(tool_name, tool_input, cwd=cwd, home=home)
    fields.update(facts.check_fields(context))
    if name == "PostToolUse":
        if "tool_response" not in event:
            raise HookInputError('PostToolUse input has no "tool_response"')
        return Plan(name, "result", fields, event["tool_response"], facts.mcp is not None, mode)
    return Plan(name, "call", fields, None, facts.mcp is not None, mode)


def _reason(decision: Decision, prefix: str = "agent-security") -> str:
    parts = [f"{r.code}: {r.message}" if r.message else r.code for r in decision.reasons]
    text = f"{prefix}: " + ("; ".join(parts) if parts else decision.outcome.value)
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def _is_kill(decision: Decision) -> bool:
    return any(r.code in KILL_CODES for r in decision.reasons)


def _unresolved_approval(check: CheckResult) -> bool:
    """An approval-like outcome that no callback resolved (the CLI has none): the user should be asked."""
    return check.decision.outcome.approval_like and any(r.code == "NO_RESOLVER" for r in check.final_decision.reasons)


def render_call(p: Plan, check: CheckResult) -> dict[str, Any]:
    """The JSON answer to a PreToolUse, PermissionRequest or UserPromptSubmit call, from its check."""
    if check.allowed:
        return {}
    decision = check.final_decision
    if p.event == "UserPromptSubmit":
        out: dict[str, Any] = {"decision": "block", "reason": _reason(decision)}
    elif p.event == "PermissionRequest":
        if _unresolved_approval(check):
            return {}  # the user is being asked already: that is the approval
        out = {
            "hookSpecificOutput": {
                "hookEventName": "PermissionRequest",
                "decision": {"behavior": "deny", "message": _reason(decision)},
            }
        }
    else:
        ask = _unresolved_approval(check) and p.permission_mode in (*ASKING_MODES, None)
        if ask:
            reason = _reason(check.decision, "agent-security asks for approval")
        else:
            reason = _reason(decision)
            if _unresolved_approval(check):
                reason += f" (approval needed, and permission mode {p.permission_mode!r} asks nobody)"
        out = {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "ask" if ask else "deny",
                "permissionDecisionReason": reason[:MAX_REASON],
            }
        }
    if _is_kill(decision):
        out["continue"] = False
        out["stopReason"] = _reason(decision, "agent-security stopped this agent")
    return out


def render_result(p: Plan, checked: ResultCheck) -> dict[str, Any]:
    """The JSON answer to a PostToolUse call, from its result check."""
    if checked.allowed and not checked.redacted:
        return {}
    specific: dict[str, Any] = {"hookEventName": "PostToolUse"}
    out: dict[str, Any] = {"hookSpecificOutput": specific}
    if checked.allowed:
        replacement = checked.result
        specific["additionalContext"] = "agent-security redacted sensitive data from this tool's output."
    else:
        reason = _reason(checked.decision)
        replacement = withheld_like(p.output, f"[withheld by {reason}]"[:MAX_REASON])
        out["decision"] = "block"
        out["reason"] = reason
    specific["updatedToolOutput"] = replacement
    if p.mcp:
        specific["updatedMCPToolOutput"] = replacement
    return out


def withheld_like(output: Any, notice: str, _depth: int = 0) -> Any:
    """``output`` with every text replaced by ``notice`` (the first) or ``""`` (the rest), keeping its shape:
    keys, lists, numbers, booleans and short discriminators (``"type": "text"``) stay as they were."""
    first = [True]

    def walk(value: Any, key: str | None, depth: int) -> Any:
        if depth > _MAX_SHAPE_DEPTH:
            return None
        if isinstance(value, str):
            if key in _DISCRIMINATORS and len(value) <= 32 and value.replace("_", "").replace("/", "").isalnum():
                return value
            if first[0]:
                first[0] = False
                return notice
            return ""
        if isinstance(value, dict):
            return {k: walk(v, k if isinstance(k, str) else None, depth + 1) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [walk(v, None, depth + 1) for v in value]
        if isinstance(value, bool | int | float) or value is None:
            return value
        return notice if first[0] else ""

    if output is None:
        return notice
    return walk(output, None, _depth)


def failure_output(event: Mapping[str, Any], reason: str) -> dict[str, Any]:
    """The JSON that blocks ``event`` when it could not be decided (for hosts where a hook answers with
    JSON only, such as the Agent SDK's callbacks; the command hook exits 2 instead)."""
    text = f"agent-security: blocked: {reason}"[:MAX_REASON]
    name = event.get("hook_event_name") if isinstance(event, Mapping) else None
    if name == "PermissionRequest":
        return {"hookSpecificOutput": {"hookEventName": name, "decision": {"behavior": "deny", "message": text}}}
    if name == "PostToolUse":
        output = event.get("tool_response")
        replacement = withheld_like(output, f"[{text}]")
        specific: dict[str, Any] = {"hookEventName": name, "updatedToolOutput": replacement}
        if isinstance(event.get("tool_name"), str) and event["tool_name"].startswith("mcp__"):
            specific["updatedMCPToolOutput"] = replacement
        return {"decision": "block", "reason": text, "hookSpecificOutput": specific}
    if name == "PreToolUse":
        return {
            "hookSpecificOutput": {
                "hookEventName": name,
                "permissionDecision": "deny",
                "permissionDecisionReason": text,
            }
        }
    return {"decision": "block", "reason": text}  # UserPromptSubmit, and an event we cannot even name


def _run_kwargs(p: Plan) -> dict[str, Any]:
    return dict(p.fields)


def respond(event: Mapping[str, Any], security: AgentSecurity, *, agent_id: str = HOST) -> dict[str, Any]:
    """The JSON answer to one parsed hook input (checks run synchronously). Raises :class:`HookInputError`."""
    p = plan(event, agent_id=agent_id, home=home_directory())
    if p.kind == "none":
        return {}
    if p.kind == "result":
        return render_result(p, security.check_result(p.output, **_run_kwargs(p)))
    return render_call(p, security.check_tool_call(**_run_kwargs(p)))


async def arespond(event: Mapping[str, Any], security: AgentSecurity, *, agent_id: str = HOST) -> dict[str, Any]:
    """:func:`respond` with the asynchronous checks."""
    p = plan(event, agent_id=agent_id, home=home_directory())
    if p.kind == "none":
        return {}
    if p.kind == "result":
        return render_result(p, await security.acheck_result(p.output, **_run_kwargs(p)))
    return render_call(p, await security.acheck_tool_call(**_run_kwargs(p)))


def answer(raw: bytes, security: AgentSecurity, *, agent_id: str = HOST) -> HookAnswer:
    """The answer to one Claude Code hook call (``raw`` is its stdin). Never exit 1 or 3."""
    try:
        out = respond(parse(raw), security, agent_id=agent_id)
    except HookInputError as exc:
        return HookAnswer.fail_closed(str(exc))
    try:
        text = json.dumps(out, ensure_ascii=False, allow_nan=False, default=str)
    except (TypeError, ValueError) as exc:  # a redacted output that is not JSON (cannot happen from JSON input)
        return HookAnswer.fail_closed(f"the answer cannot be written as JSON ({exc})")
    return HookAnswer(stdout=text + "\n", stderr="", exit_code=0)
