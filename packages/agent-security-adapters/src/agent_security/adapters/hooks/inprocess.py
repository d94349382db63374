"""Answering a hook call in this process: build the instance as the CLI does, answer, close.

:func:`answer_in_process` is the path when no daemon answers (and the daemon's own answering path). It
never raises: a config that does not load, a policy that does not load, a store that cannot be opened, an
audit trail that cannot be flushed or any other failure is :meth:`HookAnswer.fail_closed` (exit 2).
"""

from __future__ import annotations

from typing import Any

from agent_security.adapters.hooks.answer import HookAnswer

__all__ = ["answer_in_process"]


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:2000]


def answer_in_process(
    host: str, raw: bytes, *, config_path: str | None = None, policy_path: str | None = None
) -> HookAnswer:
    """The answer to one hook call from ``host`` (``raw``: its stdin), decided by an instance built like
    the CLI's: the config file (``config_path`` or the search order), the state store ``[core] store``
    names or else the shared SQLite file, enforce mode."""
    from agent_security.adapters.hooks.registry import HOSTS

    if host not in HOSTS:
        return HookAnswer.fail_closed(f"unknown host {host!r} (known: {', '.join(sorted(HOSTS))})")
    try:
        from agent_security.core.config import load_settings
        from agent_security.core.store import default_store_url, open_store

        core = load_settings(config_path).core
    except Exception as exc:
        return HookAnswer.fail_closed(f"the configuration cannot be loaded ({_describe(exc)})")
    try:
        store = open_store(core.store or default_store_url(), namespace=core.store_namespace)
    except Exception as exc:
        return HookAnswer.fail_closed(f"the state store cannot be opened ({_describe(exc)})")
    try:
        return _answer_with_store(host, raw, store, config_path, policy_path)
    finally:
        try:
            store.close()
        except Exception:  # noqa: S110 - the answer stands; a failed close loses nothing already committed
            pass


def _answer_with_store(
    host: str, raw: bytes, store: Any, config_path: str | None, policy_path: str | None
) -> HookAnswer:
    from agent_security.adapters.hooks.registry import answer_hook
    from agent_security.core.pipeline.facade import AgentSecurity

    kwargs: dict[str, Any] = {"config_path": config_path, "store": store, "mode": "enforce"}
    if policy_path:
        kwargs["policy_path"] = policy_path
    try:
        security = AgentSecurity(**kwargs)
    except Exception as exc:
        return HookAnswer.fail_closed(f"agent-security cannot start ({_describe(exc)})")
    answer = answer_hook(host, raw, security)
    try:
        security.shutdown()
    except Exception as exc:
        if answer.exit_code == 0 and answer.stdout.strip() in ("", "{}"):
            # the call would run, but its audit record may not have been written: block instead. An answer
            # that blocks, asks or redacts already holds the call back, and is kept (a redaction is lost
            # on exit 2).
            return HookAnswer.fail_closed(f"the audit trail could not be closed ({_describe(exc)})")
    return answer
