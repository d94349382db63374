"""What a server is for: the capabilities its tools provide, read from their names, descriptions, parameters
and annotations, and which declared permissions those capabilities account for.

The scanner judges risk against this purpose: a filesystem server that writes files is doing its job (a
powerful capability, medium), a weather server that asks for ``shell.execute``, ``env.read`` and
``network.outbound`` is not (permissions beyond its purpose, high).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import re2

from agent_security.supply_chain.mcp.definitions import ToolDefinition

__all__ = [
    "CAPABILITY_LEVEL",
    "JUSTIFIES",
    "Capability",
    "ToolPurpose",
    "tokens",
    "tool_purpose",
]

Capability = Literal[
    "code_execution",
    "write",
    "delete",
    "outbound_message",
    "browser",
    "environment",
    "database_write",
    "network_fetch",
    "read_only",
]

CAPABILITY_LEVEL: dict[str, str] = {
    "code_execution": "high",
    "write": "medium",
    "delete": "medium",
    "outbound_message": "medium",
    "browser": "medium",
    "environment": "medium",
    "database_write": "medium",
    "network_fetch": "low",
    "read_only": "low",
}
"""The risk each capability carries on its own: arbitrary code execution is high; a legitimate but powerful
capability is medium; reading is low."""

JUSTIFIES: dict[str, frozenset[str]] = {
    "filesystem.write": frozenset({"write", "delete"}),
    "network.outbound": frozenset({"outbound_message", "network_fetch", "browser"}),
    "process.spawn": frozenset({"code_execution"}),
    "shell.execute": frozenset({"code_execution"}),
    "env.read": frozenset({"environment"}),
    "database.admin": frozenset({"database_write"}),
}
"""A high-risk permission is within the server's purpose when one of its tools has one of these capabilities."""

_EXEC_TOKENS = frozenset(
    {"exec", "eval", "shell", "bash", "sh", "zsh", "powershell", "pwsh", "spawn", "subprocess", "popen", "sudo", "repl"}
)
_RUN_VERBS = frozenset({"run", "execute", "exec", "eval", "invoke"})
_CODE_NOUNS = frozenset(
    {
        "command",
        "commands",
        "cmd",
        "code",
        "script",
        "scripts",
        "shell",
        "python",
        "javascript",
        "js",
        "bash",
        "program",
    }
)
_COMMAND_PARAMS = frozenset({"command", "cmd", "shellcommand", "commandline", "bashcommand", "shellcmd"})
"""Parameters that can only hold a command line: the tool runs it."""
_CODE_PARAMS = frozenset({"code", "script", "shell", "exec", "source"})
"""Parameters that hold code the tool may run or merely handle (a formatter): running it needs another sign."""
_WRITE_VERBS = frozenset(
    {"write", "create", "edit", "update", "modify", "move", "rename", "add", "set", "put", "upload", "commit",
     "checkout", "reset", "insert", "append", "patch", "save", "push", "merge", "apply", "replace", "mkdir", "copy"}
)  # fmt: skip
_AMBIGUOUS_VERBS = frozenset({"add", "set", "copy", "apply", "put", "save"})
"""Verbs that name a write only as a tool's first word (``add_observations``; not ``get_sum_and_add``)."""
_SYSTEM_PAIRS = frozenset({("system", "call"), ("system", "command"), ("system", "cmd"), ("system", "exec")})
"""``system_call``, ``system_command``: a ``system`` tool that runs commands (not ``run_system_diagnostic``)."""
_DELETE_VERBS = frozenset({"delete", "remove", "rm", "drop", "destroy", "purge", "truncate", "unlink", "erase", "wipe"})
_SEND_VERBS = frozenset(
    {"send", "post", "notify", "email", "mail", "message", "tweet", "publish", "reply", "dm", "sms"}
)
_BROWSER = frozenset(
    {"browser", "navigate", "click", "screenshot", "puppeteer", "playwright", "selenium", "hover", "fill"}
)
_ENV = frozenset({"env", "environ", "environment", "secrets", "secret", "credentials"})
_DB_WRITE = frozenset({"sql", "query", "execute"})
_FETCH = frozenset({"fetch", "http", "request", "download", "get", "url", "curl", "web", "browse"})

