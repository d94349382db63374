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

import base64
import binascii
import heapq
import json
import os
import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, ValidationError

from agent_security.core.audit._sqlite_rows import TrailReadError, check_table, sqlite_connect, sqlite_rows
from agent_security.core.audit._strict import MalformedEvent, parse_event
from agent_security.core.audit._strict import safe as _safe
from agent_security.core.audit.chain import CHECKPOINT_KEY, GENESIS_HASH, checkpoint_message, event_hash
from agent_security.core.audit.keys import PemSource, public_keys_by_id, verify_signature
from agent_security.core.audit.sinks import columns as _columns
from agent_security.core.audit.sinks import jsonl_lines
from agent_security.core.audit.witness import WitnessRecord, witness_issues
from agent_security.core.files import NotRegularFileError, open_regular
from agent_security.core.models import AuditEvent

__all__ = ["MAX_ISSUES", "TrailReadError", "VerifyIssue", "VerifyReport", "verify_file", "verify_trail"]

IssueKind = Literal["edited", "deleted", "inserted", "reordered", "malformed", "column_mismatch",
                    "bad_checkpoint", "bad_signature", "unknown_key", "unsigned", "truncated", "head_mismatch",
                    "witness_mismatch"]
SQLITE_MAGIC = b"SQLite format 3\x00"
MAX_ISSUES = 1_000
"""Issues a report keeps (the first ones by position); the rest are only counted (``issues_omitted``)."""


class VerifyIssue(BaseModel):
    model_config = ConfigDict(frozen=True)

    position: int
    """1-based line (JSON Lines), row id (SQLite) or index (iterables)."""
    sequence: int | None
    kind: IssueKind
    message: str


class VerifyReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    source: str
    position_label: str
    ok: bool
    events: int
    first_sequence: int | None
    last_sequence: int | None
    head_hash: str | None
    checkpoints: int
    verified_checkpoints: int
    signatures_checked: bool
    signed_through: int | None
    """Last sequence covered by a verified checkpoint signature (``None``: none verified)."""
    unsigned_tail: int | None
    """Events after ``signed_through`` (exposed to undetected truncation); ``None`` if nothing verified."""
    issues: tuple[VerifyIssue, ...]
    """The first :data:`MAX_ISSUES` issues by position (all of them when there are fewer)."""
    issues_omitted: int = 0
    """Issues found but not kept in ``issues`` (a hostile file cannot make the report unbounded)."""
    issue_counts: dict[str, int] = {}
    """Every issue found (kept or omitted), counted by kind."""
    notes: tuple[str, ...]
    witnessed_through: int | None = None
    """Last checkpoint sequence a witness record vouches for (``None``: no witness given, or none matched)."""

    @property
    def issue_total(self) -> int:
        return len(self.issues) + self.issues_omitted

    @property
    def problems(self) -> list[str]:
        """Each issue as one line: ``line 4 (sequence 4): edited: ...``, then ``... and N more issue(s)``."""
        out = []
        for i in self.issues:
            seq = f" (sequence {i.sequence})" if i.sequence is not None else ""
            out.append(f"{self.position_label} {i.position}{seq}: {i.kind}: {i.message}")
        if self.issues_omitted:
            counts = ", ".join(f"{n} {kind}" for kind, n in sorted(self.issue_counts.items()))
            out.append(f"... and {self.issues_omitted} more issue(s) not listed (all issues: {counts})")
        return out

    def summary(self) -> str:
        if self.ok and not self.events:  # never a bare OK for a file with nothing in it
            return "EMPTY: 0 events, nothing was verified (the trail holds no event)"
        head = "OK" if self.ok else f"TAMPERED ({self.issue_total} issue(s))"
        rng = (f"sequence {self.first_sequence}..{self.last_sequence}" if self.events else "0 events")
        sig = (f"{self.verified_checkpoints}/{self.checkpoints} checkpoint signature(s) verified"
               if self.signatures_checked else f"{self.checkpoints} checkpoint(s), signatures not checked")
        return f"{head}: {self.events} event(s), {rng}; {sig}"


@dataclass(slots=True)
class _Link:
    position: int
    sequence: int
    hash: str
    prev_hash: str
    after_malformed: bool


def _parse(item: AuditEvent | Mapping[str, Any] | str | bytes) -> AuditEvent:
    if isinstance(item, AuditEvent):
        return item
    if isinstance(item, str | bytes):
        return parse_event(item)  # strict: no duplicate keys, no NaN, no coercion
    return AuditEvent.model_validate(item)


