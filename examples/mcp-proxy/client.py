"""Run an MCP client against ``agent-security mcp proxy -- python server.py``, offline.

    python examples/mcp-proxy/client.py

What a host (Claude Code, Cursor, an agent) sees through the proxy: only the tools policy allows are
listed, a refused call is an error result with the reason, arguments that break the tool's inputSchema are
refused before they reach the server, and a secret in a result is redacted. The same proxy entry in a
host's MCP settings: ``{"command": "agent-security", "args": ["mcp", "proxy", "--policy", "policy.yaml",
"--", "python", "server.py"]}``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

HERE = Path(__file__).parent


async def main() -> None:
    proxy = [
        "-m",
        "agent_security.core.cli",
        "mcp",
        "proxy",
        "--policy",
        str(HERE / "policy.yaml"),
        "--",
        sys.executable,
        str(HERE / "server.py"),
    ]
    params = StdioServerParameters(command=sys.executable, args=proxy, env=dict(os.environ))
    async with Client(params, cache=None) as client:
        print("listed:", [t.name for t in (await client.list_tools()).tools])
        for name, args in [
            ("read_note", {"name": "welcome"}),
            ("read_note", {"name": "deploy"}),
            ("read_note", {"name": 42}),
            ("delete_note", {"name": "welcome"}),
        ]:
            res = await client.call_tool(name, args)
            text = " ".join(getattr(c, "text", "") for c in res.content)
            print(f"{name}({args}) -> {'ERROR ' if res.is_error else ''}{text}")


if __name__ == "__main__":
    anyio.run(main)
