"""``McpScanner``: static analysis of an MCP server definition, with risk judged against what the server is for.

Every text an MCP client shows the model is inspected: tool names and titles, descriptions, and the tool's
``inputSchema`` / ``outputSchema`` at every depth, up to fixed bounds (:mod:`.tools`). Each finding carries a
``kind``, the tool and field, a short excerpt (invisible characters made visible) and a remediation.

The server's risk level is its most serious finding:

* **high** (or critical): tool poisoning, exfiltration, shadowing, a malicious rug pull, a look-alike of a
  known server or tool, three or more high-risk permissions that none of its tools needs, arbitrary code
  execution;
* **medium**: a legitimate but powerful capability (writing or deleting, sending messages, browser
  automation, reading the environment), a benign definition change, one or two permissions beyond its
  purpose, an unknown permission;
* **low**: read-only or narrow servers; missing self-declared metadata is low.

The recommendation follows the level: ``block`` for high and critical, ``review`` for medium, ``allow`` for
low. ``risk_score`` keeps the original's weighted sum for reference.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from agent_security.supply_chain.mcp.definitions import (
    MAX_NAME_CHARS,
    MAX_TOOLS,
    ServerDefinition,
    as_mapping,
    normalize_server,
)
from agent_security.supply_chain.mcp.drift import MALICIOUS_KINDS, diff_servers
from agent_security.supply_chain.mcp.names import MAX_NAME_COMPARISONS, TypoIndex, looks_like
from agent_security.supply_chain.mcp.purpose import JUSTIFIES
from agent_security.supply_chain.mcp.text import visible
from agent_security.supply_chain.mcp.tools import ToolContext, scan_tool
from agent_security.supply_chain.patterns import PERMISSION_RISK, normalize_permission

__all__ = ["FindingKind", "McpScanner", "RiskLevel", "ScanFinding", "ScanReport"]

RiskLevel = Literal["info", "low", "medium", "high", "critical"]
FindingKind = Literal[
    "tool_poisoning",
    "hidden_content",
    "sensitive_file_access",
    "data_exfiltration",
    "tool_shadowing",
    "rug_pull",
    "excessive_permissions",
    "typosquatting",
    "dangerous_capability",
    "provenance",
]
_LEVEL_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
_WEIGHT = {"critical": 30, "high": 15, "medium": 8, "low": 3, "info": 1}
PERMISSION_LEVEL: dict[str, RiskLevel] = {
    "filesystem.read": "low",
    "network.inbound": "medium",
    "clipboard.write": "medium",
    "browser.navigate": "medium",
}
"""The level of a declared permission from the original's medium list (the high list is judged by purpose)."""

_REMEDIATION: dict[str, str] = {
    "tool_poisoning": "Do not install this server version; report it. Tool descriptions must describe "
    "the tool, not instruct the model.",
    "hidden_content": "Reject the definition: text invisible to the user but read by the model is a common "
    "injection vector. Ask the publisher to remove it.",
    "sensitive_file_access": "Check why the tool mentions credential or agent-configuration files; deny the "
    "server filesystem access to them (sandbox, allow-listed paths).",
    "data_exfiltration": "Remove or refuse the parameter/instruction that carries data out; restrict the "
    "server's outbound network access.",
    "tool_shadowing": "Install the servers separately or rename the conflicting tools; a tool must not "
    "change how another server's tools are used.",
    "rug_pull": "Review the changes and re-pin only if they are expected (`agent-security mcp pin`); "
    "otherwise roll back to the approved version.",
    "excessive_permissions": "Grant only the permissions the tools need; declare permissions with the canonical names.",
    "typosquatting": "Verify the publisher and the exact name of the server or tool before installing.",
    "dangerous_capability": "Run the server in a sandbox and govern its calls (command rules, approval).",
    "provenance": "Record the server's version, publisher and source, and pin its tool definitions.",
}


