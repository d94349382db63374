"""agent-security-supply-chain: MCP server scanning and pinning, tool provenance and shell command governance."""

from __future__ import annotations

from importlib import metadata

__version__ = metadata.version("agent-security-supply-chain")

__all__ = ["__version__"]
