"""Talk to a live stdio MCP server with the official MCP Python SDK and list its tools, within bounds.

The SDK's own ``stdio_client`` reads lines of any length, so this module starts the server itself and
feeds the SDK's :class:`mcp.ClientSession` through a bounded transport: one message may not exceed
``max_message_bytes``, the whole conversation ``max_total_bytes``, the listing ``max_tools`` tools (and
``max_pages`` pages), and everything ``timeout_s`` seconds. The server process is started in its own
session and killed (whole process group) when the listing ends, however it ends.

The SDK is an optional dependency: ``pip install 'agent-security-supply-chain[mcp]'``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "INSTALL_HINT",
    "LiveServer",
    "McpLiveError",
    "McpSdkMissingError",
    "fetch_server",
    "fetch_server_async",
]

INSTALL_HINT = (
    "the MCP Python SDK is not installed; install it with: pip install 'agent-security-supply-chain[mcp]' "
    "(or: uv add 'agent-security-supply-chain[mcp]')"
)


class McpLiveError(RuntimeError):
    """The server could not be started, timed out, sent too much, or broke the protocol."""


class McpSdkMissingError(McpLiveError, ImportError):
    """The optional ``mcp`` dependency is missing."""


@dataclass(frozen=True)
class LiveServer:
    """What a live server reported about itself."""

    name: str
    version: str | None
    tools: tuple[dict[str, Any], ...]
    """Tool definitions in MCP's wire shape (``inputSchema``, ``outputSchema``, ``annotations``)."""
    command: tuple[str, ...] = field(default=())

    def definition(self, name: str | None = None) -> dict[str, Any]:
        """The server as :class:`~agent_security.supply_chain.McpScanner` and the lock file take it."""
        return {"name": name or self.name, "version": self.version, "tools": list(self.tools)}


def _require_sdk() -> None:
    try:
        import mcp  # noqa: F401
    except ImportError as exc:
        raise McpSdkMissingError(INSTALL_HINT) from exc


def fetch_server(
    command: Sequence[str],
    *,
    timeout_s: float = 30.0,
    max_message_bytes: int = 4 << 20,
    max_total_bytes: int = 32 << 20,
    max_tools: int = 2000,
    max_pages: int = 100,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    stderr: int | None = subprocess.DEVNULL,
) -> LiveServer:
    """Start ``command`` (a stdio MCP server), initialise, list every tool, stop it. Synchronous."""
    _require_sdk()
    import anyio

    async def run() -> LiveServer:
        return await fetch_server_async(
            command,
            timeout_s=timeout_s,
            max_message_bytes=max_message_bytes,
            max_total_bytes=max_total_bytes,
            max_tools=max_tools,
            max_pages=max_pages,
            env=env,
            cwd=cwd,
            stderr=stderr,
        )

    return anyio.run(run)


