"""A host's tool call as the pipeline's check fields: the facts each plugin reads.

Host-neutral: Claude Code names its tools ``Bash``, ``Write``, ``mcp__<server>__<tool>``...; other hosts
(Cursor, Copilot CLI) use close relatives, which :func:`tool_call_facts` accepts too. Pure functions of
their inputs (no file system access, no environment reads: the caller gives the working directory and
home), safe on hostile input (any JSON value may arrive where a string is expected) and bounded.

What each kind of tool becomes:

* **shell** (``Bash``, ``PowerShell``, ``run_terminal_cmd``...): ``action_type="shell"`` and
  ``tool_args={"command": ...}`` plus the host's other arguments, so the supply-chain governor reads the
  command (a shell call whose command is not a string reaches it as such, and is blocked there);
* **file read / write** (``Read``, ``Glob``, ``Grep`` / ``Write``, ``Edit``, ``MultiEdit``,
  ``NotebookEdit``): ``action_type="file_read"`` / ``"file_write"``; every path argument is made absolute
  against the host's working directory and lexically normalised (``..`` folded, ``~`` expanded), so a
  policy rule on ``file_path`` sees ``/home/u/.ssh/id_rsa`` and not ``../.ssh/id_rsa``. Symbolic links
  are not followed (that needs the file system; the host resolves them when it runs the tool);
* **web** (``WebFetch`` / ``WebSearch``): ``action_type="http_request"`` / ``"web_search"``; the URL stays in
  ``url`` (egress reads every argument) and its host is a context fact;
* **MCP** (``mcp__<server>__<tool>``, and plugin servers ``mcp__plugin_<plugin>_<server>__<tool>``):
  ``tool_identity={"tool_name": "<server>/<tool>", "provider": "mcp"}``, which the supply-chain guard
  checks against its pin lock; the tool name is kept as the host spells it (policy rules and the guard
  parse it as ``mcp__<server>__<tool>``). A plugin server's name is the whole ``plugin_<plugin>_<server>``
  segment, the key Claude Code itself uses; the plugin part is recorded as a hint only (plugin and server
  names may both hold underscores, so the split is not unique).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "FILE_READ_TOOLS",
    "FILE_WRITE_TOOLS",
    "MAX_NAME",
    "PATH_ARGS",
    "SHELL_TOOLS",
    "McpName",
    "ToolCallFacts",
    "bounded_text",
    "parse_mcp_name",
    "resolve_path",
    "tool_call_facts",
]

MAX_NAME = 256
"""Longest tool, server, agent or session name kept (longer ones are cut, never dropped)."""
MAX_PATH = 4096
"""Longest path resolved; a longer one is passed on as given (the policy still sees it)."""

SHELL_TOOLS = frozenset(
    {"bash", "powershell", "pwsh", "shell", "run_terminal_cmd", "run_terminal_command", "terminal", "shell_command"}
)
"""Tool names (lower case) whose call runs a shell command."""
FILE_READ_TOOLS = frozenset({"read", "glob", "grep", "ls", "notebookread", "read_file", "list_dir", "file_search"})
FILE_WRITE_TOOLS = frozenset(
    {"write", "edit", "multiedit", "notebookedit", "write_file", "edit_file", "delete_file", "search_replace"}
)
WEB_FETCH_TOOLS = frozenset({"webfetch", "web_fetch", "fetch"})
WEB_SEARCH_TOOLS = frozenset({"websearch", "web_search"})
PATH_ARGS = ("file_path", "path", "notebook_path", "target_file", "filePath")
"""Argument names that hold a path the tool reads or writes."""
_SHELL_COMMAND_ARGS = ("command", "cmd", "script")

_MCP_NAME = re.compile(r"^mcp__(?P<server>[^\s]+?)__(?P<tool>[^\s]+)$", re.DOTALL)


def bounded_text(value: object, limit: int = MAX_NAME) -> str | None:
    """``value`` if it is a non-empty string, cut to ``limit`` characters; otherwise ``None``."""
    if not isinstance(value, str) or not value:
        return None
    return value[:limit]


@dataclass(frozen=True, slots=True)
class McpName:
    """The parts of an MCP tool name as a host spells it."""

    server: str
    """The server's key: ``github`` for ``mcp__github__create_issue``, ``plugin_acme_github`` for a plugin's."""
    tool: str
    plugin: str | None = None
    """For ``mcp__plugin_<plugin>_<server>__<tool>``: the plugin, read up to the first ``_`` (a hint)."""


def parse_mcp_name(tool_name: str) -> McpName | None:
    """The server and tool of ``mcp__<server>__<tool>`` (the server ends at the first ``__``), else ``None``."""
    if len(tool_name) > 4 * MAX_NAME:
        return None
    match = _MCP_NAME.match(tool_name)
    if match is None:
        return None
    server, tool = match["server"], match["tool"]
    plugin = None
    if server.startswith("plugin_"):
        head = server[len("plugin_") :].split("_", 1)[0]
        plugin = head or None
    return McpName(server=server, tool=tool, plugin=plugin)


def resolve_path(path: str, cwd: str | None, home: str | None = None) -> str:
    """``path`` made absolute against ``cwd`` (POSIX or Windows style, as the host gave it) and normalised
    lexically. ``~`` and ``~/...`` expand to ``home`` when given. A path that cannot be resolved safely
    (too long, NUL) is returned unchanged."""
    if len(path) > MAX_PATH or "\x00" in path:
        return path
    if home and (path == "~" or path.startswith("~/")):
        path = home.rstrip("/") + path[1:]
    if _is_windows_path(path) or (cwd is not None and _is_windows_path(cwd) and not path.startswith("/")):
        return _resolve_windows(path, cwd)
    if not path.startswith("/"):
        if cwd is None or not cwd.startswith("/") or len(cwd) > MAX_PATH:
            return path  # nothing to anchor it on: the policy sees it as given
        path = cwd.rstrip("/") + "/" + path
    normalised = posixpath.normpath(path)
    return "/" + normalised.lstrip("/")  # normpath keeps a leading "//"; one is enough


def _is_windows_path(path: str) -> bool:
    return len(path) >= 3 and path[0].isalpha() and path[1] == ":" and path[2] in "\\/"


def _resolve_windows(path: str, cwd: str | None) -> str:
    import ntpath

    if not _is_windows_path(path):
        if cwd is None or not _is_windows_path(cwd) or len(cwd) > MAX_PATH:
            return path
        path = ntpath.join(cwd, path)
    return ntpath.normpath(path)


@dataclass(frozen=True, slots=True)
class ToolCallFacts:
    """One tool call as check fields (see :meth:`check_fields`)."""

    tool_name: str
    tool_args: dict[str, Any]
    action_type: str
    kind: str
    """``shell``, ``file_read``, ``file_write``, ``web_fetch``, ``web_search``, ``mcp`` or ``tool``."""
    mcp: McpName | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    """Facts for ``context`` (audited with the call): resolved paths, URL host, MCP server."""

    def tool_identity(self) -> dict[str, Any] | None:
        if self.mcp is None:
            return None
        return {"tool_name": f"{self.mcp.server}/{self.mcp.tool}"[: 2 * MAX_NAME], "provider": "mcp"}

    def check_fields(self) -> dict[str, Any]:
        """``tool_name``, ``tool_args``, ``action_type`` and (for MCP) ``tool_identity``."""
        fields: dict[str, Any] = {
            "tool_name": self.tool_name,
            "tool_args": self.tool_args,
            "action_type": self.action_type,
        }
        identity = self.tool_identity()
        if identity is not None:
            fields["tool_identity"] = identity
        return fields


def tool_call_facts(
    tool_name: str, tool_input: Mapping[str, Any], *, cwd: str | None = None, home: str | None = None
) -> ToolCallFacts:
    """The facts of a call of ``tool_name`` with ``tool_input`` (the host's arguments, a JSON object)."""
    args: dict[str, Any] = dict(tool_input)
    key = tool_name.lower()
    extra: dict[str, Any] = {}
    mcp = parse_mcp_name(tool_name)
    if mcp is not None:
        extra["mcp_server"] = mcp.server[:MAX_NAME]
        extra["mcp_tool"] = mcp.tool[:MAX_NAME]
        if mcp.plugin:
            extra["mcp_plugin"] = mcp.plugin[:MAX_NAME]
        return ToolCallFacts(tool_name, args, "tool_call", "mcp", mcp, extra)
    if key in SHELL_TOOLS:
        if "command" not in args:  # some hosts name it otherwise: the governor reads "command" first
            for name in _SHELL_COMMAND_ARGS[1:]:
                if name in args:
                    args["command"] = args[name]
                    break
        if cwd is not None:
            extra["cwd"] = cwd[:MAX_PATH]
        return ToolCallFacts(tool_name, args, "shell", "shell", None, extra)
    if key in FILE_READ_TOOLS or key in FILE_WRITE_TOOLS:
        kind = "file_write" if key in FILE_WRITE_TOOLS else "file_read"
        _resolve_paths(args, cwd, home, extra)
        searches = key in ("glob", "grep", "ls", "list_dir", "file_search")
        if searches and "path" not in args and cwd is not None:  # no path: the tool searches the working directory
            extra["paths"] = [cwd[:MAX_PATH]]
        return ToolCallFacts(tool_name, args, kind, kind, None, extra)
    if key in WEB_FETCH_TOOLS:
        host = _url_host(args.get("url"))
        if host is not None:
            extra["url_host"] = host
        return ToolCallFacts(tool_name, args, "http_request", "web_fetch", None, extra)
    if key in WEB_SEARCH_TOOLS:
        return ToolCallFacts(tool_name, args, "web_search", "web_search", None, extra)
    return ToolCallFacts(tool_name, args, "tool_call", "tool", None, extra)


def _resolve_paths(args: dict[str, Any], cwd: str | None, home: str | None, extra: dict[str, Any]) -> None:
    """Make every path argument absolute in place; the resolved paths go to ``extra["paths"]``."""
    paths: list[str] = []
    for name in PATH_ARGS:
        value = args.get(name)
        if isinstance(value, str) and value:
            resolved = resolve_path(value, cwd, home)
            args[name] = resolved
            paths.append(resolved[:MAX_PATH])
    if paths:
        extra["paths"] = paths


def _url_host(url: object) -> str | None:
    if not isinstance(url, str) or len(url) > 64 * 1024:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return host[:MAX_NAME] if host else None
