"""``agent-security hook <host> [--config PATH]`` on its fast path (called by ``agent_security.core.launcher``).

1. read the hook's stdin (bounded);
2. ask the daemon (:mod:`.client`, standard library only: no pydantic, no click);
3. when it gives no answer (down, stale, slow, malformed, not the user's own), check in-process, with
   ``agent_security.adapters.hooks.inprocess.answer_in_process`` when installed, else
   :func:`.instance.answer_locally` (both build the same pipeline); if the daemon was down and the config
   says ``[adapters] daemon = "auto"`` (the default), start one for the next calls;
4. print the answer and return its exit code. Anything unexpected is the fail-closed answer (exit 2).

Arguments this module does not know return ``None`` before stdin is read: the launcher then runs the full
click CLI, which reports them.
"""

from __future__ import annotations

import sys

from agent_security.adapters.hooks.answer import HookAnswer

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO, TextIO

__all__ = ["MAX_STDIN", "parse_args", "run_hook"]

MAX_STDIN = 10 * 1024 * 1024


def parse_args(args: list[str]) -> tuple[str, str | None] | None:
    """``(host, config_path)`` from ``<host> [--config PATH]`` (the global ``--config`` may come before
    ``hook``: the launcher passes it here), or ``None`` for anything else."""
    host: str | None = None
    config: str | None = None
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--config" and i + 1 < len(args) and config is None:
            config, i = args[i + 1], i + 2
            continue
        if arg.startswith("--config=") and config is None:
            config, i = arg[len("--config=") :], i + 1
            continue
        if arg.startswith("-") or host is not None:
            return None
        host, i = arg, i + 1
    return (host, config) if host else None


def _read_stdin(stream: BinaryIO) -> bytes | None:
    data = stream.read(MAX_STDIN + 1)
    return None if len(data) > MAX_STDIN else data


def _in_process(host: str, raw: bytes, config_path: str | None) -> HookAnswer:
    import importlib

    try:
        inprocess = importlib.import_module("agent_security.adapters.hooks.inprocess")
    except ImportError:
        from agent_security.adapters.daemon.instance import answer_locally

        return answer_locally(host, raw, config_path)
    answer = inprocess.answer_in_process(host, raw, config_path=config_path)
    return answer if isinstance(answer, HookAnswer) else HookAnswer.fail_closed("the in-process check gave no answer")


def answer(host: str, raw: bytes, config_path: str | None) -> HookAnswer:
    """The answer to one hook call: the daemon's, else an in-process check's. Never raises."""
    try:
        from agent_security.adapters.daemon.client import ask_daemon

        reply = ask_daemon(host, raw, config_path=config_path)
        if reply.answer is not None:
            return reply.answer
        result = _in_process(host, raw, config_path)
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
    host, config_path = parsed
    out, err = stdout or sys.stdout, stderr or sys.stderr
    try:
        raw = _read_stdin(stdin or sys.stdin.buffer)
        result = (
            HookAnswer.fail_closed(f"the hook input exceeds {MAX_STDIN} bytes")
            if raw is None
            else answer(host, raw, config_path)
        )
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
