from __future__ import annotations

import threading

import pytest

from agent_security.core.builtin import rate_limiter
from agent_security.core.errors import ConfigurationError
from agent_security.core.store import MemoryStore


def _check(rl, make_request, make_ctx, agent, tool, t=1000.0):
    res = rl.agent_security_before_check(make_request(tool=tool, agent=agent), make_ctx(t=t))
    return None if res is None else res.decision


def test_per_tool_limit_demo_vector(make_request, make_ctx, store):
    # core demo scenario 5: maxPerMinute 5, maxPerMinutePerTool 3, the 4th query_database is refused
    rl = rate_limiter(max_per_minute=5, max_per_minute_per_tool=3, store=store)
    for i in range(3):
        assert _check(rl, make_request, make_ctx, "agent-fast", "query_database", 1000.0 + i) is None
    d = _check(rl, make_request, make_ctx, "agent-fast", "query_database", 1003.0)
    assert d.codes == ("RATE_LIMIT_TOOL",)
    assert d.reasons[0].message == "Agent agent-fast exceeded 3 calls per 60s for tool query_database"
    assert d.plugin_source == "rate_limiter"
    rl.reset_agent("agent-fast")
    assert rl.get_count("agent-fast", now=1003.0) == 0
    assert _check(rl, make_request, make_ctx, "agent-fast", "query_database", 1004.0) is None


def test_per_agent_limit_demo_vector(make_request, make_ctx, store):
    rl = rate_limiter(max_per_minute=3, store=store)
    for i in range(3):
        assert _check(rl, make_request, make_ctx, "speedy-agent", "fast_tool", 1000.0 + i) is None
    d = _check(rl, make_request, make_ctx, "speedy-agent", "fast_tool", 1003.0)
    assert d.codes == ("RATE_LIMIT_AGENT",)
    assert d.reasons[0].message == "Agent speedy-agent exceeded 3 calls per 60s"


def test_refused_calls_consume_nothing(make_request, make_ctx, store):
    rl = rate_limiter(max_per_minute=10, max_per_minute_per_tool=2, store=store)
    for _ in range(5):
        _check(rl, make_request, make_ctx, "a", "t")
    assert rl.get_tool_count("a", "t", now=1000.0) == 2
    assert rl.get_count("a", now=1000.0) == 2  # refused tool calls did not count against the agent


def test_window_slides(make_request, make_ctx, store):
    rl = rate_limiter(max_per_minute=2, window_s=10.0, store=store)
    assert _check(rl, make_request, make_ctx, "a", "t", 0.0) is None
    assert _check(rl, make_request, make_ctx, "a", "t", 5.0) is None
    d = _check(rl, make_request, make_ctx, "a", "t", 9.9)
    assert d.reasons[0].message == "Agent a exceeded 2 calls per 10s"
    assert _check(rl, make_request, make_ctx, "a", "t", 10.5) is None  # the call at 0.0 left the window
    assert rl.get_count("a", now=10.5) == 2


def test_unlimited_is_a_no_op(make_request, make_ctx, store):
    rl = rate_limiter(store=store)
    for _ in range(100):
        assert _check(rl, make_request, make_ctx, "a", "t") is None
    assert len(store) == 0


def test_keys_do_not_collide(make_request, make_ctx, store):
    rl = rate_limiter(max_per_minute_per_tool=1, store=store)
    assert _check(rl, make_request, make_ctx, "a:b", "c") is None
    assert _check(rl, make_request, make_ctx, "a", "b:c") is None  # "a:b"+"c" vs "a"+"b:c"
    assert rl.get_tool_count("a:b", "c", now=1000.0) == 1
    assert rl.get_tool_count("a", "b:c", now=1000.0) == 1
    rl.reset_agent("a")
    assert rl.get_tool_count("a", "b:c", now=1000.0) == 0
    assert rl.get_tool_count("a:b", "c", now=1000.0) == 1  # resetting "a" leaves "a:b" alone


