"""Entry point of agent-security-identity (group ``agent_security``, name ``identity``).

``agent_security_configure`` builds one :class:`~agent_security.identity.enforcer.IdentityEnforcer` per
``AgentSecurity`` from the ``[identity]`` section (plugin name ``identity-enforcer``), keeps its
registries in the instance's store, and loads the configured registry files and MCP pin files into
them.

Installed without an ``[identity]`` section the enforcer still runs, with an empty registry and
registration not required: no call is refused for being unregistered, but no caller is believed
either. A trust level, roles or an agent type a caller asserts for itself are dropped (the decision's
audit event records them under ``data.plugins.identity.changes``), so ``trust_level_min``,
``agent_roles_any`` and ``agent_type`` rules match registered or attested agents only. Set
``enabled = false`` to turn it off. ``agent-security identity ...`` manages the registries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent_security.core import ConfigurationError, PluginInfo, Settings, hookimpl
from agent_security.identity.attestation import Issuer, JtiRevocations, TokenVerifier, load_public_key
from agent_security.identity.config import IdentityConfig, IssuerConfig
from agent_security.identity.enforcer import IdentityEnforcer
from agent_security.identity.errors import IdentityError
from agent_security.identity.registry import AgentRegistry
from agent_security.identity.tools import ToolRegistry
from agent_security.identity.trust import TrustEvaluator

if TYPE_CHECKING:
    import click

    from agent_security.core.host import Host
    from agent_security.core.store import Store

__all__ = [
    "IdentityConfig",
    "agent_security_cli",
    "agent_security_configure",
    "agent_security_plugin_info",
    "build_enforcer",
    "build_issuer",
]


def build_issuer(cfg: IssuerConfig) -> Issuer:
    """An :class:`Issuer` from its configuration (its keys read now: a bad key fails the start)."""
    try:
        keys = {kid: load_public_key(source) for kid, source in cfg.keys.items()}
    except IdentityError as exc:
        raise ConfigurationError(f"[identity] issuer {cfg.name!r}: {exc}") from exc
    return Issuer(name=cfg.name, keys=keys, grants=cfg.grants, may_delegate=cfg.may_delegate, max_ttl_s=cfg.max_ttl_s)


def build_enforcer(config: IdentityConfig | None, store: Store | None = None) -> IdentityEnforcer:
    """An enforcer for a validated section (``None``: the documented defaults), its state in ``store``,
    with the configured registry and pin files loaded."""
    cfg = config or IdentityConfig()
    agents = AgentRegistry(store=store, refresh_s=cfg.refresh_s)
    tools = ToolRegistry(store=store, refresh_s=cfg.refresh_s)
    verifier = TokenVerifier(
        issuers=[build_issuer(i) for i in cfg.issuers],
        audience=cfg.audience,
        leeway_s=cfg.leeway_s,
        revocations=JtiRevocations(store=store, refresh_s=cfg.refresh_s),
    )
    try:
        for path in cfg.registry_files:
            agents.load(path, skip_revoked=True)
            tools.load(path, skip_revoked=True)
        for path in cfg.mcp_pin_files:
            tools.register_mcp_lock(path, public_key=cfg.mcp_pin_public_key)
    except IdentityError as exc:
        raise ConfigurationError(f"[identity] {exc}") from exc
    return IdentityEnforcer(
        agent_registry=agents,
        tool_registry=tools,
        trust_evaluator=TrustEvaluator(
            unattested_max_trust=cfg.unattested_max_trust,
            unattested_max_trust_by_environment=cfg.unattested_max_trust_by_environment,
        ),
        verifier=verifier,
        require_registration=cfg.require_registration,
        strict=cfg.strict,
        confusable_ids=cfg.confusable_ids,
        minimum_trust_level=cfg.minimum_trust_level,
        minimum_trust_by_environment=cfg.minimum_trust_by_environment,
        max_delegation_depth=cfg.max_delegation_depth,
        unsigned_delegation=cfg.unsigned_delegation,
        require_tool_registration=cfg.require_tool_registration,
        tool_hash_mismatch=cfg.tool_hash_mismatch,
        enforce_tool_permissions=cfg.enforce_tool_permissions,
    )


@hookimpl
def agent_security_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="identity",
        description="Agent and tool registries, trust levels earned from signed attestations, delegation chains.",
        config_section="identity",
        config_model=IdentityConfig,
        unconfigured="Believes no caller: self-asserted trust levels, roles and agent types are dropped "
        "(audited); registration is not required.",
    )


@hookimpl
def agent_security_configure(host: Host, settings: Settings) -> None:
    cfg = settings.section("identity")
    if cfg is not None and not isinstance(cfg, IdentityConfig):
        cfg = IdentityConfig.model_validate(cfg.model_dump() if hasattr(cfg, "model_dump") else cfg)
    if cfg is not None and not cfg.enabled:
        return
    host.register_plugin(build_enforcer(cfg, host.store))


@hookimpl
def agent_security_cli(cli: click.Group) -> None:
    import click

    from agent_security.identity.cli import demo, identity

    cli.add_command(identity)
    group = cli.commands.get("demo")
    if isinstance(group, click.Group):  # agent-security demo identity, beside the core's demo
        group.add_command(demo, "identity")
