"""When detection state reaches the store: a new agent and a new tool at once, other changes within
``sync_interval_s`` of event time, a bounded number of writes per event, everything at shutdown; a store
that fails keeps the state queued. Time is the events' own timestamps: no test waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agent_security.core import AgentSecurity, AuditEvent, MemoryStore, Outcome
from agent_security.core.builtin import kill_switch
from agent_security.core.errors import StoreUnavailable
from agent_security.core.testing import FakeClock
from agent_security.guardian import GuardianAgent, GuardianConfig
from agent_security.guardian.detect import MAX_SYNC_WRITES

T0 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
QUIET: dict[str, Any] = {
    "denial_burst_threshold": 0,
    "first_use": False,
    "baseline": {"enabled": False},
    "window_s": 3600,
}
POLICY = """{"version": "1.0.0", "generated_at": "2026-01-01T00:00:00.000Z", "expires_at": "2099-01-01T00:00:00.000Z",
 "rules": [{"id": "ALLOW_ALL", "match": {"tool_name": "*", "environment": "*"}, "outcome": "ALLOW"}],
 "defaults": {"outcome": "DENY"}}"""


class CountingStore(MemoryStore):
    """The real memory store, counting the guardian's state writes; ``down`` makes those writes fail."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []
        self.down = False

    def set(self, key: str, value: Any, *, ttl_s: float | None = None) -> None:
        if key.startswith("guardian:state:"):
            if self.down:
                raise StoreUnavailable("store down")
            self.writes.append(key.rsplit(":", 1)[1])
        super().set(key, value, ttl_s=ttl_s)


def guardian(store: MemoryStore, **cfg: Any) -> GuardianAgent:
    return GuardianAgent(GuardianConfig.model_validate({**QUIET, **cfg}), store=store)


def event(at: float, agent: str = "a", tool: str = "t") -> AuditEvent:
    return AuditEvent(
        kind="decision", agent_id=agent, tool_name=tool, outcome=Outcome.ALLOW, allowed=True,
        timestamp=T0 + timedelta(seconds=at),
    )  # fmt: skip


def stored_count(store: MemoryStore, agent: str = "a", tool: str = "t") -> int:
    """The window count of ``agent``'s rate for ``tool`` as the store holds it."""
    state = store.get(f"guardian:state:{agent}")
    return sum(state["tools"][tool][1])


def test_a_new_agent_and_a_new_tool_are_written_at_once() -> None:
    store = CountingStore()
    g = guardian(store, sync_interval_s=60)
    g.process_event(event(0))
    assert store.writes == ["a"] and stored_count(store) == 1
    g.process_event(event(1))
    assert store.writes == ["a"]  # a count changed: within the bound, not yet
    g.process_event(event(2, tool="u"))
    assert store.writes == ["a", "a"] and stored_count(store) == 2 and stored_count(store, tool="u") == 1


def test_other_changes_reach_the_store_within_sync_interval() -> None:
    store = CountingStore()
    g = guardian(store, sync_interval_s=60)
    g.process_event(event(0))
    for at in (10, 20, 59.5):
        g.process_event(event(at))
    assert store.writes == ["a"] and stored_count(store) == 1  # oldest unwritten change: t=10
    g.process_event(event(70))  # 60 s after it: written, this event's change included
    assert store.writes == ["a", "a"] and stored_count(store) == 5
    g.process_event(event(75))
    g.process_event(event(134))
    assert len(store.writes) == 2
    g.process_event(event(135))
    assert len(store.writes) == 3 and stored_count(store) == 8


def test_a_quiet_agent_is_written_on_another_agents_event() -> None:
    store = CountingStore()
    g = guardian(store, sync_interval_s=30)
    g.process_event(event(0, agent="quiet"))
    g.process_event(event(5, agent="quiet"))
    g.process_event(event(6, agent="busy"))
    assert store.writes == ["quiet", "busy"]
    g.process_event(event(40, agent="busy"))
    assert store.writes == ["quiet", "busy", "quiet"] and stored_count(store, "quiet") == 2


