"""SqliteStore: the store contract on one SQLite file, across real processes.

Processes are real (``python -c``), the file is real; nothing sleeps to pass: cross-process effects are
observed after the other process has exited, and a lock is held by a connection the test controls.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_security.core import AgentSecurity, Decision
from agent_security.core.builtin import kill_switch, rate_limiter, session_context
from agent_security.core.errors import ConfigurationError, StoreUnavailable
from agent_security.core.store import (
    CounterLimit,
    MemoryStore,
    SqliteStore,
    WindowLimit,
    default_state_path,
    open_store,
)
from agent_security.core.testing import FakeClock, StaticEngine


class SetClock:
    def __init__(self, t: float = 1_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state.db"


def _python(code: str, *args: str) -> str:
    """Run ``code`` in a fresh interpreter (a real process); return its stdout."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


# -- the contract ---------------------------------------------------------------------------------------


def test_key_values_counters_and_expiry_on_the_stores_clock(db: Path) -> None:
    clock = SetClock()
    store = SqliteStore(db, clock=clock)
    store.set("a", {"x": [1, 2]})
    store.set("b", "v", ttl_s=10)
    assert store.get("a") == {"x": [1, 2]} and store.get_many(["a", "b", "c"], 0) == [{"x": [1, 2]}, "v", 0]
    assert store.incr("n", ttl_s=5) == 1 and store.incr("n", 2) == 3
    assert store.release("n") == 2 and store.release("n", 10) == 0 and store.release("missing") is None
    assert store.scan("") == {"a": {"x": [1, 2]}, "b": "v", "n": 0}
    clock.t += 10
    assert store.get("b") is None and store.get("n") is None and store.incr("n") == 1  # a new window
    assert store.delete("a") and not store.delete("a")
    store.close()


def test_claims_are_single_use_until_they_expire_and_survive_deletes(db: Path) -> None:
    clock = SetClock()
    store = SqliteStore(db, clock=clock)
    assert store.claim("approval:nonce:1", ttl_s=60) is True
    assert store.claim("approval:nonce:1", ttl_s=60) is False
    assert store.delete_prefix("approval:") == 0 and store.delete("approval:nonce:1") is False  # not a key
    store.purge()
    assert store.claim("approval:nonce:1", ttl_s=60) is False  # a live claim is never purged
    clock.t += 60
    store.purge()
    assert store.claim("approval:nonce:1", ttl_s=60) is True
    store.close()


def test_namespaces_share_a_file_but_nothing_else(db: Path) -> None:
    a, b = SqliteStore(db, namespace="app:tenant-a"), SqliteStore(db, namespace="app:tenant-b")
    a.set("kill_switch:global", {"reason": "x"})
    assert b.get("kill_switch:global") is None and b.scan("") == {}
    assert a.scan("kill_switch:") == {"kill_switch:global": {"reason": "x"}}
    assert b.admit(["kill_switch:global"], [WindowLimit("w", 1, 60)]).admitted
    assert not a.admit(["kill_switch:global"], [WindowLimit("w", 1, 60)]).admitted
    raw = sqlite3.connect(db).execute("SELECT key FROM kv").fetchall()
    assert raw == [("{app:tenant-a}:kill_switch:global",)]  # the namespace is the key's hash tag
    with pytest.raises(ValueError, match="namespace"):
        SqliteStore(db, namespace="{evil}")
    a.close()
    b.close()


def test_admit_is_all_or_nothing(db: Path) -> None:
    store = SqliteStore(db)
    windows = [WindowLimit("w:a", 3, 60), WindowLimit("w:t", 2, 60)]
    counters = [CounterLimit("s", 1, 3600)]
    first = store.admit(["flag"], windows, counters)
    assert first.admitted and first.windows == (1, 1) and first.counters == (1,) and first.flags == (None,)
    refused = store.admit(["flag"], windows, counters)  # the session counter refuses: nothing recorded
    assert (refused.admitted, refused.refused, refused.refused_index) == (False, "counter", 0)
    assert store.window_count("w:a", window_s=60) == 1 and store.get("s") == 1
    store.set("flag", "killed")
    killed = store.admit(["flag"], windows[:1])
    assert (killed.refused, killed.flags, killed.windows) == ("flag", ("killed",), ())
    assert store.window_count("w:a", window_s=60) == 1
    store.close()


