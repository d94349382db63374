"""The demo catalogue behind ``agent-security demo --list``.

The original's seven demos and ours, each with the distribution that brings it. A demo is *available* when
its subcommand is registered on the ``demo`` group (its distribution is installed and its plugin loaded);
a subcommand registered by a distribution but not named here is listed too, so a new demo shows up as soon
as its distribution adds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from agent_security.core.demos.kit import Table

__all__ = ["CATALOGUE", "DemoInfo", "catalogue_table"]


@dataclass(frozen=True)
class DemoInfo:
    name: str
    description: str
    distribution: str
    """The distribution(s) that bring it, as an install hint."""
    original: str = ""
    """The Agent-SPM demo it replays ("" for ours)."""

    @property
    def requires(self) -> list[str]:
        return [part.split("[")[0].strip() for part in self.distribution.split("+")]


CATALOGUE: tuple[DemoInfo, ...] = (
    DemoInfo("core", "The 9 core scenarios on the default policy (kill switch, rate and session limits, "
             "approvals, protect()), the bypasses we close, a tamper-evident audit trail",
             "agent-security-core", "demo.ts"),
    DemoInfo("quick", "The 5 quick scenarios: allow, bulk-export deny, refused approval, kill switch, rate "
             "limit (also: demo --quick)", "agent-security-core", "test-demo.ts"),
    DemoInfo("identity", "Registered agents, trust levels, roles and tickets", "agent-security-identity",
             "examples/01-identity-authz"),
    DemoInfo("egress", "Data loss prevention: PII, card numbers and secrets leaving through tools",
             "agent-security-egress", "examples/02-egress-dlp"),
    DemoInfo("supply-chain", "MCP server scans, tool provenance, command rules, guarded calls",
             "agent-security-supply-chain", "examples/03-supply-chain"),
    DemoInfo("guardian-posture", "A finance guardian's incidents, then risk scores and a compliance summary "
             "from the demo's audit trail",
             "agent-security-posture + agent-security-guardian + agent-security-identity",
             "examples/04-guardian-posture"),
    DemoInfo("full", "Every distribution in one pipeline, one scenario flow, then the posture report",
             "agent-security-posture[demos]", "examples/05-full-spm"),
    DemoInfo("adapters", "Host hooks (Claude Code, Cursor, Copilot, ...) answering real hook payloads",
             "agent-security-adapters"),
    DemoInfo("containment", "Per-tool sandboxes and change tickets checked before a tool runs",
             "agent-security-containment"),
    DemoInfo("fleet", "Two AgentSecurity instances sharing a kill and a rate limit through a real Redis",
             "agent-security-core[redis] + redis-server"),
)  # fmt: skip


def _installed(distribution: str) -> bool:
    try:
        metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


def _why_not(info: DemoInfo) -> str:
    missing = [d for d in info.requires if not _installed(d)]
    if missing:
        return f"no: install {info.distribution}"
    return f"no: {info.distribution} is installed without this demo (or its plugin did not load)"


def catalogue_table(commands: Mapping[str, Any]) -> Table:
    """Every catalogued demo, then any other registered ``demo`` subcommand (``commands``: name -> command)."""
    table = Table(["demo", "available", "replays", "what it shows"], widths=[16, 28, 28, 64])
    known = {info.name for info in CATALOGUE}
    for info in CATALOGUE:
        available = "yes" if info.name in commands else _why_not(info)
        table.add(info.name, available, info.original or "(ours)", info.description)
    for name in sorted(set(commands) - known):
        command = commands[name]
        short = command.get_short_help_str(limit=90) if hasattr(command, "get_short_help_str") else ""
        table.add(name, "yes", "(ours)", short)
    return table
