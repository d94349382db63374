"""What the facade promises besides checks: replacing a discovered plugin, the audit log helpers, the
Agent-SPM names, the host every plugin gets, and the clock everything reads."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agent_security.core import AgentSecurity, CheckContext, Decision, Host, MemoryStore, hookimpl
from agent_security.core.builtin import kill_switch, rate_limiter
from agent_security.core.testing import FakeClock, StaticEngine

ALLOW = StaticEngine(lambda r: Decision.allow("OK"))
POLICY = (
    '{"version": "1", "generated_at": "%s", "expires_at": "2099-01-01T00:00:00Z", '
    '"rules": [{"id": "R", "match": {"tool_name": "t"}, "outcome": "%s"}], "defaults": {"outcome": "DENY"}}'
)


def test_an_explicit_instance_replaces_the_discovered_plugin_of_its_name_and_the_swap_is_audited() -> None:
    from agent_security.egress import egress_enforcer

    mine = egress_enforcer()
    security = AgentSecurity(policy_engine=ALLOW, plugins=[mine])  # egress is installed and discovered
    assert security.get_plugin("egress-enforcer") is mine
    swaps = [e.data for e in security.get_audit_log() if e.data.get("lifecycle") == "plugin_replaced"]
    assert swaps == [
        {
            "lifecycle": "plugin_replaced",
            "plugin": "egress-enforcer",
            "replaced": "EgressEnforcer",
            "by": "EgressEnforcer",
        }
    ]
    with pytest.raises(Exception, match="already registered"):  # two explicit ones still collide
        security.register_plugin(egress_enforcer())


def test_clear_audit_log_empties_the_ring_and_the_chain_goes_on() -> None:
    security = AgentSecurity(policy_engine=ALLOW, autoload=False)
    first = security.check_tool_call(tool_name="t", agent_id="a")
    security.clear_audit_log()
    assert security.get_audit_log() == []
    second = security.check_tool_call(tool_name="t", agent_id="a")
    assert second.event.sequence == first.event.sequence + 1 and second.event.prev_hash == first.event.hash


def test_reload_policy_async_awaits_the_loader_and_refuses_a_rollback() -> None:
    security = AgentSecurity(policy_json=POLICY % ("2026-02-01T00:00:00Z", "DENY"), autoload=False)
    assert not security.check_tool_call(tool_name="t", agent_id="a").allowed

    async def newer() -> str:
        return POLICY % ("2026-03-01T00:00:00Z", "ALLOW")

    asyncio.run(security.reload_policy_async(newer))
    assert security.check_tool_call(tool_name="t", agent_id="a").allowed

    async def older() -> str:
        return POLICY % ("2026-01-01T00:00:00Z", "DENY")

    with pytest.raises(Exception, match="rollback"):
        asyncio.run(security.reload_policy_async(older))
    assert security.check_tool_call(tool_name="t", agent_id="a").allowed  # the active policy stays
    assert [e.reasons[0].code for e in security.get_audit_log() if e.kind == "error"] == ["POLICY_RELOAD_FAILED"]


def test_kill_switch_changes_are_audited_through_the_host() -> None:
    ks = kill_switch()
    security = AgentSecurity(policy_engine=ALLOW, autoload=False, plugins=[ks])
    ks.kill("agent-7", "runaway")
    assert not security.check_tool_call(tool_name="t", agent_id="agent-7").allowed
    ks.revive("agent-7")
    assert security.check_tool_call(tool_name="t", agent_id="agent-7").allowed
    kinds = [(e.kind, e.agent_id) for e in security.get_audit_log() if e.kind.startswith("kill_switch.")]
    assert kinds == [("kill_switch.kill", "agent-7"), ("kill_switch.revive", "agent-7")]


def test_check_hooks_reach_the_host_not_the_facade() -> None:
    seen: list[CheckContext] = []

    class Probe:
        name = "probe"

        @hookimpl
        def agent_security_before_check(self, ctx: CheckContext) -> None:
            seen.append(ctx)

    security = AgentSecurity(policy_engine=ALLOW, autoload=False, plugins=[Probe()])
    security.check_tool_call(tool_name="t", agent_id="a")
    ctx = seen[0]
    assert isinstance(ctx.host, Host) and ctx.host is security.host and not isinstance(ctx.host, AgentSecurity)
    assert not hasattr(ctx, "security")


def test_one_injected_clock_drives_the_check_the_store_and_the_limits() -> None:
    clock = FakeClock(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))
    times: list[tuple[datetime, float]] = []

    class Probe:
        name = "probe"

        @hookimpl
        def agent_security_before_check(self, ctx: CheckContext) -> None:
            times.append((ctx.now, ctx.time))

    limiter = rate_limiter(max_per_minute=1)
    security = AgentSecurity(policy_engine=ALLOW, autoload=False, clock=clock, plugins=[limiter, Probe()])
    assert security.clock is clock and security.store.clock is clock  # the default store reads it too
    assert security.check_tool_call(tool_name="t", agent_id="a").allowed
    assert not security.check_tool_call(tool_name="t", agent_id="a").allowed  # same minute: limited
    clock.advance(61)
    assert security.check_tool_call(tool_name="t", agent_id="a").allowed  # the window moved with the clock
    assert times[0] == (clock.now() - timedelta(seconds=61), clock.time() - 61)
    assert security.get_audit_log()[-1].timestamp == clock.now()


def test_a_store_the_application_passes_is_not_closed_by_shutdown() -> None:
    closed: list[bool] = []

    class Store(MemoryStore):
        def close(self) -> None:
            closed.append(True)

    AgentSecurity(policy_engine=ALLOW, autoload=False, store=Store()).shutdown()
    assert closed == []


def test_the_host_writes_namespaced_events_and_keeps_the_facade_out_of_reach() -> None:
    security = AgentSecurity(policy_engine=ALLOW, autoload=False)
    host: Any = security.host
    event = host.record_event("identity.mismatch", {"field": "trust_level"}, agent_id="a")
    assert event.kind == "identity.mismatch" and security.get_audit_log()[-1] == event
    for facade_only in ("check_tool_call", "shutdown", "plugin_manager", "register_plugin_manager"):
        assert not hasattr(host, facade_only)
