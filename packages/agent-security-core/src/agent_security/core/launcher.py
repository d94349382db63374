"""The ``agent-security`` console script: a launcher that imports almost nothing before it knows the command.

``agent-security hook <host>`` is run by an agent host before every tool call, so its cost is felt: when
the adapters distribution provides the hook's fast path (``agent_security.adapters.daemon.launch``, which
asks the local daemon with the standard library only and checks in-process otherwise), the launcher hands
the call to it without importing click, pydantic or the pipeline. Every other command, and a hook call
whose arguments the fast path does not take, runs the full click CLI (:func:`agent_security.core.cli.main`).
If the fast path itself cannot even be started, the hook call is blocked (exit 2), never passed: a host
runs the tool when a hook exits 1. Once a hook call is answered (its answer written, its pipeline closed),
the process ends with ``os._exit`` after flushing the standard streams: the interpreter's teardown of the
hundreds of modules an in-process check loaded would add tens of milliseconds to every call. For the same
reason the cycle collector is off in a hook call: its passes over the objects of every module being imported
cost the call more than the little cyclic garbage one check leaves, which the process's end frees anyway.
"""

from __future__ import annotations

import gc
import os
import sys

TYPE_CHECKING = False  # not typing's: the launcher imports as little as it can
if TYPE_CHECKING:
    from typing import Any, NoReturn

__all__ = ["main"]

_BLOCK = 2


def _hook_args(argv: list[str]) -> list[str] | None:
    """The arguments after ``hook`` (with a leading global ``--config PATH`` moved after them), or
    ``None`` when this is not a hook call."""
    head: list[str] = []
    i = 0
    while i < len(argv) and argv[i] != "hook":
        if argv[i] == "--config" and i + 1 < len(argv):
            head += argv[i : i + 2]
            i += 2
        elif argv[i].startswith("--config="):
            head.append(argv[i])
            i += 1
        else:
            return None
    if i >= len(argv):
        return None
    return [*argv[i + 1 :], *head]


def _fast_path() -> Any:
    """``run_hook`` of the adapters distribution, or ``None`` when it is not installed."""
    try:
        from agent_security.adapters.daemon.launch import run_hook
    except ImportError:
        return None  # the full CLI says what to install
    return run_hook


def _end(code: int) -> NoReturn:
    """End an answered hook call with ``code``; an answer that cannot be flushed blocks."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        code = _BLOCK
    os._exit(code)


def main() -> None:
    args = _hook_args(sys.argv[1:])
    if args is not None:
        gc.disable()
        try:
            run_hook = _fast_path()
        except BaseException as exc:
            sys.stderr.write(f"agent-security: blocked: the hook cannot start ({type(exc).__name__}: {exc})\n")
            sys.exit(_BLOCK)
        if run_hook is not None:
            try:
                code = run_hook(args)
            except BaseException as exc:  # an interrupt included: a hook that has not decided blocks
                sys.stderr.write(f"agent-security: blocked: internal error ({type(exc).__name__}: {exc})\n")
                sys.exit(_BLOCK)
            if code is not None:
                _end(code if code in (0, _BLOCK) else _BLOCK)
    from agent_security.core.cli import main as cli_main

    cli_main()


if __name__ == "__main__":  # pragma: no cover
    main()
