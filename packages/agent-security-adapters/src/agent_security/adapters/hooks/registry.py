"""The supported hosts, each answered by its own module, and the one way to answer a hook call.

A host module exposes ``answer(raw: bytes, security: AgentSecurity) -> HookAnswer``: ``raw`` is the hook's
stdin, untouched. :func:`answer_hook` never raises: whatever goes wrong becomes the fail-closed answer.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from agent_security.adapters.hooks.answer import HookAnswer

if TYPE_CHECKING:
    from agent_security.core.pipeline.facade import AgentSecurity

__all__ = ["HOSTS", "answer_hook"]

HOSTS: dict[str, str] = {
    "claude-code": "agent_security.adapters.hooks.claude_code",
    "cursor": "agent_security.adapters.hooks.cursor",
    "copilot": "agent_security.adapters.hooks.copilot",
}
"""Host name on the command line (``agent-security hook <host>``) to the module that answers it."""


def answer_hook(host: str, raw: bytes, security: AgentSecurity) -> HookAnswer:
    """The answer to one hook call from ``host``; an unknown host or any failure blocks the call."""
    module_name = HOSTS.get(host)
    if module_name is None:
        return HookAnswer.fail_closed(f"unknown host {host!r} (known: {', '.join(sorted(HOSTS))})")
    try:
        module = importlib.import_module(module_name)
        answer = module.answer(raw, security)
    except Exception as exc:  # every failure of ours blocks; the host would run the tool on a crash
        return HookAnswer.fail_closed(f"internal error ({type(exc).__name__}: {exc})")
    if not isinstance(answer, HookAnswer):
        return HookAnswer.fail_closed(f"the {host} adapter returned {type(answer).__name__}, not a HookAnswer")
    return answer