async def fetch_server_async(
    command: Sequence[str],
    *,
    timeout_s: float = 30.0,
    max_message_bytes: int = 4 << 20,
    max_total_bytes: int = 32 << 20,
    max_tools: int = 2000,
    max_pages: int = 100,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    stderr: int | None = subprocess.DEVNULL,
) -> LiveServer:
    """Asynchronous :func:`fetch_server`."""
    _require_sdk()
    import anyio
    import mcp_types
    from mcp import ClientSession
    from mcp.shared.message import SessionMessage

    argv = [str(a) for a in command]
    if not argv or not argv[0]:
        raise McpLiveError("no server command given")
    if timeout_s <= 0 or max_message_bytes <= 0 or max_total_bytes <= 0:
        raise McpLiveError("timeout and size limits must be positive")
    child_env = dict(os.environ if env is None else env)

    try:
        process = await anyio.open_process(argv, env=child_env, cwd=cwd, stderr=stderr, start_new_session=True)
    except OSError as exc:
        raise McpLiveError(f"cannot start {argv[0]!r}: {exc.strerror or exc}") from None

    read_send, read_recv = anyio.create_memory_object_stream[SessionMessage | Exception](32)
    write_send, write_recv = anyio.create_memory_object_stream[SessionMessage](32)
    problem: list[str] = []

    async def reader() -> None:
        assert process.stdout is not None
        buf = bytearray()
        total = 0
        try:
            async with read_send:
                async for chunk in process.stdout:
                    total += len(chunk)
                    if total > max_total_bytes:
                        problem.append(f"the server sent more than {max_total_bytes} bytes")
                        return
                    buf += chunk
                    while True:
                        nl = buf.find(b"\n")
                        if nl < 0:
                            break
                        line = bytes(buf[:nl])
                        del buf[: nl + 1]
                        if len(line) > max_message_bytes:
                            problem.append(f"a message from the server is larger than {max_message_bytes} bytes")
                            return
                        if not line.strip():
                            continue
                        try:
                            msg: SessionMessage | Exception = SessionMessage(
                                mcp_types.jsonrpc_message_adapter.validate_json(line, by_name=False)
                            )
                        except ValueError as exc:
                            msg = exc
                        await read_send.send(msg)
                    if len(buf) > max_message_bytes:
                        problem.append(f"a message from the server is larger than {max_message_bytes} bytes")
                        return
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream):
            return

    async def writer() -> None:
        assert process.stdin is not None
        try:
            async with write_recv:
                async for m in write_recv:
                    data = m.message.model_dump_json(by_alias=True, exclude_unset=True) + "\n"
                    await process.stdin.send(data.encode("utf-8"))
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            return

    tools: list[dict[str, Any]] = []
    name = ""
    version: str | None = None
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(reader)
            tg.start_soon(writer)
            try:
                with anyio.fail_after(timeout_s):
                    async with ClientSession(read_recv, write_send) as session:
                        init = await session.initialize()
                        name = init.server_info.name or ""
                        version = init.server_info.version or None
                        cursor: str | None = None
                        for _ in range(max_pages):
                            params = mcp_types.PaginatedRequestParams(cursor=cursor) if cursor else None
                            res = await session.list_tools(params=params)
                            for t in res.tools:
                                tools.append(t.model_dump(by_alias=True, exclude_none=True, mode="json"))
                                if len(tools) > max_tools:
                                    raise McpLiveError(f"the server lists more than {max_tools} tools")
                            cursor = res.next_cursor
                            if not cursor:
                                break
                        else:
                            raise McpLiveError(f"the tool listing has more than {max_pages} pages")
            finally:
                tg.cancel_scope.cancel()
    except Exception as exc:
        leaf = _leaf(exc)
        if isinstance(leaf, McpLiveError):
            raise leaf from None
        if problem:
            raise McpLiveError(problem[0]) from None
        if isinstance(leaf, TimeoutError):
            raise McpLiveError(f"the server did not answer within {timeout_s} s") from None
        raise McpLiveError(f"MCP session with {argv[0]!r} failed: {type(leaf).__name__}: {str(leaf)[:200]}") from None
    finally:
        with anyio.CancelScope(shield=True):
            await _stop(process)
    if problem:
        raise McpLiveError(problem[0])
    return LiveServer(name=name, version=version, tools=tuple(tools), command=tuple(argv))


def _leaf(exc: BaseException) -> BaseException:
    """The first non-group exception inside (possibly nested) exception groups."""
    depth = 0
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions and depth < 16:
        preferred = [e for e in exc.exceptions if isinstance(e, McpLiveError | TimeoutError | BaseExceptionGroup)]
        exc = (preferred or list(exc.exceptions))[0]
        depth += 1
    return exc


async def _stop(process: Any) -> None:
    import anyio

    with contextlib.suppress(Exception):
        if process.stdin is not None:
            await process.stdin.aclose()
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
            os.killpg(process.pid, signal.SIGTERM)
        with anyio.move_on_after(2.0):
            await process.wait()
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
            os.killpg(process.pid, signal.SIGKILL)
        with anyio.move_on_after(2.0):
            await process.wait()
    with contextlib.suppress(Exception):
        await process.aclose()
