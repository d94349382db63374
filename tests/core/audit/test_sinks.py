from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from agent_security.core.audit import (
    AuditTrail,
    JsonlAuditSink,
    MemoryAuditSink,
    SqliteAuditSink,
    verify_file,
)
from agent_security.core.hookspecs import hookimpl
from agent_security.core.plugins import make_plugin_manager


def test_memory_ring_counts_evictions(write_trail):
    sink = MemoryAuditSink(max_events=3)
    events = write_trail([sink], 5)
    assert [e.sequence for e in sink.events()] == [3, 4, 5]
    assert sink.dropped == 2 and len(sink) == 3
    copy = sink.events()
    copy.clear()
    assert len(sink) == 3
    assert sink.last_link() == (5, events[-1].hash)


def test_sinks_are_plugins():
    pm = make_plugin_manager()
    for sink in (MemoryAuditSink(), ):
        pm.register(sink, name=sink.name)
        names = {c.name for c in pm.get_hookcallers(sink) or ()}
        assert names == {"agent_security_audit_event", "agent_security_shutdown"}
        assert sink.fail_open is False
    assert hookimpl


def test_sqlite_writes_reads_and_is_wal(tmp_path: Path, write_trail):
    path = tmp_path / "audit.db"
    sink = SqliteAuditSink(path)
    events = write_trail([sink], 10)
    assert list(sink.read()) == events
    assert sink.last_link() == (10, events[-1].hash)
    assert sink.count() == 10
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    row = conn.execute("SELECT agent_id, tool_name, outcome, allowed, timestamp FROM audit_events "
                       "WHERE sequence=1").fetchone()
    assert row == ("agent-0", "query_database", "ALLOW", 1, "2026-01-01T12:00:00.000000Z")
    idx = {r[1] for r in conn.execute("PRAGMA index_list(audit_events)")}
    assert {"audit_events_agent", "audit_events_timestamp", "audit_events_outcome"} <= idx
    conn.close()
    sink.close()
    sink.close()  # idempotent
    with pytest.raises(RuntimeError):
        sink.agent_security_audit_event(events[0])
    assert verify_file(path).ok


def test_sqlite_readable_while_writer_open(tmp_path: Path, write_trail):
    path = tmp_path / "audit.db"
    sink = SqliteAuditSink(path)
    write_trail([sink], 3, close=False)
    assert [e.sequence for e in SqliteAuditSink.read(sink)] == [1, 2, 3]
    assert verify_file(path).ok
    sink.close()


def test_sqlite_second_fresh_chain_fails_loudly(tmp_path: Path, write_trail):
    path = tmp_path / "audit.db"
    write_trail([SqliteAuditSink(path)], 2)
    other = SqliteAuditSink(path)
    with pytest.raises(sqlite3.IntegrityError):
        write_trail([other], 1)  # a new trail starting at sequence 1 in the same file


def test_sqlite_resume_after_reopen(tmp_path: Path, write_trail, signer):
    path = tmp_path / "audit.db"
    s1 = SqliteAuditSink(path)
    write_trail([s1], 5, signer=signer, sign_every=2)
    s1.close()
    s2 = SqliteAuditSink(path)
    trail = AuditTrail.resume(lambda e: None, s2, signer=signer, sign_every=2)
    write_trail([s2], 4, trail=trail)
    s2.close()
    report = verify_file(path, public_keys=[signer.public_key])
    assert report.ok, report.issues
    assert report.first_sequence == 1 and report.unsigned_tail == 0


def test_sqlite_concurrent_sink_writes_verify(tmp_path: Path, make_event):
    path = tmp_path / "audit.db"
    sink = SqliteAuditSink(path, synchronous="NORMAL")
    trail = AuditTrail(sink.agent_security_audit_event)

    def worker() -> None:
        for _ in range(25):
            trail.record(make_event())

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    sink.close()
    report = verify_file(path)
    assert report.ok and report.events == 150


def test_jsonl_write_read_resume(tmp_path: Path, write_trail, signer):
    path = tmp_path / "audit.jsonl"
    s1 = JsonlAuditSink(path)
    events = write_trail([s1], 4, signer=signer, sign_every=3)
    s1.close()
    with JsonlAuditSink(path) as reader:
        assert list(reader.read()) == events
    s2 = JsonlAuditSink(path, fsync=False)
    assert s2.last_link() == (events[-1].sequence, events[-1].hash)
    write_trail([s2], 2, trail=AuditTrail.resume(lambda e: None, s2, signer=signer, sign_every=3))
    s2.close()
    report = verify_file(path, public_keys=[signer.public_key])
    assert report.ok and report.last_sequence == events[-1].sequence + 3


def test_jsonl_torn_last_line_is_kept_visible_and_chain_resumes(tmp_path: Path, write_trail):
    path = tmp_path / "audit.jsonl"
    s1 = JsonlAuditSink(path)
    events = write_trail([s1], 3)
    s1.close()
    with path.open("ab") as fh:
        fh.write(b'{"schema_version": "1.0", "seq')  # a crash in the middle of a write
    s2 = JsonlAuditSink(path)
    assert s2.last_link() == (3, events[-1].hash)
    write_trail([s2], 1, trail=AuditTrail.resume(lambda e: None, s2))
    s2.close()
    report = verify_file(path)
    kinds = [(i.position, i.kind) for i in report.issues]
    assert kinds == [(4, "malformed")]  # the torn line; the chain itself continues intact
    assert report.last_sequence == 4


def test_jsonl_unreadable_tail_refuses_to_resume(tmp_path: Path):
    path = tmp_path / "audit.jsonl"
    path.write_bytes(b"garbage\n")
    with JsonlAuditSink(path) as sink, pytest.raises(ValueError, match="cannot resume"):
        sink.last_link()


def test_unchained_event_is_refused(tmp_path: Path, make_event):
    for sink in (JsonlAuditSink(tmp_path / "a.jsonl"), SqliteAuditSink(tmp_path / "a.db")):
        with pytest.raises(ValueError):
            sink.agent_security_audit_event(make_event())
        sink.close()
