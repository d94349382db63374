"""Audit sinks: plugins that receive every chained event (``agent_security_audit_event``) and keep it.

* :class:`MemoryAuditSink` — a bounded ring for ``get_audit_log``; eviction is counted (``dropped``),
  never silent.
* :class:`~agent_security.core.audit.sqlite_sink.SqliteAuditSink` — one row per event in
  ``audit_events`` (indexed columns for queries plus the full event JSON), WAL mode.
* :class:`~agent_security.core.audit.jsonl_sink.JsonlAuditSink` — one JSON object per line, appended.

Both file sinks make an event durable before ``agent_security_audit_event`` returns, so that an ALLOW is
never returned for a decision that a crash could erase, and both can be shared by any number of processes:
they are the trail's *shared heads* (``AuditTrail.open``), each event chained on the last one in the file
under a cross-process lock. Files are created with mode 0600.

Every sink is fail-closed (``fail_open = False``): if it cannot write, the pipeline turns an ALLOW into
DENY ``AUDIT_FAILURE``. The schema of rows and lines is the :class:`~agent_security.core.models.AuditEvent`
schema, versioned by ``schema_version``; the SQLite layout is versioned separately in ``audit_meta``
(``store_schema``).
"""

from __future__ import annotations

from collections import deque

from agent_security.core._speedups.locks import YieldingLock
from agent_security.core.audit._sinkbase import MAX_LINE_BYTES, PRIVATE_MODE, Closing
from agent_security.core.audit.jsonl_sink import JsonlAuditSink, jsonl_lines, read_jsonl_lines
from agent_security.core.audit.sqlite_sink import (
    INDEXED_COLUMNS,
    SQLITE_STORE_SCHEMA,
    SqliteAuditSink,
    columns,
    read_sqlite_rows,
)
from agent_security.core.hookspecs import hookimpl
from agent_security.core.models import AuditEvent

__all__ = [
    "INDEXED_COLUMNS",
    "MAX_LINE_BYTES",
    "PRIVATE_MODE",
    "SQLITE_STORE_SCHEMA",
    "JsonlAuditSink",
    "MemoryAuditSink",
    "SqliteAuditSink",
    "columns",
    "jsonl_lines",
    "read_jsonl_lines",
    "read_sqlite_rows",
]

_columns = columns  # the name 0.1's readers imported


class MemoryAuditSink(Closing):
    """The most recent ``max_events`` events, in memory."""

    fail_open = False

    def __init__(self, max_events: int = 10_000, *, name: str = "audit_memory") -> None:
        if max_events < 1:
            raise ValueError("max_events must be >= 1")
        self.name = name
        self.max_events = max_events
        self._events: deque[AuditEvent] = deque(maxlen=max_events)
        self._lock = YieldingLock()
        self.dropped = 0
        """Events evicted because the ring was full."""

    @hookimpl
    def agent_security_audit_event(self, event: AuditEvent) -> None:
        with self._lock:
            if len(self._events) == self.max_events:
                self.dropped += 1
            self._events.append(event)

    def events(self) -> list[AuditEvent]:
        """A copy of the retained events, oldest first."""
        with self._lock:
            return list(self._events)

    def clear(self) -> None:
        """Forget the retained events (the chain itself is untouched)."""
        with self._lock:
            self._events.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)

    def last_link(self) -> tuple[int, str] | None:
        with self._lock:
            if not self._events:
                return None
            last = self._events[-1]
        return (last.sequence, last.hash) if last.hash else None

    @hookimpl
    def agent_security_shutdown(self) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to release (events stay readable)."""