class ScanFinding(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: FindingKind
    rule: str
    """Stable code (``HIDDEN_TAG_CHARACTERS``, ``HIGH_RISK_PERMISSION``, ...; the original's codes kept)."""
    level: RiskLevel
    message: str
    tool: str | None = None
    field: str | None = None
    """Where: ``description``, ``inputSchema.properties.sidenote.description``, ``permissions``, ..."""
    excerpt: str = ""
    remediation: str = ""


class ScanReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    server_name: str
    scan_timestamp: datetime
    risk_level: Literal["low", "medium", "high", "critical"]
    risk_score: int
    """0-100: the original's weighted sum (critical 30, high 15, medium 8, low 3, info 1), capped."""
    recommendation: Literal["block", "review", "allow"]
    findings: tuple[ScanFinding, ...]
    permissions: tuple[str, ...] = ()
    """Canonical permissions after alias normalisation (unknown ones left out)."""
    tools_scanned: int = 0

    def by_kind(self, kind: str) -> list[ScanFinding]:
        return [f for f in self.findings if f.kind == kind]

    @property
    def kinds(self) -> set[str]:
        return {f.kind for f in self.findings}


# ------------------------------------------------------------------------------------------------
# Detectors (fixed expressions, linear time via re2).
# ------------------------------------------------------------------------------------------------


class McpScanner:
    """Scan MCP server definitions for poisoning, hidden content, shadowing, rug pulls and risky grants.

    ``known_servers`` are names of legitimate servers (and ``known_tools`` of legitimate tool names) used
    to spot look-alike names. The scanner is stateless apart from them, and thread-safe.
    """

    def __init__(self, known_servers: Iterable[str] | None = None, known_tools: Iterable[str] | None = None) -> None:
        self.known_servers = tuple(dict.fromkeys(known_servers or ()))
        self.known_tools = tuple(dict.fromkeys(known_tools or ()))

    def scan_all(self, servers: Iterable[Any]) -> list[ScanReport]:
        """Scan several servers; each one is checked for shadowing against the others."""
        defs = [normalize_server(s) for s in servers]
        out = []
        for i, d in enumerate(defs):
            others = [{"name": o.name, "tools": [t.name for t in o.tools]} for j, o in enumerate(defs) if j != i]
            out.append(self.scan(d, other_servers=others))
        return out

    def scan(self, server: Any, baseline: Any = None, other_servers: Iterable[Any] | None = None) -> ScanReport:
        srv = normalize_server(server)
        base = normalize_server(baseline) if baseline is not None else None
        others = list(_others(other_servers or ()))
        findings: list[ScanFinding] = []

        def add(
            kind: FindingKind,
            rule: str,
            level: RiskLevel,
            message: str,
            *,
            tool: str | None = None,
            field: str | None = None,
            excerpt: str = "",
        ) -> None:
            findings.append(
                ScanFinding(
                    kind=kind,
                    rule=rule,
                    level=level,
                    message=message,
                    tool=tool,
                    field=field,
                    excerpt=excerpt,
                    remediation=_REMEDIATION[kind],
                )
            )

        self._provenance(srv, add)
        canonical = self._permission_names(srv, add)
        for known in self.known_servers:
            if looks_like(srv.name, known):
                add(
                    "typosquatting",
                    "SERVER_NAME_LOOKALIKE",
                    "high",
                    f"Server name {srv.name[:64]!r} is close to the known server {known[:64]!r}",
                    field="name",
                    excerpt=visible(srv.name[:64]),
                )
                break
        other_tools = {t: o["name"] for o in others for t in o["tools"]}
        ctx = ToolContext(
            server_name=srv.name,
            other_tools=other_tools,
            other_names=[o["name"] for o in others],
            permissions=canonical,
            typo=TypoIndex((*self.known_tools, *other_tools)),
        )
        names_seen: set[str] = set()
        for tool in srv.tools:
            if tool.name in names_seen:
                add(
                    "tool_shadowing",
                    "DUPLICATE_TOOL",
                    "high",
                    f"Tool {tool.name[:64]!r} is defined twice",
                    tool=tool.name,
                    field="name",
                )
            names_seen.add(tool.name)
            scan_tool(tool, ctx, add)
        if ctx.typo.truncated:
            add(
                "typosquatting",
                "LOOKALIKE_CHECK_LIMITED",
                "info",
                f"Near-miss tool-name comparisons stopped after {MAX_NAME_COMPARISONS:,}; exact look-alikes "
                "(same skeleton) were still checked",
            )
        self._purpose(srv, canonical, ctx.capabilities, add)
        if base is not None:
            before = self.scan(base, other_servers=other_servers)
            diff_servers(base, srv, add, _new_threats(before.findings, findings))

        level_rank = max((_LEVEL_RANK[f.level] for f in findings), default=1)
        risk_level: Literal["low", "medium", "high", "critical"] = ("low", "low", "medium", "high", "critical")[
            level_rank
        ]
        recommendation: Literal["block", "review", "allow"] = (
            "block" if level_rank >= 3 else "review" if level_rank == 2 else "allow"
        )
        return ScanReport(
            server_name=srv.name,
            scan_timestamp=datetime.now(UTC),
            risk_level=risk_level,
            risk_score=min(100, sum(_WEIGHT[f.level] for f in findings)),
            recommendation=recommendation,
            findings=tuple(findings),
            permissions=tuple(canonical),
            tools_scanned=len(srv.tools),
        )

    # ------------------------------------------------------------------------------------------------
    @staticmethod
    def _provenance(srv: ServerDefinition, add: Any) -> None:
        """Self-declared metadata: informative only (low)."""
        if not srv.version:
            add("provenance", "MISSING_VERSION", "low", "MCP server has no version specified")
        if not srv.publisher:
            add("provenance", "MISSING_PUBLISHER", "low", "MCP server has no publisher specified", field="publisher")
        if not srv.source:
            add(
                "provenance",
                "MISSING_SOURCE",
                "low",
                "MCP server has no source URL — cannot verify provenance",
                field="source",
            )
        if srv.verified:
            add(
                "provenance",
                "SELF_DECLARED_VERIFIED",
                "info",
                "The definition calls itself verified; this claim is ignored (pin the server instead)",
                field="verified",
            )

    @staticmethod
    def _permission_names(srv: ServerDefinition, add: Any) -> list[str]:
        """The canonical permissions; unknown ones are medium (they cannot be assessed)."""
        canonical: list[str] = []
        for raw in srv.permissions:
            perm, alias = normalize_permission(raw)
            if perm is None:
                add(
                    "excessive_permissions",
                    "UNKNOWN_PERMISSION",
                    "medium",
                    f"Unknown permission {raw[:64]!r}: not in the permission vocabulary, cannot be assessed",
                    field="permissions",
                    excerpt=visible(raw[:64]),
                )
                continue
            if alias:
                add(
                    "excessive_permissions",
                    "PERMISSION_ALIAS",
                    "info",
                    f"Permission {raw[:64]!r} read as {perm!r}",
                    field="permissions",
                    excerpt=raw[:64],
                )
            if perm not in canonical:
                canonical.append(perm)
        if not srv.permissions:
            add(
                "excessive_permissions",
                "NO_PERMISSIONS_DECLARED",
                "info",
                "No permissions declared — may be under-declaring",
                field="permissions",
            )
        return canonical

    @staticmethod
    def _purpose(srv: ServerDefinition, canonical: list[str], caps: set[str], add: Any) -> None:
        """Each declared permission against what the tools do: a high-risk permission a tool needs is a
        powerful capability (medium); those no tool needs are beyond the server's purpose."""
        beyond: list[str] = []
        for perm in canonical:
            if PERMISSION_RISK[perm] != "high":
                level = PERMISSION_LEVEL.get(perm, "medium")
                add("excessive_permissions", "MEDIUM_RISK_PERMISSION", level, f"Medium-risk permission: {perm}",
                    field="permissions", excerpt=perm)  # fmt: skip
                continue
            used = bool(JUSTIFIES[perm] & caps)
            if not used:
                beyond.append(perm)
            add(
                "excessive_permissions",
                "HIGH_RISK_PERMISSION",
                "medium",
                f"High-risk permission: {perm} ({'used by its tools' if used else 'no tool needs it'})",
                field="permissions",
                excerpt=perm,
            )
        if len(beyond) >= 3:
            add(
                "excessive_permissions",
                "EXCESSIVE_PERMISSIONS",
                "high",
                f"Server requests {len(beyond)} high-risk permissions its tools do not need — "
                "potential over-privileged server",
                field="permissions",
                excerpt=", ".join(beyond),
            )
        elif beyond:
            add(
                "excessive_permissions",
                "MODERATELY_EXCESSIVE_PERMISSIONS",
                "medium",
                f"High-risk permissions no tool needs: {', '.join(beyond)}",
                field="permissions",
                excerpt=", ".join(beyond),
            )


def _new_threats(before: Iterable[ScanFinding], now: Iterable[ScanFinding]) -> dict[str, set[str]]:
    had = {(f.tool, f.kind) for f in before if _LEVEL_RANK[f.level] >= 3}
    out: dict[str, set[str]] = {}
    for f in now:
        if f.tool and f.kind in MALICIOUS_KINDS and _LEVEL_RANK[f.level] >= 3 and (f.tool, f.kind) not in had:
            out.setdefault(f.tool, set()).add(f.kind)
    return out


def _others(items: Iterable[Any]) -> Iterator[dict[str, Any]]:
    for o in items:
        m = as_mapping(o, "an entry of other_servers")
        name = str(m.get("name", ""))[:MAX_NAME_CHARS]
        tools = []
        for t in list(m.get("tools") or [])[:MAX_TOOLS]:
            if isinstance(t, str):
                tools.append(t[:MAX_NAME_CHARS])
            else:
                tm = as_mapping(t, "a tool of other_servers")
                if isinstance(tm.get("name"), str):
                    tools.append(tm["name"][:MAX_NAME_CHARS])
        yield {"name": name, "tools": tools}
