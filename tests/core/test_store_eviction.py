"""MemoryStore eviction: expirable keys go first, so a flood of session counters cannot push out a kill.

From the security review of the core pipeline: the banner above each group names the finding.
"""

from __future__ import annotations

from typing import Any

from agent_security.core import (
    AgentSecurity,
    Decision,
)
from agent_security.core.builtin.kill_switch import kill_switch
from agent_security.core.builtin.session_context import session_context
from agent_security.core.store import MemoryStore
from agent_security.core.testing import StaticEngine


def _engine(decide: Any) -> StaticEngine:
    return StaticEngine(decide)


ALLOW = _engine(lambda r: Decision.allow("RULE_ALLOW", "allowed by rule"))


def _make(engine: StaticEngine = ALLOW, **kw: Any) -> AgentSecurity:
    return AgentSecurity(policy_engine=engine, autoload=False, **kw)


# ------------------------------------------------------------------------------------------------
# F10 (high): MemoryStore evicted the least recently written keys when full, whatever they were. Session
# counters (one key per caller-chosen session and limited tool) pushed out the kill switch's keys, which
# are written once and never touched again: a killed agent, or a global kill, was silently lifted.
# ------------------------------------------------------------------------------------------------


def test_store_evicts_expirable_keys_before_durable_state() -> None:
    store = MemoryStore(max_keys=10)
    store.set("kill_switch:global", {"reason": "incident"})
    for i in range(50):
        store.set(f"session:{i}", 1, ttl_s=3600)
        store.incr(f"counter:{i}", ttl_s=3600)
    assert store.get("kill_switch:global") == {"reason": "incident"}
    assert len(store) <= 10


def test_store_stays_bounded_when_only_durable_keys_are_written() -> None:
    store = MemoryStore(max_keys=10)
    for i in range(50):
        store.set(f"k{i}", i)
    assert len(store) == 10
    assert store.get("k49") == 49


def test_many_sessions_cannot_evict_a_kill() -> None:
    store = MemoryStore(max_keys=50)
    ks = kill_switch()
    tools = [f"tool{i}" for i in range(5)]
    security = _make(store=store, plugins=[ks, session_context(dict.fromkeys(tools, 100))])
    ks.kill("rogue", "compromised")
    for session in range(20):
        for tool in tools:
            security.check_tool_call(tool_name=tool, agent_id="someone", session_id=f"s{session}")
    result = security.check_tool_call(tool_name="tool0", agent_id="rogue")
    assert result.allowed is False
    assert "AGENT_KILL_SWITCH" in result.final_decision.codes


# ------------------------------------------------------------------------------------------------
# Memory over a long run: below its bound, the store held every key written until it reached
# ``max_keys``, so a process's memory grew with the calls it had seen, not with what was live.
# ------------------------------------------------------------------------------------------------


def test_expired_keys_are_dropped_as_new_ones_are_written() -> None:
    from agent_security.core.testing import FakeClock

    clock = FakeClock()
    store = MemoryStore(max_keys=100_000, clock=clock)
    for hour in range(5):
        for i in range(1000):
            store.incr(f"session:{hour}:{i}", ttl_s=3600)
        clock.advance(3601)
    # each hour's counters expire during the next hour's writes: about one hour's worth is held
    assert len(store) <= 1000
    assert store.get("session:4:999") is None  # expired
    store.incr("session:5:0", ttl_s=3600)
    assert store.get("session:5:0") == 1


def test_windows_that_count_nothing_are_dropped_as_new_ones_are_made() -> None:
    from agent_security.core.store import WindowLimit
    from agent_security.core.testing import FakeClock

    clock = FakeClock()
    store = MemoryStore(max_keys=100_000, clock=clock)
    for minute in range(5):
        for i in range(500):
            assert store.admit(windows=[WindowLimit(f"rate:{minute}:{i}", 10, 60.0)]).admitted
        clock.advance(61)
    assert len(store._windows) <= 500 + 2
    # a live window is never dropped: its budget holds
    for _ in range(10):
        assert store.admit(windows=[WindowLimit("rate:hot", 10, 60.0)]).admitted
    for i in range(2000):
        store.admit(windows=[WindowLimit(f"rate:other:{i}", 10, 60.0)])
    assert not store.admit(windows=[WindowLimit("rate:hot", 10, 60.0)]).admitted
