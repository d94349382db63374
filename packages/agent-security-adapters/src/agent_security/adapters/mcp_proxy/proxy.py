"""The MCP proxy: an MCP server (stdio) to the host, an MCP client to the upstream server, on the official
MCP Python SDK (mcp 2.x; hosts on the older protocol interoperate).

* Start (the server's lifespan): launch the upstream command, list its tools (no client cache), scan and
  pin them (:mod:`.gate`). A server that does not start or list is a failed start: nothing is served.
* ``tools/list``: re-lists upstream (so drift during the run is seen), answers only the tools served.
* ``tools/call``: the tool must be served; its arguments must be an object within ``max_args_bytes`` that
  validates against its inputSchema; the pipeline decides (``mcp__<server>__<tool>``, the proxy's agent
  id, the MCP tool identity with its manifest hash); then the call is forwarded (within
  ``call_timeout_s``) and its result goes through ``check_result`` (redacted or withheld).
* Every refusal, and every failure (upstream crash, timeout, malformed or oversized result, an error of
  ours) is ``CallToolResult(is_error=True)`` with the reason, which the model reads: never a pass-through.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent_security.adapters.mcp_proxy.config import McpProxyConfig
from agent_security.adapters.mcp_proxy.gate import Gate, GateView, dumps_bounded, proxied_tool_name
from agent_security.core import Outcome, Reason

if TYPE_CHECKING:
    from agent_security.core.pipeline.facade import AgentSecurity

__all__ = ["McpProxy", "UpstreamError"]

MAX_PAGES = 100
PREFIX = "agent-security: blocked: "


class UpstreamError(RuntimeError):
    """The upstream server could not be started or listed."""


def _error(text: str) -> Any:
    import mcp_types as types

    return types.CallToolResult(content=[types.TextContent(type="text", text=text[:8000])], is_error=True)


class McpProxy:
    """One proxy between a host and the upstream server started by ``command``."""

    def __init__(
        self,
        command: Sequence[str],
        security: AgentSecurity,
        config: McpProxyConfig | None = None,
        *,
        base_dir: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        if not command or not command[0]:
            raise ValueError("no upstream server command given")
        self.command = [str(c) for c in command]
        self.security = security
        self.config = config or McpProxyConfig()
        self.base_dir = base_dir
        self.env = dict(os.environ if env is None else env)
        self.server_name = self.config.server_name or ""
        self.gate: Gate | None = None
        self.view = GateView()
        self._client: Any = None
        self._reported: set[str] = set()
        self._engine: tuple[Any, Any] | None = None

    # ---- the MCP server the host talks to ---------------------------------------------------------------
    def build_server(self) -> Any:
        from mcp.server.lowlevel import Server

        @contextlib.asynccontextmanager
        async def lifespan(_server: Any) -> AsyncIterator[dict[str, Any]]:
            async with self._upstream():
                yield {}

        return Server(
            "agent-security-mcp-proxy",
            version=_version(),
            instructions="Tools of an upstream MCP server, checked by agent-security.",
            lifespan=lifespan,
            on_list_tools=self._on_list_tools,
            on_call_tool=self._on_call_tool,
        )

    async def serve_stdio(self) -> None:
        """Serve the host on this process's stdin/stdout until it closes them."""
        from mcp.server.stdio import stdio_server

        server = self.build_server()
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    # ---- upstream -------------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _upstream(self) -> AsyncIterator[None]:
        from mcp import Client, StdioServerParameters

        params = StdioServerParameters(command=self.command[0], args=self.command[1:], env=self.env)
        client = Client(params, cache=None, read_timeout_seconds=self.config.start_timeout_s)
        try:
            await client.__aenter__()
        except Exception as exc:
            raise UpstreamError(f"the upstream server {self.command[0]!r} did not start: {_describe(exc)}") from None
        try:
            info = client.server_info
            self.server_name = self.config.server_name or (info.name if info is not None else "") or "upstream"
            self._client = client
            try:
                tools = await self._list_upstream()
                self.gate = Gate(
                    self.server_name, self.config, base_dir=self.base_dir, policy_denies=self._policy_denies
                )
                self._set_view(self.gate.start(tools))
            except UpstreamError:
                raise
            except Exception as exc:
                raise UpstreamError(f"the upstream server's tools could not be pinned: {_describe(exc)}") from None
            yield
        finally:
            self._client = None
            with contextlib.suppress(Exception):
                await client.__aexit__(None, None, None)

    async def _list_upstream(self) -> list[dict[str, Any]]:
        client = self._client
        if client is None:
            raise UpstreamError("the upstream server is not connected")
        tools: list[dict[str, Any]] = []
        cursor: str | None = None
        try:
            for _ in range(MAX_PAGES):
                page = await client.list_tools(cursor=cursor)
                tools.extend(t.model_dump(by_alias=True, exclude_none=True, mode="json") for t in page.tools)
                if len(tools) > self.config.max_tools:
                    raise UpstreamError(f"the upstream server lists more than {self.config.max_tools} tools")
                cursor = page.next_cursor
                if not cursor:
                    return tools
        except UpstreamError:
            raise
        except Exception as exc:
            raise UpstreamError(f"the upstream server's tools could not be listed: {_describe(exc)}") from None
        raise UpstreamError(f"the upstream server's tool listing has more than {MAX_PAGES} pages")

    async def _refresh(self) -> GateView:
        tools = await self._list_upstream()
        assert self.gate is not None
        view = self.gate.judge(tools)
        self._set_view(view)
        return view

    def _set_view(self, view: GateView) -> None:
        self.view = view
        for what in view.drift:
            if what in self._reported:
                continue
            self._reported.add(what)
            action = "refused" if self.config.on_drift == "refuse" else "flagged"
            print(f"agent-security mcp proxy: {self.server_name}: drift {action}: {what}", file=sys.stderr)
            with contextlib.suppress(Exception):
                self.security.record_event(
                    "mcp_proxy.drift",
                    {"server": self.server_name[:128], "change": what[:500], "action": action},
                    agent_id=self.config.agent_id,
                    reasons=[Reason(code="MCP_TOOL_DRIFT", message=what[:500])],
                )

    def _policy_denies(self, tool_name: str) -> str | None:
        """The policy's reason when it denies a call to ``tool_name`` with no arguments (listing only)."""
        from agent_security.core.policy.engine import PolicyEngine

        try:
            bundle = self.security.get_policy_bundle()
            if bundle is None:
                return None
            if self._engine is None or self._engine[0] is not bundle:
                self._engine = (bundle, PolicyEngine(bundle))
            request = self.security.build_request(**self._fields(tool_name, {}))
            decision = self._engine[1].evaluate(request)
        except Exception:
            return None  # listing is a courtesy: every call is decided by the pipeline anyway
        if decision.outcome is not Outcome.DENY:
            return None
        return "; ".join(f"{r.code}: {r.message}" if r.message else r.code for r in decision.reasons) or "DENY"

    # ---- handlers -------------------------------------------------------------------------------------
    async def _on_list_tools(self, ctx: Any, params: Any) -> Any:
        import mcp_types as types

        view = await self._refresh()
        return types.ListToolsResult(tools=[types.Tool.model_validate(d) for d, _ in view.served.values()])

    async def _on_call_tool(self, ctx: Any, params: Any) -> Any:
        try:
            return await self._call(str(params.name), params.arguments)
        except Exception as exc:  # an error of ours: the call is refused, never forwarded unchecked
            return _error(f"{PREFIX}internal error in the proxy ({_describe(exc)})")

    def _fields(self, tool_name: str, args: dict[str, Any], raw: dict[str, Any] | None = None) -> dict[str, Any]:
        fields: dict[str, Any] = {"tool_name": tool_name, "tool_args": args, "agent_id": self.config.agent_id}
        if self.config.environment:
            fields["environment"] = self.config.environment
        if raw is not None:
            ident: dict[str, Any] = {"tool_name": str(raw.get("name")), "provider": "mcp"}
            if self.gate is not None and (h := self.gate.manifest_hash(raw)) is not None:
                ident["manifest_hash"] = h
            fields["tool_identity"] = ident
        return fields

    async def _call(self, name: str, arguments: Any) -> Any:
        import anyio
        import mcp_types as types

        view = self.view
        if name not in view.served and name not in view.withheld:
            view = await self._refresh()  # a tool added since the last listing is judged now
        if name in view.withheld:
            w = view.withheld[name]
            return self._refuse(name, w.code, w.message)
        if name not in view.served:
            return self._refuse(name, "MCP_TOOL_UNKNOWN", f'the server offers no tool "{name[:128]}"')
        raw, validator = view.served[name]
        args: Any = {} if arguments is None else arguments
        if not isinstance(args, dict):
            return self._refuse(name, "MCP_ARGS_INVALID", "the arguments are not an object")
        if dumps_bounded(args, self.config.max_args_bytes) is None:
            return self._refuse(
                name, "MCP_ARGS_INVALID", f"the arguments are larger than {self.config.max_args_bytes} bytes"
            )
        problem = validator.errors(args)
        if problem is not None:
            return self._refuse(
                name, "MCP_ARGS_INVALID", f"the arguments do not match the tool's inputSchema: {problem}"
            )

        check = await self.security.acheck_tool_call(
            **self._fields(proxied_tool_name(self.server_name, name), args, raw)
        )
        if not check.allowed:
            reasons = "; ".join(f"{r.code}: {r.message}" for r in check.final_decision.reasons)
            return _error(PREFIX + (reasons or check.final_decision.outcome.value))

        client = self._client
        if client is None:
            return _error(f"{PREFIX}the upstream server is not connected")
        try:
            with anyio.fail_after(self.config.call_timeout_s + 1.0):
                result = await client.call_tool(
                    name, dict(check.tool_args), read_timeout_seconds=self.config.call_timeout_s
                )
            if not isinstance(result, types.CallToolResult):
                raise TypeError(f"the upstream answered with a {type(result).__name__}")
            payload = result.model_dump(by_alias=True, exclude_none=True, mode="json")
        except Exception as exc:
            await self.security.acheck_result(None, check=check, error=exc)
            why = "timed out" if isinstance(exc, TimeoutError) else "failed"
            return _error(f"{PREFIX}the upstream call {why} ({_describe(exc)}); nothing was returned")
        if dumps_bounded(payload, self.config.max_result_bytes) is None:
            await self.security.acheck_result(None, check=check, error=ValueError("result too large"))
            return _error(f"{PREFIX}the upstream result is larger than {self.config.max_result_bytes} bytes")
        checked = await self.security.acheck_result(payload, check=check)
        if not checked.allowed:
            reasons = "; ".join(f"{r.code}: {r.message}" for r in checked.decision.reasons)
            return _error(f"agent-security: output withheld: {reasons or 'withheld'}")
        if not checked.redacted:
            return result
        try:
            return types.CallToolResult.model_validate(checked.result)
        except Exception:
            return _error(f"{PREFIX}the redacted result no longer fits MCP's result shape")

    def _refuse(self, tool: str, code: str, message: str) -> Any:
        """A refusal before the pipeline ran (withheld tool, bad arguments): audited, then the error."""
        with contextlib.suppress(Exception):
            self.security.record_event(
                "mcp_proxy.refused",
                {"server": self.server_name[:128], "tool": tool[:128]},
                agent_id=self.config.agent_id,
                tool_name=proxied_tool_name(self.server_name, tool)[:256],
                outcome=Outcome.DENY,
                reasons=[Reason(code=code, message=message[:1000])],
            )
        return _error(f"{PREFIX}{code}: {message}")


def _describe(exc: BaseException) -> str:
    """A short description of ``exc``, looking inside exception groups."""
    depth = 0
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions and depth < 16:
        exc = exc.exceptions[0]
        depth += 1
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("agent-security-adapters")
    except metadata.PackageNotFoundError:  # pragma: no cover
        return "0"
