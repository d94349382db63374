"""Verifying trails made by someone hostile: bounded work, bounded reports, no hang, no traceback."""

from __future__ import annotations

import os
import sqlite3
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent_security.core.audit import (
    AuditKeyError,
    AuditSigner,
    AuditTrail,
    JsonlAuditSink,
    SqliteAuditSink,
    TrailReadError,
    event_hash,
    load_public_key,
    verify_file,
    verify_trail,
)
from agent_security.core.audit._verifier import Verifier as _Verifier
from agent_security.core.audit.cli import audit_group
from agent_security.core.audit.sinks import INDEXED_COLUMNS, MAX_LINE_BYTES, _columns
from agent_security.core.audit.verify import MAX_ISSUES
from agent_security.core.models import AuditEvent


def _rehashed(ev: AuditEvent, **update: object) -> AuditEvent:
    changed = ev.model_copy(update={**update, "hash": None})
    return changed.model_copy(update={"hash": event_hash(changed)})


def _jsonl(tmp_path: Path, write_trail, n: int = 3) -> tuple[Path, list[AuditEvent]]:
    path = tmp_path / "audit.jsonl"
    with JsonlAuditSink(path) as sink:
        events = write_trail([sink], n)
    return path, events


def _sqlite(tmp_path: Path, write_trail, n: int = 3) -> tuple[Path, list[AuditEvent]]:
    path = tmp_path / "audit.db"
    with SqliteAuditSink(path) as sink:
        events = write_trail([sink], n)
    return path, events


# -- 1a: linking back to one early event costs linear work -----------------------------------------------
class _CountingList(list):
    """The verifier's link list, counting every element a slice of it copies."""

    copied = 0

    def __getitem__(self, key):  # type: ignore[no-untyped-def]
        got = super().__getitem__(key)
        if isinstance(key, slice):
            type(self).copied += len(got)
        return got


def test_many_events_linking_to_one_early_event_cost_linear_work(chain):
    first = chain(1)[0]
    n = 2_000
    events = [first] + [_rehashed(first, sequence=i, event_id=f"e{i}", prev_hash=first.hash) for i in range(2, n + 1)]
    v = _Verifier(None)
    v.links = _CountingList()
    _CountingList.copied = 0
    for pos, ev in enumerate(events, start=1):
        v.add(pos, ev)
    report = v.report("<events>", "index")
    assert _CountingList.copied <= 20 * n  # was n * n / 2: every event sliced everything before it
    assert report.issue_counts == {"inserted": n - 2}  # events 3.. skip over event 2 to link to event 1
    assert {i.position for i in report.issues} == {2}
    assert "position(s) 2 are not part of the chain" in report.issues[0].message
    assert "position(s) 2, 3, 4, 5, 6, 7, 8, 9, 10, 11... are not part" in report.issues[-1].message


# -- 1b: a flood of bad lines keeps a bounded report -------------------------------------------------------
def test_a_flood_of_bad_lines_keeps_the_first_issues_and_counts_the_rest(tmp_path):
    path = tmp_path / "flood.jsonl"
    path.write_bytes(b"\n" * (MAX_ISSUES + 4_000))
    report = verify_file(path)
    assert not report.ok
    assert len(report.issues) == MAX_ISSUES and report.issues_omitted == 4_000
    assert report.issue_total == MAX_ISSUES + 4_000 and report.issue_counts == {"malformed": MAX_ISSUES + 4_000}
    assert [i.position for i in report.issues[:3]] == [1, 2, 3]
    assert report.problems[-1].startswith("... and 4000 more issue(s) not listed")
    assert report.summary().startswith(f"TAMPERED ({MAX_ISSUES + 4_000} issue(s))")


def test_the_kept_issues_are_the_first_by_position_whenever_they_are_found(tmp_path, chain):
    events = chain(3)
    path = tmp_path / "a.jsonl"
    # event 2 deleted (found by the link pass, after every line was read), then a flood of blank lines
    path.write_bytes(
        events[0].model_dump_json().encode() + b"\n" + events[2].model_dump_json().encode() + b"\n" + b"\n" * 50
    )
    report = verify_file(path, max_issues=10)
    assert [(i.position, i.kind) for i in report.issues[:2]] == [(2, "deleted"), (3, "malformed")]
    assert len(report.issues) == 10 and report.issues_omitted == 41
    assert report.issue_counts == {"deleted": 1, "malformed": 50}


