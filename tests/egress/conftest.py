"""Fixtures for the egress tests: a CheckContext that records alerts, and a request builder."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from agent_security.core import CheckContext, MemoryStore


@pytest.fixture
def ctx() -> CheckContext:
    sink: list[tuple[str, str, dict[str, Any]]] = []
    c = CheckContext(
        host=None,
        store=MemoryStore(),
        now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),  # type: ignore[arg-type]
        monotonic=0.0,
        _alert_sink=lambda code, msg, data: sink.append((code, msg, dict(data))),
    )
    c.sink = sink  # type: ignore[attr-defined]
    return c
