"""How a plugin's decision combines with the policy's: an approval gate never skips a policy DENY, and a
plugin cannot sign its decision with another plugin's name.

From the security review of the core pipeline: the banner above each group names the finding.
"""

from __future__ import annotations

from typing import Any

from agent_security.core import (
    AgentSecurity,
    Decision,
    Outcome,
    PluginResult,
    Reason,
    hookimpl,
)
from agent_security.core.testing import StaticEngine


def _engine(decide: Any) -> StaticEngine:
    return StaticEngine(decide)


ALLOW = _engine(lambda r: Decision.allow("RULE_ALLOW", "allowed by rule"))

DENY = _engine(lambda r: Decision.deny("TOOL_FORBIDDEN", "the tool is forbidden"))


def _make(engine: StaticEngine = ALLOW, **kw: Any) -> AgentSecurity:
    return AgentSecurity(policy_engine=engine, autoload=False, **kw)


# ------------------------------------------------------------------------------------------------
# F1 (high): an approval-like answer from a before_check/identify plugin skipped policy evaluation, so
# approving e.g. a DLP question allowed a tool that the policy denies outright.
# ------------------------------------------------------------------------------------------------


class _ApprovalGate:
    name = "dlp_gate"

    @hookimpl
    def agent_security_before_check(self, request: Any, ctx: Any) -> PluginResult:
        return PluginResult(
            decision=Decision(
                outcome=Outcome.REQUIRE_APPROVAL, reasons=(Reason(code="PII_FOUND", message="PII in arguments"),)
            )
        )


def test_plugin_approval_gate_does_not_skip_a_policy_deny() -> None:
    asked: list[str] = []
    security = _make(
        DENY, plugins=[_ApprovalGate()], on_approval_required=lambda r, d: asked.append(r.tool_name) or True
    )
    result = security.check_tool_call(tool_name="drop_database", agent_id="a")
    assert result.allowed is False
    assert "TOOL_FORBIDDEN" in result.final_decision.codes
    assert asked == []  # nobody is asked to approve what the policy forbids anyway


def test_plugin_approval_gate_still_asks_when_policy_allows() -> None:
    asked: list[tuple[str, ...]] = []
    security = _make(ALLOW, plugins=[_ApprovalGate()], on_approval_required=lambda r, d: asked.append(d.codes) or True)
    result = security.check_tool_call(tool_name="send_email", agent_id="a")
    assert result.decision.outcome is Outcome.REQUIRE_APPROVAL
    assert result.decision.plugin_source == "dlp_gate"
    assert asked and "PII_FOUND" in asked[0]
    assert result.allowed is True


def test_plugin_approval_gate_and_policy_gate_combine_to_the_stricter() -> None:
    human = _engine(
        lambda r: Decision(outcome=Outcome.REQUIRE_HUMAN, reasons=(Reason(code="NEEDS_HUMAN", message="human review"),))
    )
    seen: list[tuple[str, ...]] = []
    security = _make(
        human,
        plugins=[_ApprovalGate()],
        on_approval_required=lambda r, d: True,  # a lesser gate must not answer
        on_human_required=lambda r, d: seen.append(d.codes) or False,
    )
    result = security.check_tool_call(tool_name="wire", agent_id="a")
    assert result.decision.outcome is Outcome.REQUIRE_HUMAN
    assert seen and {"NEEDS_HUMAN", "PII_FOUND"} <= set(seen[0])  # the reviewer sees both reasons
    assert result.allowed is False


# ------------------------------------------------------------------------------------------------
# F5 (low): a plugin could attribute its decision to another plugin (plugin_source="kill_switch"),
# so the audit trail named the wrong component.
# ------------------------------------------------------------------------------------------------


def test_plugin_cannot_attribute_its_decision_to_another_plugin() -> None:
    class Impostor:
        name = "impostor"

        @hookimpl
        def agent_security_before_check(self, request: Any, ctx: Any) -> PluginResult:
            return PluginResult(decision=Decision.deny("KILLED", "x", plugin_source="kill_switch"))

    security = _make(plugins=[Impostor()])
    result = security.check_tool_call(tool_name="t", agent_id="a")
    assert result.final_decision.plugin_source == "impostor"
    assert result.event.plugin_source == "impostor"