def test_cli_output_is_bounded_for_a_flood(tmp_path):
    path = tmp_path / "flood.jsonl"
    path.write_bytes(b"\n" * (MAX_ISSUES * 3))
    res = CliRunner().invoke(audit_group, ["verify", str(path)])
    assert res.exit_code == 1
    assert len(res.output.splitlines()) < MAX_ISSUES + 10
    assert f"... and {MAX_ISSUES * 2} more issue(s)" in res.output


# -- 1c: SQLite: only a real table is read, and no row is loaded whole if it is too large -------------------
def test_sqlite_view_instead_of_a_table_is_refused(tmp_path):
    path = tmp_path / "view.db"
    conn = sqlite3.connect(path)
    cols = INDEXED_COLUMNS[1:]
    select = ", ".join(["n AS id", "n AS sequence", *(f"'x' AS {c}" for c in cols), "'{' AS event_json"])
    # a hostile file would recurse without end; this one stops at 10 rows so that the test cannot hang
    conn.execute(
        "CREATE VIEW audit_events AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r "
        f"WHERE n < 10) SELECT {select} FROM r"
    )
    conn.commit()
    conn.close()
    with pytest.raises(TrailReadError, match="audit_events is a view, not a table"):
        verify_file(path)
    res = CliRunner().invoke(audit_group, ["verify", str(path)])
    assert res.exit_code == 2 and "not a table" in res.output


def test_sqlite_table_with_computed_columns_is_refused(tmp_path, write_trail):
    path, _ = _sqlite(tmp_path, write_trail)
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE audit_events ADD COLUMN pad TEXT GENERATED ALWAYS AS (hex(zeroblob(10))) VIRTUAL")
    conn.commit()
    conn.close()
    with pytest.raises(TrailReadError, match="computed column"):
        verify_file(path)


