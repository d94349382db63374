"""Verify an audit trail: hashes, links, sequences, checkpoint signatures — and say where it breaks.

:func:`verify_trail` checks events from any iterable (``AuditEvent`` objects, dicts, or JSON text);
:func:`verify_file` reads a JSON Lines file or a SQLite database written by the sinks. Positions are
1-based lines (JSON Lines), row ids (SQLite) or indexes (iterables).

What is detected, and how it is reported (``VerifyIssue.kind``):

* ``edited`` — an event whose content no longer matches its hash; or an event rewritten *with* a
  recomputed hash (the next event no longer links to it while sequences stay continuous);
* ``deleted`` — events missing from the chain (a sequence gap, a trail not starting at sequence 1, or
  SQLite rows deleted from the end while ``sqlite_sequence`` remembers them);
* ``inserted`` — an event nothing links to, sitting between two events that link to each other, or an
  event whose sequence is below 1;
* ``reordered`` — events that are all present but out of order;
* ``malformed`` — a line or row that is not a readable audit event (e.g. a torn last write);
* ``column_mismatch`` — SQLite index columns that disagree with the stored event JSON (the columns
  posture queries must not be editable behind the chain's back);
* ``bad_checkpoint``, ``bad_signature``, ``unknown_key`` — a checkpoint that does not sign its
  predecessor, a signature that does not verify, or a key id not among the given public keys;
* ``unsigned`` — public keys were given but no checkpoint signature covers any event of a non-empty
  trail (e.g. the checkpoints were stripped and the chain recomputed): nothing vouches for it; or more
  events follow the last verified checkpoint than ``max_unsigned`` allows;
* ``truncated`` — fewer events than ``min_events``, or the ``expect_head`` event is beyond the end;
* ``head_mismatch`` — the trail does not end exactly at the ``expect_head`` event (another hash, no such
  event, or events after it);
* ``witness_mismatch`` — a checkpoint a witness saw (``witness=``, see
  :mod:`agent_security.core.audit.witness`) is in the trail with another hash, or not at all (the trail
  was rewritten); a witnessed checkpoint beyond the end of the trail is ``truncated``.

What is **not** detected from the file alone, stated in every report's ``notes``: anyone able to write the
file can rewrite the chain consistently from any point (recomputing every hash) unless checkpoint
signatures are verified; and even then, events after the last signed checkpoint — or whole signed
stretches at the end — can be truncated, and events appended, undetectably (``signed_through`` /
``unsigned_tail`` say how many are exposed). Record the head (``last_sequence``, ``head_hash``) off-host
and pass it back as ``expect_head``; keep the signing key away from the host that writes the trail.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from agent_security.core.audit._sqlite_rows import TrailReadError, check_table, sqlite_connect, sqlite_rows
from agent_security.core.audit._strict import safe as _safe
from agent_security.core.audit._verifier import Verifier, keys_by_id
from agent_security.core.audit.keys import PemSource
from agent_security.core.audit.report import MAX_ISSUES, VerifyIssue, VerifyReport, report_json
from agent_security.core.audit.sinks import columns as _columns
from agent_security.core.audit.sinks import jsonl_lines
from agent_security.core.audit.witness import WitnessRecord
from agent_security.core.files import NotRegularFileError, open_regular
from agent_security.core.models import AuditEvent

__all__ = [
    "MAX_ISSUES",
    "TrailReadError",
    "VerifyIssue",
    "VerifyReport",
    "report_json",
    "verify_file",
    "verify_trail",
]

SQLITE_MAGIC = b"SQLite format 3\x00"


def verify_trail(
    events: Iterable[AuditEvent | Mapping[str, Any] | str | bytes],
    public_keys: Iterable[PemSource | Ed25519PublicKey] | None = None,
    *,
    source: str = "<events>",
    max_issues: int = MAX_ISSUES,
    expect_head: tuple[int, str] | None = None,
    min_events: int | None = None,
    max_unsigned: int | None = None,
    witness: Iterable[WitnessRecord] | None = None,
) -> VerifyReport:
    """Verify events in trail order (positions are 1-based indexes).

    What the trail alone cannot prove, the caller can say: ``expect_head=(sequence, hash)`` fails unless
    the trail ends exactly at that event (recorded off-host earlier: detects truncation, replacement and
    appends); ``min_events`` fails a trail with fewer events; ``max_unsigned`` (needs ``public_keys``)
    fails when more events than that follow the last verified checkpoint; ``witness`` (records from
    :func:`~agent_security.core.audit.witness.read_witness`) fails when a checkpoint a witness saw is not
    in the trail as it was.
    """
    v = Verifier(
        keys_by_id(public_keys),
        max_issues,
        expect_head=expect_head,
        min_events=min_events,
        max_unsigned=max_unsigned,
        witness=witness,
    )
    for pos, item in enumerate(events, start=1):
        v.add(pos, item)
    return v.report(source, "index")


def _verify_jsonl(fh: BinaryIO, source: str, v: Verifier) -> VerifyReport:
    for lineno, raw in jsonl_lines(fh):
        if raw is None:
            v.malformed(lineno, "line is longer than the limit")
        elif not raw.strip():
            v.malformed(lineno, "empty line")
        else:
            v.add(lineno, raw)
    return v.report(source, "line")


def _verify_sqlite(path: Path, v: Verifier) -> VerifyReport:
    notes: list[str] = []
    max_id = 0
    rows_read = 0
    conn = sqlite_connect(path)
    try:
        # One read transaction: the rows, their count and sqlite_sequence are one snapshot, even while the
        # writer appends (WAL readers do not block it).
        conn.execute("BEGIN")
        check_table(conn)
        for row_id, cols, body, problem in sqlite_rows(conn):
            max_id = row_id
            rows_read += 1
            if problem is not None or cols is None:
                v.malformed(row_id, problem or "unreadable row")
                continue
            event = v.add(row_id, body)
            if event is not None:
                expected = _columns(event)
                bad = [c for c in expected if expected[c] != cols.get(c)]
                if bad:
                    v.issue(
                        row_id,
                        event.sequence,
                        "column_mismatch",
                        f"column(s) {', '.join(bad)} differ from the stored event",
                    )
        total = conn.execute("SELECT count(*) FROM audit_events").fetchone()[0]
        if total != rows_read:
            v.issue(
                max_id,
                None,
                "malformed",
                f"the table counts {_safe(total)} row(s) but {rows_read} were read: a damaged or crafted "
                "database (rows hidden from a scan in id order)",
            )
        try:
            issued = conn.execute("SELECT seq FROM sqlite_sequence WHERE name='audit_events'").fetchall()
        except sqlite3.Error:
            issued = []
    finally:
        conn.close()
    if len(issued) > 1:
        v.issue(max_id, None, "edited", f"sqlite_sequence holds {len(issued)} entries for audit_events")
    elif issued:
        seq = issued[0][0]
        if type(seq) is not int:
            v.issue(max_id, None, "edited", f"sqlite_sequence holds {_safe(seq)} for audit_events, not an integer")
        elif seq > max_id:
            v.issue(seq, None, "deleted", f"rows after id {max_id} were deleted (the table has issued ids up to {seq})")
        elif seq < max_id and rows_read:
            v.issue(
                max_id, None, "edited", f"sqlite_sequence says ids up to {seq} were issued, but row {max_id} exists"
            )
    elif rows_read:
        v.issue(
            max_id,
            None,
            "deleted",
            "sqlite_sequence has no entry for audit_events although the table holds rows (the entry was "
            "removed): deletion of the last rows cannot be ruled out",
        )
    return v.report(str(path), "row", notes)


def verify_file(
    path: str | os.PathLike[str],
    public_keys: Iterable[PemSource | Ed25519PublicKey] | None = None,
    *,
    max_issues: int = MAX_ISSUES,
    expect_head: tuple[int, str] | None = None,
    min_events: int | None = None,
    max_unsigned: int | None = None,
    witness: Iterable[WitnessRecord] | None = None,
) -> VerifyReport:
    """Verify a JSON Lines file or SQLite database written by the audit sinks.

    Raises :class:`TrailReadError` when the file cannot be read as a trail at all (it is missing, not a
    regular file — a FIFO or a device is refused before anything is read —, or not an audit database).
    At most ``max_issues`` issues are kept in the report; the rest are counted. ``expect_head``,
    ``min_events``, ``max_unsigned`` and ``witness``: see :func:`verify_trail`.
    """
    p = Path(path)
    v = Verifier(
        keys_by_id(public_keys),
        max_issues,
        expect_head=expect_head,
        min_events=min_events,
        max_unsigned=max_unsigned,
        witness=witness,
    )
    try:
        with open_regular(p) as fh:
            magic = fh.read(len(SQLITE_MAGIC))
            if magic != SQLITE_MAGIC:
                fh.seek(0)
                return _verify_jsonl(fh, str(p), v)
        return _verify_sqlite(p, v)
    except TrailReadError as exc:
        raise TrailReadError(f"{p}: {exc}") from None
    except NotRegularFileError as exc:
        raise TrailReadError(str(exc)) from None
    except sqlite3.Error as exc:
        raise TrailReadError(f"{p}: not a readable audit database ({_safe(str(exc))})") from None
    except OSError as exc:
        raise TrailReadError(f"{p}: {exc.strerror or exc}") from None
