"""Through a real AgentSecurity: incidents deduplicated with hysteresis, written to the trail with their
evidence, and the auto-kill in each mode (block kills through the kill switch, correct asks a human,
monitor only says what it would do)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agent_security.core import AgentSecurity, Outcome
from agent_security.core.builtin import kill_switch
from agent_security.core.testing import FakeClock
from agent_security.guardian import BLUEPRINT_FINANCE, GuardianAgent, GuardianConfig

POLICY = """{"version": "1.0.0", "generated_at": "2026-01-01T00:00:00.000Z", "expires_at": "2099-01-01T00:00:00.000Z",
 "rules": [{"id": "DENY_EXPORT", "match": {"tool_name": "export_all", "environment": "*"}, "outcome": "DENY"},
           {"id": "ALLOW_ALL", "match": {"tool_name": "*", "environment": "*"}, "outcome": "ALLOW"}],
 "defaults": {"outcome": "DENY"}}"""
QUIET: dict[str, Any] = {"denial_burst_threshold": 0, "first_use": False, "baseline": {"enabled": False}}


def world(cfg: dict[str, Any], *, ks: bool = True, **options: Any) -> tuple[AgentSecurity, GuardianAgent, FakeClock]:
    clock = FakeClock(datetime(2026, 6, 1, 10, 0, tzinfo=UTC))
    guardian = GuardianAgent(GuardianConfig.model_validate({**QUIET, **cfg}))
    plugins: list[Any] = [kill_switch(), guardian] if ks else [guardian]
    security = AgentSecurity(policy_json=POLICY, autoload=False, plugins=plugins, clock=clock, **options)
    return security, guardian, clock


def call(security: AgentSecurity, clock: FakeClock, tool: str = "read", agent: str = "bot", step: float = 1.0) -> Any:
    clock.advance(step)
    return security.check_tool_call(tool_name=tool, agent_id=agent, environment="prod")


def kinds(security: AgentSecurity, prefix: str = "") -> list[str]:
    return [e.kind for e in security.get_audit_log() if e.kind.startswith(prefix)]


def test_one_incident_per_agent_and_anomaly_with_evidence_in_the_trail() -> None:
    security, guardian, clock = world({"frequency_threshold": 2})
    results = [call(security, clock) for _ in range(10)]
    assert all(r.allowed for r in results)
    [incident] = guardian.incidents()
    assert incident.type.value == "frequency_spike"
    log = security.get_audit_log()
    [written] = [e for e in log if e.kind == "guardian.incident"]
    assert written.agent_id == "bot" and written.tool_name == "read"
    assert written.reasons[0].code == "GUARDIAN_FREQUENCY_SPIKE"
    assert written.data["incident_id"] == incident.incident_id and written.data["action_taken"] == "logged"
    decisions = {e.event_id for e in log if e.kind == "decision"}
    assert written.data["evidence"] and set(written.data["evidence"]) <= decisions
    # the incident follows the decision event of the call that opened it, in the chain
    third = results[2].event
    assert [e.kind for e in log if e.sequence > third.sequence][:1] == ["guardian.incident"]
    # repeats are evidence of the open incident, not new incidents
    assert len(guardian.open_incidents("bot")) == 1
    # another agent, another anomaly: a second incident
    for _ in range(3):
        call(security, clock, agent="other")
    assert [i.agent_id for i in guardian.incidents()] == ["bot", "other"]


def test_hysteresis_closes_a_quiet_incident_and_reopens_on_the_next_occurrence() -> None:
    security, guardian, clock = world({"frequency_threshold": 2, "cooldown_s": 300, "window_s": 60})
    for _ in range(5):
        call(security, clock)
    assert len(guardian.incidents()) == 1
    clock.advance(200)
    for _ in range(5):  # a burst 200 s later: within the cooldown of the last occurrence -> same incident
        call(security, clock)
    assert len(guardian.incidents()) == 1
    clock.advance(1000)
    for _ in range(5):  # quiet for longer than the cooldown: closed, and a new one opens
        call(security, clock)
    assert len(guardian.incidents()) == 2
    [closed] = [e for e in security.get_audit_log() if e.kind == "guardian.incident_closed"]
    assert closed.data["incident_id"] == guardian.incidents()[0].incident_id and closed.data["repeats"] >= 5


def test_block_mode_kills_through_the_kill_switch_and_the_kill_holds() -> None:
    security, guardian, clock = world(
        {"mode": "block", "frequency_threshold": 2, "volume_threshold": 4, "auto_kill_threshold": 2}
    )
    results = [call(security, clock) for _ in range(5)]
    assert all(r.allowed for r in results)  # the calls that showed the anomalies were already decided
    assert [i.type.value for i in guardian.incidents()] == ["frequency_spike", "volume_spike", "auto_kill"]
    kill = guardian.incidents()[-1]
    assert kill.action_taken.value == "killed" and kill.severity == "critical"
    assert set(kill.evidence) == {i.incident_id for i in guardian.incidents()[:2]}
    after = call(security, clock)
    assert not after.allowed and after.final_decision.codes == ("AGENT_KILL_SWITCH",)
    assert kill.incident_id in after.final_decision.reasons[0].message
    assert guardian.is_killed("bot") and guardian.is_killed("BOT")
    assert call(security, clock, agent="someone-else").allowed
    log = security.get_audit_log()
    [ks_event] = [e for e in log if e.kind == "kill_switch.kill"]
    assert kill.incident_id in ks_event.data["reason"]
    assert kinds(security, "guardian.") == ["guardian.incident"] * 3
    # the operator revives: calls go through again and the count starts afresh...
    guardian.revive("bot")
    assert call(security, clock, step=120).allowed and not guardian.is_killed("bot")
    # ...but an agent that goes on as before is killed again
    for _ in range(4):
        call(security, clock)
    assert guardian.is_killed("bot")


def test_block_mode_installs_a_kill_switch_when_there_is_none() -> None:
    security, _, clock = world({"mode": "block", "frequency_threshold": 1, "auto_kill_threshold": 1}, ks=False)
    call(security, clock)
    call(security, clock)
    assert security.get_plugin("kill_switch") is not None
    assert call(security, clock).final_decision.codes == ("AGENT_KILL_SWITCH",)


def test_monitor_mode_never_kills_but_says_it_would() -> None:
    security, guardian, clock = world({"mode": "monitor", "frequency_threshold": 1, "auto_kill_threshold": 1})
    for _ in range(4):
        assert call(security, clock).allowed
    assert [i.action_taken.value for i in guardian.incidents()] == ["logged", "would_kill"]
    assert guardian.is_killed("bot")  # past the threshold (reported), yet nothing is enforced
    assert kinds(security, "kill_switch.") == []


def test_correct_mode_puts_the_agent_under_review() -> None:
    asked: list[str] = []

    def human(request: Any, decision: Any) -> bool:
        asked.append(request.agent_id)
        return len(asked) == 1  # the reviewer approves the first call, refuses the second

    security, guardian, clock = world(
        {"mode": "correct", "frequency_threshold": 1, "auto_kill_threshold": 1}, on_human_required=human
    )
    call(security, clock)
    call(security, clock)
    assert guardian.incidents()[-1].action_taken.value == "review" and guardian.under_review("bot")
    approved, refused = call(security, clock), call(security, clock)
    assert approved.decision.outcome is Outcome.REQUIRE_HUMAN and approved.allowed
    assert "GUARDIAN_REVIEW" in approved.decision.codes
    assert refused.decision.outcome is Outcome.REQUIRE_HUMAN and not refused.allowed
    assert call(security, clock, agent="fine").decision.outcome is Outcome.ALLOW
    denied = call(security, clock, tool="export_all")
    assert denied.final_decision.codes == ("DENY_EXPORT",)  # a DENY stays a DENY
    guardian.revive("bot")
    assert call(security, clock).decision.outcome is Outcome.ALLOW


def test_low_severity_incidents_do_not_count_towards_the_kill() -> None:
    security, guardian, clock = world(
        {"mode": "block", "first_use": True, "first_use_after_s": 0, "auto_kill_threshold": 1}
    )
    for tool in ("a", "b", "c"):
        assert call(security, clock, tool=tool).allowed
    assert [i.type.value for i in guardian.incidents()] == ["first_use"] * 3
    assert not guardian.is_killed("bot")


def test_agent_spm_verified_example_without_the_storm() -> None:
    """§7: thresholds freq 2 / vol 3, sequence [a, *, c], kill at 6, calls a b c c c: Agent-SPM raised 9
    incidents and a kill; one incident per anomaly is what is left."""
    security, guardian, clock = world(
        {"frequency_threshold": 2, "volume_threshold": 3, "suspicious_sequences": [["a", "*", "c"]],
         "auto_kill_threshold": 6, "mode": "block"}
    )  # fmt: skip
    for tool in ("a", "b", "c", "c", "c"):
        assert call(security, clock, tool=tool).allowed
    assert [i.type.value for i in guardian.incidents()] == ["suspicious_sequence", "volume_spike", "frequency_spike"]
    assert not guardian.is_killed("bot")


def test_finance_blueprint_at_night_is_one_off_hours_incident_per_agent() -> None:
    clock = FakeClock(datetime(2026, 6, 1, 5, 0, tzinfo=UTC))
    guardian = GuardianAgent(BLUEPRINT_FINANCE)
    security = AgentSecurity(policy_json=POLICY, autoload=False, plugins=[kill_switch(), guardian], clock=clock)
    for agent in ("finance-bot", "rogue-bot", "rogue-bot", "rogue-bot", "rogue-bot"):
        assert call(security, clock, tool="query_customer_db", agent=agent).allowed
    assert [(i.agent_id, i.type.value) for i in guardian.incidents()] == [
        ("finance-bot", "off_hours"),
        ("rogue-bot", "off_hours"),
    ]
    assert not guardian.is_killed("rogue-bot")


def test_callbacks_see_incidents_and_kills() -> None:
    seen: list[str] = []
    kills: list[str] = []
    clock = FakeClock(datetime(2026, 6, 1, 10, 0, tzinfo=UTC))
    guardian = GuardianAgent(
        GuardianConfig.model_validate({**QUIET, "mode": "block", "frequency_threshold": 1, "auto_kill_threshold": 1}),
        on_incident=lambda i: seen.append(i.type.value),
        on_kill=lambda agent, i: kills.append(agent),
    )
    security = AgentSecurity(policy_json=POLICY, autoload=False, plugins=[kill_switch(), guardian], clock=clock)
    call(security, clock)
    call(security, clock)
    assert seen == ["frequency_spike", "auto_kill"] and kills == ["bot"]


def test_a_revival_through_the_kill_switch_restarts_the_count() -> None:
    security, guardian, clock = world({"mode": "block", "frequency_threshold": 2, "auto_kill_threshold": 1})
    for _ in range(4):
        call(security, clock)
    assert guardian.is_killed("bot")
    security.get_plugin("kill_switch").revive("bot")  # the operator uses the kill switch, not the guardian
    assert call(security, clock, step=300).allowed
    for _ in range(4):  # at it again: killed again (Agent-SPM kept a revived agent's old count)
        call(security, clock)
    assert call(security, clock).final_decision.codes == ("AGENT_KILL_SWITCH",)
    security.get_plugin("kill_switch").revive_all()
    assert call(security, clock, step=300).allowed
