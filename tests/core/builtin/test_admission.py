"""The kill switch, rate limiter and session context admit a check in one store call, and the kill switch's
changes are audited through its host."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pytest

from agent_security.core import AgentSecurity, Decision
from agent_security.core.builtin import kill_switch, rate_limiter, session_context
from agent_security.core.errors import StoreUnavailable
from agent_security.core.hookspecs import hookimpl
from agent_security.core.models import PluginResult
from agent_security.core.store import AdmissionVerdict, CounterLimit, MemoryStore, WindowLimit
from agent_security.core.testing import FakeClock, StaticEngine

ALLOW = StaticEngine(lambda r: Decision.allow("OK"))


class CountingStore(MemoryStore):
    """A memory store that records which of its public operations a check calls."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.calls: list[str] = []
        self.down = False

    def admit(
        self,
        flags: Sequence[str] = (),
        windows: Sequence[WindowLimit] = (),
        counters: Sequence[CounterLimit] = (),
        *,
        now: float | None = None,
    ) -> AdmissionVerdict:
        self.calls.append("admit")
        if self.down:
            raise StoreUnavailable("down")
        return super().admit(flags, windows, counters, now=now)

    def get_many(self, keys: Sequence[str], default: Any = None) -> list[Any]:
        self.calls.append("get_many")
        return super().get_many(keys, default)

    def incr(self, key: str, amount: int = 1, *, ttl_s: float | None = None) -> int:
        self.calls.append("incr")
        return super().incr(key, amount, ttl_s=ttl_s)

    def release(self, key: str, amount: int = 1) -> int | None:
        self.calls.append("release")
        return super().release(key, amount)


def _security(store: MemoryStore, *plugins: object, clock: FakeClock | None = None) -> AgentSecurity:
    clock = clock or FakeClock()
    return AgentSecurity(
        policy_engine=ALLOW,
        autoload=False,
        store=store,
        plugins=list(plugins),
        clock=clock.now,
        monotonic=clock.monotonic,
    )


def test_one_store_call_per_check_with_all_three() -> None:
    store = CountingStore(clock=FakeClock())
    security = _security(
        store, kill_switch(), rate_limiter(max_per_minute=3, max_per_minute_per_tool=2), session_context({"pay": 5})
    )
    for _ in range(2):
        store.calls.clear()
        assert security.check_tool_call(tool_name="pay", agent_id="a", session_id="s").allowed
        assert store.calls == ["admit"]
    store.calls.clear()
    refused = security.check_tool_call(tool_name="pay", agent_id="a", session_id="s")
    assert refused.final_decision.codes == ("RATE_LIMIT_TOOL",) and refused.decision.plugin_source == "rate_limiter"
    assert store.calls == ["admit"]  # refused in the same call; nothing reserved, nothing to release
    security.shutdown()


def test_a_session_refusal_consumes_no_rate_budget_and_a_kill_consumes_nothing() -> None:
    store = MemoryStore(clock=FakeClock())
    ks, rl, sc = kill_switch(), rate_limiter(max_per_minute=10), session_context({"pay": 1})
    security = _security(store, ks, rl, sc)
    assert security.check_tool_call(tool_name="pay", agent_id="a", session_id="s").allowed
    denied = security.check_tool_call(tool_name="pay", agent_id="a", session_id="s")
    assert denied.final_decision.codes == ("SESSION_LIMIT_EXCEEDED",)
    assert denied.decision.plugin_source == "session_context"
    assert rl.get_count("a") == 1
    ks.kill("a")
    assert security.check_tool_call(tool_name="pay", agent_id="a", session_id="t").final_decision.codes == (
        "AGENT_KILL_SWITCH",
    )
    assert rl.get_count("a") == 1 and sc.get_session_tool_count("t", "pay") == 0
    security.shutdown()


class _DenyBetween:
    """A guard that runs after the kill switch and before the session context, and denies."""

    name = "between"
    priority = 25

    @hookimpl
    def agent_security_before_check(self, request: Any, ctx: Any) -> PluginResult:
        return PluginResult(decision=Decision.deny("BETWEEN", "no", plugin_source="between"))


