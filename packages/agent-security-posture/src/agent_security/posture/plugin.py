"""Entry point of agent-security-posture (group ``agent_security``, name ``posture``).

Posture reads the audit trail and the registries; it registers no check hook, so installing it changes no
decision. It adds commands to the CLI: ``agent-security posture`` and, in the core's ``audit`` group,
``audit export`` and ``audit forward``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent_security.core import PluginInfo, SectionModel, hookimpl

if TYPE_CHECKING:
    import click

__all__ = ["PostureConfig", "agent_security_cli", "agent_security_plugin_info"]


class PostureConfig(SectionModel):
    """Configuration section ``[posture]``. No settings yet: the commands take their options on the
    command line and read the trail named by ``[core.audit]``."""


@hookimpl
def agent_security_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="posture",
        description="Inventory, risk scores, compliance reports and SIEM export (CEF, LEEF, OCSF, syslog).",
        config_section="posture",
        config_model=PostureConfig,
        unconfigured="Reads the audit trail on demand (agent-security posture, audit export, audit forward); "
        "registers no check hook.",
    )


@hookimpl
def agent_security_cli(cli: click.Group) -> None:
    import click

    from agent_security.posture.cli import export_command, forward_command, posture_command

    cli.add_command(posture_command, "posture")
    audit = cli.commands.get("audit")
    if isinstance(audit, click.Group):  # agent-security audit export / forward, beside the core's verify
        audit.add_command(export_command, "export")
        audit.add_command(forward_command, "forward")
    demo = cli.commands.get("demo")
    if isinstance(demo, click.Group):  # agent-security demo guardian-posture / full, when their parts are installed
        from agent_security.posture.demos.cli import add_demo_commands

        add_demo_commands(demo)
