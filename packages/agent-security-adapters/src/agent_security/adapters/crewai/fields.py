"""The ``check_tool_call`` fields of a CrewAI tool call (agent, task and crew as CrewAI hands them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["DEFAULT_AGENT_ID", "Field", "call_fields", "value_of"]

DEFAULT_AGENT_ID = "crewai-agent"
MAX_USER_INPUT = 4000
Field = str | Callable[[Any], str | None] | None


def value_of(value: Field, ctx: Any) -> str | None:
    return value(ctx) if callable(value) else value


def call_fields(
    tool_name: str,
    tool_args: Any,
    *,
    agent: Any = None,
    task: Any = None,
    crew: Any = None,
    agent_id: str | None = None,
    session_id: str | None = None,
    environment: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    role = getattr(agent, "role", None)
    crew_id = getattr(crew, "id", None)
    fields: dict[str, Any] = {
        "agent_name": str(role) if role else "CrewAI Agent",
        "agent_type": "workflow_agent",
        "tool_identity": {"tool_name": tool_name, "provider": "crewai"},
        **dict(extra or {}),
        "tool_name": tool_name,
        "tool_args": dict(tool_args) if isinstance(tool_args, Mapping) else {"input": tool_args},
        "agent_id": agent_id or DEFAULT_AGENT_ID,
    }
    description = getattr(task, "description", None)
    if isinstance(description, str) and description:
        fields["user_input"] = description[:MAX_USER_INPUT]
    session = session_id or (str(crew_id) if crew_id is not None else None)
    if session is not None:
        fields["session_id"] = session
    if environment is not None:
        fields["environment"] = environment
    return fields
