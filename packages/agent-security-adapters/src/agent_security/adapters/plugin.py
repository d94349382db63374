"""Entry point of agent-security-adapters (group ``agent_security``, name ``adapters``).

* ``agent_security_plugin_info``: name ``adapters``, config section ``[adapters]`` (:class:`AdaptersConfig`).
* ``agent_security_cli``: adds ``agent-security hook <host>``, ``install <host>`` and ``doctor <host>``
  (:mod:`agent_security.adapters.hooks.cli`), ``agent-security mcp proxy`` (to agent-security-supply-chain's
  ``mcp`` group), ``agent-security serve`` (the hook daemon, :mod:`agent_security.adapters.daemon`) and
  ``agent-security demo adapters``, imported only when the command line is built.

The adapters register no check hooks: installing the distribution changes no decision. Framework adapters
are imported by the application (``agent_security.adapters.openai_agents``, ...), never by this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from agent_security.adapters.mcp_proxy.config import McpProxyConfig
from agent_security.core import PluginInfo, SectionModel, hookimpl

if TYPE_CHECKING:
    import click

__all__ = ["AdaptersConfig", "agent_security_cli", "agent_security_plugin_info"]


class AdaptersConfig(SectionModel):
    """Configuration section ``[adapters]``."""

    mcp_proxy: McpProxyConfig = Field(default_factory=McpProxyConfig)
    """``[adapters.mcp_proxy]``: the MCP proxy (``agent-security mcp proxy``)."""

    daemon: Literal["auto", "manual", "off"] = "auto"
    """The hook daemon (``agent-security serve``): ``auto`` uses it and lets the first hook call start it;
    ``manual`` uses one started by hand, never starts one; ``off`` never uses one (and ``serve`` refuses to
    start). Without a daemon every hook call checks in-process."""
    daemon_idle_timeout_s: float = Field(900.0, gt=0, le=7 * 86_400)
    """The daemon exits after this many seconds without a hook call."""


@hookimpl
def agent_security_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="adapters",
        description="Claude Code and Cursor hooks, LangChain, CrewAI, OpenAI Agents SDK and an MCP proxy.",
        config_section="adapters",
        config_model=AdaptersConfig,
        unconfigured="Registers no check hooks; adds the hook, install, doctor, serve and mcp proxy commands.",
    )


@hookimpl
def agent_security_cli(cli: click.Group) -> None:
    import click

    from agent_security.adapters.hooks.cli import doctor_command, hook_command, install_command

    cli.add_command(hook_command, "hook")
    cli.add_command(install_command, "install")
    cli.add_command(doctor_command, "doctor")

    from agent_security.adapters.mcp_proxy.cli import attach

    attach(cli)
    from agent_security.adapters.daemon.cli import serve_command

    cli.add_command(serve_command)
    demo = cli.commands.get("demo")
    if isinstance(demo, click.Group):
        from agent_security.adapters.demo_cli import demo_adapters

        demo.add_command(demo_adapters, "adapters")