_ops = st.lists(
    st.tuples(
        st.lists(st.sampled_from(["a", "b"]), min_size=1, max_size=2),
        st.integers(0, 70),
        st.floats(0.0, 4.0),
        st.booleans(),
    ),
    max_size=40,
)


@settings(max_examples=40, deadline=None)
@given(_ops)
def test_admissions_match_the_memory_store(
    tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[list[str], int, float, bool]]
) -> None:
    # The same windows (exact and slotted) and counters, admitted in the same order: the same verdicts.
    sqlite = SqliteStore(tmp_path_factory.mktemp("eq") / "s.db")
    memory = MemoryStore()
    now = 5_000.0
    for keys, limit, step, counter in ops:
        now += step
        windows = [WindowLimit(k, limit, 10.0) for k in keys]
        counters = [CounterLimit("c", limit // 10, 7.0)] if counter else []
        assert sqlite.admit((), windows, counters, now=now) == memory.admit((), windows, counters, now=now)
        assert sqlite.window_count("a", window_s=10.0, now=now) == memory.window_count("a", window_s=10.0, now=now)
    sqlite.close()


def test_async_twins(db: Path) -> None:
    store = SqliteStore(db)

    async def main() -> tuple[Any, ...]:
        await store.aset("k", [1])
        verdict = await store.aadmit(["k"], [WindowLimit("w", 1, 60)])
        return (
            await store.aget("k"),
            await store.aincr("n"),
            await store.aclaim("c", ttl_s=5),
            await store.aclaim("c", ttl_s=5),
            verdict.refused,
            await store.ascan(""),
        )

    assert asyncio.run(main()) == ([1], 1, True, False, "flag", {"k": [1], "n": 1})
    asyncio.run(store.aclose())


def test_a_lock_held_past_the_timeout_is_store_unavailable_and_the_plugins_deny(db: Path) -> None:
    store = SqliteStore(db, timeout_s=0.05)
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process's long write transaction
    try:
        with pytest.raises(StoreUnavailable):
            store.admit((), [WindowLimit("w", 5, 60)])
        security = AgentSecurity(
            policy_engine=StaticEngine(lambda r: Decision.allow("OK")),
            autoload=False,
            store=store,
            plugins=[rate_limiter(max_per_minute=5), session_context({"t": 3})],
        )
        result = security.check_tool_call(tool_name="t", agent_id="a", session_id="s")
        assert not result.allowed and result.final_decision.codes == ("STORE_UNAVAILABLE",)
        security.shutdown()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert store.admit((), [WindowLimit("w", 5, 60)]).admitted  # and recovers with the lock
    store.close()


# -- real processes -------------------------------------------------------------------------------------

_ADMIT = """
import sys
from agent_security.core.store import CounterLimit, SqliteStore, WindowLimit
store = SqliteStore(sys.argv[1], timeout_s=30)
admitted = sum(store.admit((), [WindowLimit("rate", 50, 3600)], [CounterLimit("session", 30, 3600)]).admitted
               for _ in range(int(sys.argv[2])))
print(admitted)
"""


def test_four_processes_never_over_admit(db: Path) -> None:
    SqliteStore(db).close()  # created once, then raced on
    procs = [
        subprocess.Popen([sys.executable, "-c", _ADMIT, str(db), "40"], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    counts = [int(p.communicate(timeout=120)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sum(counts) == 30  # the tighter of the two limits, exactly: 160 attempts
    store = SqliteStore(db)
    assert store.window_count("rate", window_s=3600) == 30 and store.get("session") == 30
    store.close()


def test_a_kill_written_by_one_process_is_seen_by_the_next_check_of_another(db: Path) -> None:
    ks = kill_switch(store=SqliteStore(db))
    assert ks.decide("bot") is None
    _python(
        """
        import sys
        from agent_security.core.builtin import kill_switch
        from agent_security.core.store import SqliteStore
        kill_switch(store=SqliteStore(sys.argv[1])).kill("bot", "fleet kill")
    """,
        str(db),
    )
    decision = ks.decide("bot")
    assert decision is not None and decision.reasons[0].message == "fleet kill"
    ks.revive("bot")
    out = _python(
        """
        import sys
        from agent_security.core.builtin import kill_switch
        from agent_security.core.store import SqliteStore
        print(kill_switch(store=SqliteStore(sys.argv[1])).is_killed("bot"))
    """,
        str(db),
    )
    assert out.strip() == "False"
    ks.store.close()


def test_an_approval_nonce_claimed_in_one_process_is_refused_in_another(db: Path) -> None:
    out = _python(
        """
        import sys
        from agent_security.core.store import SqliteStore
        print(SqliteStore(sys.argv[1]).claim("approval:nonce:n-1", ttl_s=3600))
    """,
        str(db),
    )
    assert out.strip() == "True"
    store = SqliteStore(db)
    assert store.claim("approval:nonce:n-1", ttl_s=3600) is False
    store.close()


def test_messages_reach_subscribers_in_other_processes(db: Path) -> None:
    store = SqliteStore(db, poll_interval_s=0.01)
    got: list[tuple[str, Any]] = []
    arrived = threading.Event()

    def on_message(channel: str, message: Any) -> None:
        got.append((channel, message))
        arrived.set()

    unsubscribe = store.subscribe("kill_switch", on_message)
    _python(
        """
        import sys
        from agent_security.core.builtin import kill_switch
        from agent_security.core.store import SqliteStore
        kill_switch(store=SqliteStore(sys.argv[1])).kill("bot", "r")
    """,
        str(db),
    )
    assert arrived.wait(30), "the subscriber thread delivered nothing"
    assert got == [("kill_switch", {"op": "kill", "agent_id": "bot", "reason": "r"})]
    store.publish("kill_switch", {"op": "local"})  # this store's own subscribers: at once, and once
    assert store.poll() == 0 and got[-1] == ("kill_switch", {"op": "local"}) and len(got) == 2
    unsubscribe()
    store.close()


def test_the_pipeline_admits_a_check_in_one_sqlite_transaction(db: Path) -> None:
    clock = FakeClock()
    store = SqliteStore(db, clock=clock)
    calls: list[str] = []
    store._conn.set_trace_callback(lambda sql: calls.append(sql) if sql.startswith(("BEGIN", "SELECT")) else None)
    ks, rl, sc = kill_switch(), rate_limiter(max_per_minute=2), session_context({"t": 5})
    security = AgentSecurity(
        policy_engine=StaticEngine(lambda r: Decision.allow("OK")),
        autoload=False,
        store=store,
        plugins=[ks, rl, sc],
        clock=clock.now,
        monotonic=clock.monotonic,
    )
    calls.clear()
    assert security.check_tool_call(tool_name="t", agent_id="a", session_id="s").allowed
    assert sum(1 for sql in calls if sql.startswith("BEGIN")) == 1, calls
    assert security.check_tool_call(tool_name="t", agent_id="a", session_id="s").allowed
    third = security.check_tool_call(tool_name="t", agent_id="a", session_id="s")
    assert third.final_decision.codes == ("RATE_LIMIT_AGENT",) and third.decision.plugin_source == "rate_limiter"
    assert sc.get_session_tool_count("s", "t") == 2  # the refused call reserved no session slot
    security.shutdown()
    store.close()


# -- the factory ----------------------------------------------------------------------------------------


def test_open_store_urls(tmp_path: Path) -> None:
    assert isinstance(open_store("memory://"), MemoryStore)
    store = open_store(f"sqlite:///{tmp_path}/deep/dir/s.db?timeout_s=2", namespace="app")
    assert isinstance(store, SqliteStore) and store.timeout_s == 2 and store.namespace == "app"
    assert (tmp_path / "deep" / "dir" / "s.db").exists()
    store.close()
    redis_store = open_store("redis://localhost:6379/0")  # the Redis store (tests/core/redis); connects lazily
    assert type(redis_store).__name__ == "RedisStore"
    redis_store.close()
    for bad in ("ftp://x", "sqlite://", f"sqlite:///{tmp_path}/s.db?size=1", "memory://x"):
        with pytest.raises(ConfigurationError):
            open_store(bad)


def test_default_state_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AGENT_SECURITY_STATE_DIR", str(tmp_path / "explicit"))
    assert default_state_path() == tmp_path / "explicit" / "state.db"
    monkeypatch.delenv("AGENT_SECURITY_STATE_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert default_state_path() == tmp_path / "xdg" / "agent-security" / "state.db"
    monkeypatch.setenv("XDG_STATE_HOME", "relative")  # ignored, as the XDG specification says
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_state_path() == tmp_path / "home" / ".local" / "state" / "agent-security" / "state.db"


def test_the_message_table_is_json(db: Path) -> None:
    store = SqliteStore(db)
    store.publish("c", {"a": 1})
    assert [json.loads(b) for (b,) in sqlite3.connect(db).execute("SELECT body FROM messages")] == [{"a": 1}]
    store.close()
