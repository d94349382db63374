from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_security.core.audit import (
    AuditSigner,
    JsonlAuditSink,
    SqliteAuditSink,
    event_hash,
    verify_file,
    verify_trail,
)
from agent_security.core.audit.cli import audit_group
from agent_security.core.audit.sinks import INDEXED_COLUMNS, _columns
from agent_security.core.models import AuditEvent


# -- helpers that tamper with files written by the real sinks ----------------------------------------
def _jsonl(tmp_path: Path, write_trail, n: int = 6, **kw) -> tuple[Path, list[AuditEvent]]:
    path = tmp_path / "audit.jsonl"
    with JsonlAuditSink(path) as sink:
        events = write_trail([sink], n, **kw)
    return path, events


def _sqlite(tmp_path: Path, write_trail, n: int = 6, **kw) -> tuple[Path, list[AuditEvent]]:
    path = tmp_path / "audit.db"
    with SqliteAuditSink(path) as sink:
        events = write_trail([sink], n, **kw)
    return path, events


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines))


def _rewrite_sqlite(path: Path, events: list[AuditEvent]) -> None:
    """Replace every row, in the given order (the way an attacker with file access would)."""
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM audit_events")
    for ev in events:
        cols = _columns(ev)
        conn.execute(
            f"INSERT INTO audit_events ({', '.join(cols)}, event_json) VALUES ({', '.join('?' for _ in cols)}, ?)",
            (*cols.values(), ev.model_dump_json()),
        )
    conn.commit()
    conn.close()


def _rehashed(ev: AuditEvent, **update: object) -> AuditEvent:
    changed = ev.model_copy(update={**update, "hash": None})
    return changed.model_copy(update={"hash": event_hash(changed)})


def _kinds(report) -> list[tuple[int, str]]:
    return [(i.position, i.kind) for i in report.issues]


# -- intact trails ------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["jsonl", "sqlite"])
def test_intact_trail_verifies(fmt, tmp_path, write_trail):
    path, events = (_jsonl if fmt == "jsonl" else _sqlite)(tmp_path, write_trail)
    report = verify_file(path)
    assert report.ok and report.events == 6 and report.last_sequence == 6
    assert report.head_hash == events[-1].hash
    assert report.position_label == ("line" if fmt == "jsonl" else "row")
    assert any("not checked" in n for n in report.notes)


def test_empty_trail_is_ok():
    assert verify_trail([]).ok


# -- JSON Lines tampering -----------------------------------------------------------------------------
def test_jsonl_edit_detected(tmp_path, write_trail):
    path, _ = _jsonl(tmp_path, write_trail)
    lines = _lines(path)
    obj = json.loads(lines[2])
    obj["outcome"], obj["allowed"] = "DENY", False
    lines[2] = json.dumps(obj)
    _write_lines(path, lines)
    report = verify_file(path)
    assert not report.ok and _kinds(report) == [(3, "edited")]
    assert report.issues[0].sequence == 3


def test_jsonl_edit_with_recomputed_hash_detected(tmp_path, write_trail):
    path, events = _jsonl(tmp_path, write_trail)
    lines = _lines(path)
    lines[2] = _rehashed(events[2], agent_id="someone-else").model_dump_json()
    _write_lines(path, lines)
    assert _kinds(verify_file(path)) == [(3, "edited")]


def test_jsonl_delete_detected(tmp_path, write_trail):
    path, _ = _jsonl(tmp_path, write_trail)
    lines = _lines(path)
    del lines[2]
    _write_lines(path, lines)
    report = verify_file(path)
    assert _kinds(report) == [(3, "deleted")]
    assert "sequence 3 missing" in report.issues[0].message


def test_jsonl_delete_first_detected(tmp_path, write_trail):
    path, _ = _jsonl(tmp_path, write_trail)
    _write_lines(path, _lines(path)[1:])
    assert _kinds(verify_file(path)) == [(1, "deleted")]


def test_jsonl_insert_detected(tmp_path, write_trail):
    path, events = _jsonl(tmp_path, write_trail)
    lines = _lines(path)
    forged = _rehashed(events[2], event_id="forged", agent_id="x")  # links to event 2, sequence 3
    lines.insert(2, forged.model_dump_json())
    _write_lines(path, lines)
    report = verify_file(path)
    assert "inserted" in {k for _, k in _kinds(report)}
    assert report.issues[0].position == 3


def test_jsonl_reorder_detected(tmp_path, write_trail):
    path, _ = _jsonl(tmp_path, write_trail)
    lines = _lines(path)
    lines[2], lines[3] = lines[3], lines[2]
    _write_lines(path, lines)
    report = verify_file(path)
    assert report.issues and {k for _, k in _kinds(report)} == {"reordered"}
    assert report.issues[0].position == 3


