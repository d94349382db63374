"""How a host's tool call becomes the fields of a pipeline check (Cursor and the GitHub Copilot CLI).

Private and small on purpose: the hosts name the same tools differently (``Shell`` / ``bash``, ``Read`` /
``view``, ``MCP:<tool>`` / ``mcp__<server>__<tool>``), and each tool kind needs its own facts for the
plugins that read them: a shell command as ``action_type="shell"`` with ``{"command": ...}`` for the
supply-chain governor, an MCP tool as ``mcp__<server>__<tool>`` (or, with the server unknown, an MCP
``tool_identity``) for pinning, file paths and URLs in the arguments for egress. Standard library only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MAX_INPUT_BYTES",
    "CallFacts",
    "HookInputError",
    "call_facts",
    "first_text",
    "json_argument",
    "load_object",
    "mcp_facts",
]

MAX_INPUT_BYTES = 16 * 1024 * 1024
"""The largest hook input read (a file's content arrives in ``beforeReadFile``); more is refused."""
MAX_FACT_CHARS = 1024
"""Identifiers taken from the host (ids, names, paths in the context) are cut to this length."""

_SHELL_NAMES = frozenset(
    {"shell", "bash", "sh", "zsh", "powershell", "pwsh", "terminal", "run_terminal_cmd", "run_terminal_command"}
)
_READ_NAMES = frozenset({"read", "read_file", "view", "readfile", "open_file"})
_WRITE_NAMES = frozenset(
    {"write", "edit", "multiedit", "create", "delete", "str_replace", "write_file", "edit_file", "delete_file"}
)
_FETCH_NAMES = frozenset({"webfetch", "web_fetch", "fetch", "fetch_url"})
_PATH_KEYS = ("file_path", "filePath", "path", "target_file", "targetFile", "filename")


class HookInputError(ValueError):
    """The hook's input is not what the host documents (the call is then blocked)."""


@dataclass(frozen=True, slots=True)
class CallFacts:
    """The fields of one ``check_tool_call`` (and of its ``check_result``), plus what identifies the call."""

    kind: str
    """``shell``, ``mcp``, ``read``, ``write``, ``fetch`` or ``tool``."""
    tool_name: str
    tool_args: dict[str, Any]
    action_type: str
    tool_identity: dict[str, Any] | None = None
    subject: Any = None
    """What makes two reports of this call the same call (the command, the path, the MCP tool and args)."""
    extra: dict[str, str] = field(default_factory=dict)

    def check_fields(self, *, agent_id: str, session_id: str | None, context: Mapping[str, Any]) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "tool_name": self.tool_name,
            "tool_args": self.tool_args,
            "action_type": self.action_type,
            "agent_id": agent_id,
            "context": {**context, **self.extra},
        }
        if session_id:
            fields["session_id"] = session_id
        if self.tool_identity is not None:
            fields["tool_identity"] = self.tool_identity
        return fields


def load_object(raw: bytes) -> dict[str, Any]:
    """The hook input as a JSON object; anything else raises :class:`HookInputError`."""
    if len(raw) > MAX_INPUT_BYTES:
        raise HookInputError(f"hook input larger than {MAX_INPUT_BYTES} bytes")
    from agent_security.core.arguments import strict_json_loads

    try:
        data = strict_json_loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise HookInputError(f"hook input is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise HookInputError(f"hook input is a JSON {type(data).__name__}, not an object")
    return data


def first_text(data: Mapping[str, Any], *keys: str, limit: int = MAX_FACT_CHARS) -> str | None:
    """The first of ``keys`` holding a non-empty string (snake_case and camelCase spellings both given
    by the caller), cut to ``limit``; a present key of another type raises :class:`HookInputError`."""
    for key in keys:
        value = data.get(key)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise HookInputError(f"{key} must be a string, not {type(value).__name__}")
        return value[:limit]
    return None


def json_argument(value: Any, what: str) -> dict[str, Any]:
    """Tool arguments given as an object or as a JSON string holding one (Cursor's ``beforeMCPExecution``,
    the Copilot CLI's ``toolArgs``); missing is ``{}``; anything else raises :class:`HookInputError`."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        from agent_security.core.arguments import strict_json_loads

        try:
            value = strict_json_loads(value)
        except ValueError as exc:
            raise HookInputError(f"{what} is a string that is not valid JSON ({exc})") from None
        if value is None:
            return {}
    if not isinstance(value, dict):
        raise HookInputError(f"{what} must be an object (or a JSON string of one), not {type(value).__name__}")
    return value


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _norm(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def _path(args: Mapping[str, Any]) -> str | None:
    for key in _PATH_KEYS:
        value = args.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def mcp_facts(tool: str, args: dict[str, Any], server: str | None, extra: dict[str, str]) -> CallFacts:
    """An MCP call: ``mcp__<server>__<tool>`` when the server is named (what pin locks and policies key
    on), else ``MCP:<tool>`` with an MCP ``tool_identity`` (the guard then finds the tool's one server in
    the lock, or treats it as unverified)."""
    if tool.startswith("MCP:"):
        tool = tool[4:]
    if tool.startswith("mcp__"):
        srv, sep, rest = tool[5:].partition("__")
        if sep and srv and rest:
            server, tool = server or srv, rest
    tool = tool.strip()
    if not tool:
        raise HookInputError("MCP call without a tool name")
    name = f"mcp__{server}__{tool}" if server else f"MCP:{tool}"
    identity: dict[str, Any] = {"tool_name": tool, "provider": "mcp"}
    return CallFacts(
        kind="mcp",
        tool_name=name[:256],
        tool_args=args,
        action_type="tool_call",
        tool_identity=identity,
        subject=["mcp", tool, _canonical(args)],
        extra=extra,
    )


def call_facts(tool_name: str, args: dict[str, Any], *, extra: dict[str, str] | None = None) -> CallFacts:
    """The facts of a call to ``tool_name`` with ``args`` (names as Cursor, the Copilot CLI or Claude Code
    give them)."""
    extra = dict(extra or {})
    name = tool_name.strip()
    if not name:
        raise HookInputError("tool call without a tool name")
    if name.startswith(("MCP:", "mcp__")):
        return mcp_facts(name, args, None, extra)
    short = _norm(name)
    if short in _SHELL_NAMES:
        command = args.get("command", args.get("cmd"))
        if not isinstance(command, str):
            # the governor blocks a shell call without a readable command: keep it shell-shaped
            return CallFacts("shell", name[:256], dict(args), "shell", subject=["shell", _canonical(args)], extra=extra)
        return CallFacts("shell", name[:256], {"command": command}, "shell", subject=["shell", command], extra=extra)
    if short in _READ_NAMES:
        path = _path(args)
        return CallFacts(
            "read", name[:256], dict(args), "file_read", subject=["read", path or _canonical(args)], extra=extra
        )
    if short in _WRITE_NAMES:
        return CallFacts(
            "write", name[:256], dict(args), "file_write", subject=["write", _canonical(args)], extra=extra
        )
    if short in _FETCH_NAMES:
        return CallFacts(
            "fetch", name[:256], dict(args), "web_browse", subject=["fetch", _canonical(args)], extra=extra
        )
    return CallFacts("tool", name[:256], dict(args), "tool_call", subject=["tool", name, _canonical(args)], extra=extra)
