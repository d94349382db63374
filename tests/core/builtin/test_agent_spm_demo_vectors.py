"""The built-in plugins through the real pipeline (Agent-SPM's demo vectors, §11.1-11.3)."""

from __future__ import annotations

import re
import threading

import pytest

from agent_security.core import AgentSecurity
from agent_security.core.builtin import kill_switch, output_validator, rate_limiter, session_context
from agent_security.core.errors import SecurityError
from agent_security.core.models import ActionRequest, Decision, Outcome, Reason
from agent_security.core.store import MemoryStore
from agent_security.core.testing import FakeClock, StaticEngine


def _policy(request: ActionRequest) -> Decision:
    if request.environment in ("dev", "staging"):
        return Decision.allow("ALLOW_DEV_STAGING", "Allow all actions in dev and staging environments")
    if request.tool_name == "trigger_payment":
        return Decision(
            outcome=Outcome.REQUIRE_APPROVAL,
            approver_role="finance_manager",
            reasons=(Reason(code="REQUIRE_APPROVAL_PAYMENT_PROD", message="Payments need approval"),),
        )
    return Decision.deny("DEFAULT_DENY", "No specific rule matched; applying default policy (DENY)")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _security(clock: FakeClock, plugins: list[object], **kw: object) -> AgentSecurity:
    # The instance's store reads the instance's clock (windows and TTLs are on the store's clock).
    kw.setdefault("store", MemoryStore(clock=clock))
    return AgentSecurity(
        policy_engine=StaticEngine(_policy),
        plugins=plugins,
        autoload=False,
        clock=clock.now,
        monotonic=clock.monotonic,
        **kw,
    )  # type: ignore[arg-type]


def test_core_demo_plugin_scenarios(clock):
    ks = kill_switch()
    rl = rate_limiter(max_per_minute=5, max_per_minute_per_tool=3)
    sc = session_context(limits={"trigger_payment": {"maxPerSession": 2}}, session_ttl_s=600)
    security = _security(clock, [ks, rl, sc])
    # scenario 4: kill switch (killed before the first check: carried over to the instance's store)
    ks.kill("agent-rogue", "Suspicious bulk export pattern detected")
    res = security.check_tool_call(
        tool_name="query_database", tool_args={"query": "SELECT 1"}, agent_id="agent-rogue", environment="dev"
    )
    assert not res.allowed and res.final_decision.codes == ("AGENT_KILL_SWITCH",)
    assert res.final_decision.reasons[0].message == "Suspicious bulk export pattern detected"
    assert res.decision.plugin_source == "kill_switch"
    ks.revive("agent-rogue")
    assert security.check_tool_call(tool_name="query_database", agent_id="agent-rogue", environment="dev").allowed
    # scenario 5: rate limit per tool
    results = [
        security.check_tool_call(
            tool_name="query_database", tool_args={"query": f"SELECT {i}"}, agent_id="agent-fast", environment="dev"
        )
        for i in range(1, 5)
    ]
    assert [r.allowed for r in results] == [True, True, True, False]
    assert results[3].final_decision.codes == ("RATE_LIMIT_TOOL",)
    assert results[3].final_decision.reasons[0].message == (
        "Agent agent-fast exceeded 3 calls per 60s for tool query_database"
    )
    rl.reset_agent("agent-fast")
    # scenario 6: session limit
    pays = [
        security.check_tool_call(
            tool_name="trigger_payment",
            tool_args={"amount": 100 * i},
            agent_id="agent-pay",
            environment="dev",
            session_id="session-abc",
        )
        for i in range(1, 4)
    ]
    assert [p.allowed for p in pays] == [True, True, False]
    assert pays[2].final_decision.reasons[0].message == (
        "Tool trigger_payment has been called 2 times in this session (max: 2)"
    )
    assert pays[2].decision.plugin_source == "session_context"
    security.shutdown()


def test_rejected_approval_does_not_consume_session_budget(clock):
    answers = iter([False, False, True, True, True])
    sc = session_context(limits={"trigger_payment": 2})
    security = _security(clock, [sc], on_approval_required=lambda r, d: next(answers))
    allowed = [
        security.check_tool_call(
            tool_name="trigger_payment", agent_id="fin", environment="prod", session_id="s"
        ).allowed
        for _ in range(5)
    ]
    assert allowed == [False, False, True, True, False]
    assert sc.get_session_tool_count("s", "trigger_payment") == 2
    security.shutdown()


