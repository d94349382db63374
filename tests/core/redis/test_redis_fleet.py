"""A fleet on one Redis: real processes sharing limits and a kill switch, and a Redis restart mid-run.

Nothing sleeps to pass: every wait is for a condition (a line from a process, an event, a count), with a
deadline that only bounds a failure.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from agent_security.core import AgentSecurity, Decision
from agent_security.core.builtin import kill_switch, rate_limiter
from agent_security.core.store import RESYNC, open_store
from agent_security.core.testing import StaticEngine

WORKER = str(Path(__file__).with_name("_fleet_worker.py"))
DEADLINE_S = 60.0


def test_four_processes_of_2000_checks_admit_exactly_the_limits(redis_server: Any) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, WORKER, "limits", redis_server.url, "2000"], stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0
        results.append(json.loads(out))
    assert sum(r["search"] for r in results) == 1_000  # the per-tool rate limit, shared by the fleet
    assert sum(r["pay"] for r in results) == 600  # the session limit
    codes: dict[str, int] = {}
    for r in results:
        for code, n in r["codes"].items():
            codes[code] = codes.get(code, 0) + n
    assert codes == {"ALLOW": 1_600, "RATE_LIMIT_TOOL": 3_000, "SESSION_LIMIT_EXCEEDED": 3_400}


class _Lines:
    """The stdout lines of a process, read by a thread (so a wait can have a deadline)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    def wait_for(self, prefix: str) -> str:
        """The first line starting with ``prefix`` not taken yet (lines are kept in order of arrival)."""
        deadline = time.monotonic() + DEADLINE_S
        while True:
            for i, line in enumerate(self.seen):
                if line.startswith(prefix):
                    return self.seen.pop(i)
            self.seen.append(self.lines.get(timeout=max(0.0, deadline - time.monotonic())))


def test_a_kill_in_one_process_blocks_every_other_process(redis_server: Any) -> None:
    workers = [
        _Lines(
            subprocess.Popen(
                [sys.executable, WORKER, "kill", redis_server.url],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        )
        for _ in range(3)
    ]
    try:
        for w in workers:
            assert w.wait_for("ready") == "ready ALLOW"
        store = open_store(redis_server.url, namespace="fleet-test")
        ks = kill_switch(store=store)
        t0 = time.time()
        ks.kill_all("incident 42")
        # The bound: any check that starts after kill_all returned is denied, in every process (the flag is
        # read on every check; no message needs to arrive first).
        for w in workers:
            assert w.proc.stdin is not None
            w.proc.stdin.write("check\n")
            w.proc.stdin.flush()
        for w in workers:
            assert w.wait_for("checked") == "checked GLOBAL_KILL_SWITCH"
        # And every watching process is told (the latency is measured by benchmarks/bench_redis.py).
        latencies = []
        for w in workers:
            _, _, at = w.wait_for("notified 1").split()
            latencies.append(float(at) - t0)
        print("kill notification latencies (s):", [f"{x:.4f}" for x in latencies])
        ks.revive_all()
        for w in workers:
            assert w.wait_for("notified 0")
        store.close()
    finally:
        for w in workers:
            assert w.proc.stdin is not None
            w.proc.stdin.close()
            w.proc.wait(timeout=30)
            w.reader.join(timeout=30)
            assert w.proc.stdout is not None
            w.proc.stdout.close()


def test_a_redis_restart_mid_run_fails_closed_then_recovers(own_redis: Any) -> None:
    store = open_store(own_redis.url + "?timeout_s=0.3")
    ks = kill_switch()
    security = AgentSecurity(
        policy_engine=StaticEngine(lambda r: Decision.allow("OK")), store=store, plugins=[ks, rate_limiter(100_000)]
    )
    states: queue.Queue[Any] = queue.Queue()
    messages: queue.Queue[Any] = queue.Queue()
    ks.watch(states.put)
    store.subscribe("news", lambda channel, message: messages.put(message))
    outcomes: list[str] = []
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            result = security.check_tool_call(tool_name="t", agent_id="a")
            outcomes.append("ALLOW" if result.allowed else str(result.final_decision.reasons[0].code))

    def wait_until(condition: Any) -> None:
        deadline = time.monotonic() + DEADLINE_S
        while not condition():
            assert time.monotonic() < deadline, "condition not reached"
            time.sleep(0.005)  # polling the condition, not waiting to pass

    thread = threading.Thread(target=run)
    thread.start()
    try:
        wait_until(lambda: outcomes.count("ALLOW") >= 20)
        own_redis.stop()
        down_at = len(outcomes)
        wait_until(lambda: outcomes[down_at:].count("STORE_UNAVAILABLE") >= 10)
        own_redis.start()
        up_at = len(outcomes)
        wait_until(lambda: outcomes[up_at:].count("ALLOW") >= 20)
    finally:
        stop.set()
        thread.join(timeout=DEADLINE_S)
    assert set(outcomes) == {"ALLOW", "STORE_UNAVAILABLE"}  # never anything else, never an allow while down
    first_down = outcomes.index("STORE_UNAVAILABLE")
    last_down = len(outcomes) - 1 - outcomes[::-1].index("STORE_UNAVAILABLE")
    assert "ALLOW" not in outcomes[first_down : last_down + 1]  # one outage: fails closed until Redis is back
    # The subscriber reconnected and re-read the state; messages flow again.
    assert states.get(timeout=DEADLINE_S).global_kill is False
    assert messages.get(timeout=DEADLINE_S) == RESYNC
    assert store.reconnects >= 1
    store.publish("news", {"after": "restart"})
    assert messages.get(timeout=DEADLINE_S) == {"after": "restart"}
    # The state after the restart is what Redis holds now: a kill made now is enforced at once.
    ks.kill("a")
    assert security.check_tool_call(tool_name="t", agent_id="a").final_decision.reasons[0].code == "AGENT_KILL_SWITCH"
    security.shutdown()
    store.close()
