"""The ``proxy`` subcommand of ``agent-security mcp`` (the group agent-security-supply-chain adds; created
here when that distribution's group is absent)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal

import click

__all__ = ["attach", "proxy_command"]


@click.command("proxy", context_settings={"ignore_unknown_options": True})
@click.option("--policy", "policy_path", type=click.Path(dir_okay=False, exists=True), help="Policy file.")
@click.option("--server-name", default=None, help="Server name in tool names and pins (default: as reported).")
@click.option(
    "--lock", "lock_file", type=click.Path(dir_okay=False), default=None, help="Pin lock file (kept across runs)."
)
@click.option("--on-drift", type=click.Choice(["refuse", "flag"]), default=None, help="Drifted tools: refuse or flag.")
@click.option("--agent", "agent_id", default=None, help="Agent id of every check (default: mcp-proxy).")
@click.argument("command", nargs=-1, type=click.UNPROCESSED, required=True)
@click.pass_context
def proxy_command(
    ctx: click.Context,
    policy_path: str | None,
    server_name: str | None,
    lock_file: str | None,
    on_drift: Literal["refuse", "flag"] | None,
    agent_id: str | None,
    command: tuple[str, ...],
) -> None:
    """Serve an MCP server's tools on stdio, checked by agent-security: scanned and pinned at start, listed
    as policy allows, every call validated against its inputSchema and decided by the pipeline, every
    result checked. Give the server command after '--'."""
    import anyio

    from agent_security.adapters.mcp_proxy.config import McpProxyConfig
    from agent_security.adapters.mcp_proxy.proxy import McpProxy, UpstreamError
    from agent_security.core.config import load_settings
    from agent_security.core.pipeline.facade import AgentSecurity
    from agent_security.core.store import default_store_url, open_store

    config_path = (ctx.find_root().obj or {}).get("config")
    try:
        core = load_settings(config_path).core
        store = open_store(core.store or default_store_url(), namespace=core.store_namespace)
    except Exception as exc:
        raise click.ClickException(f"the state store cannot be opened: {exc}") from exc
    try:
        kwargs: dict[str, Any] = {"config_path": config_path, "store": store, "mode": "enforce"}
        if policy_path:
            kwargs["policy_path"] = policy_path
        security = AgentSecurity(**kwargs)
    except Exception as exc:
        store.close()
        raise click.ClickException(str(exc)) from exc
    try:
        section = security.settings.section("adapters")
        cfg: McpProxyConfig = getattr(section, "mcp_proxy", None) or McpProxyConfig()
        update = {
            k: v
            for k, v in {
                "server_name": server_name,
                "lock_file": lock_file,
                "on_drift": on_drift,
                "agent_id": agent_id,
            }.items()
            if v is not None
        }
        cfg = McpProxyConfig.model_validate({**cfg.model_dump(), **update})
        settings_path = security.settings.path
        base_dir = Path(settings_path).parent if settings_path is not None and not lock_file else None
        proxy = McpProxy(list(command), security, cfg, base_dir=base_dir)
        try:
            anyio.run(proxy.serve_stdio)
        except UpstreamError as exc:
            click.echo(f"agent-security mcp proxy: {exc}", err=True)
            sys.exit(1)
        except BaseExceptionGroup as group:
            found = group.subgroup(lambda e: isinstance(e, UpstreamError))
            if found is None:
                raise
            first = found.exceptions[0]
            while isinstance(first, BaseExceptionGroup):
                first = first.exceptions[0]
            click.echo(f"agent-security mcp proxy: {first}", err=True)
            sys.exit(1)
    finally:
        security.shutdown()
        store.close()


def attach(cli: click.Group) -> None:
    """Add ``proxy`` to agent-security-supply-chain's ``mcp`` group (the same group object its plugin adds,
    whichever plugin runs first). The proxy scans and pins with supply-chain: without it there is no
    ``mcp`` group here, and ``agent-security mcp`` says which distribution to install."""
    try:
        from agent_security.supply_chain.cli import mcp_group
    except ImportError:
        return
    group: click.Group = mcp_group
    if "proxy" not in group.commands:
        group.add_command(proxy_command)
