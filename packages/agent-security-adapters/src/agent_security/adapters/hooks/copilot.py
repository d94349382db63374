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

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agent_security.adapters.hooks._call_facts import (
    HookInputError,
    call_facts,
    first_text,
    json_argument,
    load_object,
)
from agent_security.adapters.hooks.answer import HookAnswer

if TYPE_CHECKING:
    from agent_security.core.pipeline.facade import AgentSecurity

__all__ = ["AGENT_ID", "answer"]

AGENT_ID = "copilot-cli"
MAX_REASON_CHARS = 2000
_PRE = frozenset({"preToolUse", "PreToolUse"})
_OBSERVED = frozenset(
    {"postToolUse", "PostToolUse", "sessionStart", "sessionEnd", "userPromptSubmitted", "errorOccurred"}
)


def answer(raw: bytes, security: AgentSecurity) -> HookAnswer:
    """The answer to one Copilot CLI hook call (``raw`` is the hook's stdin)."""
    try:
        data = load_object(raw)
        event = first_text(data, "hookEventName", "hook_event_name", "event")
        if event is not None and event not in _PRE:
            if event in _OBSERVED:
                return _json({})
            raise HookInputError(f"event {event!r} is not one agent-security answers (see docs/adapters/copilot.md)")
        return _pre_tool_use(data, security)
    except HookInputError as exc:
        return HookAnswer.fail_closed(f"copilot: {exc}")


def _pre_tool_use(data: Mapping[str, Any], security: AgentSecurity) -> HookAnswer:
    tool = first_text(data, "toolName", "tool_name", limit=256)
    if tool is None:
        raise HookInputError("preToolUse without toolName")
    raw_args = data["toolArgs"] if "toolArgs" in data else data.get("tool_input", data.get("toolInput"))
    args = json_argument(raw_args, "toolArgs")
    facts = call_facts(tool, args)
    context = {"host": "copilot-cli", "hook_event": "preToolUse"}
    cwd = data.get("cwd")
    if isinstance(cwd, str) and cwd:
        context["cwd"] = cwd[:1024]
    session = first_text(data, "sessionId", "session_id")
    result = security.check_tool_call(**facts.check_fields(agent_id=AGENT_ID, session_id=session, context=context))
    if result.allowed:
        return _json({})
    approval = result.decision.outcome.approval_like
    reasons = (result.decision if approval else result.final_decision).reasons
    why = "; ".join(f"{r.code}: {r.message}" if r.message else r.code for r in reasons) or str(result.decision.outcome)
    if approval:
        text = f"agent-security: {facts.tool_name} needs approval ({why}); denied, as a hook cannot ask for it safely"
    else:
        text = f"agent-security blocked {facts.tool_name}: {why}"
    text = text[:MAX_REASON_CHARS]
    return _json(
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


def _json(payload: Mapping[str, Any]) -> HookAnswer:
    return HookAnswer(stdout=json.dumps(payload, ensure_ascii=False) + "\n", stderr="", exit_code=0)
