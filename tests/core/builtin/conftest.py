from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from agent_security.core.context import CheckContext
from agent_security.core.models import Action, ActionRequest, AgentInfo, RequestContext
from agent_security.core.store import MemoryStore, Store


def _request(tool: str = "query_database", agent: str = "agent-001", *, session: str | None = None,
             args: dict[str, Any] | None = None) -> ActionRequest:
    return ActionRequest(agent=AgentInfo(agent_id=agent, environment="dev"),
                         action=Action(tool_name=tool, tool_args=args or {}),
                         context=RequestContext(session_id=session))


@pytest.fixture
def make_request() -> Callable[..., ActionRequest]:
    return _request


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def make_ctx(store: MemoryStore) -> Callable[..., CheckContext]:
    def make(monotonic: float = 1000.0, st: Store | None = None) -> CheckContext:
        return CheckContext(host=None, store=store if st is None else st,  # type: ignore[arg-type]
                            now=datetime(2026, 1, 1, tzinfo=UTC), monotonic=monotonic)

    return make
