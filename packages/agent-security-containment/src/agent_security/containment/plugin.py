"""Entry point of agent-security-containment (group ``agent_security``, name ``containment``).

``agent_security_configure`` builds one :class:`~agent_security.containment.guard.ContainmentPlugin` per
``AgentSecurity`` from the ``[containment]`` section (plugin name ``containment-guard``): its sandbox
profiles, its ticket-required tools and its ticket validator (Jira or ServiceNow). Installed without a
``[containment]`` section it registers nothing and changes no decision. ``agent-security demo
containment`` runs the demo.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from agent_security.containment.config import ChangeControlConfig, ContainmentConfig
from agent_security.core import ConfigurationError, PluginInfo, Settings, hookimpl

if TYPE_CHECKING:
    import click

    from agent_security.containment.guard import ContainmentPlugin
    from agent_security.containment.tickets import ChangeControl
    from agent_security.core.host import Host

# The guard, the sandbox and the ticket validators are imported when a [containment] section asks for them:
# installed but not configured, the distribution costs a check (and a hook's fresh process) nothing.

__all__ = [
    "ContainmentConfig",
    "agent_security_cli",
    "agent_security_configure",
    "agent_security_plugin_info",
    "build_change_control",
    "build_plugin",
]

_STATUSES = {"jira": ("Approved", "In Progress"), "servicenow": ("Scheduled", "Implement")}


def _secret(name: str | None, what: str) -> str | None:
    if name is None:
        return None
    value = os.environ.get(name)
    if not value:
        raise ConfigurationError(f"[containment.change_control] {what}: the environment variable {name} is not set")
    return value


def build_change_control(cfg: ChangeControlConfig) -> ChangeControl:
    """A :class:`ChangeControl` with the configured Jira or ServiceNow validator (credentials read now)."""
    from agent_security.containment.tickets import ChangeControl
    from agent_security.containment.validators import HttpTicketValidator, JiraValidator, ServiceNowValidator

    common: dict[str, Any] = {
        "username": _secret(cfg.username_env, "username_env"),
        "password": _secret(cfg.password_env, "password_env"),
        "bearer_token": _secret(cfg.bearer_token_env, "bearer_token_env"),
        "timeout_s": cfg.timeout_s,
        "verify": cfg.verify_tls,
    }
    validator: HttpTicketValidator
    try:
        if cfg.provider == "jira":
            validator = JiraValidator(
                cfg.base_url, expiry_field=cfg.expiry_field or "duedate", start_field=cfg.start_field, **common
            )
        else:
            validator = ServiceNowValidator(
                cfg.base_url,
                table=cfg.table,
                require_approval=cfg.require_approval,
                expiry_field=cfg.expiry_field or "end_date",
                start_field=cfg.start_field or "start_date",
                **common,
            )
        return ChangeControl(
            validator=validator,
            provider=cfg.provider,
            required_statuses=cfg.required_statuses or _STATUSES[cfg.provider],
            ticket_pattern=cfg.ticket_pattern,
            scope=cfg.scope,
            require_expiry=cfg.require_expiry,
            cache_ttl_s=cfg.cache_ttl_s,
            cache_size=cfg.cache_size,
        )
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"[containment.change_control] {exc}") from exc


def build_plugin(config: ContainmentConfig) -> ContainmentPlugin:
    """The guard for a validated section."""
    from agent_security.containment.guard import ContainmentPlugin
    from agent_security.containment.sandbox import SandboxManager

    manager = SandboxManager(require_profile=config.require_profile)
    try:
        for name, profile in config.sandboxes.items():
            manager.register_sandbox(name, profile)
        change_control = build_change_control(config.change_control) if config.change_control else None
        return ContainmentPlugin(
            sandbox_manager=manager,
            change_control=change_control,
            ticket_required_tools=config.ticket_required_tools,
            ticket_arg_names=config.ticket_arg_names,
        )
    except ValueError as exc:
        raise ConfigurationError(f"[containment] {exc}") from exc


@hookimpl
def agent_security_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="containment",
        description="Sandbox profiles for paths, URLs, env and processes; change control with ticket validation.",
        config_section="containment",
        config_model=ContainmentConfig,
        unconfigured="Nothing: without a [containment] section no profile applies and no ticket is required.",
    )


@hookimpl
def agent_security_configure(host: Host, settings: Settings) -> None:
    cfg = settings.section("containment")
    if cfg is None:
        return
    if not isinstance(cfg, ContainmentConfig):
        cfg = ContainmentConfig.model_validate(cfg.model_dump() if hasattr(cfg, "model_dump") else cfg)
    if not cfg.enabled:
        return
    host.register_plugin(build_plugin(cfg))


@hookimpl
def agent_security_cli(cli: click.Group) -> None:
    import click

    from agent_security.containment.demo import demo

    group = cli.commands.get("demo")
    if isinstance(group, click.Group):  # agent-security demo containment, beside the core's demo
        group.add_command(demo, "containment")
