"""Reading an audit trail for posture: a JSON Lines file or a SQLite database written by the core's sinks.

The trail is read, never written, and never locked: posture runs beside the writers. Each event comes with
its :class:`Position` (where the next read resumes), so the forwarder can persist how far it got:

* JSON Lines: the byte offset after the event's line. A last line without its newline (a writer in the
  middle of an append) is not read yet; it is read once complete.
* SQLite: the event's ``sequence`` (``read_sqlite_rows`` reads rows after it, read-only, while writers run).

A fleet's Redis audit stream (``[core.audit] redis_stream``: every process's events in one stream) is read by
:class:`StreamReader` from its URL (``redis://``, ``rediss://``, ``redis+sentinel://``), in stream order.

A line or row that is not an audit event is skipped and counted in :attr:`TrailReader.skipped` (with its
line number or row in :attr:`TrailReader.problems`, at most :data:`MAX_PROBLEMS` kept). Unknown fields of a
newer schema are dropped, not fatal: posture reads what it knows.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from agent_security.core.audit.sinks import MAX_LINE_BYTES, read_sqlite_rows
from agent_security.core.files import open_regular
from agent_security.core.models import AuditEvent

__all__ = [
    "MAX_PROBLEMS",
    "STREAM_SCHEMES",
    "Position",
    "StreamReader",
    "TrailReader",
    "detect_format",
    "is_stream",
    "parse_event",
    "read_events",
]

MAX_PROBLEMS = 100
_SQLITE_MAGIC = b"SQLite format 3\x00"
_FIELDS = frozenset(AuditEvent.model_fields)

TrailFormat = Literal["jsonl", "sqlite"]
STREAM_SCHEMES = ("redis://", "rediss://", "redis+sentinel://")


def is_stream(source: str | os.PathLike[str]) -> bool:
    """Whether ``source`` names a Redis audit stream (a URL) rather than a trail file."""
    return isinstance(source, str) and source.startswith(STREAM_SCHEMES)


@dataclass(frozen=True)
class Position:
    """Where reading resumes: ``offset`` (JSON Lines: a byte offset; SQLite: a sequence number), plus the
    ``sequence`` and ``hash`` of the last event read, to tell a trail that was replaced from one that grew."""

    offset: int = 0
    sequence: int = 0
    hash: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"offset": self.offset, "sequence": self.sequence, "hash": self.hash}

    @classmethod
    def from_dict(cls, data: Any) -> Position:
        if not isinstance(data, dict):
            raise ValueError("a position is an object with offset, sequence and hash")
        offset, sequence, digest = data.get("offset"), data.get("sequence"), data.get("hash")
        if type(offset) is not int or type(sequence) is not int or offset < 0 or sequence < 0:
            raise ValueError("a position's offset and sequence are integers >= 0")
        if digest is not None and not isinstance(digest, str):
            raise ValueError("a position's hash is a string or null")
        return cls(offset, sequence, digest)


def detect_format(path: str | os.PathLike[str]) -> TrailFormat:
    """``"sqlite"`` for a SQLite database (by its header), else ``"jsonl"``."""
    with open_regular(path, what="audit trail") as fh:
        return "sqlite" if fh.read(16) == _SQLITE_MAGIC else "jsonl"


def parse_event(raw: bytes | str) -> AuditEvent:
    """An audit event from its JSON; fields this version does not know are dropped. ``ValueError`` when
    it is not an event."""
    try:
        return AuditEvent.model_validate_json(raw)
    except ValidationError:
        pass
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return AuditEvent.model_validate({k: v for k, v in data.items() if k in _FIELDS})


@dataclass
class TrailReader:
    """One trail file, read from a :class:`Position` on (see the module documentation)."""

    path: Path
    format: TrailFormat | None = None
    skipped: int = 0
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        if self.format is None:
            self.format = detect_format(self.path)

    def _problem(self, where: str, why: str) -> None:
        self.skipped += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(f"{self.path}:{where}: {why}")

    def read(self, after: Position | None = None) -> Iterator[tuple[Position, AuditEvent]]:
        """Each event after ``after`` (from the start when ``None``) with the position after it."""
        if self.format == "sqlite":
            yield from self._read_sqlite(after or Position())
        else:
            yield from self._read_jsonl(after or Position())

    def events(self) -> Iterator[AuditEvent]:
        """Every event, from the start."""
        for _, event in self.read():
            yield event

    def _read_jsonl(self, after: Position) -> Iterator[tuple[Position, AuditEvent]]:
        with open_regular(self.path, what="audit trail") as fh:
            size = os.fstat(fh.fileno()).st_size
            offset = after.offset if after.offset <= size else 0
            fh.seek(offset)
            lineno = 0
            while True:
                raw = fh.readline(MAX_LINE_BYTES + 1)
                if not raw:
                    return
                lineno += 1
                if not raw.endswith(b"\n"):
                    if len(raw) <= MAX_LINE_BYTES:
                        return  # a line still being written: read it once it is complete
                    while raw and not raw.endswith(b"\n"):
                        raw = fh.readline(MAX_LINE_BYTES + 1)
                    offset = fh.tell()
                    self._problem(f"+{lineno}", f"line longer than {MAX_LINE_BYTES} bytes")
                    continue
                offset += len(raw)
                body = raw.strip()
                if not body:
                    continue
                try:
                    event = parse_event(body)
                except ValueError as exc:
                    self._problem(f"+{lineno}", f"not an audit event ({type(exc).__name__})")
                    continue
                yield Position(offset, event.sequence, event.hash), event

    def _read_sqlite(self, after: Position) -> Iterator[tuple[Position, AuditEvent]]:
        for row_id, _cols, body in read_sqlite_rows(self.path, since_sequence=after.offset):
            try:
                if not isinstance(body, str) or len(body) > MAX_LINE_BYTES:
                    raise ValueError("oversized or missing event_json")
                event = parse_event(body)
            except ValueError as exc:
                self._problem(f"row {row_id}", f"not an audit event ({type(exc).__name__})")
                continue
            yield Position(event.sequence, event.sequence, event.hash), event


def read_events(path: str | os.PathLike[str]) -> Iterator[AuditEvent]:
    """Every event of the trail at ``path`` (JSON Lines or SQLite), skipping what is not an event."""
    return TrailReader(Path(path)).events()


@dataclass
class StreamReader:
    """A fleet's Redis audit stream (the core's ``RedisStreamAuditSink``), read in stream order from its
    ``url`` and ``namespace`` (the ``[core] store_namespace`` its writers use). Each process's events carry
    their own chain, interleaved: verify each chain at that process's own trail file."""

    url: str
    namespace: str | None = None
    skipped: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        """Where the events come from, for messages (the URL without its password)."""
        from agent_security.core.store.factory import redact_url

        return redact_url(self.url)

    def events(self) -> Iterator[AuditEvent]:
        from agent_security.core.audit import read_redis_stream

        for entry_id, _fields, body in read_redis_stream(self.url, namespace=self.namespace):
            try:
                if len(body) > MAX_LINE_BYTES:
                    raise ValueError("oversized entry")
                yield parse_event(body)
            except ValueError as exc:
                self.skipped += 1
                if len(self.problems) < MAX_PROBLEMS:
                    self.problems.append(f"{self.path}:{entry_id}: not an audit event ({type(exc).__name__})")
