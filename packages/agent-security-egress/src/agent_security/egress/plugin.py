"""Entry point of agent-security-egress (group ``agent_security``, name ``egress``).

Release 0.1.0 ships the distribution's place in the plugin system only: it is discovered, listed by
``agent-security plugins``, and validates its ``[egress]`` config section. It registers no check hooks
yet, so installing it changes no decision. The capability it will carry is on the roadmap.
"""

from __future__ import annotations

from agent_security.core import PluginInfo, SectionModel, hookimpl

__all__ = ["EgressConfig", "agent_security_plugin_info"]


class EgressConfig(SectionModel):
    """Configuration section ``[egress]``. No settings yet."""


@hookimpl
def agent_security_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="egress",
        description="Data loss prevention and egress control.",
        config_section="egress",
        config_model=EgressConfig,
        unconfigured="Nothing yet: 0.1.0 registers no check hooks.",
    )
