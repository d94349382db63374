"""Entry point of agent-security-posture (group ``agent_security``, name ``posture``).

Release 0.1.0 ships the distribution's place in the plugin system only: it is discovered, listed by
``agent-security plugins``, and validates its ``[posture]`` config section. It registers no check hooks
yet, so installing it changes no decision. The capability it will carry is on the roadmap.
"""

from __future__ import annotations

from agent_security.core import PluginInfo, SectionModel, hookimpl

__all__ = ["PostureConfig", "agent_security_plugin_info"]


class PostureConfig(SectionModel):
    """Configuration section ``[posture]``. No settings yet."""


@hookimpl
def agent_security_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="posture",
        description="Inventory, risk scores, compliance reports and SIEM export (CEF, LEEF, OCSF, syslog).",
        config_section="posture",
        config_model=PostureConfig,
        unconfigured="Nothing yet: 0.1.0 registers no check hooks.",
    )
