"""Entry point of agent-security-adapters (group ``agent_security``, name ``adapters``).

It validates the ``[adapters]`` config section and adds ``agent-security serve`` (the hook daemon,
:mod:`agent_security.adapters.daemon`). It registers no check hooks: installing it changes no decision.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from agent_security.core import PluginInfo, SectionModel, hookimpl

if TYPE_CHECKING:
    import click

__all__ = ["AdaptersConfig", "agent_security_cli", "agent_security_plugin_info"]


class AdaptersConfig(SectionModel):
    """Configuration section ``[adapters]``."""

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
        unconfigured="Registers no check hooks; hook calls may start the hook daemon (daemon = auto).",
    )


@hookimpl
def agent_security_cli(cli: click.Group) -> None:
    from agent_security.adapters.daemon.cli import serve_command

    cli.add_command(serve_command)
