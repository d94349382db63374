"""Audit trail and built-in plugin throughput (prints figures; not a test)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from agent_security.core.audit import (
    AuditSigner,
    AuditTrail,
    JsonlAuditSink,
    MemoryAuditSink,
    SqliteAuditSink,
    verify_file,
)
from agent_security.core.builtin import kill_switch, rate_limiter, session_context
from agent_security.core.models import Action, ActionRequest, AgentInfo, AuditEvent, Outcome, Reason, RequestContext
from agent_security.core.store import MemoryStore
from agent_security.core.testing import make_context


def _event(i: int) -> AuditEvent:
    return AuditEvent(
        request_id=f"r{i}",
        agent_id=f"agent-{i % 50}",
        tool_name="query_database",
        environment="prod",
        outcome=Outcome.ALLOW,
        allowed=True,
        reasons=(Reason(code="ALLOW_X", message="allowed by rule"),),
        data={"i": i},
    )


def _rate(label: str, n: int, seconds: float) -> None:
    print(f"  {label:<46} {n / seconds:>10,.0f}/s   {seconds / n * 1e6:>8.1f} µs each")


def bench_trail(n: int = 5_000) -> None:
    print("audit trail")
    trail = AuditTrail(MemoryAuditSink(n).agent_security_audit_event)
    t = time.perf_counter()
    for i in range(n):
        trail.record(_event(i))
    _rate("record -> memory sink", n, time.perf_counter() - t)
    trail = AuditTrail(lambda e: None, signer=AuditSigner.generate(), sign_every=100)
    t = time.perf_counter()
    for i in range(n):
        trail.record(_event(i))
    _rate("record, Ed25519 checkpoint every 100", n, time.perf_counter() - t)
    with tempfile.TemporaryDirectory() as d:
        for label, sink, m in (
            ("record -> JSONL (fsync every event)", JsonlAuditSink(Path(d) / "a.jsonl"), 500),
            ("record -> JSONL (no fsync)", JsonlAuditSink(Path(d) / "b.jsonl", fsync=False), n),
            ("record -> SQLite WAL synchronous=FULL", SqliteAuditSink(Path(d) / "a.db"), 500),
            ("record -> SQLite WAL synchronous=NORMAL", SqliteAuditSink(Path(d) / "b.db", synchronous="NORMAL"), n),
        ):
            trail = AuditTrail.open(sink.agent_security_audit_event, [sink])
            t = time.perf_counter()
            for i in range(m):
                trail.record(_event(i))
            _rate(label, m, time.perf_counter() - t)
            sink.close()
        for name, m in (("b.jsonl", n), ("b.db", n)):
            t = time.perf_counter()
            report = verify_file(Path(d) / name)
            assert report.ok
            _rate(f"verify_file {name}", m, time.perf_counter() - t)


def bench_plugins(n: int = 20_000) -> None:
    print("built-in plugins (before_check, MemoryStore)")
    store = MemoryStore()
    req = ActionRequest(
        agent=AgentInfo(agent_id="agent-1"), action=Action(tool_name="t"), context=RequestContext(session_id="s")
    )
    for label, plugin in (
        ("kill_switch", kill_switch(store=store)),
        (
            "rate_limiter (agent + tool windows)",
            rate_limiter(max_per_minute=10**9, max_per_minute_per_tool=10**9, store=store),
        ),
        ("session_context (reserve)", session_context(limits={"t": 10**9}, store=store)),
    ):
        t = time.perf_counter()
        for i in range(n):
            ctx = make_context(store, monotonic=float(i) / 1000)
            plugin.agent_security_before_check(req, ctx)
        _rate(label, n, time.perf_counter() - t)


def bench_threads(n: int = 4_000, threads: int = 8) -> None:
    """Events/s recorded into one trail (memory sink) by 1 thread, then by ``threads`` threads at once."""
    print(f"one trail, memory sink: 1 thread vs {threads} threads")
    events = [_event(i) for i in range(n)]
    single = AuditTrail(MemoryAuditSink(n).agent_security_audit_event)
    t = time.perf_counter()
    for event in events:
        single.record(event)
    one = n / (time.perf_counter() - t)
    print(f"  {'1 thread':<46} {one:>10,.0f}/s")
    shared = AuditTrail(MemoryAuditSink(n).agent_security_audit_event)
    per = n // threads
    barrier = threading.Barrier(threads + 1)

    def worker(k: int) -> None:
        barrier.wait()
        for event in events[k * per : (k + 1) * per]:
            shared.record(event)

    workers = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    t = time.perf_counter()
    for w in workers:
        w.join()
    many = per * threads / (time.perf_counter() - t)
    print(f"  {f'{threads} threads':<46} {many:>10,.0f}/s   ({many / one:.2f}x one thread)")


_WRITER = """
import sys, time
from agent_security.core.audit import AuditTrail, JsonlAuditSink, SqliteAuditSink
from agent_security.core.models import AuditEvent
path, n = sys.argv[1], int(sys.argv[2])
sink = SqliteAuditSink(path) if path.endswith(".db") else JsonlAuditSink(path)
trail = AuditTrail.open(sink.agent_security_audit_event, [sink])
print("ready", flush=True)
sys.stdin.readline()
for i in range(n):
    trail.record(AuditEvent(agent_id="w", data={"i": i}))
sink.close()
"""


def bench_processes(n: int = 200, processes: int = 8) -> None:
    """Events/s appended to one JSON Lines file or SQLite database (fsync / synchronous=FULL) by
    ``processes`` writer processes at once, each with its own trail (shared head)."""
    print(f"one trail shared by {processes} processes x {n} events (durable writes)")
    with tempfile.TemporaryDirectory() as d:
        for name in ("shared.jsonl", "shared.db"):
            path = str(Path(d) / name)
            for count in (1, processes):
                procs = [
                    subprocess.Popen(
                        [sys.executable, "-c", _WRITER, path, str(n)],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        text=True,
                    )
                    for _ in range(count)
                ]
                for p in procs:  # every writer started and opened: time the appends only
                    assert p.stdout is not None and p.stdout.readline().strip() == "ready"
                t = time.perf_counter()
                for p in procs:
                    assert p.stdin is not None
                    p.stdin.write("go\n")
                    p.stdin.flush()
                for p in procs:
                    assert p.wait(timeout=600) == 0
                _rate(f"{name}: {count} process(es)", n * count, time.perf_counter() - t)
            report = verify_file(path)
            assert report.ok and report.events == n * (processes + 1), report.problems


if __name__ == "__main__":
    bench_trail()
    bench_threads()
    bench_processes()
    bench_plugins()