def test_a_reservation_made_by_the_leader_is_released_when_the_check_ends_before_the_session_hook() -> None:
    store = CountingStore(clock=FakeClock())
    sc = session_context({"pay": 1})
    security = _security(store, kill_switch(), rate_limiter(max_per_minute=10), _DenyBetween(), sc)
    for _ in range(3):
        result = security.check_tool_call(tool_name="pay", agent_id="a", session_id="s")
        assert result.final_decision.codes == ("BETWEEN",)
    assert sc.get_session_tool_count("s", "pay") == 0  # every reservation was given back by notify
    security.shutdown()


def test_a_failing_store_denies_the_check_store_unavailable() -> None:
    store = CountingStore(clock=FakeClock())
    security = _security(store, kill_switch(), rate_limiter(max_per_minute=3), session_context({"pay": 5}))
    store.down = True
    result = security.check_tool_call(tool_name="pay", agent_id="a", session_id="s")
    assert not result.allowed and result.final_decision.codes == ("STORE_UNAVAILABLE",)
    assert result.decision.plugin_source == "kill_switch"
    store.down = False
    assert security.check_tool_call(tool_name="pay", agent_id="a", session_id="s").allowed
    security.shutdown()


@pytest.mark.parametrize("alone", ["kill_switch", "rate_limiter", "session_context"])
def test_each_plugin_alone_fails_closed(alone: str) -> None:
    store = CountingStore(clock=FakeClock())
    plugin = {
        "kill_switch": kill_switch,
        "rate_limiter": lambda: rate_limiter(max_per_minute=3),
        "session_context": lambda: session_context({"pay": 5}),
    }[alone]()
    security = _security(store, plugin)
    store.down = True
    result = security.check_tool_call(tool_name="pay", agent_id="a", session_id="s")
    assert result.final_decision.codes == ("STORE_UNAVAILABLE",) and result.decision.plugin_source == alone
    security.shutdown()


def test_plugins_on_different_stores_admit_each_on_its_own() -> None:
    clock = FakeClock()
    own, shared = CountingStore(clock=clock), CountingStore(clock=clock)
    rl = rate_limiter(max_per_minute=1, store=own)
    security = _security(shared, kill_switch(), rl, session_context({"pay": 5}))
    assert security.check_tool_call(tool_name="pay", agent_id="a", session_id="s").allowed
    assert own.calls == ["admit"] and shared.calls == ["admit"]
    assert security.check_tool_call(tool_name="pay", agent_id="a", session_id="s").final_decision.codes == (
        "RATE_LIMIT_AGENT",
    )
    security.shutdown()


class StubHost:
    """Implements the Host protocol's ``record_event`` (the pipeline supplies the real one)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any], str | None]] = []

    def record_event(
        self,
        kind: str,
        data: Mapping[str, Any] | None = None,
        *,
        agent_id: str | None = None,
        request_id: str | None = None,
        tool_name: str | None = None,
        environment: str | None = None,
        outcome: Any = None,
        reasons: Iterable[Any] = (),
    ) -> None:
        self.events.append((kind, dict(data or {}), agent_id))


def test_kill_switch_changes_are_audited_through_the_host() -> None:
    ks = kill_switch(store=MemoryStore())
    ks.kill("early")  # before a host is bound: nothing to record to
    host = StubHost()
    ks.bind_host(host)
    assert ks.host is host
    ks.kill("bot", "exfiltration")
    ks.revive("bot")
    ks.kill_all("incident 7")
    ks.revive_all()
    ks.load_state({"killed_agents": {"x": "r"}, "global_kill": False})
    assert host.events == [
        ("kill_switch.kill", {"reason": "exfiltration"}, "bot"),
        ("kill_switch.revive", {}, "bot"),
        ("kill_switch.kill_all", {"reason": "incident 7"}, None),
        ("kill_switch.revive_all", {"agents_revived": 1}, None),
        ("kill_switch.load", {"global_kill": False, "killed_agents": 1}, None),
    ]


def test_a_trail_that_refuses_the_event_raises_once_the_kill_is_in_effect() -> None:
    class RefusingHost(StubHost):
        def record_event(self, kind: str, data: Mapping[str, Any] | None = None, **kw: Any) -> None:
            raise RuntimeError("trail closed")

    saved: list[Any] = []
    ks = kill_switch(store=MemoryStore(), on_state_change=saved.append)
    ks.bind_host(RefusingHost())
    with pytest.raises(RuntimeError, match="trail closed"):
        ks.kill("bot")
    assert ks.is_killed("bot") and saved  # in effect, and persisted