def test_policy_denied_calls_still_count_for_rate_limits(clock):
    rl = rate_limiter(max_per_minute=2)
    security = _security(clock, [rl])
    for _ in range(2):
        assert not security.check_tool_call(tool_name="x", agent_id="a", environment="prod").allowed
    res = security.check_tool_call(tool_name="x", agent_id="a", environment="dev")
    assert res.final_decision.codes == ("RATE_LIMIT_AGENT",)
    clock.advance(61)
    assert security.check_tool_call(tool_name="x", agent_id="a", environment="dev").allowed
    security.shutdown()


def test_killed_agent_consumes_no_rate_budget(clock):
    ks = kill_switch()
    rl = rate_limiter(max_per_minute=1)
    security = _security(clock, [rl, ks])  # the kill switch runs first whatever the order
    ks.kill("a")
    for _ in range(3):
        assert security.check_tool_call(tool_name="t", agent_id="a", environment="dev").final_decision.codes == (
            "AGENT_KILL_SWITCH",
        )
    ks.revive("a")
    assert security.check_tool_call(tool_name="t", agent_id="a", environment="dev").allowed
    security.shutdown()


def test_global_kill_through_shared_store(clock):
    ks = kill_switch()
    security = _security(clock, [ks])
    other = kill_switch(store=security.store)  # e.g. the guardian, or another process on a shared store
    other.kill_all("incident 42")
    res = security.check_tool_call(tool_name="t", agent_id="any", environment="dev")
    assert res.final_decision.codes == ("GLOBAL_KILL_SWITCH",)
    assert res.final_decision.reasons[0].message == "incident 42"
    security.shutdown()


def test_output_validator_through_protect(clock):
    seen: list[list[str]] = []
    ov = output_validator(
        sensitive_patterns=[re.compile(r"\b\d{3}-\d{2}-\d{4}\b")],
        action="log",
        on_sensitive_data=lambda tool, m: seen.append(m),
    )
    security = _security(clock, [ov])
    lookup = security.protect(
        "lookup_user",
        lambda user_id: {"name": "Alice", "ssn": "123-45-6789"},
        agent_id="lookup-agent",
        environment="dev",
    )
    assert lookup("user-1") == {"name": "Alice", "ssn": "123-45-6789"}  # "log" = Agent-SPM behaviour
    assert seen == [["12*******89"]]
    assert ov.get_violations()[0].agent_id == "lookup-agent"
    security.shutdown()


def test_output_validator_blocks_and_redacts_through_protect(clock):
    block = _security(clock, [output_validator(sensitive_patterns=[r"\d{3}-\d{2}-\d{4}"])])
    fn = block.protect("lookup", lambda: "ssn 123-45-6789", agent_id="a", environment="dev")
    with pytest.raises(SecurityError) as err:
        fn()
    assert err.value.codes == ("OUTPUT_BLOCKED",)
    assert "123-45-6789" not in str(err.value.decision.reasons)
    audit = [e for e in block.get_audit_log() if e.kind == "execution"]
    assert audit and "123-45-6789" not in audit[-1].model_dump_json()
    block.shutdown()
    redact = _security(clock, [output_validator(sensitive_patterns=[r"\d{3}-\d{2}-\d{4}"], action="redact")])
    fn2 = redact.protect("lookup", lambda: {"ssn": "123-45-6789", "n": 0}, agent_id="a", environment="dev")
    assert fn2() == {"ssn": "[REDACTED]", "n": 0}
    redact.shutdown()


def test_session_limit_exact_under_concurrent_checks(clock):
    sc = session_context(limits={"pay": 7})
    security = _security(clock, [sc])
    barrier = threading.Barrier(10)
    allowed: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        for _ in range(3):
            ok = security.check_tool_call(tool_name="pay", agent_id="a", environment="dev", session_id="s").allowed
            with lock:
                allowed.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert allowed.count(True) == 7
    assert sc.get_session_tool_count("s", "pay") == 7
    security.shutdown()
