"""The MCP scanner's public names at their historical import path (the code lives in :mod:`.mcp`)."""

from __future__ import annotations

from agent_security.supply_chain.mcp.definitions import (
    MAX_FIELD_CHARS,
    MAX_NAME_CHARS,
    MAX_SCHEMA_DEPTH,
    MAX_SCHEMA_NODES,
    MAX_TOOLS,
    ScanInputError,
    ServerDefinition,
    ToolDefinition,
    normalize_server,
    normalize_tool,
)
from agent_security.supply_chain.mcp.scanner import FindingKind, McpScanner, RiskLevel, ScanFinding, ScanReport

__all__ = [
    "MAX_FIELD_CHARS",
    "MAX_NAME_CHARS",
    "MAX_SCHEMA_DEPTH",
    "MAX_SCHEMA_NODES",
    "MAX_TOOLS",
    "FindingKind",
    "McpScanner",
    "RiskLevel",
    "ScanFinding",
    "ScanInputError",
    "ScanReport",
    "ServerDefinition",
    "ToolDefinition",
    "normalize_server",
    "normalize_tool",
]
