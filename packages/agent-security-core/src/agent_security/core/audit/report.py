"""What a verification found: the report and its issues (see :mod:`agent_security.core.audit.verify`)."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["MAX_ISSUES", "IssueKind", "VerifyIssue", "VerifyReport", "report_json"]

IssueKind = Literal[
    "edited",
    "deleted",
    "inserted",
    "reordered",
    "malformed",
    "column_mismatch",
    "bad_checkpoint",
    "bad_signature",
    "unknown_key",
    "unsigned",
    "truncated",
    "head_mismatch",
    "witness_mismatch",
]
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
        rng = f"sequence {self.first_sequence}..{self.last_sequence}" if self.events else "0 events"
        sig = (
            f"{self.verified_checkpoints}/{self.checkpoints} checkpoint signature(s) verified"
            if self.signatures_checked
            else f"{self.checkpoints} checkpoint(s), signatures not checked"
        )
        return f"{head}: {self.events} event(s), {rng}; {sig}"


def report_json(report: VerifyReport) -> str:
    return json.dumps(report.model_dump(mode="json"), indent=2)