def test_jsonl_malformed_and_blank_lines(tmp_path, write_trail):
    path, _ = _jsonl(tmp_path, write_trail)
    lines = _lines(path)
    lines[1] = "{not json"
    lines.insert(4, "")
    _write_lines(path, lines)
    kinds = _kinds(verify_file(path))
    assert (2, "malformed") in kinds and (5, "malformed") in kinds


# -- SQLite tampering ---------------------------------------------------------------------------------
def test_sqlite_edit_detected(tmp_path, write_trail):
    path, _ = _sqlite(tmp_path, write_trail)
    conn = sqlite3.connect(path)
    body = json.loads(conn.execute("SELECT event_json FROM audit_events WHERE sequence=4").fetchone()[0])
    body["tool_name"] = "harmless"
    conn.execute("UPDATE audit_events SET event_json=?, tool_name='harmless' WHERE sequence=4", (json.dumps(body),))
    conn.commit()
    conn.close()
    report = verify_file(path)
    assert _kinds(report) == [(4, "edited")]


def test_sqlite_indexed_column_edit_detected(tmp_path, write_trail):
    path, _ = _sqlite(tmp_path, write_trail)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE audit_events SET outcome='DENY', allowed=0 WHERE sequence=2")
    conn.commit()
    conn.close()
    report = verify_file(path)
    assert _kinds(report) == [(2, "column_mismatch")]
    assert "outcome" in report.issues[0].message and "ALLOW" not in report.issues[0].message


def test_sqlite_delete_detected(tmp_path, write_trail):
    path, _ = _sqlite(tmp_path, write_trail)
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM audit_events WHERE sequence=3")
    conn.commit()
    conn.close()
    assert _kinds(verify_file(path)) == [(4, "deleted")]


def test_sqlite_tail_delete_detected_by_autoincrement(tmp_path, write_trail):
    path, _ = _sqlite(tmp_path, write_trail)
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM audit_events WHERE sequence>=5")
    conn.commit()
    conn.close()
    report = verify_file(path)
    assert [k for _, k in _kinds(report)] == ["deleted"]
    assert "after id 4" in report.issues[0].message


def test_sqlite_insert_detected(tmp_path, write_trail):
    path, events = _sqlite(tmp_path, write_trail)
    forged = _rehashed(events[2], event_id="forged", sequence=100)
    _rewrite_sqlite(path, [*events[:2], forged, *events[2:]])
    kinds = {k for _, k in _kinds(verify_file(path))}
    assert "inserted" in kinds


def test_sqlite_reorder_detected(tmp_path, write_trail):
    path, events = _sqlite(tmp_path, write_trail)
    _rewrite_sqlite(path, [events[0], events[1], events[3], events[2], events[4], events[5]])
    report = verify_file(path)
    assert {k for _, k in _kinds(report)} == {"reordered"}


# -- signatures -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["jsonl", "sqlite"])
def test_checkpoint_signatures(fmt, tmp_path, write_trail, signer):
    path, events = (_jsonl if fmt == "jsonl" else _sqlite)(tmp_path, write_trail, n=10, signer=signer, sign_every=4)
    assert sum(e.kind == "lifecycle" for e in events) == 3  # after 4, after 8, on close
    good = verify_file(path, public_keys=[signer.public_key_pem()])
    assert good.ok and good.verified_checkpoints == 3 and good.signed_through == events[-2].sequence
    assert good.unsigned_tail == 0
    other = AuditSigner.generate()
    wrong = verify_file(path, public_keys=[other.public_key])
    assert not wrong.ok and {k for _, k in _kinds(wrong)} == {"unknown_key"}
    unsigned = verify_file(path)
    assert unsigned.ok and not unsigned.signatures_checked and unsigned.checkpoints == 3


def test_forged_signature_with_same_key_id_detected(write_trail, signer):
    events = write_trail([], 4, signer=signer, sign_every=2)
    cp = events[2]
    other = AuditSigner.generate()
    forged_data = dict(cp.data)
    forged_data["checkpoint"] = {
        **cp.data["checkpoint"],
        "signature": __import__("base64").b64encode(other.sign(b"x")).decode(),
    }
    tampered = [*events[:2], _rehashed(cp, data=forged_data), *events[3:]]
    report = verify_trail(tampered, public_keys=[signer.public_key])
    assert "bad_signature" in {k for _, k in _kinds(report)}


