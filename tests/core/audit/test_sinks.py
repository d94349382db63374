from __future__ import annotations

import os
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
from agent_security.core.pipeline.hooks import new_plugin_manager as make_plugin_manager


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
    for sink in (MemoryAuditSink(),):
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
    row = conn.execute(
        "SELECT agent_id, tool_name, outcome, allowed, timestamp FROM audit_events WHERE sequence=1"
    ).fetchone()
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


class _ShortWrites:
    """Wraps a sink's raw file: the next ``short`` writes only get ``keep`` bytes through (a full disk)."""

    def __init__(self, fh, keep: int = 40) -> None:
        self.fh, self.keep, self.short = fh, keep, 0

    def write(self, data: bytes) -> int:
        if self.short:
            self.short -= 1
            return self.fh.write(data[: self.keep])
        return self.fh.write(data)

    def __getattr__(self, name: str):
        return getattr(self.fh, name)


def test_jsonl_short_write_is_cut_back_so_the_next_event_stands_alone(tmp_path: Path, make_event):
    path = tmp_path / "audit.jsonl"
    sink = JsonlAuditSink(path, fsync=False)
    sink._fh = wrap = _ShortWrites(sink._fh)
    trail = AuditTrail(sink.agent_security_audit_event)
    trail.record(make_event())
    wrap.short = 1
    with pytest.raises(OSError, match="short write"):
        trail.record(make_event())
    third = trail.record(make_event())  # space is back: this one is written and its caller gets an ALLOW
    sink.close()
    lines = path.read_bytes().splitlines()
    assert len(lines) == 2 and third.hash is not None and third.hash.encode() in lines[1]
    report = verify_file(path)
    assert [(i.position, i.kind) for i in report.issues] == [(2, "deleted")]  # the event that failed, only
    assert "sequence 2 missing" in report.issues[0].message and report.last_sequence == 3


def test_jsonl_failed_fsync_leaves_no_record_of_the_failed_event(tmp_path: Path, make_event, monkeypatch):
    path = tmp_path / "audit.jsonl"
    sink = JsonlAuditSink(path)
    trail = AuditTrail(sink.agent_security_audit_event)
    trail.record(make_event())
    real_fsync = os.fsync
    calls = {"n": 0}

    def failing_once(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError(5, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_once)
    with pytest.raises(OSError, match="Input/output error"):
        trail.record(make_event(tool_name="denied_because_unaudited"))
    trail.record(make_event())
    sink.close()
    assert b"denied_because_unaudited" not in path.read_bytes()  # the caller was told it failed: no ALLOW left
    assert [(i.position, i.kind) for i in verify_file(path).issues] == [(2, "deleted")]


def test_jsonl_sink_refuses_every_write_once_a_failure_cannot_be_undone(tmp_path: Path, make_event, monkeypatch):
    path = tmp_path / "audit.jsonl"
    sink = JsonlAuditSink(path, fsync=False)
    sink._fh = wrap = _ShortWrites(sink._fh)
    trail = AuditTrail(sink.agent_security_audit_event)
    trail.record(make_event())

    def no_truncate(fd: int, size: int) -> None:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(os, "ftruncate", no_truncate)
    wrap.short = 1
    with pytest.raises(OSError, match="short write"):
        trail.record(make_event())
    size = path.stat().st_size
    with pytest.raises(OSError, match="refuses to write: an earlier write failed"):
        trail.record(make_event())
    assert path.stat().st_size == size  # nothing glued to the torn line
    sink.close()


def test_pipeline_denies_once_the_jsonl_sink_refuses(tmp_path: Path, monkeypatch):
    from agent_security.core import AgentSecurity, Decision
    from agent_security.core.testing import StaticEngine

    path = tmp_path / "audit.jsonl"
    sec = AgentSecurity(
        policy_engine=StaticEngine(lambda r: Decision.allow("OK")),
        autoload=False,
        config={"core": {"audit": {"jsonl_path": str(path)}}},
    )
    sink = sec.get_plugin("audit_jsonl")
    assert sec.check_tool_call(tool_name="t1", agent_id="a").allowed
    sink._fh = wrap = _ShortWrites(sink._fh)
    monkeypatch.setattr(os, "ftruncate", lambda fd, size: (_ for _ in ()).throw(OSError(30, "read-only")))
    wrap.short = 1
    for tool in ("t2", "t3"):
        result = sec.check_tool_call(tool_name=tool, agent_id="a")
        assert not result.allowed and "AUDIT_FAILURE" in result.final_decision.codes
    sec.shutdown()


@pytest.fixture
def umask():
    """Set the process umask for one test (restored afterwards)."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
@pytest.mark.parametrize("mask", [0o022, 0o277, 0o000])
def test_audit_files_are_created_0600_whatever_the_umask(tmp_path: Path, write_trail, umask, mask):
    umask(mask)
    jsonl, db = JsonlAuditSink(tmp_path / "audit.jsonl"), SqliteAuditSink(tmp_path / "audit.db")
    write_trail([jsonl, db], 3, close=False)
    names = {"audit.jsonl", "audit.db", "audit.db-wal", "audit.db-shm"}
    assert {p.name for p in tmp_path.iterdir()} == names
    assert {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()} == dict.fromkeys(names, 0o600)
    jsonl.close()
    db.close()
    assert verify_file(tmp_path / "audit.jsonl").ok and verify_file(tmp_path / "audit.db").ok


@pytest.mark.skipif(not hasattr(os, "O_NOFOLLOW"), reason="needs O_NOFOLLOW")
def test_jsonl_sink_refuses_a_symbolic_link(tmp_path: Path):
    victim = tmp_path / "victim.txt"
    victim.write_text("important\n")
    link = tmp_path / "audit.jsonl"
    link.symlink_to(victim)
    with pytest.raises(OSError, match="is a symbolic link; the audit sink does not follow links"):
        JsonlAuditSink(link)
    dangling = tmp_path / "dangling.jsonl"
    dangling.symlink_to(tmp_path / "elsewhere.jsonl")
    with pytest.raises(OSError, match="symbolic link"):
        JsonlAuditSink(dangling)
    assert victim.read_text() == "important\n" and not (tmp_path / "elsewhere.jsonl").exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_jsonl_sink_refuses_a_fifo(tmp_path: Path):
    fifo = tmp_path / "audit.jsonl"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # so that even a sink that blocked would not hang
    try:
        with pytest.raises(OSError, match="not a regular file"):
            JsonlAuditSink(fifo)
    finally:
        os.close(reader)


@pytest.mark.skipif(os.name != "posix", reason="POSIX symbolic links")
def test_keygen_never_overwrites_or_follows_the_public_key_path(tmp_path: Path):
    from click.testing import CliRunner

    from agent_security.core.audit.cli import audit_group

    victim = tmp_path / "victim.txt"
    victim.write_text("important\n")
    (tmp_path / "k.pem.pub").symlink_to(victim)
    res = CliRunner().invoke(audit_group, ["keygen", str(tmp_path / "k.pem")])
    assert res.exit_code != 0 and "exists; refusing to overwrite" in res.output
    assert victim.read_text() == "important\n"
    assert not (tmp_path / "k.pem").exists()  # no private key left without its public key
