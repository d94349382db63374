"""agent-security-adapters.

Claude Code and Cursor hooks, LangChain, CrewAI, OpenAI Agents SDK and an MCP proxy.
"""

from __future__ import annotations

from importlib import metadata

__version__ = metadata.version("agent-security-adapters")

__all__ = ["__version__"]
