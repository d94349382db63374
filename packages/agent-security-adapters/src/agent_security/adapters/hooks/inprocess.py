"""Answering a hook call in this process: build the instance as the CLI does, answer, close.

:func:`answer_in_process` is the path when no daemon answers (and the daemon's own answering path). It
never raises: a config that does not load, a policy that does not load, a store that cannot be opened, an
audit trail that cannot be flushed or any other failure is :meth:`HookAnswer.fail_closed` (exit 2).
"""

from __future__ import annotations

from agent_security.adapters.hooks.answer import HookAnswer

__all__ = ["answer_in_process"]


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
        from agent_security.adapters.hooks.pydantic_plugins import skip_search

        skip_search()
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
