"""Rug pulls: what changed between the approved definition of a server and the one it serves now.

A change is judged by what it brings: a tool that now carries poisoning, hidden content, exfiltration,
shadowing or code execution it did not carry when approved is a malicious rug pull (high, critical without a
version change); any other change (a reworded description, a new or removed tool, a new permission) is a
benign definition change (medium) to review and re-pin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from agent_security.supply_chain.mcp.definitions import ServerDefinition
from agent_security.supply_chain.mcp.text import excerpt
from agent_security.supply_chain.patterns import normalize_permission

__all__ = ["MALICIOUS_KINDS", "diff_servers"]

MALICIOUS_KINDS = frozenset(
    {"tool_poisoning", "hidden_content", "data_exfiltration", "tool_shadowing", "dangerous_capability"}
)
"""Kinds whose high finding, new since approval, makes a change a malicious rug pull."""


def diff_servers(
    base: ServerDefinition,
    cur: ServerDefinition,
    add: Callable[..., None],
    new_threats: Mapping[str, set[str]],
) -> None:
    """Add rug-pull findings. ``new_threats`` maps a tool name to the kinds of its high findings now that
    the approved definition did not have."""
    from agent_security.supply_chain.pinning import field_hashes, tool_content_hash

    old = {t.name: t for t in base.tools}
    new = {t.name: t for t in cur.tools}
    old_content = {tool_content_hash(t): n for n, t in old.items()}
    same_version = bool(base.version) and base.version == cur.version
    bump = "without a version change" if same_version else f"(version {base.version} -> {cur.version})"
    malicious_level = "critical" if same_version else "high"

    def threat(n: str) -> str:
        kinds = sorted(new_threats.get(n, ()))
        return f"; it now carries {', '.join(k.replace('_', ' ') for k in kinds)}" if kinds else ""

    for n, t in new.items():
        if n not in old:
            src = old_content.get(tool_content_hash(t))
            if src is not None and src not in new:
                add("rug_pull", "TOOL_RENAMED", "medium", f"Tool {src[:64]!r} was renamed to {n[:64]!r} {bump}",
                    tool=n, field="name")  # fmt: skip
            elif n in new_threats:
                add("rug_pull", "MALICIOUS_TOOL_ADDED", malicious_level,
                    f"Tool {n[:64]!r} was added {bump}{threat(n)}", tool=n)  # fmt: skip
            else:
                add("rug_pull", "TOOL_ADDED", "medium", f"Tool {n[:64]!r} was added {bump}", tool=n)
            continue
        a, b = field_hashes(old[n]), field_hashes(t)
        changed = [f for f in b if a.get(f) != b.get(f)]
        if not changed:
            continue
        text = ""
        if "description" in changed and t.description:
            text = excerpt(t.description, 0, min(len(t.description), 120), width=0)
        if n in new_threats:
            add(
                "rug_pull",
                "MALICIOUS_DEFINITION_CHANGE",
                malicious_level,
                f"Tool {n[:64]!r} changed since it was approved ({', '.join(changed)}) {bump}{threat(n)}",
                tool=n,
                field=",".join(changed),
                excerpt=text,
            )
        else:
            add(
                "rug_pull",
                "TOOL_DEFINITION_CHANGED",
                "medium",
                f"Tool {n[:64]!r} changed since it was approved ({', '.join(changed)}) {bump}",
                tool=n,
                field=",".join(changed),
                excerpt=text,
            )
    renamed_from = {old_content.get(tool_content_hash(t)) for n, t in new.items() if n not in old}
    for n in old:
        if n not in new and n not in renamed_from:
            add("rug_pull", "TOOL_REMOVED", "medium", f"Tool {n[:64]!r} was removed {bump}", tool=n)
    base_perms = {normalize_permission(p)[0] or p for p in base.permissions}
    added_perms = [c for p in cur.permissions if (c := normalize_permission(p)[0] or p) not in base_perms]
    if added_perms:
        add(
            "rug_pull",
            "PERMISSIONS_ADDED",
            "medium",
            f"New permissions since approval: {', '.join(dict.fromkeys(added_perms[:8]))}",
            field="permissions",
        )
