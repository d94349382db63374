"""``[adapters.mcp_proxy]``: how ``agent-security mcp proxy`` treats the server behind it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from agent_security.core import SectionModel

__all__ = ["McpProxyConfig"]


class McpProxyConfig(SectionModel):
    """Settings of the MCP proxy (section ``[adapters.mcp_proxy]``)."""

    server_name: str | None = Field(default=None, max_length=128)
    """Name of the upstream server in tool names (``mcp__<server>__<tool>``), pins and the audit trail.
    Default: the name the server reports."""
    agent_id: str = Field(default="mcp-proxy", min_length=1, max_length=256)
    """Agent id of every check (the host behind the proxy is one agent to the pipeline)."""
    environment: str | None = Field(default=None, max_length=128)
    """Environment of every check (default: the core's default environment)."""
    lock_file: str | None = None
    """Pin lock (the format of ``agent-security mcp pin``) that carries the pins from one run to the next.
    Unset: the tools are pinned in memory at start, and drift is detected within the run only."""
    pin_on_first_use: bool = True
    """With ``lock_file``: a server the lock does not know yet is pinned (and the file written) at start.
    False: an unpinned server's tools are all treated as drifted."""
    on_drift: Literal["refuse", "flag"] = "refuse"
    """A tool whose definition differs from its pin (changed, renamed, added): ``refuse`` hides it and
    refuses its calls (``MCP_TOOL_DRIFT``); ``flag`` serves it and records a ``mcp_proxy.drift`` event."""
    hide_at_risk: Literal["medium", "high", "critical", "never"] = "high"
    """A tool whose scan (tool poisoning, hidden content, exfiltration, ...) reaches this level is hidden
    and refused (``MCP_TOOL_UNSAFE``)."""
    scan_ignore_kinds: tuple[str, ...] = ("provenance", "excessive_permissions", "dangerous_capability")
    """Finding kinds that do not hide a tool: what a tool may do (delete, pay, run commands) is for the policy
    to decide per call; what it says to the model (poisoning, hidden text, exfiltration) is not."""
    list_policy_filter: bool = True
    """List only tools the policy does not deny outright (a call with no arguments, for this agent)."""
    start_timeout_s: float = Field(default=30.0, gt=0, le=600)
    """Seconds allowed for starting the server and listing its tools."""
    call_timeout_s: float = Field(default=60.0, gt=0, le=3600)
    """Seconds allowed for one forwarded call; past that the call is an error result."""
    max_args_bytes: int = Field(default=1 << 20, ge=1024, le=64 << 20)
    """Largest arguments (JSON) forwarded."""
    max_result_bytes: int = Field(default=4 << 20, ge=1024, le=256 << 20)
    """Largest result (JSON) handed back; a larger one is an error result."""
    max_schema_bytes: int = Field(default=256 << 10, ge=1024, le=16 << 20)
    """Largest inputSchema the proxy validates against; a tool with a larger one is refused."""
    max_tools: int = Field(default=2000, ge=1, le=100_000)
    """Most tools accepted from the server (a longer listing is refused as a whole)."""