def _set_event_json(path: Path, row_id: int, sql_value: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute(f"UPDATE audit_events SET event_json = {sql_value} WHERE id = ?", (row_id,))
    conn.commit()
    conn.close()


def _verify_with_peak(path):
    """``verify_file(path)`` and the peak of Python memory it allocated."""
    tracemalloc.start()
    try:
        report = verify_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return report, peak


def test_sqlite_row_longer_than_the_limit_is_malformed_without_being_read(tmp_path, write_trail):
    path, _ = _sqlite(tmp_path, write_trail, n=4)
    _set_event_json(path, 2, f"'{{' || hex(zeroblob({MAX_LINE_BYTES // 2 + 10}))")  # 4 MiB + 21 characters
    report, peak = _verify_with_peak(path)
    assert peak < MAX_LINE_BYTES // 2  # the row never reached Python
    assert [(i.position, i.kind) for i in report.issues][:2] == [(2, "malformed"), (3, "deleted")]
    assert f"longer than {MAX_LINE_BYTES} characters" in report.issues[0].message
    assert report.events == 3 and report.last_sequence == 4  # reading went on after the row


def test_sqlite_value_too_large_to_load_is_skipped_and_reading_resumes(tmp_path, write_trail):
    path, _ = _sqlite(tmp_path, write_trail, n=5)
    _set_event_json(path, 3, f"hex(zeroblob({MAX_LINE_BYTES * 2 + 1}))")  # 16 MiB + 2 bytes
    report, peak = _verify_with_peak(path)
    assert peak < MAX_LINE_BYTES // 2
    assert report.issues[0].position == 3 and "larger than" in report.issues[0].message
    assert report.events == 4 and report.last_sequence == 5


# -- 1d: only regular files are read ------------------------------------------------------------------------
@pytest.mark.skipif(not Path("/dev/null").exists(), reason="needs /dev/null")
def test_a_device_is_not_a_trail_or_a_key(tmp_path, write_trail):
    with pytest.raises(TrailReadError, match="not a regular file"):
        verify_file("/dev/null")  # used to verify as an empty trail; /dev/zero used to be read forever
    path, _ = _jsonl(tmp_path, write_trail)
    res = CliRunner().invoke(audit_group, ["verify", str(path), "--public-key", "/dev/null"])
    assert res.exit_code == 2 and "not a regular file" in res.output


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_blocking(tmp_path, write_trail):
    fifo = tmp_path / "trail.fifo"
    os.mkfifo(fifo)
    with pytest.raises(TrailReadError, match=r"not a regular file \(a FIFO\)"):
        verify_file(fifo)
    path, _ = _jsonl(tmp_path, write_trail)
    res = CliRunner().invoke(audit_group, ["verify", str(path), "--public-key", str(fifo)])
    assert res.exit_code == 2 and "not a regular file (a FIFO)" in res.output
    res = CliRunner().invoke(audit_group, ["verify", str(tmp_path)])
    assert res.exit_code == 2 and "a directory" in res.output


# -- 2: every SQLite row is read, whatever its sequence ---------------------------------------------------------
def _insert_row(path: Path, row_id: int, event: AuditEvent, body: str | None = None) -> None:
    cols = _columns(event)
    conn = sqlite3.connect(path)
    conn.execute(
        f"INSERT INTO audit_events (id, {', '.join(cols)}, event_json) VALUES (?, {', '.join('?' for _ in cols)}, ?)",
        (row_id, *cols.values(), event.model_dump_json() if body is None else body),
    )
    conn.commit()
    conn.close()


def test_sqlite_rows_with_sequence_below_one_are_reported(tmp_path, write_trail):
    path, events = _sqlite(tmp_path, write_trail, n=5)
    forged = _rehashed(events[2], agent_id="mallory", tool_name="transfer_funds", sequence=0, event_id="f")
    # what posture queries see (agent mallory); id -1 does not move sqlite_sequence either
    _insert_row(path, -1, forged, body="this is not even JSON")
    report = verify_file(path)
    assert [(i.position, i.kind) for i in report.issues] == [(-1, "malformed")]
    _insert_row(path, -2, forged.model_copy(update={"sequence": -1}), body=forged.model_dump_json())
    _insert_row(path, 50, _rehashed(events[2], sequence=-3, event_id="g"))
    report = verify_file(path)
    assert [(i.position, i.kind) for i in report.issues] == [(-2, "inserted"), (-1, "malformed"), (50, "inserted")]
    assert "sequence 0 is below 1" in report.issues[0].message
    assert report.events == 5 and report.last_sequence == 5


def test_jsonl_event_with_sequence_zero_is_reported(tmp_path, write_trail):
    path, events = _jsonl(tmp_path, write_trail)
    with path.open("a") as fh:
        fh.write(_rehashed(events[0], sequence=0, event_id="x").model_dump_json() + "\n")
    assert [(i.position, i.kind) for i in verify_file(path).issues] == [(4, "inserted")]


def test_sqlite_row_count_that_differs_from_the_rows_read_is_reported(tmp_path, write_trail, monkeypatch):
    from agent_security.core.audit import verify as verify_module

    path, _ = _sqlite(tmp_path, write_trail, n=4)
    real = verify_module.sqlite_rows

    def skipping(conn):  # a reader that misses a row, as a crafted database could make a scan do
        for row in real(conn):
            if row[0] != 2:
                yield row

    monkeypatch.setattr(verify_module, "sqlite_rows", skipping)
    report = verify_file(path)
    assert ("malformed", "the table counts 4 row(s) but 3 were read") in [
        (i.kind, i.message[:41]) for i in report.issues
    ]


def test_sqlite_verify_reads_one_snapshot_while_the_writer_appends(tmp_path, write_trail, monkeypatch):
    from agent_security.core.audit import verify as verify_module

    path = tmp_path / "audit.db"
    sink = SqliteAuditSink(path)
    trail = AuditTrail(sink.agent_security_audit_event)
    for i in range(3):
        trail.record(AuditEvent(event_id=f"e{i}"))
    real = verify_module.sqlite_rows

    def appending(conn):  # the writer goes on while verify reads
        for row in real(conn):
            yield row
            trail.record(AuditEvent(event_id=f"during-{row[0]}"))

    monkeypatch.setattr(verify_module, "sqlite_rows", appending)
    report = verify_file(path)
    sink.close()
    assert report.ok, report.problems  # no rows "deleted" after the snapshot's last row, no count mismatch
    assert report.events == 3


# -- 3: hostile input never crashes verification -------------------------------------------------------------
def _sql(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


def test_sqlite_sequence_holding_text_is_an_issue_not_a_crash(tmp_path, write_trail):
    path, _ = _sqlite(tmp_path, write_trail)
    _sql(path, "UPDATE sqlite_sequence SET seq='x' WHERE name='audit_events'")
    report = verify_file(path)
    assert [(i.position, i.kind) for i in report.issues] == [(3, "edited")]
    assert "sqlite_sequence holds 'x' for audit_events, not an integer" in report.issues[0].message
    res = CliRunner().invoke(audit_group, ["verify", str(path)])
    assert res.exit_code == 1 and "Traceback" not in res.output


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("UPDATE sqlite_sequence SET seq=2 WHERE name='audit_events'", "ids up to 2 were issued, but row 3 exists"),
        ("INSERT INTO sqlite_sequence VALUES ('audit_events', 3)", "holds 2 entries for audit_events"),
    ],
)
def test_sqlite_sequence_edits_are_reported(tmp_path, write_trail, statement, message):
    path, _ = _sqlite(tmp_path, write_trail)
    _sql(path, statement)
    report = verify_file(path)
    assert [i.kind for i in report.issues] == ["edited"] and message in report.issues[0].message


