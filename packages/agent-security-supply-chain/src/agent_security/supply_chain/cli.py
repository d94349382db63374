"""``agent-security mcp scan | pin | verify`` (added to the command line by :mod:`.plugin`)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from agent_security.core.files import UnreadableFile, read_bounded
from agent_security.supply_chain.pinning import LockFileError, McpLock, load_private_key, load_public_key
from agent_security.supply_chain.scanner import McpScanner, ScanInputError

__all__ = ["EXIT_COULD_NOT_SCAN", "EXIT_RISKY", "CouldNotScan", "demo_supply_chain", "mcp_group"]

EXIT_RISKY = 1
"""``mcp scan``: the risk level reached ``--fail-on``, or the lock file reports drift (``mcp verify``: drift)."""
EXIT_COULD_NOT_SCAN = 3
"""The server could not be listed, the definition or lock file could not be read, or the scan failed: nothing
was judged (2 is click's exit status for a usage error)."""


class CouldNotScan(click.ClickException):
    """Nothing was judged: exit status :data:`EXIT_COULD_NOT_SCAN`, never the status of a risky server."""

    exit_code = EXIT_COULD_NOT_SCAN


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
        raise CouldNotScan(str(exc)) from None
    except McpLiveError as exc:
        raise CouldNotScan(f"cannot list the server's tools: {exc}") from None


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
        raise CouldNotScan(f"cannot scan: {exc}") from None
    except Exception as exc:
        raise CouldNotScan(f"cannot scan: {type(exc).__name__}: {exc}") from None
    drift = None
    if lock_path:
        try:
            drift = McpLock.load(lock_path).verify(report.server_name, definition.get("tools") or [])
        except (LockFileError, ScanInputError) as exc:
            raise CouldNotScan(str(exc)) from None
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
        sys.exit(EXIT_RISKY)


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
        raise CouldNotScan(str(exc)) from None
    live = _fetch(command, timeout, max_message_bytes)
    name = server_name or live.name
    try:
        report = lock.verify(name, live.tools)
    except ScanInputError as exc:
        raise CouldNotScan(str(exc)) from None
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        click.echo(f"server {name!r}: " + ("matches the lock file" if report.ok else "DRIFT"))
        for c in report.changes:
            click.echo(f"  {c.describe()}")
    if not report.ok:
        sys.exit(EXIT_RISKY)


def _read_json(path: str) -> dict[str, Any]:
    try:
        data = json.loads(read_bounded(path, 16 << 20, what="file").decode("utf-8"))
    except UnreadableFile as exc:
        raise CouldNotScan(str(exc)) from None
    except (OSError, ValueError, RecursionError) as exc:
        raise CouldNotScan(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise CouldNotScan(f"{path}: expected a JSON object")
    return data


@click.command("supply-chain")
def demo_supply_chain() -> None:
    """Agent-SPM's supply-chain demo (MCP scans, provenance, command rules, guarded calls) with our outcomes."""
    from agent_security.supply_chain.demo import run_supply_chain_demo

    raise SystemExit(run_supply_chain_demo())
