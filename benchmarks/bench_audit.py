"""Audit trail and built-in plugin throughput (prints figures; not a test)."""

from __future__ import annotations

import tempfile
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
from agent_security.core.context import CheckContext
from agent_security.core.models import Action, ActionRequest, AgentInfo, AuditEvent, Outcome, Reason, RequestContext
from agent_security.core.store import MemoryStore


def _event(i: int) -> AuditEvent:
    return AuditEvent(request_id=f"r{i}", agent_id=f"agent-{i % 50}", tool_name="query_database",
                      environment="prod", outcome=Outcome.ALLOW, allowed=True,
                      reasons=(Reason(code="ALLOW_X", message="allowed by rule"),), data={"i": i})


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
            trail = AuditTrail(sink.agent_security_audit_event)
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
    req = ActionRequest(agent=AgentInfo(agent_id="agent-1"), action=Action(tool_name="t"),
                        context=RequestContext(session_id="s"))
    for label, plugin in (("kill_switch", kill_switch(store=store)),
                          ("rate_limiter (agent + tool windows)",
                           rate_limiter(max_per_minute=10**9, max_per_minute_per_tool=10**9, store=store)),
                          ("session_context (reserve)", session_context(limits={"t": 10**9}, store=store))):
        t = time.perf_counter()
        for i in range(n):
            ctx = CheckContext(security=None, store=store, now=None, monotonic=float(i) / 1000)  # type: ignore[arg-type]
            plugin.agent_security_before_check(req, ctx)
        _rate(label, n, time.perf_counter() - t)


if __name__ == "__main__":
    bench_trail()
    bench_plugins()
