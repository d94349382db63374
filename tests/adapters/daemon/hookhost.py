"""A test-only hook host (registered in ``registry.HOSTS`` by :mod:`run`): a Claude-Code-shaped PreToolUse
payload checked through the real pipeline, answered as JSON naming the answering process."""

from __future__ import annotations

import json
import os
from typing import Any

from agent_security.adapters.hooks.answer import HookAnswer


def answer(raw: bytes, security: Any) -> HookAnswer:
    payload = json.loads(raw)
    tool_input = payload.get("tool_input") or {}
    if payload.get("tool_name") == "Bash":
        result = security.check_tool_call(
            tool_name="Bash", tool_args=tool_input, action_type="shell", agent_id="hook", environment="dev"
        )
    else:
        result = security.check_tool_call(
            tool_name=payload["tool_name"], tool_args=tool_input, agent_id="hook", environment="dev"
        )
    body = {
        "allowed": result.allowed,
        "outcome": result.final_decision.outcome.value,
        "codes": list(result.final_decision.codes),
        "pid": os.getpid(),
    }
    return HookAnswer(stdout=json.dumps(body) + "\n", exit_code=0 if result.allowed else 2)
