"""RedisStore: the store contract (version 2) against a real redis-server.

Every test talks to a real server started by the fixtures (``conftest.py``); the admission is compared
call for call with the MemoryStore (the same windows, counts and verdicts), and round trips are counted
by a connection class that counts what it sends.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
import redis
import redis.asyncio as aredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_security.core import AgentSecurity, Decision
from agent_security.core.builtin import kill_switch, rate_limiter, session_context
from agent_security.core.errors import ConfigurationError, StoreUnavailable
from agent_security.core.store import CounterLimit, MemoryStore, WindowLimit, open_store
from agent_security.core.store.keys import hash_tag
from agent_security.core.store.redis import DEFAULT_NAMESPACE, RedisStore
from agent_security.core.testing import StaticEngine


class CountingConnection(redis.Connection):
    """A connection that counts the requests the test's thread sends (one per round trip; the store's
    subscriber thread is not the check's)."""

    sent = 0

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        if threading.current_thread() is threading.main_thread():
            type(self).sent += 1
        super().send_packed_command(command, check_health)


def counting_store(url: str, **kwargs: Any) -> RedisStore:
    pool = redis.ConnectionPool.from_url(url, decode_responses=True, connection_class=CountingConnection)
    return RedisStore(redis.Redis(connection_pool=pool), **kwargs)


@pytest.fixture
def store(redis_server: Any) -> Any:
    s = open_store(redis_server.url)
    yield s
    s.close()


def test_open_store_selects_redis_lazily_and_validates_urls(redis_server: Any) -> None:
    s = open_store(redis_server.url + "?timeout_s=0.25", namespace="app:prod")
    assert isinstance(s, RedisStore) and s.timeout_s == 0.25 and s.namespace == "app:prod"
    assert "app:prod" in repr(s)
    s.close()
    # Nothing connects until the first call: a URL for a server that is down still opens, and fails closed.
    tls = open_store("rediss://:secret@127.0.0.1:1/0")
    assert isinstance(tls, RedisStore) and "secret" not in repr(tls)
    with pytest.raises(StoreUnavailable):
        tls.get("k")
    tls.close()
    sentinel = open_store("redis+sentinel://127.0.0.1:1,127.0.0.1:2/mymaster/0?timeout_s=0.1")
    assert isinstance(sentinel, RedisStore) and "mymaster" in repr(sentinel)
    with pytest.raises(StoreUnavailable):
        sentinel.get("k")
    sentinel.close()
    for bad in ("redis://h/0?timeout_s=x", "redis://h/0?timeout_s=0", "redis+sentinel://nohost/m"):
        with pytest.raises(ConfigurationError):
            open_store(bad)
    with pytest.raises(ConfigurationError) as err:
        open_store("redis://user:hunter2@h/0?timeout_s=-1")
    assert "hunter2" not in str(err.value)


def test_key_values_counters_claims_and_expiry(store: RedisStore) -> None:
    assert store.namespace == DEFAULT_NAMESPACE
    store.set("a", {"x": [1, 2.5, "s", None, True]})
    store.set("b", "text", ttl_s=0.001)
    assert store.get("a") == {"x": [1, 2.5, "s", None, True]}
    assert store.get_many(["a", "missing"], 7) == [{"x": [1, 2.5, "s", None, True]}, 7]
    store.set("a", None)
    assert store.get("a") is None
    assert store.incr("n") == 1 and store.incr("n", 4) == 5
    assert store.release("n", 2) == 3 and store.release("n", 10) == 0
    assert store.release("gone") is None
    assert store.incr("t", ttl_s=100) == 1 and store.client.pttl(store._v("t")) > 90_000
    assert store.incr("t", ttl_s=1) == 2 and store.client.pttl(store._v("t")) > 90_000  # TTL kept
    assert store.claim("nonce", ttl_s=60) and not store.claim("nonce", ttl_s=60)
    store.set("p:1", 1)
    store.set("p:2", 2)
    store.set("p*", 3)  # a glob character in a key is a literal
    store.set("q", 4)
    assert store.scan("p:") == {"p:1": 1, "p:2": 2}
    assert store.scan("p*") == {"p*": 3}
    store.admit((), [WindowLimit("p:w", 5, 60)])
    assert store.delete_prefix("p:") == 3 and store.scan("p") == {"p*": 3}
    assert store.delete("q") and not store.delete("q")
    assert not store.claim("nonce", ttl_s=60)  # deletes never touch claims
    # Expiry is Redis's: the key with a 1 ms TTL is gone by the time the server is asked again.
    assert store.client.pttl(store._v("b")) in (-2, 0, 1)


