"""The built-in plugins memoise the encoded parts of their keys and their denials (hot path): the caches
are bounded, exact strings only, and hold nothing that a reset or a kill could make stale (epochs and
state are read from the store on every check; a denial is memoised under everything its text depends
on)."""

from __future__ import annotations

import importlib

import pytest

from agent_security.core.builtin import kill_switch, rate_limiter, session_context
from agent_security.core.models import Outcome
from agent_security.core.store import MemoryStore, StoreFull


class MemoryStoreFull(MemoryStore):
    def admit(self, *args, **kwargs):
        raise StoreFull("full")


MODULES = {
    name: importlib.import_module(f"agent_security.core.builtin.{name}")
    for name in ("kill_switch", "rate_limiter", "session_context")
}
CACHES = {"kill_switch": "_cached_agent_key", "rate_limiter": "_key_cache", "session_context": "_cached_parts"}


class Sub(str):
    """A str subclass: never looked up in (or added to) a cache."""

    def __hash__(self) -> int:
        return 0

    def __eq__(self, other: object) -> bool:
        return True


def _size(name: str) -> int:
    if name == "rate_limiter":
        return len(MODULES[name]._key_cache)
    return getattr(MODULES[name], CACHES[name]).cache_info().currsize


@pytest.mark.parametrize("name", sorted(CACHES))
def test_the_caches_are_bounded(name, make_request, make_ctx, store):
    if name == "rate_limiter":
        assert MODULES[name]._KEY_CACHE_SIZE == 4096
    else:
        assert getattr(MODULES[name], CACHES[name]).cache_info().maxsize == 4096
    plugin = {
        "kill_switch": lambda: kill_switch(store=store),
        "rate_limiter": lambda: rate_limiter(max_per_minute=10, store=store),
        "session_context": lambda: session_context(limits={"t": 10}, store=store),
    }[name]()
    for i in range(5_000):
        plugin.agent_security_before_check(make_request(tool="t", agent=f"agent-{i}", session=f"s-{i}"), make_ctx())
    assert 0 < _size(name) <= 4096


def test_rate_limiter_resets_apply_at_once_to_cached_keys(make_request, make_ctx, store):
    rl = rate_limiter(max_per_minute=1, max_per_minute_per_tool=1, store=store)
    other = rate_limiter(max_per_minute=1, store=store)  # another process sharing the store

    def check():
        res = rl.agent_security_before_check(make_request(tool="t", agent="a"), make_ctx())
        return None if res is None else res.decision.reasons[0].code

    assert check() is None
    assert check() == "RATE_LIMIT_AGENT"
    rl.reset_agent("a")
    assert check() is None
    assert check() == "RATE_LIMIT_AGENT"
    other.reset()
    assert check() is None
    assert check() == "RATE_LIMIT_AGENT"
    other.reset_agent("a")
    assert check() is None


def test_rate_limiter_str_subclass_ids_share_the_plain_ids_windows(store):
    rl = rate_limiter(max_per_minute=1, max_per_minute_per_tool=1, store=store)
    assert rl.admit("a", "t", now=1.0) is None
    refused = rl.admit(Sub("a"), Sub("T"), now=1.0)
    assert refused is not None and refused.reasons[0].code == "RATE_LIMIT_AGENT"
    assert rl.admit(Sub("b"), "t", now=1.0) is None
    # A subclass (whose __eq__ could match any entry) is never looked up in, or added to, the cache.
    assert all(type(a) is str and type(t) is str for a, t in MODULES["rate_limiter"]._key_cache)
    assert rl.get_count("a", now=1.0) == 1 and rl.get_count("b", now=1.0) == 1


def test_rate_limiter_reset_agent_forgets_exactly_that_agents_windows(store):
    # Resets delete windows by key prefix: agent "a" must not reach agent "ab" or "a:b" (whose encoded
    # ids start with "a"), whether their keys are cached or not.
    rl = rate_limiter(max_per_minute=1, max_per_minute_per_tool=1, store=store)
    for agent in ("a", "ab", "a:b"):
        assert rl.admit(agent, "t", now=1.0) is None
        assert rl.admit(agent, "t", now=1.0) is not None
    rl.reset_agent("a")
    assert rl.admit("a", "t", now=1.0) is None
    assert rl.admit("ab", "t", now=1.0) is not None and rl.admit("a:b", "t", now=1.0) is not None
    assert rl.get_count("ab", now=1.0) == 1 and rl.get_tool_count("a:b", "t", now=1.0) == 1


def test_kill_switch_kills_and_revivals_apply_at_once_to_cached_keys(make_request, make_ctx, store):
    ks = kill_switch(store=store)
    other = kill_switch(store=store)  # another process sharing the store

    def check(agent="a"):
        res = ks.agent_security_before_check(make_request(agent=agent), make_ctx())
        return None if res is None else res.decision.reasons[0].code

    assert check() is None
    other.kill("a")
    assert check() == "AGENT_KILL_SWITCH" and ks.decide(Sub("a")) is not None
    other.revive("a")
    assert check() is None and ks.decide(Sub("a")) is None
    other.kill_all()
    assert check() == "GLOBAL_KILL_SWITCH"


