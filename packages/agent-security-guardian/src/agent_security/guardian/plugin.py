"""Entry point of agent-security-guardian (group ``agent_security``, name ``guardian``).

``agent_security_configure`` builds one :class:`~agent_security.guardian.GuardianAgent` per
``AgentSecurity`` from the ``[guardian]`` section and registers it (plugin name ``guardian-agent``); in
block mode it also makes sure a kill switch is registered (the built-in one, when the configuration has no
``[kill_switch]`` section), so that a kill holds. Without a ``[guardian]`` section nothing is registered:
the guardian is opt-in. ``agent-security guardian status|revive|incidents`` serves operators;
``agent-security demo guardian`` runs the guardian's demo scenarios.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent_security.core import PluginInfo, Settings, hookimpl
from agent_security.guardian.config import GuardianConfig

if TYPE_CHECKING:
    import click

    from agent_security.core.host import Host

__all__ = ["GuardianConfig", "agent_security_cli", "agent_security_configure", "agent_security_plugin_info"]


@hookimpl
def agent_security_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="guardian",
        description="Anomaly detection over the audit stream with auto-kill through the kill switch.",
        config_section="guardian",
        config_model=GuardianConfig,
        unconfigured='Not installed: add a [guardian] section (e.g. blueprint = "finance") to turn it on.',
    )


@hookimpl
def agent_security_configure(host: Host, settings: Settings) -> None:
    cfg = settings.section("guardian")
    if cfg is None:
        return
    if not isinstance(cfg, GuardianConfig):
        cfg = GuardianConfig.model_validate(cfg.model_dump() if hasattr(cfg, "model_dump") else cfg)
    if not cfg.enabled:
        return
    if cfg.mode == "block" and host.get_plugin("kill_switch") is None and settings.section("kill_switch") is None:
        from agent_security.core.builtin import kill_switch

        host.register_plugin(kill_switch())
    from agent_security.guardian.agent import GuardianAgent

    host.register_plugin(GuardianAgent(cfg))


@hookimpl
def agent_security_cli(cli: click.Group) -> None:
    import click

    from agent_security.guardian.cli import guardian
    from agent_security.guardian.demo import demo_command

    cli.add_command(guardian)
    group = cli.commands.get("demo")
    if isinstance(group, click.Group):  # agent-security demo guardian, beside the core's demo
        group.add_command(demo_command, "guardian")
