from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from agent_security.core.context import CheckContext
from agent_security.core.models import Action, ActionRequest, AgentInfo, RequestContext
from agent_security.core.store import MemoryStore, Store


class SetClock:
    """A clock the test sets to any epoch time (windows and TTLs are read from the store's clock)."""

    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)

    def time(self) -> float:
        return self.t

    def monotonic(self) -> float:
        return self.t


def _request(
    tool: str = "query_database",
    agent: str = "agent-001",
    *,
    session: str | None = None,
    args: dict[str, Any] | None = None,
) -> ActionRequest:
    return ActionRequest(
        agent=AgentInfo(agent_id=agent, environment="dev"),
        action=Action(tool_name=tool, tool_args=args or {}),
        context=RequestContext(session_id=session),
    )


@pytest.fixture
def make_request() -> Callable[..., ActionRequest]:
    return _request


@pytest.fixture
def clock() -> SetClock:
    return SetClock()


@pytest.fixture
def store(clock: SetClock) -> MemoryStore:
    return MemoryStore(clock=clock)


@pytest.fixture
def make_ctx(store: MemoryStore, clock: SetClock) -> Callable[..., CheckContext]:
    def make(t: float | None = None, st: Store | None = None) -> CheckContext:
        """A check context; ``t`` sets the shared clock (the store's) to that epoch time first."""
        if t is not None:
            clock.t = t
        return CheckContext(
            host=None,
            store=store if st is None else st,  # type: ignore[arg-type]
            now=clock.now(),
            monotonic=clock.t,
        )

    return make
