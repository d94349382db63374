"""``agent-security hook <host>``, ``agent-security install <host>`` and ``agent-security doctor <host>``.

``hook`` answers one hook call: it reads stdin (bounded, with a deadline), answers in this process
(:func:`~agent_security.adapters.hooks.inprocess.answer_in_process`), prints the answer's stdout and stderr
and exits with its code. Whatever goes wrong (stdin never closed, input too large, a bad config, a policy
that does not load, the store unavailable, the whole call past ``--timeout``, an exception of any kind,
even an interrupt) is exit 2 with the reason on stderr: the code every host reads as "do not run the
tool". It never exits 1 or 3, which the hosts treat as a failed hook and let the call run.

``install`` and ``doctor`` dispatch to the host's installer module (:data:`INSTALLERS`), each exposing
``install(scope, *, root=None, command=None) -> Path`` and ``doctor(*, root=None) -> (ok, lines)``.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import click

from agent_security.adapters.hooks.answer import EXIT_BLOCK, HookAnswer, answer_within

__all__ = ["INSTALLERS", "MAX_STDIN", "doctor_command", "hook_command", "install_command", "read_stdin", "run_hook"]

MAX_STDIN = 10 * 1024 * 1024
INSTALLERS: dict[str, str] = {
    "claude-code": "agent_security.adapters.hooks.claude_code_install",
    "cursor": "agent_security.adapters.hooks.cursor_install",
    "copilot": "agent_security.adapters.hooks.copilot_install",
}
"""Host name to the module that installs and checks its hook configuration (imported when used)."""


def read_stdin(timeout: float, limit: int = MAX_STDIN) -> bytes:
    """At most ``limit`` bytes of stdin, which must reach end-of-file within ``timeout`` seconds
    (:func:`agent_security.core.stdin.read_stdin`)."""
    from agent_security.core.stdin import read_stdin as read_bounded_stdin

    stream = sys.stdin.buffer if sys.stdin is not None else None
    return read_bounded_stdin(stream, timeout=timeout, limit=limit, hint="the host pipes the hook input there")


def run_hook(host: str, config_path: str | None, policy_path: str | None, stdin_timeout: float) -> HookAnswer:
    """Read stdin and answer; every failure is the fail-closed answer (never raises an ``Exception``)."""
    from agent_security.core.stdin import StdinError

    try:
        raw = read_stdin(stdin_timeout)
    except StdinError as exc:
        return HookAnswer.fail_closed(str(exc))
    except Exception as exc:
        return HookAnswer.fail_closed(f"stdin could not be read ({type(exc).__name__}: {exc})")
    try:
        from agent_security.adapters.hooks.inprocess import answer_in_process

        return answer_in_process(host, raw, config_path=config_path, policy_path=policy_path)
    except Exception as exc:
        return HookAnswer.fail_closed(f"internal error ({type(exc).__name__}: {exc})")


def _emit(answer: HookAnswer) -> None:
    try:
        if answer.stdout:
            sys.stdout.write(answer.stdout)
        if answer.stderr:
            sys.stderr.write(answer.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # noqa: S110 - nowhere to report it; the exit code still blocks
        pass


@click.command("hook")
@click.argument("host")
@click.option("--policy", "policy_path", default=None, help="Policy file (else [core] policy_path).")
@click.option(
    "--stdin-timeout",
    type=click.FloatRange(0, 3600),
    default=10.0,
    show_default=True,
    help="Seconds to wait for the host to close stdin; past that, exit 2.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 3600),
    default=25.0,
    show_default=True,
    help="Seconds for the whole call (keep it below the host's hook timeout); past that, exit 2.",
)
@click.pass_context
def hook_command(ctx: click.Context, host: str, policy_path: str | None, stdin_timeout: float, timeout: float) -> None:
    """Answer one hook call from HOST (claude-code, cursor, copilot): the host's JSON on stdin, the host's
    answer on stdout. Exit 0 (answer on stdout) or 2 (blocked, reason on stderr); never anything else."""
    code = EXIT_BLOCK
    try:
        config_path = (ctx.obj or {}).get("config")
        answer = answer_within(lambda: run_hook(host, config_path, policy_path, stdin_timeout), timeout)
        code = answer.exit_code if answer.exit_code in (0, EXIT_BLOCK) else EXIT_BLOCK
        if code != answer.exit_code:
            answer = HookAnswer.fail_closed(f"an answer with exit code {answer.exit_code} is not allowed here")
        _emit(answer)
    except BaseException as exc:  # KeyboardInterrupt included: an interrupted hook has not decided
        code = EXIT_BLOCK
        _emit(HookAnswer.fail_closed(f"internal error ({type(exc).__name__}: {exc})"))
    # os._exit: a worker thread still stuck past the deadline must not hold the process (or change its code)
    os._exit(code)


def _installer(host: str) -> ModuleType:
    module_name = INSTALLERS.get(host)
    if module_name is None:
        raise click.ClickException(f"unknown host {host!r} (known: {', '.join(sorted(INSTALLERS))})")
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            raise click.ClickException(
                f"this version of agent-security-adapters has no installer for {host!r} ({module_name} is missing)"
            ) from None
        raise


@click.command("install")
@click.argument("host")
@click.option("--project", "scope", flag_value="project", help="This project's settings (shared with its team).")
@click.option("--user", "scope", flag_value="user", default=True, help="Your user settings (the default).")
@click.option("--managed", "scope", flag_value="managed", help="The machine's managed settings (needs admin).")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory the scope is relative to (project: the project; user: the home directory).",
)
@click.pass_context
def install_command(ctx: click.Context, host: str, scope: str, root: Path | None) -> None:
    """Write HOST's hook configuration so every tool call goes through agent-security (idempotent)."""
    module = _installer(host)
    command: list[str] | None = None
    config_path = (ctx.obj or {}).get("config")
    if config_path:
        make_default = getattr(module, "default_command", None)
        if make_default is None:
            raise click.ClickException(f"the {host} installer cannot take --config; configure it by file instead")
        default_command: list[str] = make_default()
        command = [default_command[0], "--config", str(Path(config_path).resolve()), *default_command[1:]]
    try:
        path = module.install(scope, root=root, command=command)
    except (OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"agent-security hooks for {host} are configured in {path}")
    click.echo(f"check them with: agent-security doctor {host}")


@click.command("doctor")
@click.argument("host")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory the scopes are relative to (as for install).",
)
def doctor_command(host: str, root: Path | None) -> None:
    """Prove HOST's hook is live: configured, runs, blocks a canary call, timeout set, fails closed.
    Exit 0 when every check passes, 1 otherwise."""
    module = _installer(host)
    result: Any = module.doctor(root=root)
    ok, lines = result
    for line in lines:
        click.echo(line)
    sys.exit(0 if ok else 1)
