"""Shared fixtures for the policy engine tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agent_security.core.models import Action, ActionRequest, AgentInfo, RequestContext, ToolIdentity
from agent_security.core.policy import PolicyEngine, load_policy

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "policies"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    """A fixed clock inside the example bundles' validity window."""
    return NOW


@pytest.fixture
def examples_dir() -> Path:
    return EXAMPLES


def _request(
    tool_name: str = "some_tool",
    tool_args: dict[str, Any] | None = None,
    *,
    environment: str = "prod",
    agent_id: str = "agent-1",
    agent_type: str | None = None,
    trust_level: str | None = None,
    roles: tuple[str, ...] = (),
    provider: str | None = None,
    user_input: str | None = None,
    data_labels: tuple[str, ...] = (),
) -> ActionRequest:
    return ActionRequest(
        agent=AgentInfo(
            agent_id=agent_id, environment=environment, agent_type=agent_type, trust_level=trust_level, roles=roles
        ),  # type: ignore[arg-type]
        action=Action(
            tool_name=tool_name,
            tool_args=tool_args or {},
            tool_identity=ToolIdentity(tool_name=tool_name, provider=provider) if provider else None,
        ),
        context=RequestContext(user_input=user_input, data_labels=data_labels),
    )


@pytest.fixture
def request_factory() -> Callable[..., ActionRequest]:
    return _request


def bundle_data(*rules: dict[str, Any], default: str = "ALLOW", **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "version": "1.0.0",
        "generated_at": "2026-01-01T00:00:00Z",
        "expires_at": "2027-01-01T00:00:00Z",
        "rules": list(rules),
        "defaults": {"outcome": default},
    }
    data.update(extra)
    return data


def rule(
    rule_id: str,
    tool_name: Any = "*",
    outcome: str = "DENY",
    *,
    environment: Any = "*",
    when: dict[str, Any] | None = None,
    **match_or_rest: Any,
) -> dict[str, Any]:
    match: dict[str, Any] = {"tool_name": tool_name, "environment": environment}
    rest: dict[str, Any] = {}
    for key, value in match_or_rest.items():
        if key in ("agent_type", "trust_level_min", "agent_roles_any", "tool_provider"):
            match[key] = value
        else:
            rest[key] = value
    out: dict[str, Any] = {"id": rule_id, "description": f"rule {rule_id}", "match": match, "outcome": outcome}
    if when is not None:
        out["when"] = when
    out.update(rest)
    return out


@pytest.fixture
def build_bundle() -> Callable[..., dict[str, Any]]:
    return bundle_data


@pytest.fixture
def make_rule() -> Callable[..., dict[str, Any]]:
    return rule


@pytest.fixture
def engine_for(now: datetime) -> Callable[..., PolicyEngine]:
    def build(*rules: dict[str, Any], default: str = "ALLOW") -> PolicyEngine:
        return PolicyEngine(load_policy(bundle_data(*rules, default=default), now=now))

    return build