def _head(expect_head: tuple[int, str] | None) -> tuple[int, str] | None:
    if expect_head is None:
        return None
    seq, digest = expect_head
    if type(seq) is not int or seq < 1:
        raise ValueError("expect_head: the sequence must be an integer >= 1")
    digest = digest.lower() if isinstance(digest, str) else ""
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError("expect_head: the hash must be 64 hexadecimal digits")
    return seq, digest


class _Verifier:
    def __init__(self, keys: dict[str, Ed25519PublicKey] | None, max_issues: int = MAX_ISSUES, *,
                 expect_head: tuple[int, str] | None = None, min_events: int | None = None,
                 max_unsigned: int | None = None, witness: Iterable[WitnessRecord] | None = None) -> None:
        if max_issues < 1:
            raise ValueError("max_issues must be >= 1")
        if min_events is not None and min_events < 0:
            raise ValueError("min_events must be >= 0")
        if max_unsigned is not None:
            if max_unsigned < 0:
                raise ValueError("max_unsigned must be >= 0")
            if keys is None:
                raise ValueError("max_unsigned needs public keys: without them no event is signed")
        self.keys = keys
        self.max_issues = max_issues
        self.expect_head = _head(expect_head)
        self.min_events = min_events
        self.max_unsigned = max_unsigned
        self.witness = list(witness) if witness is not None else None
        self.witnessed_through: int | None = None
        # the kept issues: a heap whose top is the issue to drop first (highest position, latest found)
        self._kept: list[tuple[int, int, VerifyIssue]] = []
        self._found = 0
        self.counts: Counter[str] = Counter()
        self.links: list[_Link] = []
        self.checkpoints = 0
        self.verified = 0
        self.signed_through: int | None = None
        self.verified_cp_sequence: int | None = None
        self.last_malformed = False

    def issue(self, position: int, sequence: int | None, kind: IssueKind, message: str) -> None:
        """Record an issue. Only the first ``max_issues`` by position are kept; every issue is counted."""
        self._found += 1
        self.counts[kind] += 1
        kept = self._kept
        if len(kept) >= self.max_issues and -kept[0][0] <= position:
            return  # a later issue than every kept one: counted only (cheap for a flood of bad lines)
        item = (-position, -self._found, VerifyIssue(position=position, sequence=sequence, kind=kind,
                                                     message=message))
        if len(kept) >= self.max_issues:
            heapq.heapreplace(kept, item)
        else:
            heapq.heappush(kept, item)

    @property
    def has_issues(self) -> bool:
        return self._found > 0

    def malformed(self, position: int, why: str) -> None:
        self.issue(position, None, "malformed", why)
        self.last_malformed = True

    def add(self, position: int, item: AuditEvent | Mapping[str, Any] | str | bytes) -> AuditEvent | None:
        try:
            event = _parse(item)
        except MalformedEvent as exc:
            self.malformed(position, f"not a readable audit event: {exc}")
            return None
        except (ValidationError, ValueError) as exc:
            self.malformed(position, f"not a readable audit event ({type(exc).__name__})")
            return None
        try:
            computed = event_hash(event)
        except Exception as exc:  # e.g. numbers RFC 8785 cannot encode
            self.malformed(position, f"cannot be canonicalised ({type(exc).__name__})")
            return None
        if event.hash != computed:
            self.issue(position, event.sequence, "edited",
                       "content does not match its hash (changed after it was written)")
        if event.sequence < 1:  # no trail holds it: a chain starts at sequence 1
            self.issue(position, event.sequence, "inserted",
                       f"sequence {event.sequence} is below 1: the event is not part of the trail")
            return None
        if event.kind == "lifecycle" and CHECKPOINT_KEY in event.data:
            self.checkpoint(position, event)
        self.links.append(_Link(position, event.sequence, event.hash or "", event.prev_hash or "",
                                self.last_malformed))
        self.last_malformed = False
        return event

    def checkpoint(self, position: int, event: AuditEvent) -> None:
        self.checkpoints += 1
        cp = event.data.get(CHECKPOINT_KEY)
        fields = (cp.get("head_sequence"), cp.get("head_hash"), cp.get("key_id"), cp.get("signature")) \
            if isinstance(cp, Mapping) else (None, None, None, None)
        head_seq, head_hash, kid, sig_b64 = fields
        signature: bytes | None = None
        if isinstance(sig_b64, str):
            try:
                signature = base64.b64decode(sig_b64, validate=True)
            except (binascii.Error, ValueError):
                signature = None
        if not (type(head_seq) is int and isinstance(head_hash, str) and isinstance(kid, str)
                and signature is not None):
            self.issue(position, event.sequence, "bad_checkpoint", "checkpoint data is malformed")
            return
        if head_seq != event.sequence - 1 or head_hash != event.prev_hash:
            self.issue(position, event.sequence, "bad_checkpoint",
                       "checkpoint does not sign the event just before it")
            return
        if self.keys is None:
            return
        key = self.keys.get(kid)
        if key is None:
            self.issue(position, event.sequence, "unknown_key",
                       f"checkpoint signed by key {_safe(kid)}, which is not among the given public keys")
            return
        if not verify_signature(key, signature, checkpoint_message(head_seq, head_hash, kid)):
            self.issue(position, event.sequence, "bad_signature", f"checkpoint signature by {_safe(kid)} is invalid")
            return
        self.verified += 1
        self.signed_through = head_seq
        self.verified_cp_sequence = event.sequence

    def link_pass(self) -> None:
        """One pass over the links, linear in their number (no slice grows with the distance between an
        event and the one it links to)."""
        links = self.links
        by_hash: dict[str, int] = {}
        for i, lk in enumerate(links):
            by_hash.setdefault(lk.hash, i)
        referenced = {lk.prev_hash for lk in links}
        # referenced_before[k]: how many of links[:k] something links to
        referenced_before = [0]
        for lk in links:
            referenced_before.append(referenced_before[-1] + (lk.hash in referenced))
        for i, lk in enumerate(links):
            if i == 0:
                if lk.sequence != 1 or lk.prev_hash != GENESIS_HASH:
                    missing = f"{lk.sequence - 1} earlier event(s) missing" if lk.sequence > 1 else \
                        "its first event does not link to the genesis hash"
                    self.issue(lk.position, lk.sequence, "deleted",
                               f"the trail does not start at sequence 1: {missing}")
                continue
            prev = links[i - 1]
            if lk.prev_hash == prev.hash:
                if lk.sequence != prev.sequence + 1:
                    self.issue(lk.position, lk.sequence, "edited",
                               f"sequence {lk.sequence} follows {prev.sequence} although the hashes link")
                continue
            j = by_hash.get(lk.prev_hash)
            if lk.after_malformed:
                self.issue(lk.position, lk.sequence, "deleted",
                           "does not link to the event before it; the line(s) in between are unreadable")
            elif j is not None and j < i - 1:
                shown = links[j + 1:min(i, j + 11)]  # the skipped links are links[j + 1:i]
                where = ", ".join(str(s.position) for s in shown)
                where += "..." if i - j - 1 > 10 else ""
                if referenced_before[i] - referenced_before[j + 1] > 0:
                    self.issue(lk.position, lk.sequence, "reordered",
                               f"should directly follow position {links[j].position}; "
                               f"position(s) {where} are out of order")
                else:
                    self.issue(shown[0].position, shown[0].sequence, "inserted",
                               f"position(s) {where} are not part of the chain (nothing links to them; "
                               f"position {lk.position} links to position {links[j].position})")
            elif j is not None and j > i:
                self.issue(lk.position, lk.sequence, "reordered",
                           f"appears before its predecessor (sequence {links[j].sequence}, "
                           f"position {links[j].position})")
            elif lk.sequence == prev.sequence + 1:
                self.issue(prev.position, prev.sequence, "edited",
                           f"rewritten with a recomputed hash: position {lk.position} links to a different "
                           "event")
            elif lk.sequence > prev.sequence + 1:
                gap = (f"sequence {prev.sequence + 1}" if lk.sequence == prev.sequence + 2
                       else f"sequences {prev.sequence + 1}..{lk.sequence - 1}")
                self.issue(lk.position, lk.sequence, "deleted", f"{gap} missing before this event")
            else:
                self.issue(lk.position, lk.sequence, "inserted",
                           f"links to an event not in the trail (sequence {lk.sequence} after "
                           f"{prev.sequence})")

    def anchors(self, tail: int | None) -> None:
        """What the caller knows from elsewhere: the head, the least number of events, the most unsigned."""
        links = self.links
        end = links[-1].position if links else 0
        last = links[-1].sequence if links else None
        if self.min_events is not None and len(links) < self.min_events:
            self.issue(end, last, "truncated",
                       f"the trail holds {len(links)} event(s); at least {self.min_events} were expected")
        if self.expect_head is not None:
            seq, digest = self.expect_head
            at = next((lk for lk in links if lk.sequence == seq), None)
            if at is None and (last is None or last < seq):
                ends = f"ends at sequence {last}" if last is not None else "is empty"
                self.issue(end, last, "truncated",
                           f"the expected head, sequence {seq}, is missing: the trail {ends}")
            elif at is None:
                self.issue(end, last, "head_mismatch", f"the trail holds no event with sequence {seq}, the "
                           "expected head")
            elif at.hash != digest:
                self.issue(at.position, seq, "head_mismatch",
                           f"the event with sequence {seq} has hash {_safe(at.hash, 16)}, not the expected "
                           f"head {digest[:16]}...: the trail was rewritten or replaced")
            elif at is not links[-1]:
                self.issue(links[-1].position, last, "head_mismatch",
                           f"the trail goes on after the expected head (sequence {seq}) to sequence {last}")
        if self.max_unsigned is not None:
            unsigned = len(links) if tail is None else tail
            if unsigned > self.max_unsigned:
                since = ("the last verified checkpoint (sequence "
                         f"{self.verified_cp_sequence})" if tail is not None else "the start: none verified")
                self.issue(end, last, "unsigned",
                           f"{unsigned} event(s) are not covered by a signature since {since}; at most "
                           f"{self.max_unsigned} allowed")

    def check_witness(self, notes: list[str]) -> None:
        """Compare the trail with what a witness saw (see :func:`witness_issues`)."""
        assert self.witness is not None
        found, self.witnessed_through = witness_issues(
            ((lk.position, lk.sequence, lk.hash) for lk in self.links), self.witness, self.keys)
        for position, sequence, kind, message in found:
            self.issue(position, sequence, kind, message)  # type: ignore[arg-type]
        if not self.witness:
            notes.append("The witness holds no checkpoint: nothing was compared with it.")
        elif self.keys is None:
            notes.append("Witness records were compared by hash; their signatures were not checked (no public "
                         "key given).")
        last = self.links[-1].sequence if self.links else None
        if self.witnessed_through is not None and last is not None and last > self.witnessed_through:
            notes.append(f"Events after sequence {self.witnessed_through} are not witnessed yet: a truncation "
                         "back to it would not be detected by the witness.")

    def report(self, source: str, label: str, extra_notes: Iterable[str] = ()) -> VerifyReport:
        self.link_pass()
        links = self.links
        last = links[-1].sequence if links else None
        notes = list(extra_notes)
        if self.keys is None:
            notes.append("Signatures were not checked (no public key given): anyone who can write the trail "
                         "can rewrite it consistently, or truncate it, without detection.")
        elif self.signed_through is None:
            notes.append("No checkpoint signature verified: the whole trail could have been rewritten or "
                         "truncated without detection.")
            signature_issues = ("bad_checkpoint", "bad_signature", "unknown_key")
            if links and not any(self.counts[k] for k in signature_issues):
                self.issue(links[0].position, None, "unsigned",
                           "public keys were given but no checkpoint signature covers any event; the trail "
                           "may have been stripped of its checkpoints and recomputed")
        tail: int | None = None
        if self.verified_cp_sequence is not None and last is not None:
            # events after the last verified checkpoint (the checkpoint itself is evidence, not content)
            tail = last - self.verified_cp_sequence
        if tail:
            notes.append(f"Events after sequence {self.signed_through} are not covered by a signature: "
                         "removing or appending events there would not be detected.")
        self.anchors(tail)
        if self.witness is not None:
            self.check_witness(notes)
        if not links:
            notes.append("The trail is empty. An emptied or replaced file verifies: give the number of events "
                         "or the head you expect (--min-events, --expect-head) to tell.")
        elif self.expect_head is None:
            notes.append(f"Nothing here can show that events were cut from the end: record the head "
                         f"({last}:{links[-1].hash}) off-host and verify later with --expect-head.")
        kept = sorted(self._kept, key=lambda x: (-x[0], -x[1]))  # by position, then as found
        issues = [i for _, _, i in kept]
        return VerifyReport(
            source=source, position_label=label, ok=not self.has_issues, events=len(links),
            first_sequence=links[0].sequence if links else None, last_sequence=last,
            head_hash=links[-1].hash if links else None, checkpoints=self.checkpoints,
            verified_checkpoints=self.verified, signatures_checked=self.keys is not None,
            signed_through=self.signed_through,
            unsigned_tail=tail, witnessed_through=self.witnessed_through,
            issues=tuple(issues), issues_omitted=self._found - len(issues), issue_counts=dict(self.counts),
            notes=tuple(notes))