def test_every_key_carries_the_namespace_hash_tag(redis_server: Any) -> None:
    app = open_store(redis_server.url, namespace="app:tenant-1")
    other = open_store(redis_server.url, namespace="app:tenant-2")
    ks = kill_switch()
    security = AgentSecurity(
        policy_engine=StaticEngine(lambda r: Decision.allow("OK")),
        store=app,
        plugins=[ks, rate_limiter(10, 5), session_context({"t": 3})],
    )
    security.check_tool_call(tool_name="t", agent_id="a:b{c}", session_id="s")
    ks.kill("other")
    app.claim("n", ttl_s=60)
    keys = list(app.client.scan_iter("*"))
    assert len(keys) >= 5
    assert {hash_tag(k) for k in keys} == {"app:tenant-1"}
    assert other.get_many(["kill_switch:agent:other"]) == [None]
    assert other.scan("") == {}
    security.shutdown()
    app.close()
    other.close()


def test_admit_is_all_or_nothing(store: RedisStore) -> None:
    t = 5_000.0
    v = store.admit(["f1", "f2"], [WindowLimit("w", 2, 10)], [CounterLimit("c", 1, 60)], now=t)
    assert v.admitted and v.flags == (None, None) and v.windows == (1,) and v.counters == (1,)
    refused = store.admit((), [WindowLimit("w", 2, 10)], [CounterLimit("c", 1, 60)], now=t)
    assert not refused.admitted and refused.refused == "counter" and refused.refused_index == 0
    assert refused.counters == (1,) and store.window_count("w", window_s=10, now=t) == 1  # nothing recorded
    store.set("f2", {"reason": "stop"})
    flagged = store.admit(["f1", "f2"], [WindowLimit("w", 2, 10)], now=t)
    assert flagged == (False, (None, {"reason": "stop"}), (), (), "flag", 1)
    assert store.admit((), [WindowLimit("w", 2, 10)] * 2, now=t).refused is None  # listed twice: twice
    assert store.admit((), [WindowLimit("w", 2, 10)], now=t) == (False, (), (3,), (), "window", 0)
    assert store.window_count("w", window_s=10, now=t + 10) == 0
    assert store.window_admit(["x", "y"], [1, 1], window_s=5, now=t).counts == (1, 1)
    assert store.client.pttl(store._w("x")) > 0  # a window expires with its newest entry