@pytest.mark.parametrize("new_id", ["'row-'||id", "NULL"])
def test_sqlite_row_ids_that_are_not_integers_are_refused_in_one_line(tmp_path, write_trail, new_id):
    path, _ = _sqlite(tmp_path, write_trail)
    _sql(
        path,
        "ALTER TABLE audit_events RENAME TO old",
        "CREATE TABLE audit_events AS SELECT * FROM old",
        "DROP TABLE old",
        f"UPDATE audit_events SET id={new_id}",
    )
    with pytest.raises(TrailReadError, match="not an integer: not an audit database"):
        verify_file(path)
    res = CliRunner().invoke(audit_group, ["verify", str(path)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1 and res.output.startswith("error: ")


def test_sqlite_text_that_is_not_utf8_is_one_malformed_row(tmp_path, write_trail):
    path, _ = _sqlite(tmp_path, write_trail, n=4)
    _sql(path, "UPDATE audit_events SET event_json = CAST(x'7bff1b5b3141' AS TEXT) WHERE id = 2")
    report = verify_file(path)  # used to refuse the whole database ("could not decode")
    assert report.issues[0].position == 2 and report.issues[0].message == "the row holds text that is not valid UTF-8"
    assert report.events == 3 and report.last_sequence == 4


def test_encrypted_private_key_is_a_precise_error(tmp_path, write_trail, signer):
    encrypted = signer.private_key_pem(password=b"pw")
    with pytest.raises(AuditKeyError, match="encrypted and no password was given"):
        load_public_key(encrypted)  # used to raise TypeError
    with pytest.raises(AuditKeyError, match="encrypted and no password was given"):
        AuditSigner.from_pem(encrypted)
    with pytest.raises(AuditKeyError, match="the private key is not encrypted"):
        AuditSigner.from_pem(signer.private_key_pem(), password=b"pw")
    with pytest.raises(AuditKeyError, match="not an Ed25519"):
        load_public_key(
            b"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n"
            b"-----END PUBLIC KEY-----\n".replace(b"MCowBQYDK2VwAyEA", b"MCowBQYDK2VuAyEA")
        )
    key = tmp_path / "k.pem"
    key.write_bytes(encrypted)
    path, _ = _jsonl(tmp_path, write_trail)
    res = CliRunner().invoke(audit_group, ["verify", str(path), "--public-key", str(key)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert (
        res.output == f"error: cannot load public key: {key}: the private key is encrypted and no password was given\n"
    )


def test_cli_turns_an_unexpected_exception_into_one_line_and_exit_2(tmp_path, write_trail, monkeypatch):
    from agent_security.core.audit import cli as cli_module

    def boom(*args, **kwargs):
        raise RuntimeError("first line\nsecond line")

    monkeypatch.setattr(cli_module, "verify_file", boom)
    path, _ = _jsonl(tmp_path, write_trail)
    res = CliRunner().invoke(audit_group, ["verify", str(path)])
    assert res.exit_code == 2
    assert res.output == f"error: cannot verify {path}: unexpected RuntimeError: first line\\nsecond line\n"


# -- 4: one reading of every line: no duplicate keys, no NaN, no coercion ------------------------------------------
def _edit_line(path: Path, index: int, edit) -> None:
    lines = path.read_bytes().splitlines()
    lines[index] = edit(lines[index])
    path.write_bytes(b"".join(line + b"\n" for line in lines))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda line: b'{"outcome":"DENY","allowed":false,' + line[1:], "duplicate key 'outcome'"),
        (
            lambda line: line.replace(b'"allowed":true', b'"allowed":"yes"'),
            "field allowed: Input should be a valid boolean",
        ),
        (
            lambda line: line.replace(b'"sequence":2', b'"sequence":"2"'),
            "field sequence: Input should be a valid integer",
        ),
        (
            lambda line: line.replace(b'"sequence":2', b'"sequence":2.0'),
            "field sequence: Input should be a valid integer",
        ),
        (
            lambda line: line.replace(b'"outcome":"ALLOW"', b'"outcome":"allow"'),
            "field outcome: Input should be 'ALLOW'",
        ),
        (
            lambda line: line.replace(b'"request_id":"req-1"', b'"request_id":"req-1","extra":1'),
            "field extra: Extra inputs",
        ),
        (lambda line: line.replace(b'"data":{', b'"data":{"score":NaN,'), "field data.score: NaN is not a JSON number"),
        (
            lambda line: line.replace(b'"data":{', b'"data":{"x":[1,-Infinity],'),
            "field data.x[1]: -Infinity is not a JSON",
        ),
        (lambda line: line.replace(b'"data":{', b'"data":{"x":1e400,'), "field data.x: '1e400' is not a finite number"),
        (
            lambda line: line.replace(b'"data":{', b'"data":{"x":1e0,'),
            "field data.x: number '1e0' is not spelled as the writer spells it (1.0)",
        ),
        (lambda line: line.replace(b'"data":{', b'"data":{"x":{"y":1,"y":2},'), "duplicate key 'y'"),
        (lambda line: b"[" + line + b"]", "not a JSON object (a list)"),
        (lambda line: line[:-1], "not valid JSON"),
    ],
)
def test_lines_that_readers_could_read_differently_are_malformed(tmp_path, write_trail, edit, message):
    path, _ = _jsonl(tmp_path, write_trail)
    _edit_line(path, 1, edit)
    report = verify_file(path)
    assert (report.issues[0].position, report.issues[0].kind) == (2, "malformed")
    assert message in report.issues[0].message, report.issues[0].message


def test_the_same_duplicate_key_in_sqlite_event_json_is_malformed(tmp_path, write_trail):
    path, _ = _sqlite(tmp_path, write_trail)
    _sql(path, 'UPDATE audit_events SET event_json = \'{"outcome":"DENY",\' || substr(event_json, 2) WHERE id = 2')
    report = verify_file(path)
    assert (report.issues[0].position, report.issues[0].kind) == (2, "malformed")
    assert "duplicate key 'outcome'" in report.issues[0].message


def test_floats_written_by_the_sink_and_other_whitespace_still_verify(tmp_path, make_event):
    path = tmp_path / "a.jsonl"
    with JsonlAuditSink(path) as sink:
        trail = AuditTrail(sink.agent_security_audit_event)
        for data in ({"x": 1.0}, {"x": 1e-7, "y": 1e16, "z": -0.0}, {"x": [0.1, 2.5e300, 123456789.125]}):
            trail.record(make_event(data=data))
    assert verify_file(path).ok
    import json

    _edit_line(path, 0, lambda line: json.dumps(json.loads(line), indent=None).encode())  # ", " and ": "
    assert verify_file(path).ok  # same values, one key each: not what the sink writes, but not ambiguous


# -- 6: text from the file cannot drive the operator's terminal ------------------------------------------------
ESC = "\x1b"
FAKE_OK = "OK: 13 event(s), sequence 1..13; 1/1 checkpoint signature(s) verified"


def test_a_hostile_key_id_is_escaped_and_capped(tmp_path, write_trail, signer):
    path = tmp_path / "t.jsonl"
    with JsonlAuditSink(path) as sink:
        events = write_trail([sink], 12, signer=signer, close=False)
    last = events[-1]
    # move up over the TAMPERED summary, erase it, print a fake OK, hide the rest
    kid = f"\r{ESC}[1A{ESC}[2K{FAKE_OK}\n{ESC}[2K{ESC}[8m" + "x" * 10_000
    cp = AuditEvent(
        kind="lifecycle",
        data={
            "checkpoint": {
                "head_hash": last.hash,
                "head_sequence": last.sequence,
                "key_id": kid,
                "signature": "AA" * 43 + "==",
            }
        },
    )
    with path.open("a") as fh:
        fh.write(_rehashed(cp, sequence=last.sequence + 1, prev_hash=last.hash).model_dump_json() + "\n")
    report = verify_file(path, public_keys=[signer.public_key])
    issue = next(i for i in report.issues if i.kind == "unknown_key")
    assert ESC not in issue.message and "\n" not in issue.message and "\r" not in issue.message
    assert "'\\r\\x1b[1A\\x1b[2KOK: 13 event(s)" in issue.message and "... (10" in issue.message
    assert len(issue.message) < 300
    pub = tmp_path / "pub.pem"
    pub.write_bytes(signer.public_key_pem())
    res = CliRunner().invoke(audit_group, ["verify", str(path), "--public-key", str(pub)])
    assert res.exit_code == 1 and ESC not in res.output and "\r" not in res.output
    assert res.output.startswith("TAMPERED") and not any(line.startswith("OK") for line in res.output.splitlines())


def test_cli_escapes_control_characters_in_every_line(tmp_path):
    name = tmp_path / f"a{ESC}[2Jb\rc.jsonl"  # a hostile file name in a directory being verified
    res = CliRunner().invoke(audit_group, ["verify", str(name)])
    assert res.exit_code == 2 and ESC not in res.output and "\r" not in res.output
    assert "a\\x1b[2Jb\\rc.jsonl" in res.output


# -- 7: what the trail alone cannot prove, an anchor kept elsewhere can -------------------------------------------
def _signed_jsonl(tmp_path: Path, write_trail, signer, n: int = 100, sign_every: int = 10):
    path = tmp_path / "signed.jsonl"
    with JsonlAuditSink(path) as sink:
        events = write_trail([sink], n, signer=signer, sign_every=sign_every)
    pub = tmp_path / "pub.pem"
    pub.write_bytes(signer.public_key_pem())
    return path, events, pub


def _verify_cli(*args: object):
    return CliRunner().invoke(audit_group, ["verify", *(str(a) for a in args)])


def test_truncation_of_a_signed_trail_fails_against_the_recorded_head(tmp_path, write_trail, signer):
    path, events, pub = _signed_jsonl(tmp_path, write_trail, signer)
    head = f"{events[-1].sequence}:{events[-1].hash}"
    assert _verify_cli(path, "--public-key", pub, "--expect-head", head).exit_code == 0
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:11]))  # 10 events and their checkpoint: verifies on its own
    assert verify_file(path, [signer.public_key]).ok
    report = verify_file(path, [signer.public_key], expect_head=(events[-1].sequence, events[-1].hash))
    assert [(i.kind, i.sequence) for i in report.issues] == [("truncated", 11)]
    assert (
        f"the expected head, sequence {events[-1].sequence}, is missing: the trail ends at sequence 11"
        in report.issues[0].message
    )
    res = _verify_cli(path, "--public-key", pub, "--expect-head", head)
    assert res.exit_code == 1 and "truncated" in res.output
    res = _verify_cli(path, "--public-key", pub, "--min-events", len(events))
    assert res.exit_code == 1 and f"the trail holds 11 event(s); at least {len(events)} were expected" in res.output


