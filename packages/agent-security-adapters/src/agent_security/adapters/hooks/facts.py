"""A host's tool call as the pipeline's check fields: the facts each plugin reads, the same in every host.

One mapping for Claude Code, Cursor and the GitHub Copilot CLI: the hosts name the same tools differently
(``Bash`` / ``Shell`` / ``bash``, ``Write`` / ``create``, ``mcp__<server>__<tool>`` / ``MCP:<tool>``), and
:func:`tool_call_facts` gives one call the same ``action_type``, arguments, MCP identity and context facts
whichever host reports it, so a policy or plugin decides it the same way. The tool name stays as the host
spells it (it is what the user sees and what the host's own matchers use; policy rules compare it
case-insensitively). The mapping is a pure function of its inputs (the caller gives the working directory
and home), safe on hostile input (any JSON value may arrive where a string is expected) and bounded; the
input helpers (:func:`load_object`, :func:`first_text`, :func:`json_argument`) raise
:class:`HookInputError` for input the host does not document, which every host module turns into a block.

What each kind of tool becomes:

* **shell** (``Bash``, ``Shell``, ``PowerShell``, ``run_terminal_cmd``...): ``action_type="shell"`` and
  ``tool_args={"command": ...}`` plus the host's other arguments, so the supply-chain governor reads the
  command (a shell call whose command is not a string reaches it as such, and is blocked there);
* **file read / write** (``Read``, ``view``, ``Glob``, ``Grep`` / ``Write``, ``create``, ``Edit``,
  ``str_replace``, ``Delete``...): ``action_type="file_read"`` / ``"file_write"``; every path argument is
  made absolute against the host's working directory and lexically normalised (``..`` folded, ``~``
  expanded), so a policy rule on ``file_path`` sees ``/home/u/.ssh/id_rsa`` and not ``../.ssh/id_rsa``.
  A one-file tool whose host names the path otherwise (``path``, ``notebook_path``, ``target_file``...)
  also gets it as ``file_path``: one rule covers every host. Symbolic links are not followed (that needs
  the file system; the host resolves them when it runs the tool);
* **web** (``WebFetch``, ``web_fetch``, ``fetch`` / ``WebSearch``): ``action_type="http_request"`` (the
  channel name egress uses) / ``"web_search"``; the URL stays in ``url`` (egress reads every argument)
  and its host is a context fact;
* **MCP** (``mcp__<server>__<tool>``, plugin servers ``mcp__plugin_<plugin>_<server>__<tool>``, Cursor's
  ``MCP:<tool>`` with the server named beside it): the tool name ``mcp__<server>__<tool>`` (``MCP:<tool>``
  when the host does not name the server) and ``tool_identity={"tool_name": "<server>/<tool>", "provider":
  "mcp"}`` (``"<tool>"`` without a server), which the supply-chain guard checks against its pin lock. A
  plugin server's name is the whole ``plugin_<plugin>_<server>`` segment, the key Claude Code itself uses;
  the plugin part is recorded as a hint only (plugin and server names may both hold underscores).
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "FILE_READ_TOOLS",
    "FILE_WRITE_TOOLS",
    "MAX_INPUT_BYTES",
    "MAX_NAME",
    "MAX_TOOL_NAME",
    "PATH_ARGS",
    "SHELL_TOOLS",
    "WEB_FETCH_TOOLS",
    "WEB_SEARCH_TOOLS",
    "HookInputError",
    "McpName",
    "ToolCallFacts",
    "bounded_text",
    "first_text",
    "home_directory",
    "json_argument",
    "load_object",
    "parse_mcp_name",
    "resolve_path",
    "tool_call_facts",
]

MAX_NAME = 256
"""Longest server, agent or session name kept (longer ones are cut, never dropped)."""
MAX_TOOL_NAME = 4 * MAX_NAME
"""Longest tool name kept (cut beyond); an ``mcp__`` name longer than this is not parsed."""
MAX_PATH = 4096
"""Longest path resolved; a longer one is passed on as given (the policy still sees it)."""
MAX_FACT_CHARS = 1024
"""Identifiers taken from the host (ids, names, working directories in the context) are cut to this."""
MAX_INPUT_BYTES = 16 * 1024 * 1024
"""The largest hook input read by default (a file's content arrives in some events); more is refused."""

SHELL_TOOLS = frozenset(
    {
        "bash",
        "sh",
        "zsh",
        "powershell",
        "pwsh",
        "shell",
        "run_terminal_cmd",
        "run_terminal_command",
        "terminal",
        "shell_command",
    }
)
"""Tool names (normalised: lower case, ``-`` as ``_``) whose call runs a shell command."""
FILE_READ_TOOLS = frozenset(
    {
        "read",
        "view",
        "readfile",
        "open_file",
        "glob",
        "grep",
        "ls",
        "notebookread",
        "read_file",
        "list_dir",
        "file_search",
    }
)
FILE_WRITE_TOOLS = frozenset(
    {
        "write",
        "create",
        "edit",
        "multiedit",
        "notebookedit",
        "str_replace",
        "search_replace",
        "write_file",
        "edit_file",
        "delete",
        "delete_file",
    }
)
SEARCH_TOOLS = frozenset({"glob", "grep", "ls", "list_dir", "file_search"})
"""File tools whose path is a directory searched (no ``file_path`` alias; no path: the working directory)."""
WEB_FETCH_TOOLS = frozenset({"webfetch", "web_fetch", "fetch", "fetch_url"})
WEB_SEARCH_TOOLS = frozenset({"websearch", "web_search"})
PATH_ARGS = ("file_path", "path", "notebook_path", "target_file", "filePath", "targetFile", "filename")
"""Argument names that hold a path the tool reads or writes."""
_SHELL_COMMAND_ARGS = ("command", "cmd", "script")

_MCP_NAME = re.compile(r"^mcp__(?P<server>[^\s]+?)__(?P<tool>[^\s]+)$", re.DOTALL)


class HookInputError(ValueError):
    """The hook input is not what the host documents (the call is then blocked)."""


# -- reading the host's input -------------------------------------------------------------------------
def load_object(raw: bytes, *, limit: int = MAX_INPUT_BYTES) -> dict[str, Any]:
    """The hook input as a JSON object (no duplicate keys, no NaN, at most ``limit`` bytes); anything else
    raises :class:`HookInputError`."""
    if len(raw) > limit:
        raise HookInputError(f"hook input exceeds {limit} bytes")
    from agent_security.core.arguments import strict_json_loads

    try:
        data = strict_json_loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise HookInputError(f"hook input is not UTF-8: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise HookInputError(f"hook input is not valid JSON: {str(exc)[:200]}") from None
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


def bounded_text(value: object, limit: int = MAX_NAME) -> str | None:
    """``value`` if it is a non-empty string, cut to ``limit`` characters; otherwise ``None`` (for fields
    that are only recorded: another type is ignored, not refused)."""
    if not isinstance(value, str) or not value:
        return None
    return value[:limit]


def json_argument(value: Any, what: str) -> dict[str, Any]:
    """Tool arguments given as an object or as a JSON string holding one (Cursor's ``beforeMCPExecution``,
    the Copilot CLI's ``toolArgs``); missing is ``{}``; anything else raises :class:`HookInputError`."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        from agent_security.core.arguments import strict_json_loads

        try:
            value = strict_json_loads(value)
        except (ValueError, RecursionError) as exc:
            raise HookInputError(f"{what} is a string that is not valid JSON ({str(exc)[:200]})") from None
        if value is None:
            return {}
    if not isinstance(value, dict):
        raise HookInputError(f"{what} must be an object (or a JSON string of one), not {type(value).__name__}")
    return value


def home_directory() -> str | None:
    """The user's home directory (``~`` in paths expands to it), or ``None`` when none is known."""
    from pathlib import Path

    try:
        return str(Path.home())
    except RuntimeError:  # no home directory known: "~" stays as given
        return None


# -- names and paths ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class McpName:
    """The parts of an MCP tool name as a host spells it."""

    server: str | None
    """The server's key: ``github`` for ``mcp__github__create_issue``, ``plugin_acme_github`` for a plugin's;
    ``None`` when the host did not name it (Cursor's ``MCP:<tool>``)."""
    tool: str
    plugin: str | None = None
    """For ``mcp__plugin_<plugin>_<server>__<tool>``: the plugin, read up to the first ``_`` (a hint)."""


def parse_mcp_name(tool_name: str) -> McpName | None:
    """The server and tool of ``mcp__<server>__<tool>`` (the server ends at the first ``__``), else ``None``."""
    if len(tool_name) > MAX_TOOL_NAME:
        return None
    match = _MCP_NAME.match(tool_name)
    if match is None:
        return None
    return _mcp_name(match["server"], match["tool"])


def _mcp_name(server: str | None, tool: str) -> McpName:
    plugin = None
    if server is not None and server.startswith("plugin_"):
        plugin = server[len("plugin_") :].split("_", 1)[0] or None
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


# -- the facts of one call ----------------------------------------------------------------------------
def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


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
    """Facts for ``context`` (audited with the call): resolved paths, URL host, MCP server, working directory."""

    def tool_identity(self) -> dict[str, Any] | None:
        if self.mcp is None:
            return None
        name = f"{self.mcp.server}/{self.mcp.tool}" if self.mcp.server else self.mcp.tool
        return {"tool_name": name[:MAX_TOOL_NAME], "provider": "mcp"}

    @property
    def subject(self) -> list[Any]:
        """What makes two reports of this call (by two events of one host) the same call: the command, the
        MCP tool and its arguments, the path read, else the tool and its arguments."""
        if self.kind == "shell":
            command = self.tool_args.get("command")
            return ["shell", command if isinstance(command, str) else _canonical(self.tool_args)]
        if self.mcp is not None:
            return ["mcp", self.mcp.tool, _canonical(self.tool_args)]
        if self.kind == "file_read":
            paths = self.extra.get("paths")
            return ["file_read", paths[0] if paths else _canonical(self.tool_args)]
        return [self.kind, self.tool_name, _canonical(self.tool_args)]

    def check_fields(self, context: Mapping[str, Any] | None = None, **call: Any) -> dict[str, Any]:
        """``tool_name``, ``tool_args``, ``action_type`` and (for MCP) ``tool_identity``, with the other
        keyword arguments of the check (``call``; a ``None`` value is left out) and, when ``context`` is
        given, the context with this call's facts (:attr:`extra`) added."""
        fields: dict[str, Any] = {k: v for k, v in call.items() if v is not None}
        fields.update(tool_name=self.tool_name, tool_args=self.tool_args, action_type=self.action_type)
        identity = self.tool_identity()
        if identity is not None:
            fields["tool_identity"] = identity
        if context is not None:
            fields["context"] = {**context, **self.extra}
        return fields


def _normalised(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def tool_call_facts(
    tool_name: str,
    tool_input: Mapping[str, Any],
    *,
    cwd: str | None = None,
    home: str | None = None,
    mcp_server: str | None = None,
    mcp: bool = False,
) -> ToolCallFacts:
    """The facts of a call of ``tool_name`` with ``tool_input`` (the host's arguments, a JSON object).
    ``mcp_server`` names the MCP server when the host gives it beside the tool name (Cursor); with it, or
    with ``mcp`` (an event only MCP calls reach), the call is an MCP call whatever the name."""
    args: dict[str, Any] = dict(tool_input)
    tool_name = tool_name.strip()[:MAX_TOOL_NAME]
    if not tool_name:
        raise HookInputError("tool call without a tool name")
    extra: dict[str, Any] = {}
    called = _mcp_call(tool_name, mcp_server or None, mcp or bool(mcp_server))
    if called is not None:
        name = f"mcp__{called.server}__{called.tool}" if called.server else f"MCP:{called.tool}"
        if called.server:
            extra["mcp_server"] = called.server[:MAX_NAME]
        extra["mcp_tool"] = called.tool[:MAX_NAME]
        if called.plugin:
            extra["mcp_plugin"] = called.plugin[:MAX_NAME]
        return ToolCallFacts(name[:MAX_TOOL_NAME], args, "tool_call", "mcp", called, extra)
    key = _normalised(tool_name)
    if key in SHELL_TOOLS:
        if "command" not in args:  # some hosts name it otherwise: the governor reads "command" first
            for arg in _SHELL_COMMAND_ARGS[1:]:
                if arg in args:
                    args["command"] = args[arg]
                    break
        if cwd is not None:
            extra["cwd"] = cwd[:MAX_PATH]
        return ToolCallFacts(tool_name, args, "shell", "shell", None, extra)
    if key in FILE_READ_TOOLS or key in FILE_WRITE_TOOLS:
        kind = "file_write" if key in FILE_WRITE_TOOLS else "file_read"
        _resolve_paths(args, cwd, home, extra, alias=key not in SEARCH_TOOLS)
        if key in SEARCH_TOOLS and "path" not in args and cwd is not None:  # no path: it searches the cwd
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


def _mcp_call(tool_name: str, server: str | None, forced: bool) -> McpName | None:
    """The MCP tool of a call named ``mcp__<server>__<tool>`` or ``MCP:<tool>``, or of any name when
    ``forced`` (the host names the ``server`` beside it, which then wins over one in the name)."""
    parsed = parse_mcp_name(tool_name)
    if parsed is not None:
        return parsed if server is None or server == parsed.server else _mcp_name(server, parsed.tool)
    prefixed = tool_name.startswith("MCP:")
    if not (prefixed or forced):
        return None
    tool = tool_name[len("MCP:") :].strip() if prefixed else tool_name
    if not tool:
        raise HookInputError("MCP call without a tool name")
    return _mcp_name(server, tool)


def _resolve_paths(
    args: dict[str, Any], cwd: str | None, home: str | None, extra: dict[str, Any], *, alias: bool
) -> None:
    """Make every path argument absolute in place; the resolved paths go to ``extra["paths"]``. With
    ``alias``, the first path is also ``file_path`` when the host named it otherwise."""
    paths: list[str] = []
    first: str | None = None
    for name in PATH_ARGS:
        value = args.get(name)
        if isinstance(value, str) and value:
            resolved = resolve_path(value, cwd, home)
            args[name] = resolved
            paths.append(resolved[:MAX_PATH])
            first = first or resolved
    if paths:
        extra["paths"] = paths
    if alias and first is not None and "file_path" not in args:
        args["file_path"] = first


def _url_host(url: object) -> str | None:
    if not isinstance(url, str) or len(url) > 64 * 1024:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return host[:MAX_NAME] if host else None