def _keys(public_keys: Iterable[PemSource | Ed25519PublicKey] | None) -> dict[str, Ed25519PublicKey] | None:
    if public_keys is None:
        return None
    keys = public_keys_by_id(public_keys)
    return keys or None


def verify_trail(events: Iterable[AuditEvent | Mapping[str, Any] | str | bytes],
                 public_keys: Iterable[PemSource | Ed25519PublicKey] | None = None, *,
                 source: str = "<events>", max_issues: int = MAX_ISSUES,
                 expect_head: tuple[int, str] | None = None, min_events: int | None = None,
                 max_unsigned: int | None = None, witness: Iterable[WitnessRecord] | None = None) -> VerifyReport:
    """Verify events in trail order (positions are 1-based indexes).

    What the trail alone cannot prove, the caller can say: ``expect_head=(sequence, hash)`` fails unless
    the trail ends exactly at that event (recorded off-host earlier: detects truncation, replacement and
    appends); ``min_events`` fails a trail with fewer events; ``max_unsigned`` (needs ``public_keys``)
    fails when more events than that follow the last verified checkpoint; ``witness`` (records from
    :func:`~agent_security.core.audit.witness.read_witness`) fails when a checkpoint a witness saw is not
    in the trail as it was.
    """
    v = _Verifier(_keys(public_keys), max_issues, expect_head=expect_head, min_events=min_events,
                  max_unsigned=max_unsigned, witness=witness)
    for pos, item in enumerate(events, start=1):
        v.add(pos, item)
    return v.report(source, "index")


