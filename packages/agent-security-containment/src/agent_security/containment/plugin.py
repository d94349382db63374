"""Entry point of agent-security-containment (group ``agent_security``, name ``containment``).

Release 0.1.0 ships the distribution's place in the plugin system only: it is discovered, listed by
``agent-security plugins``, and validates its ``[containment]`` config section. It registers no check hooks
yet, so installing it changes no decision. The capability it will carry is on the roadmap.
"""

from __future__ import annotations

from agent_security.core import PluginInfo, SectionModel, hookimpl

__all__ = ["ContainmentConfig", "agent_security_plugin_info"]


class ContainmentConfig(SectionModel):
    """Configuration section ``[containment]``. No settings yet."""


@hookimpl
def agent_security_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="containment",
        description="Sandbox profiles for paths, URLs, env and processes; change control with ticket validation.",
        config_section="containment",
        config_model=ContainmentConfig,
        unconfigured="Nothing yet: 0.1.0 registers no check hooks.",
    )
