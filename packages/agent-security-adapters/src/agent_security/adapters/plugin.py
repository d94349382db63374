"""Entry point of agent-security-adapters (group ``agent_security``, name ``adapters``).

Release 0.1.0 ships the distribution's place in the plugin system only: it is discovered, listed by
``agent-security plugins``, and validates its ``[adapters]`` config section. It registers no check hooks
yet, so installing it changes no decision. The capability it will carry is on the roadmap.
"""

from __future__ import annotations

from agent_security.core import PluginInfo, SectionModel, hookimpl

__all__ = ["AdaptersConfig", "agent_security_plugin_info"]


class AdaptersConfig(SectionModel):
    """Configuration section ``[adapters]``. No settings yet."""


@hookimpl
def agent_security_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="adapters",
        description="Claude Code and Cursor hooks, LangChain, CrewAI, OpenAI Agents SDK and an MCP proxy.",
        config_section="adapters",
        config_model=AdaptersConfig,
        unconfigured="Nothing yet: 0.1.0 registers no check hooks.",
    )
