"""Alerts raised by plugins (ctx.alert): bounded like arguments, and an alert the trail refuses withdraws
the allow."""

from __future__ import annotations

from typing import Any

from agent_security.core import (
    ActionRequest,
    AgentSecurity,
    Decision,
    Outcome,
    Reason,
    hookimpl,
)
from agent_security.core.testing import StaticEngine

ALLOW = Decision(outcome=Outcome.ALLOW, reasons=(Reason(code="OK", message="ok"),))
GATE = Decision(outcome=Outcome.REQUIRE_APPROVAL, reasons=(Reason(code="GATE", message="gate"),))


def make(decision: Decision = ALLOW, **kw: Any) -> AgentSecurity:
    return AgentSecurity(policy_engine=StaticEngine(lambda r: decision), autoload=False, **kw)


class Alerting:
    name = "alerting"

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @hookimpl
    def agent_security_before_check(self, request: ActionRequest, ctx: Any) -> None:
        ctx.alert("SECRET_SEEN", "a secret was seen", self.data)


class RefusesAlerts:
    name = "refuses_alerts"

    @hookimpl
    def agent_security_audit_event(self, event: Any) -> None:
        if event.kind == "alert":
            raise OSError("disk full")


def test_an_alert_the_trail_refuses_withdraws_the_allow() -> None:
    security = make(plugins=[Alerting({"where": "body"}), RefusesAlerts()])
    result = security.check_tool_call(tool_name="t", agent_id="a")
    assert not result.allowed
    assert result.final_decision.codes[-2:] == ("PLUGIN_ERROR", "AUDIT_FAILURE")
    kinds = [e.kind for e in result.events]
    assert kinds == ["decision", "alert", "resolution"] and result.events[-1].outcome is Outcome.DENY


def test_alert_data_is_bounded_like_arguments() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(200):
        node["x"] = {}
        node = node["x"]
    security = make(plugins=[Alerting(deep)])
    result = security.check_tool_call(tool_name="t", agent_id="a")
    assert result.allowed
    alert = next(e for e in result.events if e.kind == "alert")
    assert alert.data == {"unrecordable": "InputTooLarge"}
