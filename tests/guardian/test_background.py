"""``analysis = "background"``: the check only queues its event; a worker thread analyses it. Every test
waits for the analysis with ``drain()`` (which takes the queue under the worker's lock), never by sleeping."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from agent_security.core import AgentSecurity, AuditEvent, MemoryStore, Outcome
from agent_security.core.builtin import kill_switch
from agent_security.core.errors import StoreUnavailable
from agent_security.core.testing import FakeClock
from agent_security.guardian import GuardianAgent, GuardianConfig
from agent_security.guardian.backlog import AnalysisFailed, Backlog

POLICY = """{"version": "1.0.0", "generated_at": "2026-01-01T00:00:00.000Z", "expires_at": "2099-01-01T00:00:00.000Z",
 "rules": [{"id": "ALLOW_ALL", "match": {"tool_name": "*", "environment": "*"}, "outcome": "ALLOW"}],
 "defaults": {"outcome": "DENY"}}"""
CFG: dict[str, Any] = {
    "analysis": "background",
    "mode": "block",
    "frequency_threshold": 2,
    "auto_kill_threshold": 1,
    "first_use": False,
    "baseline": {"enabled": False},
}


def world(store: Any = None, **cfg: Any) -> tuple[AgentSecurity, GuardianAgent, FakeClock]:
    clock = FakeClock(datetime(2026, 6, 1, 10, 0, tzinfo=UTC))
    guardian = GuardianAgent(GuardianConfig.model_validate({**CFG, **cfg}))
    security = AgentSecurity(
        policy_json=POLICY, autoload=False, plugins=[kill_switch(), guardian], clock=clock,
        store=store if store is not None else MemoryStore(clock=clock),
    )  # fmt: skip
    return security, guardian, clock


def test_the_worker_analyses_and_the_kill_holds_once_it_has() -> None:
    security, guardian, clock = world()
    for _ in range(3):
        clock.advance(1)
        assert security.check_tool_call(tool_name="t", agent_id="bot").allowed
    guardian.drain()
    assert [i.type.value for i in guardian.incidents()] == ["frequency_spike", "auto_kill"]
    assert security.check_tool_call(tool_name="t", agent_id="bot").final_decision.codes == ("AGENT_KILL_SWITCH",)
    kinds = [e.kind for e in security.get_audit_log()]
    assert kinds.count("guardian.incident") == 2 and "kill_switch.kill" in kinds


def test_shutdown_analyses_what_is_left() -> None:
    security, guardian, clock = world()
    for _ in range(3):
        clock.advance(1)
        security.check_tool_call(tool_name="t", agent_id="bot")
    security.shutdown()  # its "shutdown" lifecycle event drains the backlog while the trail is open
    assert [i.type.value for i in guardian.incidents()] == ["frequency_spike", "auto_kill"]
    kinds = [e.kind for e in security.get_audit_log()]
    assert kinds.count("guardian.incident") == 2 and "kill_switch.kill" in kinds


class _FailingGuardianKeys(MemoryStore):
    def get(self, key: str, default: Any = None) -> Any:
        if key.startswith("guardian:"):
            raise StoreUnavailable("store down")
        return super().get(key, default)


def test_a_failing_analysis_denies_the_next_calls() -> None:
    clock = FakeClock()
    security, guardian, _ = world(store=_FailingGuardianKeys(clock=clock))
    assert security.check_tool_call(tool_name="t", agent_id="bot").allowed  # returned before the analysis
    with pytest.raises(StoreUnavailable):
        guardian.drain()
    result = security.check_tool_call(tool_name="t", agent_id="bot")
    assert not result.allowed and "AUDIT_FAILURE" in result.final_decision.codes


def test_a_full_backlog_is_refused_and_nothing_is_lost() -> None:
    seen: list[str] = []
    backlog = Backlog(lambda e: e.event_id, seen.append, size=2)
    events = [AuditEvent(agent_id="a", outcome=Outcome.ALLOW, event_id=f"e{i}") for i in range(3)]
    with backlog._serial:  # the worker cannot take anything: the queue fills
        backlog.put(events[0])
        backlog.put(events[1])
        with pytest.raises(AnalysisFailed, match="full"):
            backlog.put(events[2])
    backlog.drain()
    assert seen == ["e0", "e1"]
    backlog.close()


def test_events_are_analysed_in_order_across_threads() -> None:
    order: list[int] = []
    backlog = Backlog(lambda e: int(e.event_id), order.append, size=100_000)
    events = [AuditEvent(agent_id="a", outcome=Outcome.ALLOW, event_id=str(i)) for i in range(2_000)]
    gate = threading.Event()

    def feed() -> None:
        gate.wait()
        for event in events:
            backlog.put(event)

    t = threading.Thread(target=feed)
    t.start()
    gate.set()
    t.join()
    backlog.close()
    assert order == list(range(2_000))
