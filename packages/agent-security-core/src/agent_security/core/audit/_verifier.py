"""The verifier behind :mod:`agent_security.core.audit.verify`: one pass over a trail's events, in
position order, that keeps what it needs to tell each kind of tampering apart (see that module)."""

from __future__ import annotations

import base64
import binascii
import heapq
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from agent_security.core.audit._strict import MalformedEvent, parse_event
from agent_security.core.audit._strict import safe as _safe
from agent_security.core.audit.chain import CHECKPOINT_KEY, GENESIS_HASH, checkpoint_message, event_hash
from agent_security.core.audit.keys import PemSource, public_keys_by_id, verify_signature
from agent_security.core.audit.report import MAX_ISSUES, IssueKind, VerifyIssue, VerifyReport
from agent_security.core.audit.witness import WitnessRecord, witness_issues
from agent_security.core.models import AuditEvent

__all__ = ["Verifier", "keys_by_id"]

SQLITE_MAGIC = b"SQLite format 3\x00"


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


class Verifier:
    def __init__(
        self,
        keys: dict[str, Ed25519PublicKey] | None,
        max_issues: int = MAX_ISSUES,
        *,
        expect_head: tuple[int, str] | None = None,
        min_events: int | None = None,
        max_unsigned: int | None = None,
        witness: Iterable[WitnessRecord] | None = None,
    ) -> None:
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
        item = (-position, -self._found, VerifyIssue(position=position, sequence=sequence, kind=kind, message=message))
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
            self.issue(
                position, event.sequence, "edited", "content does not match its hash (changed after it was written)"
            )
        if event.sequence < 1:  # no trail holds it: a chain starts at sequence 1
            self.issue(
                position,
                event.sequence,
                "inserted",
                f"sequence {event.sequence} is below 1: the event is not part of the trail",
            )
            return None
        if event.kind == "lifecycle" and CHECKPOINT_KEY in event.data:
            self.checkpoint(position, event)
        self.links.append(_Link(position, event.sequence, event.hash or "", event.prev_hash or "", self.last_malformed))
        self.last_malformed = False
        return event

    def checkpoint(self, position: int, event: AuditEvent) -> None:
        self.checkpoints += 1
        cp = event.data.get(CHECKPOINT_KEY)
        fields = (
            (cp.get("head_sequence"), cp.get("head_hash"), cp.get("key_id"), cp.get("signature"))
            if isinstance(cp, Mapping)
            else (None, None, None, None)
        )
        head_seq, head_hash, kid, sig_b64 = fields
        signature: bytes | None = None
        if isinstance(sig_b64, str):
            try:
                signature = base64.b64decode(sig_b64, validate=True)
            except (binascii.Error, ValueError):
                signature = None
        if not (
            type(head_seq) is int and isinstance(head_hash, str) and isinstance(kid, str) and signature is not None
        ):
            self.issue(position, event.sequence, "bad_checkpoint", "checkpoint data is malformed")
            return
        if head_seq != event.sequence - 1 or head_hash != event.prev_hash:
            self.issue(position, event.sequence, "bad_checkpoint", "checkpoint does not sign the event just before it")
            return
        if self.keys is None:
            return
        key = self.keys.get(kid)
        if key is None:
            self.issue(
                position,
                event.sequence,
                "unknown_key",
                f"checkpoint signed by key {_safe(kid)}, which is not among the given public keys",
            )
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
                    missing = (
                        f"{lk.sequence - 1} earlier event(s) missing"
                        if lk.sequence > 1
                        else "its first event does not link to the genesis hash"
                    )
                    self.issue(
                        lk.position, lk.sequence, "deleted", f"the trail does not start at sequence 1: {missing}"
                    )
                continue
            prev = links[i - 1]
            if lk.prev_hash == prev.hash:
                if lk.sequence != prev.sequence + 1:
                    self.issue(
                        lk.position,
                        lk.sequence,
                        "edited",
                        f"sequence {lk.sequence} follows {prev.sequence} although the hashes link",
                    )
                continue
            j = by_hash.get(lk.prev_hash)
            if lk.after_malformed:
                self.issue(
                    lk.position,
                    lk.sequence,
                    "deleted",
                    "does not link to the event before it; the line(s) in between are unreadable",
                )
            elif j is not None and j < i - 1:
                shown = links[j + 1 : min(i, j + 11)]  # the skipped links are links[j + 1:i]
                where = ", ".join(str(s.position) for s in shown)
                where += "..." if i - j - 1 > 10 else ""
                if referenced_before[i] - referenced_before[j + 1] > 0:
                    self.issue(
                        lk.position,
                        lk.sequence,
                        "reordered",
                        f"should directly follow position {links[j].position}; position(s) {where} are out of order",
                    )
                else:
                    self.issue(
                        shown[0].position,
                        shown[0].sequence,
                        "inserted",
                        f"position(s) {where} are not part of the chain (nothing links to them; "
                        f"position {lk.position} links to position {links[j].position})",
                    )
            elif j is not None and j > i:
                self.issue(
                    lk.position,
                    lk.sequence,
                    "reordered",
                    f"appears before its predecessor (sequence {links[j].sequence}, position {links[j].position})",
                )
            elif lk.sequence == prev.sequence + 1:
                self.issue(
                    prev.position,
                    prev.sequence,
                    "edited",
                    f"rewritten with a recomputed hash: position {lk.position} links to a different event",
                )
            elif lk.sequence > prev.sequence + 1:
                gap = (
                    f"sequence {prev.sequence + 1}"
                    if lk.sequence == prev.sequence + 2
                    else f"sequences {prev.sequence + 1}..{lk.sequence - 1}"
                )
                self.issue(lk.position, lk.sequence, "deleted", f"{gap} missing before this event")
            else:
                self.issue(
                    lk.position,
                    lk.sequence,
                    "inserted",
                    f"links to an event not in the trail (sequence {lk.sequence} after {prev.sequence})",
                )

    def anchors(self, tail: int | None) -> None:
        """What the caller knows from elsewhere: the head, the least number of events, the most unsigned."""
        links = self.links
        end = links[-1].position if links else 0
        last = links[-1].sequence if links else None
        if self.min_events is not None and len(links) < self.min_events:
            self.issue(
                end,
                last,
                "truncated",
                f"the trail holds {len(links)} event(s); at least {self.min_events} were expected",
            )
        if self.expect_head is not None:
            seq, digest = self.expect_head
            at = next((lk for lk in links if lk.sequence == seq), None)
            if at is None and (last is None or last < seq):
                ends = f"ends at sequence {last}" if last is not None else "is empty"
                self.issue(end, last, "truncated", f"the expected head, sequence {seq}, is missing: the trail {ends}")
            elif at is None:
                self.issue(
                    end, last, "head_mismatch", f"the trail holds no event with sequence {seq}, the expected head"
                )
            elif at.hash != digest:
                self.issue(
                    at.position,
                    seq,
                    "head_mismatch",
                    f"the event with sequence {seq} has hash {_safe(at.hash, 16)}, not the expected "
                    f"head {digest[:16]}...: the trail was rewritten or replaced",
                )
            elif at is not links[-1]:
                self.issue(
                    links[-1].position,
                    last,
                    "head_mismatch",
                    f"the trail goes on after the expected head (sequence {seq}) to sequence {last}",
                )
        if self.max_unsigned is not None:
            unsigned = len(links) if tail is None else tail
            if unsigned > self.max_unsigned:
                since = (
                    f"the last verified checkpoint (sequence {self.verified_cp_sequence})"
                    if tail is not None
                    else "the start: none verified"
                )
                self.issue(
                    end,
                    last,
                    "unsigned",
                    f"{unsigned} event(s) are not covered by a signature since {since}; at most "
                    f"{self.max_unsigned} allowed",
                )

    def check_witness(self, notes: list[str]) -> None:
        """Compare the trail with what a witness saw (see :func:`witness_issues`)."""
        assert self.witness is not None
        found, self.witnessed_through = witness_issues(
            ((lk.position, lk.sequence, lk.hash) for lk in self.links), self.witness, self.keys
        )
        for position, sequence, kind, message in found:
            self.issue(position, sequence, kind, message)  # type: ignore[arg-type]
        if not self.witness:
            notes.append("The witness holds no checkpoint: nothing was compared with it.")
        elif self.keys is None:
            notes.append(
                "Witness records were compared by hash; their signatures were not checked (no public key given)."
            )
        last = self.links[-1].sequence if self.links else None
        if self.witnessed_through is not None and last is not None and last > self.witnessed_through:
            notes.append(
                f"Events after sequence {self.witnessed_through} are not witnessed yet: a truncation "
                "back to it would not be detected by the witness."
            )

    def report(self, source: str, label: str, extra_notes: Iterable[str] = ()) -> VerifyReport:
        self.link_pass()
        links = self.links
        last = links[-1].sequence if links else None
        notes = list(extra_notes)
        if self.keys is None:
            notes.append(
                "Signatures were not checked (no public key given): anyone who can write the trail "
                "can rewrite it consistently, or truncate it, without detection."
            )
        elif self.signed_through is None:
            notes.append(
                "No checkpoint signature verified: the whole trail could have been rewritten or "
                "truncated without detection."
            )
            signature_issues = ("bad_checkpoint", "bad_signature", "unknown_key")
            if links and not any(self.counts[k] for k in signature_issues):
                self.issue(
                    links[0].position,
                    None,
                    "unsigned",
                    "public keys were given but no checkpoint signature covers any event; the trail "
                    "may have been stripped of its checkpoints and recomputed",
                )
        tail: int | None = None
        if self.verified_cp_sequence is not None and last is not None:
            # events after the last verified checkpoint (the checkpoint itself is evidence, not content)
            tail = last - self.verified_cp_sequence
        if tail:
            notes.append(
                f"Events after sequence {self.signed_through} are not covered by a signature: "
                "removing or appending events there would not be detected."
            )
        self.anchors(tail)
        if self.witness is not None:
            self.check_witness(notes)
        if not links:
            notes.append(
                "The trail is empty. An emptied or replaced file verifies: give the number of events "
                "or the head you expect (--min-events, --expect-head) to tell."
            )
        elif self.expect_head is None:
            notes.append(
                f"Nothing here can show that events were cut from the end: record the head "
                f"({last}:{links[-1].hash}) off-host and verify later with --expect-head."
            )
        kept = sorted(self._kept, key=lambda x: (-x[0], -x[1]))  # by position, then as found
        issues = [i for _, _, i in kept]
        return VerifyReport(
            source=source,
            position_label=label,
            ok=not self.has_issues,
            events=len(links),
            first_sequence=links[0].sequence if links else None,
            last_sequence=last,
            head_hash=links[-1].hash if links else None,
            checkpoints=self.checkpoints,
            verified_checkpoints=self.verified,
            signatures_checked=self.keys is not None,
            signed_through=self.signed_through,
            unsigned_tail=tail,
            witnessed_through=self.witnessed_through,
            issues=tuple(issues),
            issues_omitted=self._found - len(issues),
            issue_counts=dict(self.counts),
            notes=tuple(notes),
        )


def keys_by_id(public_keys: Iterable[PemSource | Ed25519PublicKey] | None) -> dict[str, Ed25519PublicKey] | None:
    if public_keys is None:
        return None
    keys = public_keys_by_id(public_keys)
    return keys or None
