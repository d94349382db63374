"""Config-file sections for the built-in plugins, so an ``AgentSecurity`` can be built from config alone.

Each section, when present, creates the plugin and registers it; without its section a built-in is not
installed (pass it in code instead: ``AgentSecurity(plugins=[kill_switch()])``). Configuring the same
built-in both ways is an error (two plugins with one name).

.. code-block:: toml

    [kill_switch]
    state_file = "/var/lib/agent-security/kill-switch.json"   # loaded at start, saved on every change

    [rate_limiter]
    max_per_minute = 60
    max_per_minute_per_tool = 20

    [session_context]
    session_ttl_s = 3600
    limits = { trigger_payment = 2 }

    [output_validator]
    sensitive_patterns = ['\\b\\d{3}-\\d{2}-\\d{4}\\b']
    action = "redact"
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from agent_security.core.builtin.kill_switch import kill_switch, load_state_file, save_state_file
from agent_security.core.builtin.output_validator import output_validator
from agent_security.core.builtin.rate_limiter import rate_limiter
from agent_security.core.builtin.session_context import session_context
from agent_security.core.config import SectionModel, Settings
from agent_security.core.errors import ConfigurationError
from agent_security.core.hookspecs import hookimpl
from agent_security.core.host import Host
from agent_security.core.plugins import PluginInfo

__all__ = ["CONFIGURATORS", "KillSwitchConfig", "OutputValidatorConfig", "RateLimiterConfig", "SessionContextConfig"]


class KillSwitchConfig(SectionModel):
    state_file: str | None = None
    """JSON state file: loaded at start (a missing or unreadable file starts globally killed), saved on
    every change."""
    missing_ok: bool = False
    """Start with nothing killed when ``state_file`` does not exist yet (first deployment)."""


class RateLimiterConfig(SectionModel):
    max_per_minute: int = Field(0, ge=0)
    max_per_minute_per_tool: int = Field(0, ge=0)
    window_s: float = Field(60.0, gt=0, le=86_400)


class SessionContextConfig(SectionModel):
    limits: dict[str, int] = {}
    session_ttl_s: float = Field(3600.0, gt=0)
    max_sessions: int = Field(10_000, ge=1)


class OutputValidatorConfig(SectionModel):
    sensitive_patterns: list[str] = []
    """RE2 patterns (linear time)."""
    forbidden_keywords: list[str] = []
    max_output_size: int = Field(0, ge=0)
    action: Literal["block", "redact", "log"] = "block"


class _Configurator:
    """Declares one built-in's config section and installs the built-in when the section is present."""

    def __init__(self, name: str, model: type[SectionModel], description: str) -> None:
        self.name = f"{name}_config"
        self._section = name
        self._model = model
        self._description = description

    @hookimpl
    def agent_security_plugin_info(self) -> PluginInfo:
        return PluginInfo(
            name=self._section,
            description=self._description,
            config_section=self._section,
            config_model=self._model,
            unconfigured="Not installed (pass it in code to use it).",
            distribution="agent-security-core",
        )

    @hookimpl
    def agent_security_configure(self, host: Host, settings: Settings) -> None:
        cfg = settings.section(self._section)
        if cfg is None:
            return
        host.register_plugin(self._build(cfg))

    def _build(self, cfg: Any) -> Any:
        if isinstance(cfg, KillSwitchConfig):
            path = cfg.state_file
            if path is None:
                return kill_switch()
            return kill_switch(
                load_state=lambda: load_state_file(path, missing_ok=cfg.missing_ok),
                on_state_change=lambda state: save_state_file(state, path),
            )
        if isinstance(cfg, RateLimiterConfig):
            return rate_limiter(cfg.max_per_minute, cfg.max_per_minute_per_tool, cfg.window_s)
        if isinstance(cfg, SessionContextConfig):
            return session_context(cfg.limits, cfg.session_ttl_s, cfg.max_sessions)
        assert isinstance(cfg, OutputValidatorConfig)
        return output_validator(cfg.sensitive_patterns, cfg.forbidden_keywords, cfg.max_output_size, cfg.action)


CONFIGURATORS = (
    ("kill_switch", KillSwitchConfig, "Emergency stop per agent or for all agents"),
    ("rate_limiter", RateLimiterConfig, "Sliding-window call limits per agent and per agent and tool"),
    ("session_context", SessionContextConfig, "Per-session tool call limits"),
    ("output_validator", OutputValidatorConfig, "Scans tool results; blocks, redacts or logs"),
)


class _AuditWitnessConfigurator:
    """Installs the audit witness of ``[core.audit] witness`` (see :mod:`agent_security.core.audit.witness`)."""

    name = "audit_witness_config"

    @hookimpl
    def agent_security_configure(self, host: Host, settings: Settings) -> None:
        audit = settings.core.audit
        if audit.witness is None:
            return
        if audit.signing_key_path is None:
            raise ConfigurationError(
                "[core.audit] witness needs signing_key_path: a witness keeps signed "
                "checkpoints, and without a key there are none"
            )
        from agent_security.core.audit.witness import open_witness

        host.register_plugin(open_witness(audit.witness))


def configurators() -> list[Any]:
    return [*(_Configurator(name, model, desc) for name, model, desc in CONFIGURATORS), _AuditWitnessConfigurator()]