def test_an_emptied_trail_is_not_a_bare_ok(tmp_path, write_trail, signer):
    path, events, pub = _signed_jsonl(tmp_path, write_trail, signer, n=5)
    path.write_bytes(b"")
    res = _verify_cli(path, "--public-key", pub)
    assert res.exit_code == 0 and res.output.startswith("EMPTY: 0 events")
    assert not any(line.startswith("OK") for line in res.output.splitlines())
    assert _verify_cli(path, "--public-key", pub, "--min-events", 1).exit_code == 1
    res = _verify_cli(path, "--expect-head", f"{events[-1].sequence}:{events[-1].hash}")
    assert res.exit_code == 1 and "the trail is empty" in res.output


def test_a_replaced_or_extended_trail_fails_against_the_recorded_head(tmp_path, write_trail, signer):
    _, events, _ = _signed_jsonl(tmp_path, write_trail, signer, n=5, sign_every=3)
    recorded = (events[-1].sequence, events[-1].hash)
    (tmp_path / "other").mkdir()
    other, _, _ = _signed_jsonl(tmp_path / "other", write_trail, signer, n=5, sign_every=3)
    report = verify_file(other, [signer.public_key], expect_head=recorded)  # another trail, the same key
    assert [i.kind for i in report.issues] == ["head_mismatch"]
    assert "has hash" in report.issues[0].message and "rewritten or replaced" in report.issues[0].message
    extended = [*events, _rehashed(events[0], sequence=recorded[0] + 1, prev_hash=recorded[1], event_id="z")]
    report = verify_trail(extended, expect_head=recorded)
    assert [i.kind for i in report.issues] == ["head_mismatch"]
    assert f"goes on after the expected head (sequence {recorded[0]})" in report.issues[0].message
    assert verify_trail(events, expect_head=(recorded[0], recorded[1].upper())).ok


