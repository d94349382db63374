"""Cursor hooks: ``agent-security hook cursor`` answers each event Cursor sends on stdin.

Events and answers (Cursor reads stdout as JSON on exit 0; exit 2 blocks; with ``failClosed: true`` any
other failure blocks too):

* ``preToolUse`` (every tool): the call is checked; ``{"permission": "allow"}`` or ``"deny"`` with
  ``user_message`` and ``agent_message``. Cursor does not enforce ``"ask"`` here, so an outcome that needs
  approval is a deny whose reason says so.
* ``beforeShellExecution``: the command is checked as ``action_type="shell"`` (the supply-chain
  governor); approval-like outcomes answer ``"ask"``, which Cursor enforces here.
* ``beforeMCPExecution``: ``tool_input`` arrives as a JSON string; the server is named by
  ``mcp_server_name`` (else ``url`` / ``command`` are kept as facts); ``"ask"`` is enforced.
* ``beforeReadFile``: the read is checked, then the file's ``content`` goes through the result check (DLP):
  content a plugin would redact or withhold is not read (deny).
* ``afterFileEdit``: the edits go through the result check (audited; a secret written is reported on stderr).
* ``postToolUse``: ``tool_output`` (a JSON string) goes through the result check; a redacted or withheld
  MCP output is replaced with ``updated_mcp_tool_output``, other tools get ``additional_context``.
* observe-only events (``afterShellExecution``, ``afterMCPExecution``, ``postToolUseFailure``, ...): ``{}``.

A call reported through two events (``preToolUse`` and the specific hook) is checked and audited once
(:mod:`._once`, keyed on the conversation, generation and the call itself). Any other event, malformed input
or failure is :meth:`HookAnswer.fail_closed` (exit 2). Field names are read in snake_case and in the
camelCase of older Cursor releases; unknown fields are ignored.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agent_security.adapters.hooks._once import Verdict, call_key, decide_once
from agent_security.adapters.hooks._reply import Handler, answer_event, json_answer, reason_text
from agent_security.adapters.hooks.answer import HookAnswer
from agent_security.adapters.hooks.facts import (
    MAX_PATH,
    MAX_TOOL_NAME,
    SEARCH_TOOLS,
    HookInputError,
    ToolCallFacts,
    bounded_text,
    first_text,
    home_directory,
    json_argument,
    tool_call_facts,
)

if TYPE_CHECKING:
    from agent_security.core.models import ResultCheck
    from agent_security.core.pipeline.facade import AgentSecurity

__all__ = ["AGENT_ID", "ASK_EVENTS", "EVENTS", "OBSERVE_ONLY_EVENTS", "answer", "call_facts"]

AGENT_ID = "cursor"
MAX_MESSAGE_CHARS = 2000
ASK_EVENTS = frozenset({"beforeShellExecution", "beforeMCPExecution"})
"""The events whose ``"ask"`` Cursor enforces; elsewhere an approval-like outcome is a deny."""
OBSERVE_ONLY_EVENTS = frozenset(
    {
        "afterShellExecution",
        "afterMCPExecution",
        "postToolUseFailure",
        "afterAgentResponse",
        "afterAgentThought",
        "sessionStart",
        "sessionEnd",
        "stop",
        "subagentStop",
        "preCompact",
    }
)
_PARTNERS = {"shell": "beforeShellExecution", "mcp": "beforeMCPExecution", "file_read": "beforeReadFile"}


def answer(raw: bytes, security: AgentSecurity) -> HookAnswer:
    """The answer to one Cursor hook call (``raw`` is the hook's stdin)."""
    return answer_event(
        raw,
        security,
        host="cursor",
        event_keys=("hook_event_name", "hookEventName"),
        handlers=EVENTS,
        observed=OBSERVE_ONLY_EVENTS,
    )


# -- facts -----------------------------------------------------------------------------------------
def _context(data: Mapping[str, Any], event: str) -> dict[str, str]:
    ctx = {"host": "cursor", "hook_event": event}
    for key, names in (
        ("generation_id", ("generation_id", "generationId")),
        ("tool_use_id", ("tool_use_id", "toolUseId")),
        ("cursor_version", ("cursor_version", "cursorVersion")),
        ("cwd", ("cwd",)),
        ("model", ("model",)),
    ):
        value = data.get(names[0], data.get(names[-1]))
        if isinstance(value, str) and value:
            ctx[key] = value[:1024]
    return ctx


def _session(data: Mapping[str, Any]) -> str | None:
    return first_text(data, "conversation_id", "conversationId")


def _working_directory(data: Mapping[str, Any]) -> str | None:
    """What a relative path of the call is relative to: ``cwd``, else the first workspace root."""
    cwd = bounded_text(data.get("cwd"), MAX_PATH)
    if cwd is None:
        roots = data.get("workspace_roots", data.get("workspaceRoots"))
        if isinstance(roots, list) and roots:
            cwd = bounded_text(roots[0], MAX_PATH)
    return cwd


def _facts(
    data: Mapping[str, Any], tool: str, args: Mapping[str, Any], server: str | None = None, *, mcp: bool = False
) -> ToolCallFacts:
    return tool_call_facts(tool, args, cwd=_working_directory(data), home=home_directory(), mcp_server=server, mcp=mcp)


def _tool_input(data: Mapping[str, Any]) -> dict[str, Any]:
    return json_argument(data.get("tool_input", data.get("toolInput")), "tool_input")


def _named_tool(data: Mapping[str, Any], event: str) -> str:
    tool = first_text(data, "tool_name", "toolName", limit=MAX_TOOL_NAME)
    if tool is None:
        raise HookInputError(f"{event} without tool_name")
    return tool


def _server(data: Mapping[str, Any]) -> str | None:
    return first_text(data, "mcp_server_name", "mcpServerName", "server_name", "serverName")


def call_facts(data: Mapping[str, Any]) -> ToolCallFacts:
    """The facts of the call a ``preToolUse`` / ``postToolUse`` input reports (an MCP call when it names
    the server or the tool is ``MCP:<tool>``)."""
    return _facts(data, _named_tool(data, "preToolUse"), _tool_input(data), _server(data))


def _mcp_facts(data: Mapping[str, Any]) -> ToolCallFacts:
    facts = _facts(data, _named_tool(data, "beforeMCPExecution"), _tool_input(data), _server(data), mcp=True)
    extra = dict(facts.extra)
    url = first_text(data, "mcp_server_url", "mcpServerUrl", "url")
    command = first_text(data, "mcp_server_command", "command")  # the server's command, never a shell call
    if url:
        extra["mcp_server_url"] = url
    if command:
        extra["mcp_server_command"] = command
    return dataclasses.replace(facts, extra=extra)


def _shell_facts(data: Mapping[str, Any]) -> ToolCallFacts:
    command = data.get("command")
    if not isinstance(command, str):
        raise HookInputError("beforeShellExecution without a command string")
    return _facts(data, "Shell", {"command": command})


# -- deciding ----------------------------------------------------------------------------------------
def _fields(facts: ToolCallFacts, data: Mapping[str, Any], event: str) -> dict[str, Any]:
    return facts.check_fields(_context(data, event), agent_id=AGENT_ID, session_id=_session(data))


def _check(security: AgentSecurity, facts: ToolCallFacts, data: Mapping[str, Any], event: str) -> Verdict:
    return Verdict.of(security.check_tool_call(**_fields(facts, data, event)))


def _partner(facts: ToolCallFacts) -> str | None:
    """The event that reports this call besides ``preToolUse`` (a search of a directory has none)."""
    if facts.kind == "file_read" and facts.tool_name.lower() in SEARCH_TOOLS:
        return None
    return _PARTNERS.get(facts.kind)


def _decide(security: AgentSecurity, facts: ToolCallFacts, data: Mapping[str, Any], event: str) -> Verdict:
    """The verdict for this report, checked once per call across ``preToolUse`` and its partner event."""
    partner = _partner(facts)
    generation = first_text(data, "generation_id", "generationId")
    conversation = first_text(data, "conversation_id", "conversationId")
    if partner is None:
        return _check(security, facts, data, event)
    if generation is not None:
        key = call_key("cursor", conversation, generation, facts.subject)
    else:
        tool_use = first_text(data, "tool_use_id", "toolUseId")
        if tool_use is None:
            return _check(security, facts, data, event)
        key = call_key("cursor", conversation, "tool_use", tool_use)
    partners = [partner] if event == "preToolUse" else ["preToolUse"]
    return decide_once(
        security.store, key, event, partners, facts.tool_name, lambda: _check(security, facts, data, event)
    )


def _reason(verdict: Verdict) -> str:
    return reason_text(verdict.reasons)[:MAX_MESSAGE_CHARS] or verdict.outcome


def _permission(verdict: Verdict, event: str, tool: str) -> HookAnswer:
    if verdict.allowed:
        return json_answer({"permission": "allow"})
    why = _reason(verdict)
    if verdict.approval_like:
        if event in ASK_EVENTS:
            text = f"agent-security: {tool} needs approval ({why})"
            return json_answer({"permission": "ask", "user_message": text, "agent_message": text})
        text = (
            f"agent-security: {tool} needs approval ({why}); Cursor cannot ask for it from this hook, so the "
            "call is denied"
        )
        return json_answer({"permission": "deny", "user_message": text, "agent_message": text})
    text = f"agent-security blocked {tool}: {why}"
    return json_answer({"permission": "deny", "user_message": text, "agent_message": text})


# -- events ------------------------------------------------------------------------------------------
def _pre_tool_use(data: Mapping[str, Any], security: AgentSecurity) -> HookAnswer:
    facts = call_facts(data)
    return _permission(_decide(security, facts, data, "preToolUse"), "preToolUse", facts.tool_name)


def _before_shell(data: Mapping[str, Any], security: AgentSecurity) -> HookAnswer:
    facts = _shell_facts(data)
    return _permission(_decide(security, facts, data, "beforeShellExecution"), "beforeShellExecution", "Shell")


def _before_mcp(data: Mapping[str, Any], security: AgentSecurity) -> HookAnswer:
    facts = _mcp_facts(data)
    return _permission(_decide(security, facts, data, "beforeMCPExecution"), "beforeMCPExecution", facts.tool_name)


def _result_problem(checked: ResultCheck) -> str | None:
    """Why the content may not reach the model as it is (withheld or redacted), or ``None``."""
    if not checked.allowed:
        return "withheld: " + reason_text((r.code, r.message) for r in checked.decision.reasons)
    if checked.redacted:
        return "holds data " + ", ".join(checked.redacted_by) + " would redact"
    return None


def _before_read(data: Mapping[str, Any], security: AgentSecurity) -> HookAnswer:
    path = first_text(data, "file_path", "filePath", limit=4096)
    if path is None:
        raise HookInputError("beforeReadFile without file_path")
    content = data.get("content", "")
    if not isinstance(content, str):
        raise HookInputError("beforeReadFile content must be a string")
    facts = _facts(data, "Read", {"file_path": path})
    verdict = _decide(security, facts, data, "beforeReadFile")
    if not verdict.allowed:
        return _permission(verdict, "beforeReadFile", f"reading {path[:256]}")
    checked = security.check_result(content, **_fields(facts, data, "beforeReadFile"))
    problem = _result_problem(checked)
    if problem is not None and not (checked.would_block or security.mode == "observe"):
        text = f"agent-security: {path[:256]} is not read: its content {problem}"[:MAX_MESSAGE_CHARS]
        return json_answer({"permission": "deny", "user_message": text, "agent_message": text})
    return json_answer({"permission": "allow"})


def _after_file_edit(data: Mapping[str, Any], security: AgentSecurity) -> HookAnswer:
    path = first_text(data, "file_path", "filePath", limit=4096)
    if path is None:
        raise HookInputError("afterFileEdit without file_path")
    edits = data.get("edits", [])
    if not isinstance(edits, list):
        raise HookInputError("afterFileEdit edits must be a list")
    written: list[str] = []
    for edit in edits:
        if not isinstance(edit, dict):
            raise HookInputError("afterFileEdit edits must be objects")
        new = edit.get("new_string", edit.get("newString", ""))
        if not isinstance(new, str):
            raise HookInputError("afterFileEdit new_string must be a string")
        written.append(new)
    facts = _facts(data, "Write", {"file_path": path})
    checked = security.check_result({"file_path": path, "written": written}, **_fields(facts, data, "afterFileEdit"))
    problem = _result_problem(checked)
    if problem is not None:
        return json_answer(
            {}, stderr=f"agent-security: warning: the edit of {path[:256]} wrote content that {problem}\n"
        )
    return json_answer({})


def _post_tool_use(data: Mapping[str, Any], security: AgentSecurity) -> HookAnswer:
    facts = call_facts(data)
    raw_output = data.get("tool_output", data.get("toolOutput"))
    output: Any = raw_output
    if isinstance(raw_output, str):
        try:
            output = json.loads(raw_output)
        except ValueError:
            output = raw_output
    checked = security.check_result(output, **_fields(facts, data, "postToolUse"))
    problem = _result_problem(checked)
    if problem is None or security.mode == "observe":
        return json_answer({})
    if facts.kind == "mcp":
        if checked.allowed:
            return json_answer({"updated_mcp_tool_output": checked.result})
        text = f"agent-security withheld the output of {facts.tool_name}: {problem}"[:MAX_MESSAGE_CHARS]
        return json_answer({"updated_mcp_tool_output": {"content": [{"type": "text", "text": text}], "isError": True}})
    text = (
        f"agent-security: the output of {facts.tool_name} {problem}; do not use, repeat or store the sensitive "
        "parts of it"
    )[:MAX_MESSAGE_CHARS]
    return json_answer({"additional_context": text})


EVENTS: dict[str, Handler] = {
    "preToolUse": _pre_tool_use,
    "beforeShellExecution": _before_shell,
    "beforeMCPExecution": _before_mcp,
    "beforeReadFile": _before_read,
    "afterFileEdit": _after_file_edit,
    "postToolUse": _post_tool_use,
}
"""The events this module answers, each by its handler."""