_ops = st.lists(
    st.tuples(
        st.lists(st.sampled_from(["a", "b"]), min_size=1, max_size=2),
        st.sampled_from([1, 2, 3, 70, 0]),
        st.sampled_from([None, 2, 3]),
        st.floats(min_value=0, max_value=30),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_ops)
def test_admissions_match_the_memory_store(store: RedisStore, ops: list[Any]) -> None:
    store.delete_prefix("")
    memory = MemoryStore()
    t = 1_000_000.0
    for keys, limit, cap, step in ops:
        t += step
        windows = [WindowLimit(k, limit, 20.0) for k in keys]
        counters = [CounterLimit("c", cap, 1e6)]  # no expiry: Redis expires on its own clock, not now=
        assert store.admit((), windows, counters, now=t) == memory.admit((), windows, counters, now=t)
        assert store.window_count("a", window_s=20.0, now=t) == memory.window_count("a", window_s=20.0, now=t)


async def test_async_twins_use_the_asyncio_client(store: RedisStore) -> None:
    await store.aset("k", [1, 2])
    assert await store.aget("k") == [1, 2] and await store.aget_many(["k", "x"]) == [[1, 2], None]
    assert await store.aincr("n", 2, ttl_s=60) == 2 and await store.arelease("n") == 1
    assert await store.aclaim("c", ttl_s=60) and not await store.aclaim("c", ttl_s=60)
    verdicts = await asyncio.gather(*(store.aadmit(["f"], [WindowLimit("w", 10, 60)]) for _ in range(25)))
    assert sum(v.admitted for v in verdicts) == 10
    assert await store.awindow_count("w", window_s=60) == 10
    assert (await store.awindow_admit(["w"], [10], window_s=60)).admitted is False
    assert await store.adelete("k") and await store.aget("k", "d") == "d"
    await store.apublish("ch", {"m": 1})
    await store.aclose()


def test_redis_time_is_the_servers(store: RedisStore) -> None:
    seconds, micros = store.client.time()
    assert abs(store.time() - (seconds + micros / 1e6)) < 60


def test_a_check_with_the_three_built_ins_is_one_round_trip(redis_server: Any) -> None:
    store = counting_store(redis_server.url)
    ks = kill_switch()
    security = AgentSecurity(
        policy_engine=StaticEngine(lambda r: Decision.allow("OK")),
        store=store,
        plugins=[ks, rate_limiter(1_000, 1_000), session_context({"pay": 1_000})],
    )
    for _ in range(3):  # warm: the script is loaded into the server once
        assert security.check_tool_call(tool_name="pay", agent_id="a", session_id="s").allowed
    before = CountingConnection.sent
    for _ in range(50):
        assert security.check_tool_call(tool_name="pay", agent_id="a", session_id="s").allowed
    assert CountingConnection.sent - before == 50
    ks.kill("a")
    before = CountingConnection.sent
    result = security.check_tool_call(tool_name="pay", agent_id="a", session_id="s")
    assert result.final_decision.reasons[0].code == "AGENT_KILL_SWITCH"
    assert CountingConnection.sent - before == 1
    security.shutdown()
    store.close()


def test_set_and_publish_is_one_transaction(redis_server: Any) -> None:
    store = counting_store(redis_server.url)
    seen: list[Any] = []
    got = threading.Event()

    def on_message(channel: str, message: Any) -> None:
        seen.append((message, store.get("flag")))  # the flag is there when the message arrives
        got.set()

    unsubscribe = store.subscribe("ch", on_message)
    store.get("warm")  # a new connection's handshake is not the call's
    before = CountingConnection.sent
    store.set_and_publish("flag", {"on": True}, "ch", {"op": "kill"})
    assert CountingConnection.sent - before == 1
    assert got.wait(10)
    assert seen[0] == ({"op": "kill"}, {"on": True})
    unsubscribe()
    store.close()


def test_a_slow_server_is_store_unavailable_and_the_check_denies(redis_server: Any) -> None:
    store = open_store(redis_server.url + "?timeout_s=0.2")
    engine = StaticEngine(lambda r: Decision.allow("OK"))
    security = AgentSecurity(policy_engine=engine, store=store, plugins=[kill_switch(), rate_limiter(100)])
    observer = AgentSecurity(
        policy_engine=StaticEngine(lambda r: Decision.allow("OK")), store=store, plugins=[kill_switch()], mode="observe"
    )
    assert security.check_tool_call(tool_name="t", agent_id="a").allowed
    admin = redis.Redis(host="127.0.0.1", port=redis_server.port)
    admin.execute_command("CLIENT", "PAUSE", "3000", "ALL")
    try:
        result = security.check_tool_call(tool_name="t", agent_id="a")
        assert not result.allowed and result.final_decision.reasons[0].code == "STORE_UNAVAILABLE"
        watched = observer.check_tool_call(tool_name="t", agent_id="a")
        assert watched.allowed and watched.would_block
    finally:
        admin.execute_command("CLIENT", "UNPAUSE")
        admin.close()
    assert security.check_tool_call(tool_name="t", agent_id="a").allowed
    security.shutdown()
    observer.shutdown()
    store.close()


class CountingAsyncConnection(aredis.Connection):
    sent = 0

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        type(self).sent += 1
        await super().send_packed_command(command, check_health)


async def test_an_async_admission_is_one_round_trip(redis_server: Any) -> None:
    def factory() -> aredis.Redis:
        pool = aredis.ConnectionPool.from_url(
            redis_server.url, decode_responses=True, connection_class=CountingAsyncConnection
        )
        return aredis.Redis.from_pool(pool)

    store = RedisStore(redis.Redis.from_url(redis_server.url, decode_responses=True), aclient_factory=factory)
    part = (["kill_switch:global", "kill_switch:agent:a"], [WindowLimit("w", 100, 60)], [CounterLimit("c", 100)])
    for _ in range(2):  # the handshake and the script's first load
        await store.aadmit(*part)
    before = CountingAsyncConnection.sent
    for _ in range(20):
        assert (await store.aadmit(*part)).admitted
    assert CountingAsyncConnection.sent - before == 20
    await store.aclose()


def test_a_closed_store_is_unavailable(redis_server: Any) -> None:
    store = open_store(redis_server.url)
    store.set("k", 1)
    store.close()
    store.close()  # idempotent
    with pytest.raises(StoreUnavailable):
        store.get("k")
    with pytest.raises(StoreUnavailable):
        store.admit(["f"])


def test_agent_security_opens_a_store_url_it_is_given(redis_server: Any) -> None:
    """``AgentSecurity(store="redis://...")`` opens the store (and closes it at shutdown), as ``[core] store``
    does: a URL string is never taken for a store object."""
    from agent_security.core import AgentSecurity, Decision
    from agent_security.core.builtin import kill_switch
    from agent_security.core.store.redis import RedisStore
    from agent_security.core.testing import StaticEngine

    engine = StaticEngine(lambda r: Decision.allow("OK"))
    first = AgentSecurity(store=redis_server.url, policy_engine=engine, autoload=False, plugins=[kill_switch()])
    second = AgentSecurity(store=redis_server.url, policy_engine=engine, autoload=False, plugins=[kill_switch()])
    assert isinstance(first.store, RedisStore)
    first.get_plugin("kill_switch").kill("agent-x", "test")
    assert not second.check_tool_call(tool_name="t", agent_id="agent-x").allowed
    first.shutdown()
    second.shutdown()
    with pytest.raises(StoreUnavailable):  # closed with the instance that opened it
        first.store.get("k")
