"""``agent-security install claude-code`` and ``agent-security doctor claude-code``.

:func:`install` writes one hook entry per event (PreToolUse, PostToolUse, PermissionRequest with the matcher
``*``, which covers every tool, MCP tools included; UserPromptSubmit without a matcher) into a Claude Code
settings file::

    {"type": "command", "command": "/abs/path/agent-security", "args": ["hook", "claude-code"],
     "timeout": 30, "onFailure": "block"}

Exec form (no shell, so no quoting or PATH surprises), the absolute path of the ``agent-security`` script
next to this Python, a timeout, and ``onFailure: "block"`` so that a crash or a timeout blocks the call
(Claude Code runs the tool on any exit code other than 2 otherwise). Idempotent: a second run leaves the
file byte for byte as it was. The user's other settings and hooks are kept, and so is their order; a
settings file that is not a JSON object is refused, never overwritten. Written atomically (temporary
file, then rename), keeping the file's permissions.

:func:`doctor` finds the entries in every scope, runs the PreToolUse command on a canary call (Bash
``rm -rf /``, which the shell governor blocks under any policy unless command governance was switched off)
and reports each fact: configured, runs, blocks, timeout set, onFailure block.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent_security.adapters.hooks import _install_common as common
from agent_security.adapters.hooks._install_common import (
    CANARY_COMMAND,
    InstallError,
    command_argv,
    hook_argv,
    read_config,
    run_command,
    runs_hook,
    save_config,
)

__all__ = [
    "CANARY",
    "EVENTS",
    "HOOK_TIMEOUT",
    "default_command",
    "doctor",
    "hook_entry",
    "install",
    "is_our_hook",
    "managed_settings_path",
    "settings_path",
]

HOST = "claude-code"
EVENTS: dict[str, str | None] = {
    "PreToolUse": "*",
    "PostToolUse": "*",
    "PermissionRequest": "*",
    "UserPromptSubmit": None,
}
"""The events we hook, with their matcher (``*``: every tool; ``None``: the event takes no matcher)."""
HOOK_TIMEOUT = 30
"""Seconds Claude Code waits for one hook call (``hook --timeout`` gives up at 25 and blocks)."""
CANARY: dict[str, Any] = {
    "session_id": "agent-security-doctor",
    "transcript_path": "",
    "cwd": "/",
    "permission_mode": "default",
    "hook_event_name": "PreToolUse",
    "tool_name": "Bash",
    "tool_input": {"command": CANARY_COMMAND, "description": "agent-security doctor canary"},
    "tool_use_id": "agent-security-doctor-canary",
}
"""The call :func:`doctor` sends: any working configuration must block it."""


def managed_settings_path(system: str | None = None) -> Path:
    """Claude Code's managed (machine-wide) settings file on this operating system."""
    system = system or platform.system()
    if system == "Darwin":
        return Path("/Library/Application Support/ClaudeCode/managed-settings.json")
    if system == "Windows":
        return Path("C:/Program Files/ClaudeCode/managed-settings.json")
    return Path("/etc/claude-code/managed-settings.json")


def settings_path(scope: str, root: Path | None = None) -> Path:
    """The settings file of ``scope`` (``project``, ``user``, ``managed``); ``root`` replaces the project
    directory (default: the working directory), the home directory, or the file system root."""
    if scope == "project":
        return (root or Path.cwd()) / ".claude" / "settings.json"
    if scope == "user":
        return (root or Path.home()) / ".claude" / "settings.json"
    if scope == "managed":
        managed = managed_settings_path()
        return managed if root is None else root / managed.relative_to(managed.anchor)
    raise InstallError(f"unknown scope {scope!r} (project, user or managed)")


def default_command() -> list[str]:
    """``[<absolute path of agent-security>, "hook", "claude-code"]``."""
    return common.default_command(HOST)


def hook_entry(command: Sequence[str]) -> dict[str, Any]:
    """The settings entry that runs ``command`` (exec form)."""
    command = hook_argv(command, HOST)
    return {
        "type": "command",
        "command": str(command[0]),
        "args": [str(a) for a in command[1:]],
        "timeout": HOOK_TIMEOUT,
        "onFailure": "block",
    }


def is_our_hook(entry: object) -> bool:
    """True for a hook entry that runs ``agent-security ... hook claude-code`` (exec or shell form)."""
    return isinstance(entry, dict) and runs_hook(_argv(entry), HOST)


def _argv(entry: dict[str, Any]) -> list[str]:
    return command_argv(entry.get("command"), entry.get("args"))


def _merged(settings: dict[str, Any], entry: dict[str, Any], path: Path) -> dict[str, Any]:
    """``settings`` with our entry for every event (in place of an older one of ours, else appended)."""
    out = dict(settings)
    hooks = out.get("hooks", {})
    if not isinstance(hooks, dict):
        raise InstallError(f'{path}: "hooks" is not an object; it was not changed')
    hooks = dict(hooks)
    for event, matcher in EVENTS.items():
        groups = hooks.get(event, [])
        if not isinstance(groups, list):
            raise InstallError(f'{path}: "hooks.{event}" is not a list; it was not changed')
        wanted: dict[str, Any] = {"hooks": [entry]} if matcher is None else {"matcher": matcher, "hooks": [entry]}
        if wanted in groups and sum(_ours_in(g) for g in groups) == 1:
            continue  # already exactly as we would write it
        new_groups: list[Any] = []
        at: int | None = None
        for group in groups:
            if _ours_in(group):
                at = len(new_groups) if at is None else at
                rest = [h for h in group.get("hooks", []) if not is_our_hook(h)]
                if rest:
                    new_groups.append({**group, "hooks": rest})
                continue
            new_groups.append(group)
        new_groups.insert(len(new_groups) if at is None else at, wanted)
        hooks[event] = new_groups
    out["hooks"] = hooks
    return out


