"""One trail across processes: writers in separate processes, each with its own trail, append to one
JSON Lines file or SQLite database (or both) and leave one chain that verifies intact."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from agent_security.core.audit import (
    AuditSigner,
    AuditTrail,
    JsonlAuditSink,
    SqliteAuditSink,
    verify_file,
)
from agent_security.core.errors import AuditWriteError, ConfigurationError
from agent_security.core.models import AuditEvent

WORKER = Path(__file__).with_name("_shared_worker.py")
PROCESSES, EVENTS = 8, 50


def _run_writers(paths: list[Path], *, key: Path | None = None, sign_every: int = 100) -> None:
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(WORKER),
                str(w),
                str(EVENTS),
                str(sign_every),
                str(key) if key else "-",
                *map(str, paths),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for w in range(PROCESSES)
    ]
    try:
        results = [proc.communicate(timeout=300) for proc in procs]
    finally:
        for proc in procs:  # none left running, whatever is asserted below
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err.decode()[-2000:]


@pytest.mark.parametrize("names", [["trail.jsonl"], ["trail.db"], ["trail.db", "trail.jsonl"]])
def test_processes_appending_to_one_trail_make_one_chain(tmp_path: Path, names: list[str]) -> None:
    paths = [tmp_path / n for n in names]
    _run_writers(paths)
    for path in paths:
        report = verify_file(path)
        assert report.ok, report.problems
        assert report.events == PROCESSES * EVENTS and report.last_sequence == PROCESSES * EVENTS


def test_signed_shared_trail_verifies_with_every_checkpoint(tmp_path: Path) -> None:
    signer = AuditSigner.generate()
    key = tmp_path / "key.pem"
    key.write_bytes(signer.private_key_pem())
    path = tmp_path / "trail.jsonl"
    _run_writers([path], key=key, sign_every=7)
    report = verify_file(path, [signer.public_key], max_unsigned=0)
    assert report.ok, report.problems
    assert report.events == PROCESSES * EVENTS + report.checkpoints
    assert report.verified_checkpoints == report.checkpoints >= PROCESSES


def test_two_trails_in_one_process_share_one_file(tmp_path: Path) -> None:
    """Two sinks on one file (two open file descriptions) exclude each other like two processes."""
    path = tmp_path / "trail.jsonl"
    sinks = [JsonlAuditSink(path), JsonlAuditSink(path)]
    trails = [AuditTrail.open(s.agent_security_audit_event, [s]) for s in sinks]
    barrier = threading.Barrier(4)

    def worker(trail: AuditTrail) -> None:
        barrier.wait()
        for _ in range(40):
            trail.record(AuditEvent())

    threads = [threading.Thread(target=worker, args=(trails[i % 2],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in sinks:
        s.close()
    report = verify_file(path)
    assert report.ok and report.events == 160


def test_the_head_is_read_from_the_file_each_time(tmp_path: Path) -> None:
    path = tmp_path / "trail.db"
    a, b = SqliteAuditSink(path), SqliteAuditSink(path)
    seen_a: list[AuditEvent] = []
    trail_a = AuditTrail.open(lambda e: (a.agent_security_audit_event(e), seen_a.append(e)), [a])
    trail_b = AuditTrail.open(b.agent_security_audit_event, [b])
    first = trail_a.record(AuditEvent())
    second = trail_b.record(AuditEvent())
    third = trail_a.record(AuditEvent())
    assert (first.sequence, second.sequence, third.sequence) == (1, 2, 3)
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert [e.sequence for e in seen_a] == [1, 3]  # a's subscribers see a's events, in chain order
    assert a.count() == 3  # each event written once (the hook skips what the head wrote)
    a.close()
    b.close()
    assert verify_file(path).ok


def test_a_head_that_cannot_write_fails_the_record_and_leaves_no_gap(tmp_path: Path) -> None:
    path = tmp_path / "trail.jsonl"
    sink = JsonlAuditSink(path)
    trail = AuditTrail.open(sink.agent_security_audit_event, [sink])
    trail.record(AuditEvent())
    with pytest.raises(AuditWriteError, match="audit_jsonl"):
        trail.record(AuditEvent(data={"big": "x" * (4 * 1024 * 1024)}))
    assert trail.record(AuditEvent()).sequence == 2  # the refused event is not part of the chain
    sink.close()
    assert verify_file(path).ok


def test_sinks_holding_different_chains_are_refused(tmp_path: Path) -> None:
    jsonl = JsonlAuditSink(tmp_path / "a.jsonl")
    AuditTrail.open(jsonl.agent_security_audit_event, [jsonl]).record(AuditEvent())
    db = SqliteAuditSink(tmp_path / "b.db")
    with pytest.raises(ConfigurationError, match="different chains"):
        AuditTrail.open(lambda e: None, [jsonl, db])
    jsonl.close()
    db.close()
