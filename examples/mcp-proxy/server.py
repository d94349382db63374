"""A small stdio MCP server (MCP Python SDK 2.x, low-level API) to put behind the proxy: notes tools."""

from __future__ import annotations

from typing import Any

import anyio
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

NOTES = {"welcome": "Hello!", "deploy": "token sk-" + "proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD"}


def _tool(name: str, description: str, props: dict[str, Any]) -> types.Tool:
    schema = {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}
    return types.Tool(name=name, description=description, input_schema=schema)


TOOLS = [
    _tool("read_note", "Read a note by name.", {"name": {"type": "string", "maxLength": 64}}),
    _tool("delete_note", "Delete a note by name.", {"name": {"type": "string"}}),
]


async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
    return types.ListToolsResult(tools=TOOLS)


async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
    args = params.arguments or {}
    if params.name == "read_note":
        text = NOTES.get(str(args["name"]), "no such note")
    else:
        text = f"deleted {args['name']}" if NOTES.pop(str(args["name"]), None) else "no such note"
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)])


server = Server("notes", version="1.0.0", on_list_tools=list_tools, on_call_tool=call_tool)


async def main() -> None:
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


if __name__ == "__main__":
    anyio.run(main)