def test_full_rewrite_is_caught_only_by_signatures(write_trail, signer):
    events = write_trail([], 6, signer=signer, sign_every=3)
    # attacker edits event 2 and recomputes every later hash (a consistent rewrite)
    rewritten: list[AuditEvent] = []
    prev = None
    for ev in events:
        update: dict[str, object] = {}
        if ev.sequence == 2:
            update["agent_id"] = "innocent"
        if prev is not None:
            update["prev_hash"] = prev.hash
        if ev.kind == "lifecycle":  # keep checkpoints consistent too (their signatures cannot be redone)
            update["data"] = {"checkpoint": {**ev.data["checkpoint"], "head_hash": prev.hash}}
        new = _rehashed(ev, **update)
        rewritten.append(new)
        prev = new
    assert verify_trail(rewritten).ok  # without keys: undetectable, as the notes say
    report = verify_trail(rewritten, public_keys=[signer.public_key])
    assert not report.ok and {k for _, k in _kinds(report)} == {"bad_signature"}


def test_tail_truncation_after_last_checkpoint_is_reported_honestly(write_trail, signer):
    events = write_trail([], 7, signer=signer, sign_every=3, close=False)
    assert [e.kind for e in events][-2:] == ["lifecycle", "decision"]
    truncated = events[:-1]
    report = verify_trail(truncated, public_keys=[signer.public_key])
    assert report.ok  # cannot be detected...
    assert report.signed_through == 7 and report.unsigned_tail == 0
    full = verify_trail(events, public_keys=[signer.public_key])
    assert full.unsigned_tail == 1  # ...and the report says how much is exposed
    assert any("not covered by a signature" in n for n in full.notes)


# -- CLI --------------------------------------------------------------------------------------------------
def test_cli_exit_codes(tmp_path, write_trail, signer):
    path, _ = _jsonl(tmp_path, write_trail, n=5, signer=signer, sign_every=2)
    pub = tmp_path / "pub.pem"
    pub.write_bytes(signer.public_key_pem())
    runner = CliRunner()
    ok = runner.invoke(audit_group, ["verify", str(path), "--public-key", str(pub)])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("OK")
    as_json = runner.invoke(audit_group, ["verify", str(path), "--json"])
    assert as_json.exit_code == 0 and json.loads(as_json.output)["ok"] is True
    lines = _lines(path)
    del lines[1]
    _write_lines(path, lines)
    bad = runner.invoke(audit_group, ["verify", str(path)])
    assert bad.exit_code == 1 and "deleted" in bad.output and "line 2" in bad.output
    missing = runner.invoke(audit_group, ["verify", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2
    garbage_key = tmp_path / "k.pem"
    garbage_key.write_text("nope")
    assert runner.invoke(audit_group, ["verify", str(path), "--public-key", str(garbage_key)]).exit_code == 2
    notdb = tmp_path / "x.db"
    notdb.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    assert runner.invoke(audit_group, ["verify", str(notdb)]).exit_code == 2


def test_cli_keygen(tmp_path):
    runner = CliRunner()
    key = tmp_path / "audit.key"
    res = runner.invoke(audit_group, ["keygen", str(key)])
    assert res.exit_code == 0 and "ed25519:" in res.output
    assert (key.stat().st_mode & 0o777) == 0o600
    signer = AuditSigner.from_pem(key)
    assert signer.key_id in res.output
    assert runner.invoke(audit_group, ["keygen", str(key)]).exit_code != 0  # never overwrites


def test_columns_cover_every_indexed_column(make_event):
    assert tuple(_columns(make_event())) == INDEXED_COLUMNS


# -- property: any single edit, deletion, insertion or swap inside the trail is detected -------------------


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(min_value=2, max_value=12),
    op=st.sampled_from(["edit", "rehash", "delete", "insert", "swap"]),
    where=st.integers(min_value=0, max_value=100),
)
def test_any_single_tamper_inside_the_trail_is_detected(chain, n, op, where):
    events = chain(n)
    i = where % (n - 1)  # never the last event: tail changes need signatures (see the truncation test)
    tampered = list(events)
    if op == "edit":
        tampered[i] = events[i].model_copy(update={"agent_id": "forged"})
    elif op == "rehash":
        tampered[i] = _rehashed(events[i], agent_id="forged")
    elif op == "delete":
        del tampered[i]
    elif op == "insert":
        tampered.insert(i + 1, _rehashed(events[i + 1], event_id="forged"))
    else:
        tampered[i], tampered[i + 1] = tampered[i + 1], tampered[i]
    report = verify_trail(tampered)
    assert not report.ok
    assert report.issues[0].position <= i + 2
