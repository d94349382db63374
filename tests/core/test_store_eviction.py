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
