"""The stores (prints figures; not a test).

MemoryStore under a key flood: a caller that rotates session ids writes one new counter with a TTL per
call. Once the store is full, every such write evicts one key; this measures what that write costs with a
full store of the default size (100,000 keys), against the same write into a store with room. Eviction is
amortised O(log n), so the two should stay within a small factor of each other whatever the store's size.

SqliteStore: one check's admission (two kill flags, two rate windows, one session counter: the one store
call of a check with the three built-ins), p50 and p99 of the round trip; then N processes admitting
concurrently against one file (admissions per second, all processes together).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from agent_security.core.builtin import session_context
from agent_security.core.context import CheckContext
from agent_security.core.models import Action, ActionRequest, AgentInfo, Decision, RequestContext
from agent_security.core.store import CounterLimit, MemoryStore, SqliteStore, Store, WindowLimit


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
    bench_admission()
    bench_processes()


def bench_full_window(sizes: tuple[int, ...] = (1_000, 100_000, 1_000_000), n: int = 2_000) -> None:
    """A rate-limit window of ``size`` seconds that has admitted one call per second, in steady state:
    the cost must not grow with the traffic (a window holds at most 65 entries)."""
    for size in sizes:
        store = MemoryStore()
        for i in range(0, size, max(1, size // 10_000)):
            store.window_admit(("w",), (0,), now=float(i), window_s=float(size))
        t = time.perf_counter()
        for i in range(size, size + n):
            store.window_admit(("w",), (size + 1,), now=float(i), window_s=float(size))
        label = f"window of {size:,} s, steady state"
        print(f"  {label:<44} {(time.perf_counter() - t) / n * 1e6:>8.2f} µs each")


_FLAGS = ("kill_switch:global", "kill_switch:agent:a")


def _one_check(store: Store, i: int) -> bool:
    windows = (WindowLimit("rate_limiter:a:a", 1_000_000, 60.0), WindowLimit("rate_limiter:t:a:t", 1_000_000, 60.0))
    counters = (CounterLimit(f"session_context:s{i % 100}:t", 1_000_000, 3600.0),)
    return store.admit(_FLAGS, windows, counters).admitted


def bench_admission(n: int = 5_000) -> None:
    """One check's admission round trip, memory and SQLite."""
    with tempfile.TemporaryDirectory() as tmp:
        for label, store in (("MemoryStore", MemoryStore()), ("SqliteStore (WAL)", SqliteStore(Path(tmp) / "s.db"))):
            for i in range(200):
                _one_check(store, i)
            samples = []
            for i in range(n):
                t = time.perf_counter()
                _one_check(store, i)
                samples.append(time.perf_counter() - t)
            samples.sort()
            p50, p99 = statistics.median(samples) * 1e6, samples[int(len(samples) * 0.99)] * 1e6
            print(f"  {label + ', one check admission':<44} p50 {p50:>7.1f} µs   p99 {p99:>7.1f} µs")
            store.close()


_WORKER = """
import sys, time
from agent_security.core.store import CounterLimit, SqliteStore, WindowLimit
store = SqliteStore(sys.argv[1], timeout_s=60)
flags = ("kill_switch:global", "kill_switch:agent:a")
windows = (WindowLimit("rate_limiter:a:a", 10**9, 60.0), WindowLimit("rate_limiter:t:a:t", 10**9, 60.0))
n = int(sys.argv[2])
t = time.perf_counter()
for i in range(n):
    store.admit(flags, windows, (CounterLimit(f"session_context:s{i % 100}:t", 10**9, 3600.0),))
print(time.perf_counter() - t)
"""


def bench_processes(counts: tuple[int, ...] = (1, 2, 4, 8), n: int = 2_000) -> None:
    """N processes admitting concurrently against one SQLite file (admissions per second, together)."""
    for procs in counts:
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "s.db"
            SqliteStore(db).close()
            start = time.perf_counter()
            workers = [
                subprocess.Popen([sys.executable, "-c", _WORKER, str(db), str(n)], stdout=subprocess.PIPE, text=True)
                for _ in range(procs)
            ]
            busy = [float(w.communicate()[0]) for w in workers]
            wall = time.perf_counter() - start
            label = f"SqliteStore, {procs} process(es) x {n:,} admissions"
            print(
                f"  {label:<44} {procs * n / max(busy):>8,.0f} /s together"
                f" ({max(busy) / n * 1e6:.0f} µs each; {wall:.1f} s with start-up)"
            )


def bench_session_flood(max_keys: int, n: int = 5_000) -> None:
    """Session context under a flood of new session ids: every counter lives in the store (no local
    session list, no eviction of shared counters); a full memory store drops the oldest counters."""
    store = MemoryStore(max_keys=max_keys)
    for i in range(max_keys // 2):  # other state in the store
        store.incr(f"other:{i}", ttl_s=3600)
    sc = session_context({"read_file": 100}, store=store)
    ctx = CheckContext(None, store, datetime.now(UTC), 0.0)  # type: ignore[arg-type]
    allow = Decision.allow("OK")

    def call(session: str) -> None:
        req = ActionRequest(
            agent=AgentInfo(agent_id="a"),
            action=Action(tool_name="read_file"),
            context=RequestContext(session_id=session),
        )
        sc.agent_security_before_check(req, ctx)
        sc.agent_security_notify(req, allow, ctx)

    for i in range(max_keys // 2):
        call(f"fill-{i}")
    t = time.perf_counter()
    for i in range(n):
        call(f"flood-{i}")
    print(
        f"  {'session context, new session id (store full)':<44} {(time.perf_counter() - t) / n * 1e6:>8.2f} µs each"
        " (building the request included)"
    )


if __name__ == "__main__":
    main()
