"""Entry point of agent-security-supply-chain (group ``agent_security``, name ``supply_chain``).

* ``agent_security_plugin_info``: name ``supply_chain``, config section ``[supply_chain]``
  (:class:`SupplyChainConfig`).
* ``agent_security_configure``: builds one :class:`~agent_security.supply_chain.SupplyChainGuard` per
  ``AgentSecurity`` and registers it.
* ``agent_security_cli``: adds ``agent-security mcp scan | pin | verify``.

Without a ``[supply_chain]`` section the guard still runs, in a safe default: shell and code-execution
calls are governed by :data:`~agent_security.supply_chain.governor.DEFAULT_RULES` (destructive, network and
privilege-escalation commands blocked; a short list of read-only commands allowed; anything else
``require_approval``); MCP tools are not checked against a lock (there is none) and provenance is off.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import click
from pydantic import Field

from agent_security.core import Host, PluginInfo, SectionModel, hookimpl
from agent_security.core.files import UnreadableFile, read_bounded
from agent_security.supply_chain.governor import DEFAULT_RULES, CommandAction, CommandGovernor, CommandRule
from agent_security.supply_chain.guard import SupplyChainGuard
from agent_security.supply_chain.pinning import LockFileError, McpLock, load_private_key, load_public_key
from agent_security.supply_chain.provenance import ToolProvenance
from agent_security.supply_chain.scanner import McpScanner, ScanInputError

if TYPE_CHECKING:
    from agent_security.core import Settings

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
        key = load_public_key(resolve(config.lock_public_key)) if config.lock_public_key else None
        lock = McpLock.load(resolve(config.lock_file), public_key=key, require_signature=key is not None)
    provenance = None
    if config.provenance or config.require_provenance:
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


# ------------------------------------------------------------------------------------------------
# CLI: agent-security mcp scan | pin | verify
# ------------------------------------------------------------------------------------------------


def _fetch(command: Sequence[str], timeout: float, max_bytes: int) -> Any:
    from agent_security.supply_chain.live import McpLiveError, McpSdkMissingError, fetch_server

    if not command:
        raise click.UsageError("give the server command after '--', e.g. agent-security mcp scan -- npx my-server")
    try:
        return fetch_server(
            list(command),
            timeout_s=timeout,
            max_message_bytes=max_bytes,
            max_total_bytes=max(max_bytes * 8, max_bytes),
        )
    except McpSdkMissingError as exc:
        raise click.ClickException(str(exc)) from None
    except McpLiveError as exc:
        raise click.ClickException(f"cannot list the server's tools: {exc}") from None


_live_options = [
    click.option(
        "--timeout",
        type=click.FloatRange(0.1, 600),
        default=30.0,
        show_default=True,
        help="Seconds allowed for starting the server and listing its tools.",
    ),
    click.option(
        "--max-message-bytes",
        type=click.IntRange(1024, 256 << 20),
        default=4 << 20,
        show_default=True,
        help="Largest single message accepted from the server.",
    ),
    click.option("--name", "server_name", default=None, help="Server name to use (default: the name it reports)."),
]


_F = TypeVar("_F", bound=Callable[..., Any])


def _apply(options: list[Any]) -> Callable[[_F], _F]:
    def deco(f: _F) -> _F:
        for opt in reversed(options):
            f = opt(f)
        return f

    return deco


@click.group("mcp")
def mcp_group() -> None:
    """Scan, pin and verify MCP servers (stdio: give the server command after '--')."""


@mcp_group.command("scan")
@click.option(
    "--file",
    "file_",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Scan a server definition in a JSON file instead of a live server.",
)
@click.option(
    "--baseline",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="JSON file with the approved definition (detects rug pulls).",
)
@click.option(
    "--lock",
    "lock_path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Use the pinned definition in this lock file as well (reports drift).",
)
@click.option("--known-server", multiple=True, help="Name of a legitimate server (typosquatting check).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--fail-on",
    type=click.Choice(["low", "medium", "high", "critical", "never"]),
    default="high",
    show_default=True,
    help="Exit with status 1 when the risk level is at least this.",
)
@_apply(_live_options)
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def mcp_scan(
    file_: str | None,
    baseline: str | None,
    lock_path: str | None,
    known_server: tuple[str, ...],
    as_json: bool,
    fail_on: str,
    timeout: float,
    max_message_bytes: int,
    server_name: str | None,
    command: tuple[str, ...],
) -> None:
    """Scan an MCP server's tools for poisoning, hidden content, exfiltration, shadowing and risky grants."""
    if file_:
        definition = _read_json(file_)
        if server_name:
            definition["name"] = server_name
    else:
        definition = _fetch(command, timeout, max_message_bytes).definition(server_name)
    base = _read_json(baseline) if baseline else None
    try:
        report = McpScanner(known_servers=known_server).scan(definition, baseline=base)
    except ScanInputError as exc:
        raise click.ClickException(f"cannot scan: {exc}") from None
    drift = None
    if lock_path:
        try:
            drift = McpLock.load(lock_path).verify(report.server_name, definition.get("tools") or [])
        except (LockFileError, ScanInputError) as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        out = report.model_dump(mode="json")
        if drift is not None:
            out["drift"] = drift.as_dict()
        click.echo(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        click.echo(
            f"server {report.server_name}: risk {report.risk_level} (score {report.risk_score}, "
            f"{report.recommendation}); {report.tools_scanned} tools, {len(report.findings)} findings"
        )
        for f in report.findings:
            where = "/".join(x for x in (f.tool, f.field) if x)
            click.echo(f"  [{f.level:8}] {f.kind}: {f.message}" + (f" ({where})" if where else ""))
            if f.excerpt:
                click.echo(f"             > {f.excerpt[:160]}")
        if drift is not None:
            click.echo("lock: no drift" if drift.ok else "lock: DRIFT")
            for c in drift.changes:
                click.echo(f"  {c.describe()}")
    order = ["low", "medium", "high", "critical"]
    failed = fail_on != "never" and order.index(report.risk_level) >= order.index(fail_on)
    if failed or (drift is not None and not drift.ok):
        sys.exit(1)


@mcp_group.command("pin")
@click.option(
    "--lock",
    "lock_path",
    type=click.Path(dir_okay=False),
    required=True,
    help="Lock file to create or update.",
)
@click.option(
    "--sign-key",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Ed25519 private key (PEM) to sign the lock file with.",
)
@_apply(_live_options)
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def mcp_pin(
    lock_path: str,
    sign_key: str | None,
    timeout: float,
    max_message_bytes: int,
    server_name: str | None,
    command: tuple[str, ...],
) -> None:
    """Record the server's current tool definitions (canonical hashes) in the lock file."""
    live = _fetch(command, timeout, max_message_bytes)
    name = server_name or live.name
    if not name:
        raise click.ClickException("the server reports no name; give one with --name")
    try:
        key = load_private_key(sign_key) if sign_key else None
        lock = McpLock.load(lock_path) if Path(lock_path).exists() else McpLock()
        before = lock.verify(name, live.tools) if name in lock.servers else None
        lock.pin(name, live.tools, version=live.version)
        lock.save(lock_path, private_key=key)
    except (LockFileError, ScanInputError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"pinned {len(live.tools)} tools of server {name!r} in {lock_path}" + (" (signed)" if key else ""))
    if before is not None and not before.ok:
        for c in before.changes:
            click.echo(f"  re-pinned: {c.describe()}")


@mcp_group.command("verify")
@click.option("--lock", "lock_path", type=click.Path(exists=True, dir_okay=False), required=True)
@click.option(
    "--public-key",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Ed25519 public key (PEM): the lock file must be signed by it.",
)
@click.option("--json", "as_json", is_flag=True)
@_apply(_live_options)
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def mcp_verify(
    lock_path: str,
    public_key: str | None,
    as_json: bool,
    timeout: float,
    max_message_bytes: int,
    server_name: str | None,
    command: tuple[str, ...],
) -> None:
    """Compare the server's live tools with the lock file; exit 1 on any drift, rename, addition, removal."""
    try:
        key = load_public_key(public_key) if public_key else None
        lock = McpLock.load(lock_path, public_key=key, require_signature=key is not None)
    except LockFileError as exc:
        raise click.ClickException(str(exc)) from None
    live = _fetch(command, timeout, max_message_bytes)
    name = server_name or live.name
    try:
        report = lock.verify(name, live.tools)
    except ScanInputError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        click.echo(f"server {name!r}: " + ("matches the lock file" if report.ok else "DRIFT"))
        for c in report.changes:
            click.echo(f"  {c.describe()}")
    if not report.ok:
        sys.exit(1)


def _read_json(path: str) -> dict[str, Any]:
    try:
        data = json.loads(read_bounded(path, 16 << 20, what="file").decode("utf-8"))
    except UnreadableFile as exc:
        raise click.ClickException(str(exc)) from None
    except (OSError, ValueError, RecursionError) as exc:
        raise click.ClickException(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise click.ClickException(f"{path}: expected a JSON object")
    return data


@hookimpl
def agent_security_cli(cli: click.Group) -> None:
    cli.add_command(mcp_group)
