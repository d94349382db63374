"""An MCP client on the old SDK (mcp 1.x, run with ``.venv-mcp1/bin/python``): connects to the command
given after ``--`` (the proxy), lists the tools, makes the calls given as JSON on argv[1], prints one JSON
object: the negotiated protocol version, the tool names, and each call's (is_error, text)."""

from __future__ import annotations

import json
import os
import sys

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


async def main() -> None:
    calls = json.loads(sys.argv[1])
    argv = sys.argv[sys.argv.index("--") + 1 :]
    params = StdioServerParameters(command=argv[0], args=argv[1:], env=dict(os.environ))
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        init = await session.initialize()
        tools = await session.list_tools()
        results = []
        for name, args in calls:
            res = await session.call_tool(name, args)
            results.append([bool(res.isError), " ".join(getattr(c, "text", "") for c in res.content)])
    print(
        json.dumps({"protocol": init.protocolVersion, "tools": sorted(t.name for t in tools.tools), "calls": results})
    )


if __name__ == "__main__":
    anyio.run(main)