def test_reset_all(make_request, make_ctx, store):
    rl = rate_limiter(max_per_minute=1, store=store)
    _check(rl, make_request, make_ctx, "a", "t")
    _check(rl, make_request, make_ctx, "b", "t")
    rl.reset()
    assert rl.get_count("a", now=1000.0) == 0 and rl.get_count("b", now=1000.0) == 0
    assert _check(rl, make_request, make_ctx, "a", "t") is None


def test_exact_under_concurrency(make_request, make_ctx, store):
    rl = rate_limiter(max_per_minute=50, max_per_minute_per_tool=37, store=store)
    admitted: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(16)

    def worker() -> None:
        barrier.wait()
        ok = 0
        for _ in range(25):
            if _check(rl, make_request, make_ctx, "a", "t") is None:
                ok += 1
        with lock:
            admitted.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sum(admitted) == 37
    assert rl.get_tool_count("a", "t", now=1000.0) == 37
    assert rl.get_count("a", now=1000.0) == 37


def test_shared_store_is_shared_limit(make_request, make_ctx):
    shared = MemoryStore()
    rl1 = rate_limiter(max_per_minute=2, store=shared)
    rl2 = rate_limiter(max_per_minute=2, store=shared)
    assert _check(rl1, make_request, make_ctx, "a", "t") is None
    assert _check(rl2, make_request, make_ctx, "a", "t") is None
    assert _check(rl1, make_request, make_ctx, "a", "t").codes == ("RATE_LIMIT_AGENT",)


def test_uses_ctx_store_when_unbound(make_request, make_ctx):
    rl = rate_limiter(max_per_minute=1)
    ctx_store = MemoryStore()
    assert rl.agent_security_before_check(make_request(agent="a"), make_ctx(st=ctx_store)) is None
    assert rl.store is ctx_store
    assert rl.get_count("a", now=1000.0) == 1


@pytest.mark.parametrize("kwargs", [{"max_per_minute": -1}, {"window_s": 0}, {"window_s": float("nan")}])
def test_bad_config(kwargs):
    with pytest.raises(ConfigurationError):
        rate_limiter(**kwargs)


def test_unlimited_windows_are_not_recorded(make_request, make_ctx, store):
    # Only the per-agent limit is set: the per-tool window would hold one timestamp per call for nothing.
    rl = rate_limiter(max_per_minute=1_000, store=store)
    for _ in range(100):
        assert _check(rl, make_request, make_ctx, "a", "t") is None
    assert rl.get_count("a", now=1000.0) == 100
    assert rl.get_tool_count("a", "t", now=1000.0) == 0
    assert len(store) == 1  # the agent's window only
    tool_only = rate_limiter(max_per_minute_per_tool=2, store=store)
    assert _check(tool_only, make_request, make_ctx, "b", "t") is None
    assert _check(tool_only, make_request, make_ctx, "b", "t") is None
    refused = _check(tool_only, make_request, make_ctx, "b", "t")
    assert refused is not None and refused.reasons[0].code == "RATE_LIMIT_TOOL"
    assert tool_only.get_count("b", now=1000.0) == 0


def test_a_flood_of_tool_names_cannot_reset_a_used_up_budget(make_request, make_ctx):
    # Only a per-tool limit: an agent that used up "pay_out" calls many other tool names to push its
    # window out of a bounded store. Its window is live, so it is kept and the flood is refused instead.
    store = MemoryStore(max_keys=50)
    rl = rate_limiter(max_per_minute_per_tool=3, store=store)
    for _ in range(3):
        assert _check(rl, make_request, make_ctx, "a", "pay_out") is None
    codes = set()
    for i in range(200):
        d = _check(rl, make_request, make_ctx, "a", f"junk_{i}")
        codes.add(None if d is None else d.reasons[0].code)
    assert codes == {None, "RATE_LIMIT_UNAVAILABLE"}
    refused = _check(rl, make_request, make_ctx, "a", "pay_out")
    assert refused is not None and refused.reasons[0].code == "RATE_LIMIT_TOOL"
    assert rl.get_tool_count("a", "pay_out", now=1000.0) == 3
