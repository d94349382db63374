"""The posture commands: ``agent-security audit export``, ``agent-security audit forward`` and
``agent-security posture``.

The trail is the TRAIL argument (a JSON Lines file, a SQLite database, or for ``posture`` and ``audit export``
a fleet's Redis audit stream by its URL, in the namespace of ``[core] store_namespace``), else the configured one
(``[core.audit] sqlite_path``, then ``jsonl_path``). Exit codes: 0 done; 1 done but something needs a
look (lines that are not events were skipped, the chain failed verification) or forwarding stopped on an
error (its position is saved); 2 the trail, a registry or the destination cannot be used (one line on
stderr, never a traceback).
"""

from __future__ import annotations

import hashlib
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn, TextIO

import click

__all__ = ["export_command", "forward_command", "posture_command"]

EXIT_OK, EXIT_ATTENTION, EXIT_UNUSABLE = 0, 1, 2


def _printable(line: str) -> str:
    return line if line.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)


def _fail(message: str) -> NoReturn:
    click.echo(_printable(f"error: {message}"), err=True)
    sys.exit(EXIT_UNUSABLE)


def _warn(message: str) -> None:
    click.echo(_printable(f"warning: {message}"), err=True)


def _trail(ctx: click.Context, trail: str | None) -> Path | str:
    """TRAIL: a trail file, or a fleet's Redis audit stream by its URL; else the configured trail file."""
    if trail is not None:
        from agent_security.posture.trail import is_stream

        return trail if is_stream(trail) else Path(trail)
    from agent_security.core.config import load_settings
    from agent_security.core.errors import AgentSecurityError

    root = ctx.find_root().obj
    try:
        audit = load_settings(root.get("config") if isinstance(root, dict) else None).core.audit
    except (AgentSecurityError, OSError, ValueError) as exc:
        _fail(f"the configuration cannot be read: {exc}")
    configured = audit.sqlite_path or audit.jsonl_path
    if not configured:
        _fail("no trail: pass TRAIL, or set [core.audit] sqlite_path or jsonl_path in the config file")
    return Path(configured)


def _namespace(ctx: click.Context) -> str | None:
    """The ``[core] store_namespace`` of the configuration: the namespace a fleet's stream is written in."""
    from agent_security.core.config import load_settings
    from agent_security.core.errors import AgentSecurityError

    root = ctx.find_root().obj
    try:
        return load_settings(root.get("config") if isinstance(root, dict) else None).core.store_namespace
    except (AgentSecurityError, OSError, ValueError) as exc:
        _fail(f"the configuration cannot be read: {exc}")


def _reader(ctx: click.Context, path: Path | str) -> Any:
    from agent_security.posture.trail import StreamReader, TrailReader

    if isinstance(path, str):
        return StreamReader(path, namespace=_namespace(ctx))
    try:
        return TrailReader(path)
    except OSError as exc:
        _fail(f"cannot read the trail {path}: {exc.strerror or exc}")


@contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    try:
        fh = path.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        _fail(f"cannot write {path}: {exc.strerror or exc}")
    with fh:
        yield fh


_TRAIL_ARG = click.argument("trail", required=False, type=click.Path(dir_okay=False))


@click.command("export")
@_TRAIL_ARG
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["cef", "leef", "ocsf", "syslog", "jsonl", "csv", "json"]),
    default="jsonl",
    show_default=True,
    help="Output format.",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write here (default stdout).")
@click.option("--since-sequence", type=click.IntRange(min=0), default=0, help="Only events after this sequence.")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    help="Only events of this kind (repeatable; a prefix ending with '.' matches a namespace, e.g. guardian.).",
)
@click.pass_context
def export_command(
    ctx: click.Context, trail: str | None, fmt: str, output: Path | None, since_sequence: int, kinds: tuple[str, ...]
) -> None:
    """Export the audit trail for a SIEM: CEF, LEEF 2.0, OCSF, syslog (RFC 5424), JSON Lines, CSV or JSON."""
    from agent_security.posture.soc.formatter import AuditExporter

    reader = _reader(ctx, _trail(ctx, trail))

    def wanted(kind: str) -> bool:
        return not kinds or any(kind == k or (k.endswith(".") and kind.startswith(k)) for k in kinds)

    try:
        events = (e for e in reader.events() if e.sequence > since_sequence and wanted(e.kind))
        with _output(output) as out:
            count = AuditExporter().write(events, fmt, out)
    except OSError as exc:
        _fail(f"cannot read the trail {reader.path}: {exc.strerror or exc}")
    if output is not None:
        click.echo(f"{count} event(s) written to {output} ({fmt})", err=True)
    if reader.skipped:
        for problem in reader.problems[:5]:
            _warn(f"skipped {problem}")
        _warn(f"{reader.skipped} line(s) of the trail are not audit events and were not exported")
        sys.exit(EXIT_ATTENTION)


