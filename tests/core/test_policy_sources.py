"""Policy sources of AgentSecurity: JSON and YAML text, files, loaders, default, reload, expiry clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent_security.core import AgentSecurity, PolicyError
from agent_security.core.testing import FakeClock

YAML = """
version: "1"
generated_at: "2026-01-01T00:00:00Z"
expires_at: "2026-12-31T00:00:00Z"
rules:
  - id: NO_RM
    description: no rm
    match: {tool_name: rm, environment: "*"}
    outcome: DENY
defaults: {outcome: ALLOW}
"""


def test_yaml_text_as_policy_json() -> None:
    clock = FakeClock(datetime(2026, 6, 1, tzinfo=UTC))
    security = AgentSecurity(policy_json=YAML, autoload=False, clock=clock.now, monotonic=clock.monotonic)
    assert not security.check_tool_call(tool_name="rm", agent_id="a").allowed
    assert security.check_tool_call(tool_name="ls", agent_id="a").allowed


def test_load_time_expiry_uses_the_injected_clock() -> None:
    late = FakeClock(datetime(2027, 6, 1, tzinfo=UTC))
    with pytest.raises(PolicyError, match="expired"):
        AgentSecurity(policy_json=YAML, autoload=False, clock=late.now)


def test_expiry_at_decision_time_denies() -> None:
    clock = FakeClock(datetime(2026, 12, 30, tzinfo=UTC))
    security = AgentSecurity(policy_json=YAML, autoload=False, clock=clock.now, monotonic=clock.monotonic)
    assert security.check_tool_call(tool_name="ls", agent_id="a").allowed
    clock.advance(3 * 86_400)
    result = security.check_tool_call(tool_name="ls", agent_id="a")
    assert not result.allowed and result.final_decision.codes == ("POLICY_EXPIRED",)


def test_default_policy_denies_everything() -> None:
    result = AgentSecurity(autoload=False).check_tool_call(tool_name="anything", agent_id="a")
    assert not result.allowed and result.final_decision.codes == ("DEFAULT_DENY",)


def test_reload_is_atomic_and_audited(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 6, 1, tzinfo=UTC))
    path = tmp_path / "p.yaml"
    path.write_text(YAML)
    security = AgentSecurity(policy_path=path, autoload=False, clock=clock.now, monotonic=clock.monotonic)
    path.write_text(YAML.replace("outcome: DENY", "outcome: NOT_AN_OUTCOME"))
    with pytest.raises(PolicyError):
        security.reload_policy()
    assert not security.check_tool_call(tool_name="rm", agent_id="a").allowed  # old policy still active
    assert any(e.kind == "error" and e.reasons[0].code == "POLICY_RELOAD_FAILED" for e in security.get_audit_log())
    path.write_text(YAML.replace("outcome: DENY", "outcome: ALLOW"))
    security.reload_policy()
    assert security.check_tool_call(tool_name="rm", agent_id="a").allowed
    loads = [e for e in security.get_audit_log() if e.data.get("lifecycle") == "policy_loaded"]
    assert loads and loads[-1].data["origin"] == "reload"


async def test_async_policy_loader() -> None:
    clock = FakeClock(datetime(2026, 6, 1, tzinfo=UTC))

    async def loader() -> str:
        return json.dumps(
            {
                "version": "1",
                "generated_at": "2026-01-01T00:00:00Z",
                "expires_at": "2026-12-31T00:00:00Z",
                "rules": [],
                "defaults": {"outcome": "ALLOW"},
            }
        )

    security = AgentSecurity(policy_loader=loader, autoload=False, clock=clock.now, monotonic=clock.monotonic)
    from agent_security.core import ConfigurationError

    with pytest.raises(ConfigurationError, match="init"):
        await security.acheck_tool_call(tool_name="t", agent_id="a")
    await security.ainit()
    assert (await security.acheck_tool_call(tool_name="t", agent_id="a")).allowed
