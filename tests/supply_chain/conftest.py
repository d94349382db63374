"""Shared fixtures for the supply-chain tests."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agent_security.core import Action, ActionRequest, AgentInfo, CheckContext, MemoryStore, ToolIdentity

FIXTURE_SERVER = Path(__file__).with_name("mcp_server_fixture.py")


@pytest.fixture
def server_command() -> Callable[[str], list[str]]:
    """The argv that starts the fixture MCP server in a given variant."""

    def make(variant: str = "clean") -> list[str]:
        return [sys.executable, str(FIXTURE_SERVER), "--variant", variant]

    return make


@pytest.fixture
def ctx() -> CheckContext:
    return CheckContext(
        host=None,
        store=MemoryStore(),
        now=datetime(2026, 1, 1, tzinfo=UTC),  # type: ignore[arg-type]
        monotonic=0.0,
    )


@pytest.fixture
def make_request() -> Callable[..., ActionRequest]:
    def make(
        tool_name: str,
        tool_args: dict[str, Any] | None = None,
        *,
        action_type: str = "tool_call",
        identity: dict[str, Any] | None = None,
        agent_id: str = "bot",
    ) -> ActionRequest:
        return ActionRequest(
            agent=AgentInfo(agent_id=agent_id, environment="prod"),
            action=Action(
                type=action_type,
                tool_name=tool_name,
                tool_args=tool_args or {},
                tool_identity=ToolIdentity(**identity) if identity else None,
            ),
        )

    return make
