"""The Redis store against the memory store (prints figures and budget lines; not a test).

Starts its own ``redis-server`` (loopback, a free port, no persistence) and measures, for a check with the
three built-ins that use the store (kill switch, rate limiter, session limit) and a static policy:

* checks per second and p50/p99 per check, with the Redis store and with the memory store;
* round trips to Redis per check (counted by the connection: the target is one);
* the kill switch's propagation: from ``kill_all`` returning in one store to a ``watch`` callback on
  another store instance (its own connections, as another process has), p50/p99 against 100 ms.

``python benchmarks/bench_redis.py [--checks N] [--kills K]``. Without ``redis-server`` on the PATH
(``make system-deps`` installs it) the budgets are reported as SKIP.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The built-ins alone: an installed plugin that refreshes a table from the store now and then (identity's
# revocations) would add its own, amortised, calls to the count.
os.environ["AGENT_SECURITY_DISABLE_PLUGIN_AUTOLOAD"] = "1"
os.environ.setdefault("AGENT_SECURITY_NO_CONFIG", "1")

import _report
import redis

from agent_security.core import AgentSecurity, Decision
from agent_security.core.builtin import kill_switch, rate_limiter, session_context
from agent_security.core.store import MemoryStore, Store
from agent_security.core.store.redis import RedisStore
from agent_security.core.testing import StaticEngine

ROUND_TRIPS_BUDGET = 1.0
PROPAGATION_BUDGET_MS = 100.0


class CountingConnection(redis.Connection):
    """Counts the requests the benchmark's thread sends (one per round trip)."""

    sent = 0

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        if threading.current_thread() is threading.main_thread():
            type(self).sent += 1
        super().send_packed_command(command, check_health)


def start_redis(program: str, workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    args = [program, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--maxmemory-policy", "noeviction", "--dir", str(workdir)]  # fmt: skip
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.exceptions.RedisError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise
            time.sleep(0.01)
    client.close()
    return proc, port


def security(store: Store) -> AgentSecurity:
    return AgentSecurity(
        policy_engine=StaticEngine(lambda r: Decision.allow("OK")),
        store=store,
        plugins=[kill_switch(), rate_limiter(10**9, 10**9, window_s=3600), session_context({"pay": 10**9})],
    )


def measure(sec: AgentSecurity, n: int) -> tuple[float, float, float]:
    """Checks per second, p50 and p99 (µs) over ``n`` checks (after a warm-up)."""
    for _ in range(200):
        sec.check_tool_call(tool_name="pay", agent_id="bench", session_id="s")
    times = []
    start = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        sec.check_tool_call(tool_name="pay", agent_id="bench", session_id="s")
        times.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    times.sort()
    return n / total, _report.percentile(times, 0.5) * 1e6, _report.percentile(times, 0.99) * 1e6


def propagation(url: str, kills: int) -> list[float]:
    """Milliseconds from ``kill_all``/``revive_all`` returning to the watcher's callback, per change."""
    writer_store = RedisStore.from_url(url)
    watcher_store = RedisStore.from_url(url)
    writer, watcher = kill_switch(store=writer_store), kill_switch(store=watcher_store)
    arrived = threading.Event()
    received: list[float] = []

    def on_state(state: Any) -> None:
        received.append(time.perf_counter())
        arrived.set()

    watcher.watch(on_state)
    latencies = []
    for i in range(kills):
        arrived.clear()
        received.clear()
        if i % 2 == 0:
            writer.kill_all("bench")
        else:
            writer.revive_all()
        done = time.perf_counter()
        if not arrived.wait(10):
            raise RuntimeError("a kill-switch change did not arrive within 10 s")
        latencies.append(max(0.0, received[0] - done) * 1e3)
    writer_store.close()
    watcher_store.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checks", type=int, default=5_000)
    parser.add_argument("--kills", type=int, default=200)
    args = parser.parse_args()
    program = shutil.which("redis-server")
    if program is None:
        print("redis-server is not installed (make system-deps): nothing measured")
        _report.report(
            [
                _report.Budget("redis: round trips per check", None, ROUND_TRIPS_BUDGET),
                _report.Budget("redis: kill propagation p99", None, PROPAGATION_BUDGET_MS, " ms"),
            ]
        )
        return
    print(f"machine: {_report.machine()}; {args.checks:,} checks per store, {args.kills} kill-switch changes")
    with tempfile.TemporaryDirectory() as workdir:
        proc, port = start_redis(program, Path(workdir))
        url = f"redis://127.0.0.1:{port}/0"
        try:
            mem_rate, mem_p50, mem_p99 = measure(security(MemoryStore()), args.checks)
            pool = redis.ConnectionPool.from_url(url, decode_responses=True, connection_class=CountingConnection)
            redis_store = RedisStore(redis.Redis(connection_pool=pool))
            sec = security(redis_store)
            measure(sec, 200)  # the connection's handshake and the script's first load are not a check's
            before = CountingConnection.sent
            red_rate, red_p50, red_p99 = measure(sec, args.checks)
            trips = (CountingConnection.sent - before) / (args.checks + 200)
            sec.shutdown()
            redis_store.close()
            lat = sorted(propagation(url, args.kills))
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    print(f"  {'store':<8} {'checks/s':>10} {'p50 µs':>9} {'p99 µs':>9}")
    print(f"  {'memory':<8} {mem_rate:>10,.0f} {mem_p50:>9.1f} {mem_p99:>9.1f}")
    print(f"  {'redis':<8} {red_rate:>10,.0f} {red_p50:>9.1f} {red_p99:>9.1f}")
    print(f"  round trips to Redis per check: {trips:.3f}")
    p50, p99 = _report.percentile(lat, 0.5), _report.percentile(lat, 0.99)
    print(f"  kill-switch propagation to a watcher: p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {lat[-1]:.2f} ms")
    _report.report(
        [
            _report.Budget("redis: round trips per check", trips, ROUND_TRIPS_BUDGET, "", digits=3),
            _report.Budget("redis: kill propagation p99", p99, PROPAGATION_BUDGET_MS, " ms"),
            _report.Budget("redis: check p50", red_p50, None, " µs", digits=1),
            _report.Budget("redis: check p50, memory store", mem_p50, None, " µs", digits=1),
            _report.Budget("redis: checks/s", red_rate, None, "", digits=0),
        ]
    )


if __name__ == "__main__":
    main()
