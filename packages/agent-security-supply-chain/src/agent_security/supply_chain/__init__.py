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
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
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

_LAZY: dict[str, str] = {
    "DEFAULT_RULES": "agent_security.supply_chain.governor",
    "CommandAction": "agent_security.supply_chain.governor",
    "CommandCheckResult": "agent_security.supply_chain.governor",
    "CommandGovernor": "agent_security.supply_chain.governor",
    "CommandRule": "agent_security.supply_chain.governor",
    "PartVerdict": "agent_security.supply_chain.governor",
    "SHELL_TOOL_NAMES": "agent_security.supply_chain.guard",
    "ManifestProvider": "agent_security.supply_chain.guard",
    "SupplyChainGuard": "agent_security.supply_chain.guard",
    "parse_mcp_tool_name": "agent_security.supply_chain.guard",
    "DriftReport": "agent_security.supply_chain.pinning",
    "LockFileError": "agent_security.supply_chain.pinning",
    "McpLock": "agent_security.supply_chain.pinning",
    "ToolChange": "agent_security.supply_chain.pinning",
    "canonical_hash": "agent_security.supply_chain.pinning",
    "load_private_key": "agent_security.supply_chain.pinning",
    "load_public_key": "agent_security.supply_chain.pinning",
    "tool_hash": "agent_security.supply_chain.pinning",
    "ProvenanceCheckResult": "agent_security.supply_chain.provenance",
    "ProvenanceRecord": "agent_security.supply_chain.provenance",
    "ToolProvenance": "agent_security.supply_chain.provenance",
    "manifest_hash": "agent_security.supply_chain.provenance",
    "McpScanner": "agent_security.supply_chain.scanner",
    "ScanFinding": "agent_security.supply_chain.scanner",
    "ScanInputError": "agent_security.supply_chain.scanner",
    "ScanReport": "agent_security.supply_chain.scanner",
    "ShellParseError": "agent_security.supply_chain.shell",
    "parse_command_line": "agent_security.supply_chain.shell",
}
"""Each public name and the module that defines it, imported on first use (PEP 562): the guard's shell
checks load neither the MCP scanner nor the lock file's signing code."""


from agent_security.core.lazy import lazy_exports  # noqa: E402

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, distribution="agent-security-supply-chain")


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
    from agent_security.supply_chain.governor import DEFAULT_RULES, CommandGovernor
    from agent_security.supply_chain.guard import SupplyChainGuard
    from agent_security.supply_chain.pinning import McpLock

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
