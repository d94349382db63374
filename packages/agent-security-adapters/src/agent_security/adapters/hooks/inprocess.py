"""Answering a hook call in this process: build the instance as the CLI does, answer, close.

:func:`answer_in_process` is the path when no daemon answers (and the daemon's own answering path). It
never raises: a config that does not load, a policy that does not load, a store that cannot be opened, an
audit trail that cannot be flushed or any other failure is :meth:`HookAnswer.fail_closed` (exit 2).
"""

from __future__ import annotations

import os

from agent_security.adapters.hooks.answer import HookAnswer

__all__ = ["PYDANTIC_PLUGINS_ENV", "answer_in_process", "child_environ", "skip_pydantic_plugin_search"]

PYDANTIC_PLUGINS_ENV = "PYDANTIC_DISABLE_PLUGINS"
_set_here = False


def skip_pydantic_plugin_search() -> None:
    """Spare pydantic its search for plugins when no installed distribution declares one.

    pydantic looks for plugins (entry-point group ``pydantic``) with :mod:`importlib.metadata` when it
    builds its first validator, which costs a hook call about 15 ms (importing ``importlib.metadata`` and
    ``email``, reading every distribution's metadata). When :mod:`agent_security.core.entry_points` finds
    that group empty, ``PYDANTIC_DISABLE_PLUGINS=__all__`` tells pydantic the same thing: it loads no
    plugin, as it would have. When the variable is already set, or the group cannot be read exactly, or
    it declares a plugin, nothing changes."""
    global _set_here
    if PYDANTIC_PLUGINS_ENV in os.environ:
        return
    from agent_security.core.entry_points import declares

    if declares("pydantic") is False:
        os.environ[PYDANTIC_PLUGINS_ENV] = "__all__"
        _set_here = True


def child_environ() -> dict[str, str]:
    """This process's environment for a child process, without what :func:`skip_pydantic_plugin_search`
    set (the child looks for pydantic plugins itself)."""
    env = dict(os.environ)
    if _set_here:
        env.pop(PYDANTIC_PLUGINS_ENV, None)
    return env


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:2000]


def answer_in_process(
    host: str, raw: bytes, *, config_path: str | None = None, policy_path: str | None = None
) -> HookAnswer:
    """The answer to one hook call from ``host`` (``raw``: its stdin), decided by the pipeline every hook
    call is checked by (:func:`~agent_security.adapters.daemon.instance.build_pipeline`: the config file,
    ``[core] store`` or else the shared SQLite file, enforce mode), built for this call and closed."""
    from agent_security.adapters.daemon.instance import build_pipeline
    from agent_security.adapters.hooks.registry import HOSTS, answer_hook

    if host not in HOSTS:
        return HookAnswer.fail_closed(f"unknown host {host!r} (known: {', '.join(sorted(HOSTS))})")
    try:
        skip_pydantic_plugin_search()
        pipeline = build_pipeline(config_path, policy_path)
    except Exception as exc:
        return HookAnswer.fail_closed(f"agent-security cannot start ({_describe(exc)})")
    answer = answer_hook(host, raw, pipeline.security)
    try:
        pipeline.close()
    except Exception as exc:
        if answer.exit_code == 0 and answer.stdout.strip() in ("", "{}"):
            # the call would run, but its audit record may not have been written: block instead. An answer
            # that blocks, asks or redacts already holds the call back, and is kept (a redaction is lost
            # on exit 2).
            return HookAnswer.fail_closed(f"the audit trail could not be closed ({_describe(exc)})")
    return answer
