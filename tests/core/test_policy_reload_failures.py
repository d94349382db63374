"""A policy reload that fails is audited (POLICY_RELOAD_FAILED) and the policy in force stays."""

from __future__ import annotations

from typing import Any

import pytest

from agent_security.core import (
    AgentSecurity,
    Decision,
    Outcome,
    Reason,
)
from agent_security.core.testing import StaticEngine

ALLOW = Decision(outcome=Outcome.ALLOW, reasons=(Reason(code="OK", message="ok"),))
GATE = Decision(outcome=Outcome.REQUIRE_APPROVAL, reasons=(Reason(code="GATE", message="gate"),))


def make(decision: Decision = ALLOW, **kw: Any) -> AgentSecurity:
    return AgentSecurity(policy_engine=StaticEngine(lambda r: decision), autoload=False, **kw)


def test_every_failed_reload_is_audited() -> None:
    def loader() -> Any:
        raise RuntimeError("policy service unreachable")

    security = AgentSecurity(policy_engine=StaticEngine(lambda r: ALLOW), policy_loader=loader, autoload=False)
    with pytest.raises(RuntimeError):
        security.reload_policy()
    event = security.get_audit_log()[-1]
    assert event.kind == "error" and event.reasons[0].code == "POLICY_RELOAD_FAILED"
    assert "unreachable" in event.reasons[0].message
    assert security.check_tool_call(tool_name="t", agent_id="a").allowed  # the old policy stays