def test_max_unsigned_catches_a_rewrite_after_the_first_checkpoint(tmp_path, write_trail, signer):
    path, events, pub = _signed_jsonl(tmp_path, write_trail, signer)
    kept, prev, forged = events[:11], events[10], []
    for ev in events[11:]:  # every later checkpoint dropped, every event rewritten, the chain recomputed
        if ev.kind == "lifecycle":
            continue
        new = _rehashed(ev, sequence=prev.sequence + 1, prev_hash=prev.hash, agent_id="innocent")
        forged.append(new)
        prev = new
    path.write_text("".join(e.model_dump_json() + "\n" for e in kept + forged))
    assert _verify_cli(path, "--public-key", pub).exit_code == 0  # the signed prefix is intact
    report = verify_file(path, [signer.public_key], max_unsigned=10)
    assert [i.kind for i in report.issues] == ["unsigned"]
    assert (
        "90 event(s) are not covered by a signature since the last verified checkpoint (sequence 11)"
        in report.issues[0].message
    )
    assert _verify_cli(path, "--public-key", pub, "--max-unsigned", 10).exit_code == 1
    assert _verify_cli(path, "--public-key", pub, "--max-unsigned", 90).exit_code == 0


def test_anchor_options_are_checked(tmp_path, write_trail):
    path, _ = _jsonl(tmp_path, write_trail)
    res = _verify_cli(path, "--max-unsigned", 5)
    assert res.exit_code == 2 and "--max-unsigned needs --public-key" in res.output
    for bad in ("12", "x:" + "0" * 64, "0:" + "0" * 64, "3:abc", "3:" + "g" * 64):
        assert _verify_cli(path, "--expect-head", bad).exit_code == 2
    with pytest.raises(ValueError, match="max_unsigned needs public keys"):
        verify_file(path, max_unsigned=1)
    with pytest.raises(ValueError, match="64 hexadecimal digits"):
        verify_file(path, expect_head=(3, "abc"))


def test_sqlite_sequence_entry_removed_is_an_issue(tmp_path, write_trail):
    path, _ = _sqlite(tmp_path, write_trail)
    _sql(path, "DELETE FROM audit_events WHERE id = 3", "DELETE FROM sqlite_sequence")
    report = verify_file(path)
    assert [(i.position, i.kind) for i in report.issues] == [(2, "deleted")]
    assert "sqlite_sequence has no entry for audit_events" in report.issues[0].message
