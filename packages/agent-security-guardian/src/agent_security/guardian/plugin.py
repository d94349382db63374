"""Entry point of agent-security-guardian (group ``agent_security``, name ``guardian``).

Release 0.1.0 ships the distribution's place in the plugin system only: it is discovered, listed by
``agent-security plugins``, and validates its ``[guardian]`` config section. It registers no check hooks
yet, so installing it changes no decision. The capability it will carry is on the roadmap.
"""

from __future__ import annotations

from agent_security.core import PluginInfo, SectionModel, hookimpl

__all__ = ["GuardianConfig", "agent_security_plugin_info"]


class GuardianConfig(SectionModel):
    """Configuration section ``[guardian]``. No settings yet."""


@hookimpl
def agent_security_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="guardian",
        description="Anomaly detection over the audit stream with auto-kill through the kill switch.",
        config_section="guardian",
        config_model=GuardianConfig,
        unconfigured="Nothing yet: 0.1.0 registers no check hooks.",
    )