_EXEC_TEXT = re2.compile(
    r"(?i)\b(?:execut(?:e|es|ing)\s+(?:an?\s+|arbitrary\s+|any\s+)?(?:shell\s+|system\s+|bash\s+|python\s+|"
    r"javascript\s+|terminal\s+)?(?:commands?|code|scripts?)|run(?:s|ning)?\s+(?:an?\s+|arbitrary\s+|any\s+)?"
    r"(?:shell|system|bash|terminal)\s+commands?|run(?:s|ning)?\s+(?:arbitrary|any)\s+(?:commands?|code|scripts?)|"
    r"arbitrary\s+code|shell\s+access|root\s+access)"
)
_ENV_TEXT = re2.compile(r"(?i)\benvironment\s+variables\b")


# fixed, trivially linear patterns on short names: the standard library's engine is faster to call here
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_NON_WORD = re.compile(r"[^A-Za-z0-9]+")


@functools.lru_cache(maxsize=4096)
def _tokens(name: str) -> tuple[str, ...]:
    """``"getEnvVars"``, ``"get-env"``, ``"get_env"``: ``["get", "env", "vars"]``."""
    spaced = _CAMEL.sub(r"\1 \2", name)
    return tuple(t for t in _NON_WORD.split(spaced.lower()) if t)


def tokens(name: str) -> list[str]:
    """``"getEnvVars"``, ``"get-env"``, ``"get_env"``: ``["get", "env", "vars"]``."""
    return list(_tokens(name[:256]))


@dataclass(frozen=True)
class ToolPurpose:
    capabilities: frozenset[str]
    why: Mapping[str, str]
    """Per capability, what showed it (``name``, ``description``, ``parameter 'command'``, ``annotation``)."""

    @property
    def level(self) -> str:
        order = {"low": 0, "medium": 1, "high": 2}
        return max((CAPABILITY_LEVEL[c] for c in self.capabilities), key=order.__getitem__, default="low")


def _param_names(tool: ToolDefinition) -> list[str]:
    schema = tool.inputSchema
    if not isinstance(schema, Mapping):
        return []
    props = schema.get("properties")
    if not isinstance(props, Mapping):
        return []
    return [str(k) for k in itertools.islice(props, 200)]


def _annotation(tool: ToolDefinition, key: str) -> Any:
    ann = tool.annotations
    return ann.get(key) if isinstance(ann, Mapping) else None


def tool_purpose(tool: ToolDefinition) -> ToolPurpose:
    """The capabilities ``tool`` provides (the empty set for a narrow tool that only computes)."""
    why: dict[str, str] = {}

    def add(cap: str, reason: str) -> None:
        why.setdefault(cap, reason)

    toks = tokens(tool.name)
    tokset = set(toks)
    desc = tool.description or ""
    params = [p.lower().replace("_", "").replace("-", "") for p in _param_names(tool)]
    runs = bool(tokset & _RUN_VERBS)
    by_name = bool(tokset & _EXEC_TOKENS) or bool(runs and tokset & _CODE_NOUNS)
    by_name = by_name or any(pair in _SYSTEM_PAIRS for pair in itertools.pairwise(toks))
    by_param = any(p in _COMMAND_PARAMS for p in params)
    by_param = by_param or (any(p in _CODE_PARAMS for p in params) and bool(runs or _EXEC_TEXT.search(desc)))
    if by_name:
        add("code_execution", "name")
    elif by_param:
        add("code_execution", "parameter")
    elif _EXEC_TEXT.search(desc):
        add("code_execution", "description")
    if tokset & _DELETE_VERBS or (_annotation(tool, "destructiveHint") is True and "code_execution" not in why):
        add("delete", "name" if tokset & _DELETE_VERBS else "annotation")
    if toks and (toks[0] in _WRITE_VERBS or tokset & (_WRITE_VERBS - _AMBIGUOUS_VERBS)):
        add("write", "name")
    if tokset & _SEND_VERBS:
        add("outbound_message", "name")
    if tokset & _BROWSER:
        add("browser", "name")
    if tokset & _ENV or _ENV_TEXT.search(desc):
        add("environment", "name" if tokset & _ENV else "description")
    if tokset & _DB_WRITE and ("sql" in tokset or "execute" in tokset or "write" in tokset):
        add("database_write", "name")
    if tokset & _FETCH and ("url" in params or "fetch" in tokset or "http" in tokset or "download" in tokset):
        add("network_fetch", "name")
    if not why and (
        _annotation(tool, "readOnlyHint") is True
        or (toks and toks[0] in {"get", "list", "read", "search", "show", "find"})
    ):
        add("read_only", "name")  # fmt: skip
    return ToolPurpose(frozenset(why), why)


def capabilities_of(tools: Iterable[ToolDefinition]) -> set[str]:
    caps: set[str] = set()
    for t in tools:
        caps |= tool_purpose(t).capabilities
    return caps
