"""Entry point of agent-security-supply-chain (group ``agent_security``, name ``supply_chain``).

Release 0.1.0 ships the distribution's place in the plugin system only: it is discovered, listed by
``agent-security plugins``, and validates its ``[supply_chain]`` config section. It registers no check hooks
yet, so installing it changes no decision. The capability it will carry is on the roadmap.
"""

from __future__ import annotations

from agent_security.core import PluginInfo, SectionModel, hookimpl

__all__ = ["SupplyChainConfig", "agent_security_plugin_info"]


class SupplyChainConfig(SectionModel):
    """Configuration section ``[supply_chain]``. No settings yet."""


@hookimpl
def agent_security_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="supply_chain",
        description="MCP server scanning and pinning, tool provenance and shell command governance.",
        config_section="supply_chain",
        config_model=SupplyChainConfig,
        unconfigured="Nothing yet: 0.1.0 registers no check hooks.",
    )