def _default_state(trail: Path, url: str) -> Path:
    from agent_security.core.store import default_state_path

    digest = hashlib.sha256(f"{trail.resolve()}\n{url}".encode()).hexdigest()[:16]
    return default_state_path().parent / f"forward-{digest}.json"


@click.command("forward")
@_TRAIL_ARG
@click.option(
    "--to",
    "url",
    required=True,
    help="syslog://host:514 (UDP), syslog+tcp://host:port, syslog+tls://host:6514?ca=ca.pem",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where the position is kept (default: in the state directory, one file per trail and URL).",
)
@click.option(
    "--payload", type=click.Choice(["json", "cef"]), default="json", show_default=True, help="The syslog message body."
)
@click.option("--follow", is_flag=True, help="Keep forwarding new events until stopped (SIGINT/SIGTERM).")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    default=1.0,
    show_default=True,
    help="Seconds between looks for new events with --follow.",
)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Stop after this many events.")
@click.option("--restart", is_flag=True, help="Forget the saved position and start from the first event.")
@click.option("--hostname", default=None, help="The HOSTNAME of the syslog messages (default: this host's name).")
@click.pass_context
def forward_command(
    ctx: click.Context,
    trail: str | None,
    url: str,
    state_path: Path | None,
    payload: str,
    follow: bool,
    interval: float,
    limit: int | None,
    restart: bool,
    hostname: str | None,
) -> None:
    """Stream the audit trail to a syslog server, resuming where the last run stopped."""
    from agent_security.posture.forward import Forwarder, ForwardError
    from agent_security.posture.soc.syslog import format_syslog, open_sender

    path = _trail(ctx, trail)
    if isinstance(path, str):
        _fail("audit forward reads a trail file; a fleet's Redis stream is read with 'agent-security audit stream'")
    try:
        sender = open_sender(url)
    except (ValueError, OSError) as exc:
        _fail(f"cannot use {url}: {exc}")

    def send(event: Any) -> None:
        sender.send(format_syslog(event, hostname=hostname, payload=payload))  # type: ignore[arg-type]

    try:
        forwarder = Forwarder(path, send, state_path or _default_state(path, url), restart=restart)
    except ForwardError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot read the trail {path}: {exc.strerror or exc}")
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)} if follow else {}
    total = 0
    try:
        while True:
            left = None if limit is None else limit - total
            total += forwarder.run(left, should_stop=stop.is_set)
            if not follow or stop.is_set() or (limit is not None and total >= limit):
                break
            stop.wait(interval)
            if stop.is_set():
                break
    except ForwardError as exc:
        _warn(str(exc))
        sys.exit(EXIT_ATTENTION)
    except OSError as exc:
        _warn(f"forwarding stopped: {exc}; the next run resumes after sequence {forwarder.position.sequence}")
        sys.exit(EXIT_ATTENTION)
    finally:
        sender.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo(f"{total} event(s) forwarded; resume after sequence {forwarder.position.sequence}", err=True)


def _store_url(ctx: click.Context, store_url: str | None) -> tuple[str | None, str | None]:
    """``(url, namespace)``: ``--store``, else ``[core] store`` when the configuration names one."""
    from agent_security.core.config import load_settings
    from agent_security.core.errors import AgentSecurityError

    root = ctx.find_root().obj
    try:
        core = load_settings(root.get("config") if isinstance(root, dict) else None).core
    except (AgentSecurityError, OSError, ValueError) as exc:
        _fail(f"the configuration cannot be read: {exc}")
    return store_url or core.store, core.store_namespace


