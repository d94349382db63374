"""A hook process for the tests, standing in for ``agent-security hook <host>`` until the CLI command lands:
stdin to :func:`registry.answer_hook` with a real ``AgentSecurity`` on the shared SQLite store, the answer to
stdout/stderr and the exit code. ``python agent-security-test-hook.py hook <host> <config.toml>`` (the
real command's shape, so the installers recognise the entry as theirs)."""

from __future__ import annotations

import sys


def main() -> int:
    host, config = sys.argv[2], sys.argv[3]
    raw = sys.stdin.buffer.read()
    from agent_security.adapters.hooks.answer import HookAnswer
    from agent_security.adapters.hooks.registry import answer_hook

    try:
        from agent_security.core.config import load_settings
        from agent_security.core.pipeline.facade import AgentSecurity
        from agent_security.core.store import default_store_url, open_store

        core = load_settings(config).core
        store = open_store(core.store or default_store_url(), namespace=core.store_namespace)
        with AgentSecurity(config_path=config, store=store) as security:
            answer = answer_hook(host, raw, security)
    except Exception as exc:  # the real command fails closed the same way
        answer = HookAnswer.fail_closed(f"internal error ({type(exc).__name__}: {exc})")
    sys.stdout.write(answer.stdout)
    sys.stderr.write(answer.stderr)
    return answer.exit_code


if __name__ == "__main__":
    sys.exit(main())
