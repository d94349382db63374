"""``agent-security hook <host> [--config PATH]`` on its fast path (called by ``agent_security.core.launcher``).

1. read the hook's stdin (bounded, and closed by the host within :data:`STDIN_TIMEOUT_S`);
2. ask the daemon (:mod:`.client`, standard library only: no pydantic, no click);
3. when it gives no answer (down, stale, slow, malformed, not the user's own), check in-process, with
   ``agent_security.adapters.hooks.inprocess.answer_in_process`` when installed, else
   :func:`.instance.answer_locally` (both build the same pipeline); if the daemon was down and the config
   says ``[adapters] daemon = "auto"`` (the default), start one for the next calls;
4. print the answer and return its exit code. Anything unexpected is the fail-closed answer (exit 2), and so
   is an in-process check still running after :data:`ANSWER_TIMEOUT_S` (under the 30 s the installers give
   the hosts: a host that times a hook out may run the call).

Arguments this module does not know return ``None`` before stdin is read: the launcher then runs the full
click CLI, which reports them.
"""

from __future__ import annotations

import sys

from agent_security.adapters.hooks.answer import HookAnswer, answer_within
from agent_security.core.stdin import StdinError, read_stdin

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO, TextIO

__all__ = ["ANSWER_TIMEOUT_S", "MAX_STDIN", "STDIN_TIMEOUT_S", "parse_args", "run_hook"]

MAX_STDIN = 10 * 1024 * 1024
STDIN_TIMEOUT_S = 10.0
"""Seconds the host has to write the hook input and close stdin."""
ANSWER_TIMEOUT_S = 25.0
"""Seconds an in-process check may take before the call is blocked."""


class HookArgs:
    """What the fast path takes: ``<host> [--config PATH] [--stdin-timeout S] [--timeout S]``."""

    __slots__ = ("answer_timeout", "config_path", "host", "stdin_timeout")

    def __init__(self, host: str, config_path: str | None, stdin_timeout: float, answer_timeout: float) -> None:
        self.host = host
        self.config_path = config_path
        self.stdin_timeout = stdin_timeout
        self.answer_timeout = answer_timeout


_SECONDS = {"--stdin-timeout": (0.0, 3600.0), "--timeout": (0.1, 3600.0)}


def parse_args(args: list[str]) -> HookArgs | None:
    """The fast path's arguments (the global ``--config`` may come before ``hook``: the launcher passes it
    here), or ``None`` for anything else: the full click CLI then runs and reports it."""
    host: str | None = None
    values: dict[str, str] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, value = arg.partition("=")
        if name in ("--config", *_SECONDS) and name not in values:
            if eq:
                values[name], i = value, i + 1
                continue
            if i + 1 < len(args):
                values[name], i = args[i + 1], i + 2
                continue
            return None
        if arg.startswith("-") or host is not None:
            return None
        host, i = arg, i + 1
    if not host:
        return None
    seconds = {"--stdin-timeout": STDIN_TIMEOUT_S, "--timeout": ANSWER_TIMEOUT_S}
    for name, (low, high) in _SECONDS.items():
        if name in values:
            try:
                number = float(values[name])
            except ValueError:
                return None
            if not low <= number <= high:  # NaN included
                return None
            seconds[name] = number
    return HookArgs(host, values.get("--config"), seconds["--stdin-timeout"], seconds["--timeout"])


def _in_process(host: str, raw: bytes, config_path: str | None, timeout: float = ANSWER_TIMEOUT_S) -> HookAnswer:
    """The in-process check's answer, or the fail-closed answer when it takes longer than ``timeout``."""
    from agent_security.adapters.hooks.inprocess import answer_in_process

    return answer_within(lambda: answer_in_process(host, raw, config_path=config_path), timeout)


def answer(host: str, raw: bytes, config_path: str | None, timeout: float = ANSWER_TIMEOUT_S) -> HookAnswer:
    """The answer to one hook call: the daemon's, else an in-process check's. Never raises."""
    try:
        from agent_security.adapters.daemon.client import ask_daemon

        reply = ask_daemon(host, raw, config_path=config_path)
        if reply.answer is not None:
            return reply.answer
        result = _in_process(host, raw, config_path, timeout)
        if reply.status in ("down", "changed") and reply.paths is not None:
            from agent_security.adapters.daemon.instance import configured_mode

            if configured_mode(config_path) == "auto":
                from agent_security.adapters.daemon.spawn import start_daemon

                start_daemon(reply.paths, config_path)
        return result
    except BaseException as exc:
        return HookAnswer.fail_closed(f"internal error ({type(exc).__name__}: {exc})")


def run_hook(
    args: list[str], stdin: BinaryIO | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int | None:
    """Answer one hook call; the exit code, or ``None`` when ``args`` are not for this fast path."""
    parsed = parse_args(args)
    if parsed is None:
        return None
    out, err = stdout or sys.stdout, stderr or sys.stderr
    try:
        raw = read_stdin(
            stdin or sys.stdin.buffer,
            timeout=parsed.stdin_timeout,
            limit=MAX_STDIN,
            hint="the host pipes the hook input there",
        )
        result = answer(parsed.host, raw, parsed.config_path, parsed.answer_timeout)
    except StdinError as exc:
        result = HookAnswer.fail_closed(str(exc))
    except BaseException as exc:
        result = HookAnswer.fail_closed(f"internal error ({type(exc).__name__}: {exc})")
    try:
        if result.stdout:
            out.write(result.stdout)
            out.flush()
        if result.stderr:
            err.write(result.stderr)
            err.flush()
    except OSError:
        return 2
    return result.exit_code
