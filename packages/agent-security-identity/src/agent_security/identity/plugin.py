"""Entry point of agent-security-identity (group ``agent_security``, name ``identity``).

Release 0.1.0 ships the distribution's place in the plugin system only: it is discovered, listed by
``agent-security plugins``, and validates its ``[identity]`` config section. It registers no check hooks
yet, so installing it changes no decision. The capability it will carry is on the roadmap.
"""

from __future__ import annotations

from agent_security.core import PluginInfo, SectionModel, hookimpl

__all__ = ["IdentityConfig", "agent_security_plugin_info"]


class IdentityConfig(SectionModel):
    """Configuration section ``[identity]``. No settings yet."""


@hookimpl
def agent_security_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="identity",
        description="Agent and tool registries, trust levels earned from signed attestations, delegation chains.",
        config_section="identity",
        config_model=IdentityConfig,
        unconfigured="Nothing yet: 0.1.0 registers no check hooks.",
    )