def test_session_context_str_subclass_ids_share_the_plain_ids_counters(make_request, make_ctx, store):
    from agent_security.core.models import Decision

    sc = session_context(limits={"t": 1}, store=store)
    request = make_request(tool="t", session="s")
    assert sc.agent_security_before_check(request, make_ctx()) is None
    sc.agent_security_notify(request, Decision.allow("OK", "ok"), make_ctx())
    assert sc.get_session_tool_count(Sub("s"), "t") == 1
    assert sc.get_session_tool_count("s", Sub("T")) == 1
    denied = sc.agent_security_before_check(make_request(tool="T", session="s"), make_ctx())
    assert denied is not None and denied.decision.outcome is Outcome.DENY


def _deny(plugin, make_request, make_ctx, **kwargs):
    res = plugin.agent_security_before_check(make_request(**kwargs), make_ctx())
    return None if res is None else res.decision


def test_kill_switch_denials_follow_the_stored_reasons(make_request, make_ctx, store):
    ks = kill_switch(store=store)
    ks.kill("a", "first")
    first = _deny(ks, make_request, make_ctx, agent="a")
    assert first is not None and first.reasons[0].message == "first"
    assert _deny(ks, make_request, make_ctx, agent="a") is first  # memoised (a frozen model)
    assert ks.decide("a") is first
    ks.kill("a", "second")
    assert _deny(ks, make_request, make_ctx, agent="a").reasons[0].message == "second"
    store.set("kill_switch:agent:b", "")  # an empty stored reason: the default message, naming the agent
    assert _deny(ks, make_request, make_ctx, agent="b").reasons[0].message == "Agent b is disabled via kill switch"
    ks.kill_all("all down")
    assert _deny(ks, make_request, make_ctx, agent="c").reasons[0].code == "GLOBAL_KILL_SWITCH"
    assert _deny(ks, make_request, make_ctx, agent="c").reasons[0].message == "all down"
    ks.kill_all("")
    assert _deny(ks, make_request, make_ctx, agent="c").reasons[0].message == (
        "All agents are disabled via global kill switch"
    )
    ks.revive_all()
    assert _deny(ks, make_request, make_ctx, agent="a") is None
    assert ks.decide(Sub("a")) is None


def test_session_context_denials_follow_the_limits(make_request, make_ctx, store):
    sc = session_context(limits={"t": 1}, store=store)
    assert _deny(sc, make_request, make_ctx, tool="t", session="s") is None
    first = _deny(sc, make_request, make_ctx, tool="t", session="s")
    assert first.reasons[0].message == "Tool t has been called 1 times in this session (max: 1)"
    assert _deny(sc, make_request, make_ctx, tool="t", session="s") is first
    assert _deny(sc, make_request, make_ctx, tool="T", session="s").reasons[0].message == (
        "Tool T has been called 1 times in this session (max: 1)"
    )  # the name as called
    sc.limits["t"] = 2
    assert _deny(sc, make_request, make_ctx, tool="t", session="s") is None
    assert _deny(sc, make_request, make_ctx, tool="t", session="s").reasons[0].message == (
        "Tool t has been called 2 times in this session (max: 2)"
    )


def test_rate_limiter_denials_follow_the_limits(store):
    rl = rate_limiter(max_per_minute=1, store=store)
    assert rl.admit("a", "t", now=1.0) is None
    first = rl.admit("a", "t", now=1.0)
    assert first.reasons[0].message == "Agent a exceeded 1 calls per 60s"
    assert rl.admit("a", "t", now=1.0) is first
    rl.max_per_minute = 0
    rl.max_per_minute_per_tool = 1
    assert rl.admit("a", "t", now=1.0) is None
    assert rl.admit("a", "t", now=1.0).reasons[0].message == "Agent a exceeded 1 calls per 60s for tool t"
    assert rl.admit("a", "T", now=1.0).reasons[0].message == "Agent a exceeded 1 calls per 60s for tool T"
    rl.window_s = 30.0
    assert rl.admit("a", "t", now=1.0).reasons[0].message == "Agent a exceeded 1 calls per 30s for tool t"
    full = rate_limiter(max_per_minute=1, store=MemoryStoreFull())
    unavailable = full.admit("a", "t", now=1.0)
    assert unavailable.reasons[0].code == "RATE_LIMIT_UNAVAILABLE" and full.admit("a", "t", now=1.0) is unavailable


def test_the_denials_are_bounded(store):
    from agent_security.core.builtin._base import MAX_DENIALS

    ks = kill_switch(store=store)
    ks.kill_all("x")
    for i in range(MAX_DENIALS + 10):
        ks.kill_all(f"reason {i}")
        assert ks.decide("a").reasons[0].message == f"reason {i}"
        assert len(ks._denials) <= MAX_DENIALS
    assert ks.decide(Sub("a")).reasons[0].message == f"reason {MAX_DENIALS + 9}"
