"""Entry point of agent-security-adapters (group ``agent_security``, name ``adapters``).

* ``agent_security_plugin_info``: name ``adapters``, config section ``[adapters]`` (no settings yet).
* ``agent_security_cli``: adds ``agent-security hook <host>``, ``install <host>`` and ``doctor <host>``
  (:mod:`agent_security.adapters.hooks.cli`, imported only when the command line is built).

It registers no check hooks: the adapters call the pipeline, they do not add decisions to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent_security.core import PluginInfo, SectionModel, hookimpl

if TYPE_CHECKING:
    import click

__all__ = ["AdaptersConfig", "agent_security_cli", "agent_security_plugin_info"]


class AdaptersConfig(SectionModel):
    """Configuration section ``[adapters]``. No settings yet."""


@hookimpl
def agent_security_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="adapters",
        description="Claude Code and Cursor hooks, LangChain, CrewAI, OpenAI Agents SDK and an MCP proxy.",
        config_section="adapters",
        config_model=AdaptersConfig,
        unconfigured="Nothing to configure: the adapters call the pipeline and add no check hooks.",
    )


@hookimpl
def agent_security_cli(cli: click.Group) -> None:
    from agent_security.adapters.hooks.cli import doctor_command, hook_command, install_command

    cli.add_command(hook_command, "hook")
    cli.add_command(install_command, "install")
    cli.add_command(doctor_command, "doctor")
