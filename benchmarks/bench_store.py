"""MemoryStore under a key flood (prints figures; not a test).

A caller that rotates session ids writes one new counter with a TTL per call. Once the store is full,
every such write evicts one key; this measures what that write costs with a full store of the default
size (100,000 keys), against the same write into a store with room. Eviction is amortised O(log n), so
the two should stay within a small factor of each other whatever the store's size.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from agent_security.core.builtin import session_context
from agent_security.core.context import CheckContext
from agent_security.core.models import Action, ActionRequest, AgentInfo, Decision, RequestContext
from agent_security.core.store import MemoryStore


def _per_write(store: MemoryStore, prefix: str, n: int) -> float:
    t = time.perf_counter()
    for i in range(n):
        store.incr(f"{prefix}{i}", ttl_s=3600)
    return (time.perf_counter() - t) / n * 1e6


def main(max_keys: int = 100_000, n: int = 50_000) -> None:
    print(f"MemoryStore, max_keys={max_keys:,}")
    roomy = MemoryStore(max_keys=max_keys * 10)
    for i in range(100):  # durable keys (kill-switch entries) kept through the flood
        roomy.set(f"kill_switch:agent:{i}", "killed")
    print(f"  {'new counter, store with room':<44} {_per_write(roomy, 'session:', n):>8.2f} µs each")
    full = MemoryStore(max_keys=max_keys)
    for i in range(100):
        full.set(f"kill_switch:agent:{i}", "killed")
    _per_write(full, "fill:", max_keys)
    print(f"  {'new counter, full store (one eviction each)':<44} {_per_write(full, 'session:', n):>8.2f} µs each")
    assert all(full.get(f"kill_switch:agent:{i}") == "killed" for i in range(100))
    t = time.perf_counter()
    for i in range(n):
        full.claim(f"nonce:{i}", ttl_s=3600)
    print(f"  {'claim (approval nonce)':<44} {(time.perf_counter() - t) / n * 1e6:>8.2f} µs each")
    bench_session_flood(max_keys)
    bench_full_window()


def bench_full_window(sizes: tuple[int, ...] = (1_000, 100_000, 1_000_000), n: int = 2_000) -> None:
    """A rate-limit window holding ``size`` events, in steady state: each call forgets the one event that
    left the window and records its own. The cost must not grow with the window (the events are popped
    from the oldest end, never shifted)."""
    for size in sizes:
        store = MemoryStore()
        for i in range(size):
            store.window_admit(("w",), (0,), now=float(i), window_s=float(size))
        t = time.perf_counter()
        for i in range(size, size + n):
            store.window_admit(("w",), (size + 1,), now=float(i), window_s=float(size))
        label = f"window of {size:,} events, steady state"
        print(f"  {label:<44} {(time.perf_counter() - t) / n * 1e6:>8.2f} µs each")


def bench_session_flood(max_keys: int, max_sessions: int = 10_000, n: int = 5_000) -> None:
    """Session context past ``max_sessions``: every new session id forgets the least recently used one."""
    store = MemoryStore(max_keys=max_keys)
    for i in range(max_keys // 2):  # other state in the store
        store.incr(f"other:{i}", ttl_s=3600)
    sc = session_context({"read_file": 100}, max_sessions=max_sessions, store=store)
    ctx = CheckContext(None, store, datetime.now(UTC), 0.0)  # type: ignore[arg-type]
    allow = Decision.allow("OK")

    def call(session: str) -> None:
        req = ActionRequest(agent=AgentInfo(agent_id="a"), action=Action(tool_name="read_file"),
                            context=RequestContext(session_id=session))
        sc.agent_security_before_check(req, ctx)
        sc.agent_security_notify(req, allow, ctx)

    for i in range(max_sessions):
        call(f"fill-{i}")
    t = time.perf_counter()
    for i in range(n):
        call(f"flood-{i}")
    print(f"  {'session context, new session id (LRU full)':<44} {(time.perf_counter() - t) / n * 1e6:>8.2f} µs each"
          f" (max_sessions={max_sessions:,}; building the request included)")


if __name__ == "__main__":
    main()
