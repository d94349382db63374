"""agent-security-adapters.

Claude Code and Cursor hooks, LangChain, CrewAI, OpenAI Agents SDK and an MCP proxy.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: importing typing costs a hook call milliseconds (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["__version__"]


def __getattr__(name: str) -> Any:
    # Read on first use: importlib.metadata costs a hook's client milliseconds it does not need.
    if name == "__version__":
        from importlib import metadata

        return metadata.version("agent-security-adapters")
    raise AttributeError(f"module 'agent_security.adapters' has no attribute {name!r}")
