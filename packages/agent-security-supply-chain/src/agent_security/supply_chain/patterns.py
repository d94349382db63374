"""Shared detection vocabulary: sensitive paths, programs that run code, and the permission catalogue.

All regular expressions here are fixed (written by us, not supplied by users) and run through ``re2`` so
their cost is linear in the input whatever that input is.
"""

from __future__ import annotations

from agent_security.supply_chain.commands.paths import text_hits

__all__ = [
    "INTERPRETERS",
    "PERMISSION_ALIASES",
    "PERMISSION_RISK",
    "SHELLS",
    "normalize_permission",
    "sensitive_path_hits",
]


def sensitive_path_hits(text: str, limit: int = 5) -> list[str]:
    """The credential locations mentioned in ``text`` (at most ``limit``, each trimmed to 40 chars)."""
    return text_hits(text, limit)


SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "csh", "tcsh", "rbash"})
INTERPRETERS = frozenset(
    {
        "python",
        "python2",
        "python3",
        "pypy",
        "pypy3",
        "perl",
        "ruby",
        "node",
        "nodejs",
        "deno",
        "bun",
        "php",
        "lua",
        "luajit",
        "Rscript",
        "osascript",
        "pwsh",
        "powershell",
        "tclsh",
        "wish",
        "expect",
        "jshell",
        "irb",
        "ipython",
        "groovy",
        "scala",
        "julia",
    }
)


def is_interpreter(name: str) -> bool:
    if name in INTERPRETERS or name in SHELLS:
        return True
    # python3.12, perl5.36, ...
    stem = name.rstrip("0123456789.")
    return stem in INTERPRETERS


# ------------------------------------------------------------------------------------------------
# MCP permission vocabulary.
# ------------------------------------------------------------------------------------------------

PERMISSION_RISK: dict[str, str] = {
    "filesystem.read": "medium",
    "network.inbound": "medium",
    "clipboard.write": "medium",
    "browser.navigate": "medium",
    "filesystem.write": "high",
    "network.outbound": "high",
    "process.spawn": "high",
    "env.read": "high",
    "shell.execute": "high",
    "database.admin": "high",
}
"""The canonical permissions and their risk (the original's two lists)."""

PERMISSION_ALIASES: dict[str, str] = {
    "fs.read": "filesystem.read",
    "file.read": "filesystem.read",
    "files.read": "filesystem.read",
    "filesystem:read": "filesystem.read",
    "fs:read": "filesystem.read",
    "read_files": "filesystem.read",
    "fs.write": "filesystem.write",
    "file.write": "filesystem.write",
    "files.write": "filesystem.write",
    "filesystem:write": "filesystem.write",
    "fs:write": "filesystem.write",
    "write_files": "filesystem.write",
    "net.outbound": "network.outbound",
    "network": "network.outbound",
    "net": "network.outbound",
    "network:outbound": "network.outbound",
    "http": "network.outbound",
    "internet": "network.outbound",
    "net.inbound": "network.inbound",
    "network:inbound": "network.inbound",
    "listen": "network.inbound",
    "process.exec": "process.spawn",
    "proc.spawn": "process.spawn",
    "exec": "process.spawn",
    "subprocess": "process.spawn",
    "process:spawn": "process.spawn",
    "env": "env.read",
    "environment.read": "env.read",
    "env:read": "env.read",
    "secrets.read": "env.read",
    "shell": "shell.execute",
    "shell.exec": "shell.execute",
    "shell:execute": "shell.execute",
    "command.execute": "shell.execute",
    "db.admin": "database.admin",
    "database:admin": "database.admin",
    "sql.admin": "database.admin",
    "clipboard": "clipboard.write",
    "clipboard:write": "clipboard.write",
    "browser": "browser.navigate",
    "browser.open": "browser.navigate",
    "browser:navigate": "browser.navigate",
}
"""Common spellings accepted for the canonical permissions (the scan reports the normalisation)."""


def normalize_permission(raw: str) -> tuple[str | None, bool]:
    """``(canonical, was_alias)``; ``canonical`` is ``None`` for an unknown permission string."""
    key = raw.strip()
    low = key.lower().replace("_", ".") if key.lower() not in PERMISSION_ALIASES else key.lower()
    if key in PERMISSION_RISK:
        return key, False
    if key.lower() in PERMISSION_RISK:
        return key.lower(), True
    if key.lower() in PERMISSION_ALIASES:
        return PERMISSION_ALIASES[key.lower()], True
    if low in PERMISSION_RISK:
        return low, True
    if low in PERMISSION_ALIASES:
        return PERMISSION_ALIASES[low], True
    return None, False
