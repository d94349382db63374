"""GitHub Copilot CLI hooks: ``agent-security hook copilot`` answers ``preToolUse`` (and observes
``postToolUse``).

Input (``.github/hooks/*.json``, ``version: 1``): ``{"timestamp", "cwd", "toolName", "toolArgs"}`` where
``toolArgs`` is a JSON string (an object is read too); the Claude-compatible spelling ``tool_name`` /
``tool_input`` / ``hook_event_name`` of hooks written in Claude Code's format is read as well. Unknown
fields are ignored.

Answer: ``{"permissionDecision": "deny", "permissionDecisionReason": ...}`` when policy objects, mirrored
in ``hookSpecificOutput`` for the Claude-compatible reader. When policy does not object the answer is ``{}``
(no decision): the user's own permission settings stay in force; answering ``"allow"`` would approve
calls the user asked to confirm. An outcome that needs approval is a deny saying so: the CLI's ``"ask"``
is auto-approved under ``--allow-all-tools`` and was auto-approved by some releases (github/copilot-cli
#3590), so it cannot carry a security decision. Malformed input and every failure exit 2 (the CLI denies
on any non-zero exit).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agent_security.adapters.hooks._once import Verdict
from agent_security.adapters.hooks._reply import answer_event, json_answer, reason_text
from agent_security.adapters.hooks.answer import HookAnswer
from agent_security.adapters.hooks.facts import (
    MAX_PATH,
    MAX_TOOL_NAME,
    HookInputError,
    ToolCallFacts,
    bounded_text,
    first_text,
    home_directory,
    json_argument,
    tool_call_facts,
)

if TYPE_CHECKING:
    from agent_security.core.pipeline.facade import AgentSecurity

__all__ = ["AGENT_ID", "answer", "call_facts"]

AGENT_ID = "copilot-cli"
MAX_REASON_CHARS = 2000
_OBSERVED = frozenset(
    {"postToolUse", "PostToolUse", "sessionStart", "sessionEnd", "userPromptSubmitted", "errorOccurred"}
)


def answer(raw: bytes, security: AgentSecurity) -> HookAnswer:
    """The answer to one Copilot CLI hook call (``raw`` is the hook's stdin)."""
    return answer_event(
        raw,
        security,
        host="copilot",
        event_keys=("hookEventName", "hook_event_name", "event"),
        handlers={"preToolUse": _pre_tool_use, "PreToolUse": _pre_tool_use},
        observed=_OBSERVED,
        default=_pre_tool_use,  # the CLI's own format names no event: a hook file entry is per event
    )


def call_facts(data: Mapping[str, Any]) -> ToolCallFacts:
    """The facts of the call a ``preToolUse`` input reports (``toolName`` and ``toolArgs``, or the
    Claude-compatible ``tool_name`` and ``tool_input``; relative paths against ``cwd``)."""
    tool = first_text(data, "toolName", "tool_name", limit=MAX_TOOL_NAME)
    if tool is None:
        raise HookInputError("preToolUse without toolName")
    raw_args = data["toolArgs"] if "toolArgs" in data else data.get("tool_input", data.get("toolInput"))
    args = json_argument(raw_args, "toolArgs")
    return tool_call_facts(tool, args, cwd=bounded_text(data.get("cwd"), MAX_PATH), home=home_directory())


def _pre_tool_use(data: Mapping[str, Any], security: AgentSecurity) -> HookAnswer:
    facts = call_facts(data)
    context = {"host": "copilot-cli", "hook_event": "preToolUse"}
    cwd = data.get("cwd")
    if isinstance(cwd, str) and cwd:
        context["cwd"] = cwd[:1024]
    session = first_text(data, "sessionId", "session_id")
    verdict = Verdict.of(security.check_tool_call(**facts.check_fields(context, agent_id=AGENT_ID, session_id=session)))
    if verdict.allowed:
        return json_answer({})
    why = reason_text(verdict.reasons) or verdict.outcome
    if verdict.approval_like:
        text = f"agent-security: {facts.tool_name} needs approval ({why}); denied, as a hook cannot ask for it safely"
    else:
        text = f"agent-security blocked {facts.tool_name}: {why}"
    text = text[:MAX_REASON_CHARS]
    return json_answer(
        {
            "permissionDecision": "deny",
            "permissionDecisionReason": text,
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "deny",
                "permissionDecisionReason": text,
            },
        }
    )
