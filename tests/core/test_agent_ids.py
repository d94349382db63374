"""One canonical form of an agent id, for every control: a kill or a limit on an agent holds for every
spelling that reaches it (case, surrounding space, invisible and format characters, compatibility forms).
Before, ``kill("agent-7")`` let ``Agent-7`` through, with a fresh rate limit."""

from __future__ import annotations

import pytest

from agent_security.core import ActionRequest, AgentInfo, AgentSecurity, Decision, RequestContext
from agent_security.core.builtin import kill_switch, rate_limiter, session_context
from agent_security.core.normalize import canonical_agent_id
from agent_security.core.testing import StaticEngine

ALLOW = StaticEngine(lambda r: Decision.allow("RULE_ALLOW", "allowed by rule"))

SPELLINGS = ["Agent-7", "agent-7 ", " AGENT-7", "agent\u200b-7", "agent-7\u2060", "\uff41gent-7", "agent\u00ad-7"]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_canonical_form(spelling: str) -> None:
    assert canonical_agent_id(spelling) == "agent-7"


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_kill_holds_for_every_spelling(spelling: str) -> None:
    ks = kill_switch()
    security = AgentSecurity(policy_engine=ALLOW, autoload=False, plugins=[ks])
    ks.kill("agent-7", "incident")
    result = security.check_tool_call(tool_name="read_file", agent_id=spelling)
    assert not result.allowed
    assert result.final_decision.codes == ("AGENT_KILL_SWITCH",)
    assert result.event.agent_id == "agent-7"
    assert result.event.data["plugins"]["identity"] == {"claimed_agent_id": spelling}


def test_a_kill_given_in_another_spelling_holds_for_the_agent() -> None:
    ks = kill_switch()
    security = AgentSecurity(policy_engine=ALLOW, autoload=False, plugins=[ks])
    ks.kill(" Agent-7\u200b")
    assert ks.get_killed_agents() == ["agent-7"]
    assert not security.check_tool_call(tool_name="read_file", agent_id="agent-7").allowed
    ks.revive("AGENT-7")
    assert security.check_tool_call(tool_name="read_file", agent_id="agent-7").allowed
    with pytest.raises(ValueError, match="visible"):
        ks.kill("\u200b ")


def test_one_rate_budget_for_every_spelling() -> None:
    limiter = rate_limiter(max_per_minute=3)
    security = AgentSecurity(policy_engine=ALLOW, autoload=False, plugins=[limiter])
    results = [security.check_tool_call(tool_name="read_file", agent_id=s).allowed for s in SPELLINGS[:4]]
    assert results == [True, True, True, False]
    assert limiter.get_count("AGENT-7") == 3


def test_session_limits_count_the_canonical_agent_in_the_audit_trail() -> None:
    security = AgentSecurity(policy_engine=ALLOW, autoload=False, plugins=[session_context({"send": 1})])
    first = security.check_tool_call(tool_name="send", agent_id="Mailer", session_id="s1")
    second = security.check_tool_call(tool_name="send", agent_id="mailer", session_id="s1")
    assert first.allowed and not second.allowed
    assert {first.event.agent_id, second.event.agent_id} == {"mailer"}
    assert "plugins" not in second.event.data or "identity" not in second.event.data["plugins"]


def test_an_id_with_nothing_visible_is_refused() -> None:
    security = AgentSecurity(policy_engine=ALLOW, autoload=False)
    result = security.check_tool_call(tool_name="read_file", agent_id="\u200b\u2060 ")
    assert not result.allowed
    assert result.final_decision.codes == ("INVALID_REQUEST",)


def test_prebuilt_requests_and_delegation_chains_are_canonical() -> None:
    request = ActionRequest(
        agent=AgentInfo(agent_id="Planner "),
        action={"tool_name": "read_file"},
        context=RequestContext(parent_agent_id="ORCHESTRATOR", delegation_chain=("Root", "orchestrator\u200b")),
    )
    assert request.agent.agent_id == "planner"
    assert request.context.parent_agent_id == "orchestrator"
    assert request.context.delegation_chain == ("root", "orchestrator")
