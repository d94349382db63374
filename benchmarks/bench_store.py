"""MemoryStore under a key flood (prints figures; not a test).

A caller that rotates session ids writes one new counter with a TTL per call. Once the store is full,
every such write evicts one key; this measures what that write costs with a full store of the default
size (100,000 keys), against the same write into a store with room. Eviction is amortised O(log n), so
the two should stay within a small factor of each other whatever the store's size.
"""

from __future__ import annotations

import time

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


if __name__ == "__main__":
    main()