def _verify_jsonl(fh: BinaryIO, source: str, v: _Verifier) -> VerifyReport:
    for lineno, raw in jsonl_lines(fh):
        if raw is None:
            v.malformed(lineno, "line is longer than the limit")
        elif not raw.strip():
            v.malformed(lineno, "empty line")
        else:
            v.add(lineno, raw)
    return v.report(source, "line")


def _verify_sqlite(path: Path, v: _Verifier) -> VerifyReport:
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
                    v.issue(row_id, event.sequence, "column_mismatch",
                            f"column(s) {', '.join(bad)} differ from the stored event")
        total = conn.execute("SELECT count(*) FROM audit_events").fetchone()[0]
        if total != rows_read:
            v.issue(max_id, None, "malformed",
                    f"the table counts {_safe(total)} row(s) but {rows_read} were read: a damaged or crafted "
                    "database (rows hidden from a scan in id order)")
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
            v.issue(max_id, None, "edited",
                    f"sqlite_sequence holds {_safe(seq)} for audit_events, not an integer")
        elif seq > max_id:
            v.issue(seq, None, "deleted",
                    f"rows after id {max_id} were deleted (the table has issued ids up to {seq})")
        elif seq < max_id and rows_read:
            v.issue(max_id, None, "edited",
                    f"sqlite_sequence says ids up to {seq} were issued, but row {max_id} exists")
    elif rows_read:
        v.issue(max_id, None, "deleted",
                "sqlite_sequence has no entry for audit_events although the table holds rows (the entry was "
                "removed): deletion of the last rows cannot be ruled out")
    return v.report(str(path), "row", notes)


def verify_file(path: str | os.PathLike[str],
                public_keys: Iterable[PemSource | Ed25519PublicKey] | None = None, *,
                max_issues: int = MAX_ISSUES, expect_head: tuple[int, str] | None = None,
                min_events: int | None = None, max_unsigned: int | None = None,
                witness: Iterable[WitnessRecord] | None = None) -> VerifyReport:
    """Verify a JSON Lines file or SQLite database written by the audit sinks.

    Raises :class:`TrailReadError` when the file cannot be read as a trail at all (it is missing, not a
    regular file — a FIFO or a device is refused before anything is read —, or not an audit database).
    At most ``max_issues`` issues are kept in the report; the rest are counted. ``expect_head``,
    ``min_events``, ``max_unsigned`` and ``witness``: see :func:`verify_trail`.
    """
    p = Path(path)
    v = _Verifier(_keys(public_keys), max_issues, expect_head=expect_head, min_events=min_events,
                  max_unsigned=max_unsigned, witness=witness)
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


def report_json(report: VerifyReport) -> str:
    return json.dumps(report.model_dump(mode="json"), indent=2)
