"""The Claude Agent SDK for Python: hook callbacks and a ``can_use_tool`` callback that decide through the
pipeline, with the same answers as the Claude Code command hook (:mod:`.hooks.claude_code`).

.. code-block:: python

    from claude_agent_sdk import ClaudeAgentOptions
    from agent_security.adapters.claude_agent_sdk import can_use_tool, hook_matchers

    options = ClaudeAgentOptions(hooks=hook_matchers(security), can_use_tool=can_use_tool(security))

* :func:`hook_callback` is one ``async (input, tool_use_id, context) -> dict`` for PreToolUse,
  PostToolUse, PermissionRequest and UserPromptSubmit; it returns the command hook's JSON (with
  ``continue`` spelled ``continue_``, as the SDK expects). It never raises: input it cannot read or a check
  that fails is an explicit block for that event, so it blocks even in a matcher without
  ``on_failure="block"`` (:func:`hook_matchers` sets it anyway).
* :func:`can_use_tool` answers the SDK's permission callback (called when Claude Code would ask the user):
  ``PermissionResultAllow`` on a policy ALLOW, ``PermissionResultDeny(message=reason)`` otherwise, with
  ``interrupt=True`` for a kill. An approval-like outcome is a denial here unless the ``AgentSecurity``
  instance resolves it with its own callback (``on_approval_required``...): nobody else would be asked.

``claude_agent_sdk`` is imported only by :func:`hook_matchers` and :func:`can_use_tool` (install the
``claude-agent-sdk`` extra).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from agent_security.adapters.hooks import claude_code

if TYPE_CHECKING:
    from agent_security.core.pipeline.facade import AgentSecurity

__all__ = ["HOOK_EVENTS", "can_use_tool", "hook_callback", "hook_matchers", "to_sdk_output"]

HOOK_EVENTS = ("PreToolUse", "PostToolUse", "UserPromptSubmit")
"""The events :func:`hook_matchers` hooks (permission prompts go through :func:`can_use_tool`)."""

HookCallback = Callable[[Any, "str | None", Any], Awaitable[dict[str, Any]]]


def to_sdk_output(output: Mapping[str, Any]) -> dict[str, Any]:
    """The command hook's JSON with Python-safe names (``continue`` → ``continue_``)."""
    return {("continue_" if k == "continue" else k): v for k, v in output.items()}


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def hook_callback(security: AgentSecurity, *, agent_id: str = claude_code.HOST) -> HookCallback:
    """An SDK hook callback deciding every call with ``security``."""

    async def agent_security_hook(input_data: Any, tool_use_id: str | None, context: Any) -> dict[str, Any]:
        event: Mapping[str, Any] = input_data if isinstance(input_data, Mapping) else {}
        if tool_use_id and isinstance(input_data, Mapping) and "tool_use_id" not in input_data:
            event = {**input_data, "tool_use_id": tool_use_id}
        try:
            if not isinstance(input_data, Mapping):
                raise claude_code.HookInputError(f"hook input is {type(input_data).__name__}, not a mapping")
            return to_sdk_output(await claude_code.arespond(event, security, agent_id=agent_id))
        except claude_code.HookInputError as exc:
            return to_sdk_output(claude_code.failure_output(event, str(exc)))
        except Exception as exc:  # every failure of ours blocks, with or without on_failure="block"
            return to_sdk_output(claude_code.failure_output(event, f"internal error ({_describe(exc)})"))

    return agent_security_hook


def hook_matchers(
    security: AgentSecurity,
    *,
    agent_id: str = claude_code.HOST,
    events: tuple[str, ...] = HOOK_EVENTS,
    timeout: float | None = None,
) -> dict[str, list[Any]]:
    """``ClaudeAgentOptions(hooks=...)``: one ``HookMatcher`` per event, every tool, ``on_failure="block"``."""
    from claude_agent_sdk import HookMatcher

    callback = hook_callback(security, agent_id=agent_id)
    return {
        event: [HookMatcher(matcher=None, hooks=[callback], timeout=timeout, on_failure="block")] for event in events
    }


def can_use_tool(
    security: AgentSecurity, *, agent_id: str = claude_code.HOST, session_id: str | None = None
) -> Callable[[str, dict[str, Any], Any], Awaitable[Any]]:
    """``ClaudeAgentOptions(can_use_tool=...)``: allow on a policy ALLOW, deny with the reason otherwise."""
    from claude_agent_sdk import PermissionResultAllow, PermissionResultDeny

    async def agent_security_can_use_tool(tool_name: str, tool_input: dict[str, Any], context: Any) -> Any:
        event: dict[str, Any] = {
            "hook_event_name": "PreToolUse",
            "tool_name": tool_name,
            "tool_input": tool_input,
            # no user is asked from here: an unresolved approval is a denial
            "permission_mode": "dontAsk",
        }
        if session_id is not None:
            event["session_id"] = session_id
        for key in ("tool_use_id", "agent_id"):
            value = getattr(context, key, None)
            if isinstance(value, str):
                event[key] = value
        try:
            out = await claude_code.arespond(event, security, agent_id=agent_id)
        except Exception as exc:
            return PermissionResultDeny(message=f"agent-security: blocked: {_describe(exc)}", interrupt=False)
        if not out:
            return PermissionResultAllow()
        specific = out.get("hookSpecificOutput") or {}
        reason = str(specific.get("permissionDecisionReason") or out.get("stopReason") or "agent-security: denied")
        return PermissionResultDeny(message=reason, interrupt=out.get("continue") is False)

    return agent_security_can_use_tool
