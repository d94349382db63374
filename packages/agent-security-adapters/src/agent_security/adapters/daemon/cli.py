"""The ``agent-security serve`` command (added by the adapters plugin's ``agent_security_cli`` hook)."""

from __future__ import annotations

import click

from agent_security.adapters.daemon.server import DEFAULT_MAX_CLIENTS, DEFAULT_REQUEST_TIMEOUT_S

__all__ = ["main", "serve_command"]


@click.command("serve")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Config file (else the search order).")
@click.option(
    "--idle-timeout",
    type=click.FloatRange(min=0.01),
    default=None,
    help="Exit after this many seconds without a request (default: [adapters] daemon_idle_timeout_s, 900).",
)
@click.option(
    "--request-timeout",
    type=click.FloatRange(min=0.01, max=600),
    default=DEFAULT_REQUEST_TIMEOUT_S,
    show_default=True,
    help="Deadline of one connection: reading, checking and answering.",
)
@click.option("--max-clients", type=click.IntRange(1, 1024), default=DEFAULT_MAX_CLIENTS, show_default=True)
@click.option("--status", is_flag=True, help="Say whether a fresh daemon serves this config, then exit.")
@click.option("--stop", is_flag=True, help="Stop the daemon serving this config, then exit.")
@click.pass_context
def serve_command(
    ctx: click.Context,
    config_path: str | None,
    idle_timeout: float | None,
    request_timeout: float,
    max_clients: int,
    status: bool,
    stop: bool,
) -> None:
    """Answer hook calls from a warm pipeline on a user-only unix socket (in the foreground).

    `agent-security hook <host>` asks it first and checks in-process whenever it is down, stale, slow or
    not the user's own. The first hook call starts one in the background unless the config says
    [adapters] daemon = "manual" or "off"."""
    from agent_security.adapters.daemon.client import client_timeout, request_daemon
    from agent_security.adapters.daemon.freshness import ConfigUnresolved, client_identity, selection_key
    from agent_security.adapters.daemon.paths import UnsafeDirectory, daemon_paths
    from agent_security.adapters.daemon.protocol import PROTOCOL_VERSION
    from agent_security.adapters.daemon.server import AlreadyServing, serve

    if config_path is None and ctx.parent is not None and isinstance(ctx.parent.obj, dict):
        config_path = ctx.parent.obj.get("config")
    if status or stop:
        try:
            paths = daemon_paths(selection_key(client_identity(config_path)))
        except ConfigUnresolved as exc:
            raise click.ClickException(str(exc)) from None
        try:
            message = {"v": PROTOCOL_VERSION, "op": "shutdown" if stop else "ping"}
            reply = request_daemon(paths, message, client_timeout())
        except (OSError, UnsafeDirectory, ValueError) as exc:
            click.echo(f"no daemon serves {paths.socket} ({type(exc).__name__}: {exc})")
            ctx.exit(1)
        click.echo(f"daemon pid {reply.get('pid')} {'stopping' if stop else 'serving'} {paths.socket}")
        return
    try:
        reason = serve(config_path, idle_timeout=idle_timeout, request_timeout=request_timeout, max_clients=max_clients)
    except AlreadyServing as exc:
        click.echo(str(exc), err=True)
        ctx.exit(0)
    except Exception as exc:
        raise click.ClickException(f"the daemon cannot start: {type(exc).__name__}: {exc}") from exc
    click.echo(f"agent-security daemon stopped: {reason}", err=True)


def main(argv: list[str]) -> int:
    """``python -m agent_security.adapters.daemon serve ...``."""
    args = argv[1:] if argv[:1] == ["serve"] else argv
    try:
        serve_command.main(args=args, prog_name="agent-security serve", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        return 1
    return 0