def _from_store(ctx: click.Context, store_url: str | None, registry: Path | None) -> tuple[Any, Any, Any]:
    """The identity registries (from ``--registry``, a registry file, or the store; when
    agent-security-identity is installed) and the kill switch's state (from the store)."""
    url, namespace = _store_url(ctx, store_url)
    if url is None and registry is None:
        return None, None, None
    from agent_security.core.builtin import kill_switch
    from agent_security.core.store import open_store

    try:
        store = open_store(url or "memory://", namespace=namespace)
        kill_state = kill_switch(store=store).get_state() if url else None
    except Exception as exc:  # a store that cannot be opened or read: one line, exit 2
        _fail(f"cannot read the store: {type(exc).__name__}: {exc}")
    try:
        from agent_security.identity.registry import AgentRegistry
        from agent_security.identity.tools import ToolRegistry
    except ImportError:
        if registry is not None:
            _fail("--registry reads the identity registries: install agent-security-identity")
        return None, None, kill_state
    try:
        agents, tools = AgentRegistry(store=store), ToolRegistry(store=store)
        if registry is not None:
            agents.load(registry)
            tools.load(registry)
    except Exception as exc:  # a registry that cannot be read: one line, exit 2
        _fail(f"cannot read the registries: {type(exc).__name__}: {exc}")
    return agents, tools, kill_state


@click.command("posture")
@_TRAIL_ARG
@click.option(
    "--store",
    "store_url",
    default=None,
    help="Read the agent and tool registries from this store "
    "(sqlite:///path, redis://...); needs agent-security-identity.",
)
@click.option(
    "--registry",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Read the agent and tool registries from this registry file (YAML or JSON).",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the full report as JSON ('-' for stdout, instead of the dashboard).",
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the HTML report (self-contained, charts inline).",
)
@click.option(
    "--ocsf",
    "ocsf_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the compliance results as OCSF Compliance Findings (JSON Lines).",
)
@click.option(
    "--framework",
    "frameworks",
    multiple=True,
    type=click.Choice(["eu_ai_act", "uk_ai_principles", "owasp_agentic", "nist_ai_rmf"]),
    help="Compliance frameworks (default: all); repeatable.",
)
@click.option("--no-verify", is_flag=True, help="Do not verify the hash chain (record keeping is then partial).")
@click.option(
    "--rows", type=click.IntRange(min=1, max=1000), default=10, show_default=True, help="Rows per dashboard table."
)
@click.pass_context
def posture_command(
    ctx: click.Context,
    trail: str | None,
    store_url: str | None,
    registry: Path | None,
    json_path: Path | None,
    html_path: Path | None,
    ocsf_path: Path | None,
    frameworks: tuple[str, ...],
    no_verify: bool,
    rows: int,
) -> None:
    """The security posture of the fleet: risk, open incidents, denied tools, kills and compliance."""
    from agent_security.core.audit import TrailReadError
    from agent_security.posture.report import PostureReport

    path = _trail(ctx, trail)
    agents, tools, kill_state = _from_store(ctx, store_url, registry)
    try:
        report = PostureReport.from_trail(
            path,
            namespace=_namespace(ctx) if isinstance(path, str) else None,
            verify=not no_verify,
            agent_registry=agents,
            tool_registry=tools,
            kill_state=kill_state,
            frameworks=frameworks or None,
            now=datetime.now(UTC),
        )
    except (OSError, TrailReadError) as exc:
        _fail(f"cannot read the trail {path}: {getattr(exc, 'strerror', None) or exc}")
    if html_path is not None:
        with _output(html_path) as out:
            out.write(report.to_html())
    if ocsf_path is not None:
        import json

        from agent_security.posture.soc.ocsf import compliance_findings

        with _output(ocsf_path) as out:
            for r in report.compliance:
                for finding in compliance_findings(r):
                    out.write(json.dumps(finding, separators=(",", ":")) + "\n")
    if json_path is not None:
        with _output(None if str(json_path) == "-" else json_path) as out:
            out.write(report.to_json() + "\n")
    if json_path is None or str(json_path) != "-":
        from agent_security.posture.dashboard import render_dashboard

        render_dashboard(report, rows=rows)
    if report.verified is False or report.problems:
        sys.exit(EXIT_ATTENTION)
