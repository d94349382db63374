"""agent-security-supply-chain: MCP server scanning and pinning, tool provenance and shell command governance.

Public API::

    from agent_security.supply_chain import (
        McpScanner, McpLock, ToolProvenance, CommandGovernor, supply_chain_guard,
    )

    guard = supply_chain_guard(command_rules=[{"pattern": "git *", "action": "allow"}])
    security = AgentSecurity(policy_path="policy.yaml", plugins=[guard])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib import metadata
from typing import Any, Literal

from agent_security.supply_chain.governor import (
    DEFAULT_RULES,
    CommandAction,
    CommandCheckResult,
    CommandGovernor,
    CommandRule,
    PartVerdict,
)
from agent_security.supply_chain.guard import (
    SHELL_TOOL_NAMES,
    ManifestProvider,
    SupplyChainGuard,
    parse_mcp_tool_name,
)
from agent_security.supply_chain.pinning import (
    DriftReport,
    LockFileError,
    McpLock,
    ToolChange,
    canonical_hash,
    load_private_key,
    load_public_key,
    tool_hash,
)
from agent_security.supply_chain.provenance import (
    ProvenanceCheckResult,
    ProvenanceRecord,
    ToolProvenance,
    manifest_hash,
)
from agent_security.supply_chain.scanner import McpScanner, ScanFinding, ScanInputError, ScanReport
from agent_security.supply_chain.shell import ShellParseError, parse_command_line

__version__ = metadata.version("agent-security-supply-chain")

__all__ = [
    "DEFAULT_RULES",
    "SHELL_TOOL_NAMES",
    "CommandAction",
    "CommandCheckResult",
    "CommandGovernor",
    "CommandRule",
    "DriftReport",
    "LockFileError",
    "McpLock",
    "McpScanner",
    "PartVerdict",
    "ProvenanceCheckResult",
    "ProvenanceRecord",
    "ScanFinding",
    "ScanInputError",
    "ScanReport",
    "ShellParseError",
    "SupplyChainGuard",
    "ToolChange",
    "ToolProvenance",
    "__version__",
    "canonical_hash",
    "load_private_key",
    "load_public_key",
    "manifest_hash",
    "parse_command_line",
    "parse_mcp_tool_name",
    "supply_chain_guard",
    "tool_hash",
]


def supply_chain_guard(
    *,
    command_rules: Iterable[CommandRule | Mapping[str, Any]] | None = None,
    default_action: CommandAction | None = None,
    governor: CommandGovernor | None = None,
    provenance: ToolProvenance | None = None,
    manifest_provider: ManifestProvider | None = None,
    lock: McpLock | str | None = None,
    block_unverified_mcp: bool = False,
    unverified_mcp_action: Literal["deny", "require_approval", "allow"] = "deny",
    require_provenance: bool = False,
    govern_commands: bool = True,
) -> SupplyChainGuard:
    """Build a :class:`SupplyChainGuard` (the original's ``supplyChainGuard``).

    ``command_rules`` builds a governor (default action ``block``); with neither rules nor a ``governor``
    the built-in conservative rules are used (default ``require_approval``). ``lock`` is an
    :class:`McpLock` or the path of a lock file.
    """
    gov = governor
    if gov is None and govern_commands:
        if command_rules is None:
            gov = CommandGovernor(DEFAULT_RULES, default_action=default_action or "require_approval")
        else:
            gov = CommandGovernor(command_rules, default_action=default_action or "block")
    lk = McpLock.load(lock) if isinstance(lock, str) else lock
    return SupplyChainGuard(
        governor=gov,
        provenance=provenance,
        manifest_provider=manifest_provider,
        lock=lk,
        block_unverified_mcp=block_unverified_mcp,
        unverified_mcp_action=unverified_mcp_action,
        require_provenance=require_provenance,
    )
