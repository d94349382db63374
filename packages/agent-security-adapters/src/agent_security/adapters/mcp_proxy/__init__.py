"""``agent-security mcp proxy -- <server command...>``: a policy-enforcing MCP proxy (stdio).

The host (Claude Code, Cursor, an agent framework) starts the proxy instead of the server; the proxy starts
the server, pins its tools and checks every call. :mod:`.proxy` is the proxy, :mod:`.gate` decides which
tools are served, :mod:`.schema` validates arguments, :mod:`.config` is ``[adapters.mcp_proxy]`` and
:mod:`.cli` the command. Importing this package does not import the MCP SDK.
"""

from __future__ import annotations

from agent_security.adapters.mcp_proxy.config import McpProxyConfig

__all__ = ["McpProxyConfig"]
