"""``agent-security install cursor`` / ``doctor cursor``: the ``hooks.json`` entries and the proof they block.

:func:`install` writes one entry per event :mod:`.cursor` answers into the chosen ``hooks.json``
(project ``<root>/.cursor/hooks.json``, user ``~/.cursor/hooks.json``, enterprise ``/etc/cursor/hooks.json``,
``/Library/Application Support/Cursor/hooks.json`` or ``C:\\ProgramData\\Cursor\\hooks.json``), each with
``failClosed: true`` (a crash or timeout blocks instead of letting the call run), a timeout, and the absolute
path of the installed ``agent-security`` script with ``hook cursor``. Running it again changes nothing; the
user's other hooks stay; the file is replaced atomically; a file that is not valid JSON is never overwritten.

:func:`doctor` finds the entries, checks each event is covered and fails closed, then runs the configured
command as Cursor would on a canary call that every policy must block (``rm -rf /``) and on malformed input,
and reports whether both were blocked: a hook that is configured but does not block is a failure.
"""

from __future__ import annotations

import copy
import json
import os
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent_security.adapters.hooks import _install_common as common
from agent_security.adapters.hooks._install_common import (
    CANARY_COMMAND,
    InstallError,
    hook_argv,
    hooks_section,
    is_ours,
    put_entry,
    read_config,
    run_command,
    save_config,
    shell_join,
)

__all__ = ["EVENTS", "SCOPES", "TIMEOUT_S", "config_path", "default_command", "doctor", "install"]

HOST = "cursor"
SCOPES = ("project", "user", "enterprise")
EVENTS = ("preToolUse", "beforeShellExecution", "beforeMCPExecution", "beforeReadFile", "afterFileEdit", "postToolUse")
"""Every event the hook answers; each gets an entry."""
TIMEOUT_S = 30
"""Seconds Cursor gives the hook (a cold start takes well under one)."""


def _enterprise_path() -> Path:
    if sys.platform == "darwin":
        return Path("/Library/Application Support/Cursor/hooks.json")
    if os.name == "nt":
        return Path("C:/ProgramData/Cursor/hooks.json")
    return Path("/etc/cursor/hooks.json")


def config_path(scope: str, *, root: Path | None = None) -> Path:
    """The ``hooks.json`` of ``scope``. ``root`` is the project (project scope, default: the current
    directory), the home directory (user scope), or a directory standing for the filesystem root
    (enterprise scope; tests and image builds)."""
    if scope == "project":
        return (root or Path.cwd()) / ".cursor" / "hooks.json"
    if scope == "user":
        return (root or Path.home()) / ".cursor" / "hooks.json"
    if scope == "enterprise":
        path = _enterprise_path()
        return path if root is None else root / path.relative_to(path.anchor)
    raise InstallError(f"unknown scope {scope!r} (one of: {', '.join(SCOPES)})")


def default_command() -> list[str]:
    """``[<absolute path of agent-security>, "hook", "cursor"]``."""
    return common.default_command(HOST)


def install(scope: str, *, root: Path | None = None, command: Sequence[str] | None = None) -> Path:
    """Write the hook entries into the ``hooks.json`` of ``scope`` and return its path (see the module)."""
    path = config_path(scope, root=root)
    argv = hook_argv(command, HOST)
    original = read_config(path)
    data = copy.deepcopy(original)
    hooks = hooks_section(data, path)
    entry = {"command": shell_join(argv), "timeout": TIMEOUT_S, "failClosed": True}

    def ours(e: Any) -> bool:
        return isinstance(e, dict) and (is_ours(e.get("command"), HOST) or e.get("command") == entry["command"])

    for event in EVENTS:
        entries = hooks.setdefault(event, [])
        if not isinstance(entries, list):
            raise InstallError(f"{path}: hooks.{event} is not a list; the file was not changed")
        put_entry(entries, entry, ours)
    save_config(path, data, original)
    return path


def _canary(event: str) -> dict[str, Any]:
    base = {
        "conversation_id": "agent-security-doctor",
        "generation_id": f"doctor-{uuid.uuid4().hex}",
        "hook_event_name": event,
        "cursor_version": "doctor",
        "workspace_roots": [],
    }
    if event == "preToolUse":
        return {**base, "tool_name": "Shell", "tool_input": {"command": CANARY_COMMAND}, "tool_use_id": "doctor"}
    return {**base, "command": CANARY_COMMAND, "cwd": "/"}


def _blocked(run_code: int | None, stdout: str) -> bool:
    if run_code == 2:
        return True
    if run_code != 0:
        return False
    try:
        answer = json.loads(stdout)
    except ValueError:
        return False
    return isinstance(answer, dict) and answer.get("permission") == "deny"


def doctor(*, root: Path | None = None) -> tuple[bool, list[str]]:
    """Whether the Cursor hook is configured and blocks, with one line per finding (see the module).
    ``root``: look only at the project ``<root>/.cursor/hooks.json``; default: the project in the current
    directory, the user's file and the enterprise file."""
    candidates = (
        [config_path("project", root=root)]
        if root is not None
        else [
            config_path("project"),
            config_path("user"),
            config_path("enterprise"),
        ]
    )
    lines: list[str] = []
    ok = True
    found: list[tuple[Path, dict[str, Any]]] = []
    for path in candidates:
        if not path.exists():
            continue
        try:
            data = read_config(path)
        except InstallError as exc:
            lines.append(f"FAIL {exc}")
            ok = False
            continue
        hooks = data.get("hooks")
        entries = (
            {
                event: [e for e in (hooks.get(event) or []) if isinstance(e, dict) and is_ours(e.get("command"), HOST)]
                for event in EVENTS
            }
            if isinstance(hooks, dict)
            else {}
        )
        if any(entries.values()):
            found.append((path, entries))
    if not found:
        lines.append("FAIL no agent-security hook in " + ", ".join(str(p) for p in candidates))
        return False, lines
    for path, entries in found:
        lines.append(f"ok   configured in {path}")
        for event in EVENTS:
            mine = entries.get(event) or []
            if not mine:
                lines.append(f"FAIL {event}: no agent-security entry (calls through it are not checked)")
                ok = False
            elif not all(e.get("failClosed") is True for e in mine):
                lines.append(f"FAIL {event}: failClosed is not true (a crash or timeout would let the call run)")
                ok = False
        command = next(
            (e["command"] for e in entries.get("preToolUse") or entries.get("beforeShellExecution") or []), None
        )
        if command is None:
            continue
        cwd = path.parent.parent if path.parent.name == ".cursor" else path.parent
        for event in ("preToolUse", "beforeShellExecution"):
            run = run_command(command, _canary(event), cwd=cwd, timeout_s=TIMEOUT_S)
            if _blocked(run.exit_code, run.stdout):
                lines.append(f"ok   {event} canary ({CANARY_COMMAND!r}) blocked")
            else:
                ok = False
                lines.append(f"FAIL {event} canary ({CANARY_COMMAND!r}) was not blocked: {run.detail}")
        run = run_command(command, b"{not json", cwd=cwd, timeout_s=TIMEOUT_S)
        if run.exit_code == 2:
            lines.append("ok   malformed input blocked (exit 2)")
        else:
            ok = False
            lines.append(f"FAIL malformed input was not blocked (exit {run.exit_code}): {run.stderr.strip()[:300]}")
    return ok, lines