def test_sync_interval_zero_writes_after_every_event() -> None:
    store = CountingStore()
    g = guardian(store, sync_interval_s=0)
    for at in range(4):
        g.process_event(event(at))
    assert store.writes == ["a"] * 4 and stored_count(store) == 4


def test_writes_per_event_are_bounded_and_the_rest_follow() -> None:
    store = CountingStore()
    g = guardian(store, sync_interval_s=10)
    agents = [f"agent-{i}" for i in range(3 * MAX_SYNC_WRITES)]
    for i, agent in enumerate(agents):
        g.process_event(event(i / 100, agent=agent))
    for i, agent in enumerate(agents):
        g.process_event(event(1 + i / 100, agent=agent))
    store.writes.clear()
    g.process_event(event(20, agent="agent-0"))
    assert len(store.writes) == MAX_SYNC_WRITES
    g.process_event(event(20.1, agent="agent-0"))
    g.process_event(event(20.2, agent="agent-0"))
    assert sorted(store.writes) == sorted(agents)
    assert all(stored_count(store, agent) == 2 for agent in agents[1:])


def test_flush_and_shutdown_write_every_change() -> None:
    store = CountingStore()
    clock = FakeClock(T0)
    g = guardian(store, sync_interval_s=3600)
    security = AgentSecurity(policy_json=POLICY, autoload=False, plugins=[kill_switch(), g], store=store, clock=clock)
    for _ in range(3):
        clock.advance(1)
        security.check_tool_call(tool_name="t", agent_id="a")
    assert stored_count(store) == 1
    g.flush()
    assert stored_count(store) == 3
    clock.advance(1)
    security.check_tool_call(tool_name="t", agent_id="a")
    security.shutdown()
    assert stored_count(store) == 4


def test_another_process_sees_the_state_within_the_bound() -> None:
    store = CountingStore()
    a = guardian(store, sync_interval_s=60)
    for at in range(0, 70, 10):
        a.process_event(event(at))
    assert stored_count(store) == 1  # the calls since t=10 are not 60 s old yet
    a.process_event(event(70))
    assert stored_count(store) == 8
    b = guardian(store, sync_interval_s=60, frequency_threshold=8)
    assert [i.type.value for i in b.process_event(event(71))] == ["frequency_spike"]  # 8 read + this one


def test_an_evicted_state_is_written_before_it_leaves_memory() -> None:
    store = CountingStore()
    g = guardian(store, sync_interval_s=3600, max_agents=1, frequency_threshold=3)
    g.process_event(event(0, agent="a"))
    g.process_event(event(1, agent="a"))
    g.process_event(event(2, agent="b"))  # "a" leaves memory: its second call is written first
    assert stored_count(store, "a") == 2
    g.process_event(event(3, agent="a"))  # read back: this process sees its own writes
    assert [i.type.value for i in g.process_event(event(4, agent="a"))] == ["frequency_spike"]


def test_a_store_that_fails_keeps_the_state_queued() -> None:
    store = CountingStore()
    g = guardian(store, sync_interval_s=10)
    g.process_event(event(0))
    g.process_event(event(1))
    store.down = True
    with pytest.raises(StoreUnavailable):
        g.process_event(event(20))
    with pytest.raises(StoreUnavailable):
        g.process_event(event(21))
    store.down = False
    g.process_event(event(22))
    assert stored_count(store) == 5


def test_a_store_failure_while_checking_is_a_deny() -> None:
    store = CountingStore()
    clock = FakeClock(T0)
    g = guardian(store, sync_interval_s=10)
    security = AgentSecurity(policy_json=POLICY, autoload=False, plugins=[kill_switch(), g], store=store, clock=clock)
    assert security.check_tool_call(tool_name="t", agent_id="a").allowed
    clock.advance(1)
    assert security.check_tool_call(tool_name="t", agent_id="a").allowed
    store.down = True
    clock.advance(20)
    result = security.check_tool_call(tool_name="t", agent_id="a")
    assert not result.allowed and "AUDIT_FAILURE" in result.final_decision.codes
    store.down = False
    clock.advance(1)
    assert security.check_tool_call(tool_name="t", agent_id="a").allowed
    security.shutdown()