def _ours_in(group: object) -> int:
    if not isinstance(group, dict) or not isinstance(group.get("hooks"), list):
        return 0
    return sum(1 for h in group["hooks"] if is_our_hook(h))


def install(scope: str, *, root: Path | None = None, command: Sequence[str] | None = None) -> Path:
    """Configure the hooks in the ``scope`` settings file; return its path. Idempotent."""
    path = settings_path(scope, root)
    entry = hook_entry(list(command) if command is not None else default_command())
    settings = read_config(path)
    save_config(path, _merged(settings, entry, path), settings)
    return path


# ---- doctor -----------------------------------------------------------------------------------------


def _scopes(root: Path | None) -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    seen: set[Path] = set()
    for scope in ("managed", "user", "project"):
        path = settings_path(scope, root)
        candidates = [path]
        if scope == "project":
            candidates.append(path.with_name("settings.local.json"))
        for p in candidates:
            if p not in seen:
                seen.add(p)
                found.append((scope, p))
    return found


def _find(root: Path | None, lines: list[str]) -> dict[str, list[tuple[Path, dict[str, Any], Any]]]:
    entries: dict[str, list[tuple[Path, dict[str, Any], Any]]] = {e: [] for e in EVENTS}
    for scope, path in _scopes(root):
        if not path.exists():
            continue
        try:
            settings = read_config(path)
        except (OSError, ValueError) as exc:
            lines.append(f"FAIL  {scope} settings {path}: {exc}")
            continue
        hooks = settings.get("hooks")
        if not isinstance(hooks, dict):
            continue
        for event in EVENTS:
            groups = hooks.get(event)
            for group in groups if isinstance(groups, list) else []:
                if not isinstance(group, dict) or not isinstance(group.get("hooks"), list):
                    continue
                for h in group["hooks"]:
                    if is_our_hook(h):
                        entries[event].append((path, h, group.get("matcher")))
    return entries


def _covers_every_tool(matcher: Any) -> bool:
    return matcher in (None, "", "*", ".*")


def _run_canary(argv: list[str], timeout: float) -> tuple[bool, bool, str]:
    """``(ran, blocked, detail)`` of running ``argv`` on the canary call."""
    if not argv:
        return False, False, "the entry has no command"
    run = run_command(argv, CANARY, cwd=None, timeout_s=timeout)
    if run.exit_code is None:
        return False, False, f"{run.stderr} (Claude Code would run the call)"
    stderr = run.stderr.strip()
    if run.exit_code == 2:
        return True, True, f"exit 2: {stderr[:300]}"
    if run.exit_code == 0:
        try:
            out = json.loads(run.stdout)
        except ValueError:
            return True, False, "exit 0 with output that is not JSON (Claude Code would run the call)"
        spec = out.get("hookSpecificOutput") if isinstance(out, dict) else None
        if isinstance(spec, dict) and spec.get("permissionDecision") == "deny":
            return True, True, f"deny: {str(spec.get('permissionDecisionReason', ''))[:300]}"
        return True, False, f"exit 0 without a deny ({run.stdout.strip()[:200]})"
    return True, False, f"exit {run.exit_code} (Claude Code would run the call): {stderr[:300]}"


def doctor(*, root: Path | None = None) -> tuple[bool, list[str]]:
    """Check the configured hooks; ``(every check passed, report lines)``."""
    lines: list[str] = []
    entries = _find(root, lines)
    ok = not lines

    def report(passed: bool, text: str) -> None:
        nonlocal ok
        ok = ok and passed
        lines.append(("ok    " if passed else "FAIL  ") + text)

    for event in EVENTS:
        found = entries[event]
        report(bool(found), f"{event}: configured" + (f" in {found[0][0]}" if found else " nowhere"))
        for path, h, matcher in found:
            where = f"{event} ({path})"
            if EVENTS[event] is not None:
                report(_covers_every_tool(matcher), f"{where}: matcher {matcher!r} covers every tool (MCP included)")
            timeout = h.get("timeout")
            report(
                isinstance(timeout, int | float) and not isinstance(timeout, bool) and 0 < timeout <= 600,
                f"{where}: timeout set ({timeout!r} s)",
            )
            report(h.get("onFailure") == "block", f"{where}: onFailure is {h.get('onFailure')!r} (must be 'block')")
    for path, h, _ in entries["PreToolUse"]:
        argv = _argv(h)
        configured = h.get("timeout")
        limit = float(configured) if isinstance(configured, int | float) else float(HOOK_TIMEOUT)
        ran, blocked, detail = _run_canary(argv, min(max(limit, 1.0), 120.0))
        report(ran, f"PreToolUse ({path}): the command runs" + ("" if ran else f": {detail}"))
        if ran:
            report(blocked, f"PreToolUse ({path}): a canary call (Bash 'rm -rf /') is blocked: {detail}")
    lines.append("hooks are live" if ok else "hooks are NOT protecting this machine: see FAIL above")
    return ok, lines
