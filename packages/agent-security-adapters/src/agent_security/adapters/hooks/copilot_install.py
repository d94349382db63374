"""``agent-security install copilot`` / ``doctor copilot``: the GitHub Copilot CLI hook file and the proof
it blocks.

:func:`install` writes ``.github/hooks/agent-security.json`` in the repository (project scope) or
``~/.copilot/hooks/agent-security.json`` (user scope)::

    {"version": 1, "hooks": {"preToolUse": [{"type": "command", "bash": "<abs>/agent-security hook copilot",
      "powershell": "& '<abs>\\agent-security.exe' 'hook' 'copilot'", "timeoutSec": 30}]}}

Idempotent, other entries in the file kept, written atomically, an invalid file never overwritten. The CLI
denies the call on any non-zero exit of the hook, so a crash or timeout of ours blocks too.

:func:`doctor` finds the entry in ``.github/hooks/*.json``, runs its command on a canary call every policy
must block (``bash`` running ``rm -rf /``) and on malformed input, and reports whether both were blocked.
"""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent_security.adapters.hooks import _install_common as common
from agent_security.adapters.hooks._install_common import (
    CANARY_COMMAND,
    MAX_CONFIG_BYTES,
    InstallError,
    hook_argv,
    hooks_section,
    is_ours,
    powershell_join,
    put_entry,
    read_config,
    run_command,
    save_config,
    shell_join,
)

__all__ = ["FILE_NAME", "SCOPES", "TIMEOUT_S", "config_path", "default_command", "doctor", "install"]

HOST = "copilot"
SCOPES = ("project", "user")
FILE_NAME = "agent-security.json"
TIMEOUT_S = 30


def config_path(scope: str, *, root: Path | None = None) -> Path:
    """The hook file of ``scope``: ``<root>/.github/hooks/agent-security.json`` (project; default root: the
    current directory) or ``<root>/.copilot/hooks/agent-security.json`` (user; default root: home)."""
    if scope == "project":
        return (root or Path.cwd()) / ".github" / "hooks" / FILE_NAME
    if scope == "user":
        return (root or Path.home()) / ".copilot" / "hooks" / FILE_NAME
    raise InstallError(f"unknown scope {scope!r} (one of: {', '.join(SCOPES)})")


def default_command() -> list[str]:
    """``[<absolute path of agent-security>, "hook", "copilot"]``."""
    return common.default_command(HOST)


def _entry_command(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return None
    key = "powershell" if os.name == "nt" else "bash"
    value = entry.get(key)
    return value if isinstance(value, str) else None


def _is_ours(entry: Any) -> bool:
    if not isinstance(entry, dict):
        return False
    if is_ours(entry.get("bash"), HOST):
        return True
    ps = entry.get("powershell")
    return isinstance(ps, str) and is_ours(ps.removeprefix("& ").replace("'", '"'), HOST)


def install(scope: str, *, root: Path | None = None, command: Sequence[str] | None = None) -> Path:
    """Write the ``preToolUse`` entry into the hook file of ``scope`` and return its path (see the module)."""
    path = config_path(scope, root=root)
    argv = hook_argv(command, HOST)
    original = read_config(path)
    data = copy.deepcopy(original)
    entries = hooks_section(data, path).setdefault("preToolUse", [])
    if not isinstance(entries, list):
        raise InstallError(f"{path}: hooks.preToolUse is not a list; the file was not changed")
    bash = shell_join(argv)
    entry = {
        "type": "command",
        "bash": bash,
        "powershell": powershell_join(argv),
        "timeoutSec": TIMEOUT_S,
        "comment": "agent-security: every tool call is checked; a failure of the hook denies the call",
    }
    put_entry(entries, entry, lambda e: _is_ours(e) or (isinstance(e, dict) and e.get("bash") == bash))
    save_config(path, data, original)
    return path


def _hook_files(root: Path | None) -> list[Path]:
    if root is not None:
        dirs = [root / ".github" / "hooks"]
    else:
        dirs = [Path.cwd() / ".github" / "hooks", Path.home() / ".copilot" / "hooks"]
    files: list[Path] = []
    for d in dirs:
        if d.is_dir():
            files.extend(sorted(p for p in d.glob("*.json") if p.is_file() and p.stat().st_size <= MAX_CONFIG_BYTES))
    return files


def _canary() -> dict[str, Any]:
    return {
        "timestamp": int(time.time() * 1000),
        "cwd": str(Path.cwd()),
        "toolName": "bash",
        "toolArgs": json.dumps({"command": CANARY_COMMAND, "description": "agent-security doctor canary"}),
    }


def _denied(code: int | None, stdout: str) -> bool:
    if code is None:
        return False
    if code != 0:
        return True  # the CLI denies on any non-zero exit
    try:
        answer = json.loads(stdout)
    except ValueError:
        return False
    return isinstance(answer, dict) and answer.get("permissionDecision") == "deny"


def doctor(*, root: Path | None = None) -> tuple[bool, list[str]]:
    """Whether the Copilot CLI hook is configured and blocks, with one line per finding (see the module).
    ``root``: the repository to look in (default: the current directory, and the user's hooks)."""
    lines: list[str] = []
    ok = True
    commands: list[tuple[Path, str]] = []
    for path in _hook_files(root):
        try:
            data = read_config(path)
        except InstallError as exc:
            lines.append(f"FAIL {exc}")
            ok = False
            continue
        hooks = data.get("hooks")
        entries = hooks.get("preToolUse") if isinstance(hooks, dict) else None
        for entry in entries if isinstance(entries, list) else []:
            command = _entry_command(entry)
            if _is_ours(entry) and command:
                commands.append((path, command))
    if not commands:
        where = root / ".github" / "hooks" if root is not None else Path(".github/hooks")
        lines.append(f"FAIL no agent-security preToolUse hook in {where}/*.json")
        return False, lines
    for path, command in commands:
        lines.append(f"ok   configured in {path}")
        cwd = path.parent.parent.parent if path.parent.parent.name == ".github" else path.parent
        run = run_command(command, _canary(), cwd=cwd, timeout_s=TIMEOUT_S)
        if _denied(run.exit_code, run.stdout):
            lines.append(f"ok   canary (bash {CANARY_COMMAND!r}) denied")
        else:
            ok = False
            lines.append(f"FAIL canary (bash {CANARY_COMMAND!r}) was not denied: {run.detail}")
        run = run_command(command, b"{not json", cwd=cwd, timeout_s=TIMEOUT_S)
        if run.exit_code not in (None, 0):
            lines.append(f"ok   malformed input denied (exit {run.exit_code})")
        else:
            ok = False
            lines.append(f"FAIL malformed input was not denied (exit {run.exit_code})")
    return ok, lines
