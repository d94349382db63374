"""Entry point of agent-security-supply-chain (group ``agent_security``, name ``supply_chain``).

* ``agent_security_plugin_info``: name ``supply_chain``, config section ``[supply_chain]``
  (:class:`SupplyChainConfig`).
* ``agent_security_configure``: builds one :class:`~agent_security.supply_chain.SupplyChainGuard` per
  ``AgentSecurity`` and registers it.
* ``agent_security_cli``: adds ``agent-security mcp scan | pin | verify`` (:mod:`.cli`, imported only when the
  command line is built).

Without a ``[supply_chain]`` section the guard still runs, in a safe default: shell and code-execution
calls are governed by :data:`~agent_security.supply_chain.governor.DEFAULT_RULES` (destructive, network and
privilege-escalation commands blocked; a short list of read-only commands allowed; anything else
``require_approval``); MCP tools are not checked against a lock (there is none) and provenance is off.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from agent_security.core import Host, PluginInfo, SectionModel, hookimpl
from agent_security.supply_chain.governor import DEFAULT_RULES, CommandAction, CommandGovernor, CommandRule
from agent_security.supply_chain.guard import SupplyChainGuard

if TYPE_CHECKING:
    import click

    from agent_security.core import Settings
    from agent_security.supply_chain.cli import mcp_group

__all__ = [
    "ProvenanceEntry",
    "SupplyChainConfig",
    "agent_security_cli",
    "agent_security_configure",
    "agent_security_plugin_info",
    "build_guard",
    "mcp_group",
]


class ProvenanceEntry(SectionModel):
    manifest_hash: str = Field(pattern=r"^sha256:[0-9a-fA-F]{64}$")
    """``sha256:<hex>`` of the tool's manifest (see ``agent_security.supply_chain.manifest_hash``)."""
    source: str | None = None
    publisher: str | None = None


class SupplyChainConfig(SectionModel):
    """Configuration section ``[supply_chain]``."""

    enabled: bool = True
    """Register the guard at all."""
    command_rules: tuple[CommandRule, ...] | None = None
    """Governor rules ``{pattern, action, reason}``, first match wins. Unset: the built-in set."""
    include_builtin_rules: bool = False
    """Append the built-in rules after ``command_rules``."""
    default_action: CommandAction | None = None
    """Action when no rule matches (``block`` when ``command_rules`` is set, ``require_approval`` with the
    built-in set)."""
    unparseable_action: Literal["block", "require_approval"] = "block"
    """Action for a command line the parser cannot parse confidently."""
    govern_commands: bool = True
    shell_tool_names: tuple[str, ...] = ()
    """More tool names to treat as shells (added to the built-in ones: bash, shell, run_command, exec...)."""
    command_arg_names: tuple[str, ...] = ()
    """More argument names that carry a command (added to: command, cmd, script, commandLine, ...)."""
    lock_file: str | None = None
    """MCP pin lock written by ``agent-security mcp pin``; every MCP tool call must be pinned in it.
    A relative path is relative to the config file's directory."""
    lock_public_key: str | None = None
    """Ed25519 public key (PEM); when set, the lock file must carry a valid signature by it."""
    unverified_mcp: Literal["deny", "require_approval", "allow"] = "deny"
    """What to do with an MCP tool that is not pinned (or not verified)."""
    block_unverified_mcp: bool = False
    """Without a lock file: treat every MCP tool without a provenance record as unverified."""
    provenance: dict[str, ProvenanceEntry] = Field(default_factory=dict)
    """Registered tool manifests by tool name. The application supplies manifests at call time with
    ``guard.manifest_provider``; a registered tool with no manifest to check is denied."""
    require_provenance: bool = False
    """Deny every tool that has no provenance record."""


def build_guard(config: SupplyChainConfig | None, *, base_dir: Path | None = None) -> SupplyChainGuard | None:
    """The guard for a validated section (``None`` when ``enabled = false``). Relative file paths are
    resolved against ``base_dir`` (the config file's directory) when given."""

    def resolve(path: str) -> str:
        p = Path(path).expanduser()
        return str(base_dir / p) if base_dir is not None and not p.is_absolute() else str(p)

    if config is None:
        return SupplyChainGuard(governor=CommandGovernor(DEFAULT_RULES, default_action="require_approval"))
    if not config.enabled:
        return None
    governor: CommandGovernor | None = None
    if config.govern_commands:
        if config.command_rules is None:
            rules: tuple[CommandRule, ...] = DEFAULT_RULES
            default: CommandAction = config.default_action or "require_approval"
        else:
            rules = config.command_rules + (DEFAULT_RULES if config.include_builtin_rules else ())
            default = config.default_action or "block"
        governor = CommandGovernor(rules, default_action=default, unparseable_action=config.unparseable_action)
    lock = None
    if config.lock_file:
        from agent_security.supply_chain.pinning import McpLock, load_public_key

        key = load_public_key(resolve(config.lock_public_key)) if config.lock_public_key else None
        lock = McpLock.load(resolve(config.lock_file), public_key=key, require_signature=key is not None)
    provenance = None
    if config.provenance or config.require_provenance:
        from agent_security.supply_chain.provenance import ToolProvenance

        provenance = ToolProvenance()
        for tool, entry in config.provenance.items():
            provenance.register_hash(tool, entry.manifest_hash.lower(), source=entry.source, publisher=entry.publisher)
    return SupplyChainGuard(
        governor=governor,
        provenance=provenance,
        lock=lock,
        block_unverified_mcp=config.block_unverified_mcp,
        unverified_mcp_action=config.unverified_mcp,
        shell_tool_names=config.shell_tool_names,
        command_arg_names=config.command_arg_names,
        require_provenance=config.require_provenance,
    )


@hookimpl
def agent_security_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="supply_chain",
        description="MCP server scanning and pinning, tool provenance and shell command governance.",
        config_section="supply_chain",
        config_model=SupplyChainConfig,
        unconfigured=(
            "Governs shell/code-execution calls with the built-in conservative rules (destructive, "
            "network and privilege commands blocked, read-only commands allowed, others need "
            "approval); no MCP pinning or provenance until configured."
        ),
    )


@hookimpl
def agent_security_configure(host: Host, settings: Settings) -> None:
    base_dir = settings.path.parent if settings.path is not None else None
    guard = build_guard(settings.section("supply_chain"), base_dir=base_dir)
    if guard is not None:
        host.register_plugin(guard)


@hookimpl
def agent_security_cli(cli: click.Group) -> None:
    import click

    from agent_security.supply_chain.cli import demo_supply_chain, mcp_group

    cli.add_command(mcp_group)
    demo = cli.commands.get("demo")
    if isinstance(demo, click.Group):
        demo.add_command(demo_supply_chain, "supply-chain")


def __getattr__(name: str) -> Any:
    if name == "mcp_group":  # defined in .cli, imported when the command line is built
        from agent_security.supply_chain.cli import mcp_group

        return mcp_group
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
