"""The SQLite audit sink: one row per event in ``audit_events`` (indexed columns for queries plus the full
event JSON), WAL mode; any number of processes may share a database.

**Durability.** WAL with ``synchronous=FULL`` (default): each event is its own transaction and the WAL is
fsynced at commit, so a process crash *or* power loss loses at most the in-flight event.
``synchronous="NORMAL"`` is faster and still loses nothing on a process crash, but a power loss may lose
the most recent commits.

**Several writers.** As the trail's shared head (:meth:`SqliteAuditSink.lock_head`, used by
``AuditTrail.open``), each event is written in a ``BEGIN IMMEDIATE`` transaction that reads the last
row, chains the event on it and inserts it, so any number of processes appending to one database make one
chain. ``sequence`` is UNIQUE: a writer that chains on a stale head fails loudly instead of interleaving.
Readers (posture, the verifier) open the file read-only (:func:`read_sqlite_rows`) while writers run.

The SQLite layout is versioned in ``audit_meta`` (``store_schema``); the indexed columns are a fixed set
for queries, their values derived from the event (:func:`columns`), and ``event_json`` is authoritative.
"""

from __future__ import annotations

import enum
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from agent_security.core.audit._sinkbase import (
    LOCK_TIMEOUT_S,
    MAX_LINE_BYTES,
    Closing,
    WrittenAsHead,
    create_private,
)
from agent_security.core.audit.chain import format_timestamp
from agent_security.core.hookspecs import hookimpl
from agent_security.core.models import SCHEMA_VERSION, AuditEvent
from agent_security.core.sqlite_wal import use_wal

__all__ = ["INDEXED_COLUMNS", "SQLITE_STORE_SCHEMA", "SqliteAuditSink", "columns", "read_sqlite_rows"]

SQLITE_STORE_SCHEMA = "1"
INDEXED_COLUMNS = (
    "sequence",
    "event_id",
    "timestamp",
    "kind",
    "request_id",
    "agent_id",
    "tool_name",
    "environment",
    "outcome",
    "allowed",
    "plugin_source",
    "mode",
    "schema_version",
    "prev_hash",
    "hash",
)
"""The fields of an event kept as columns for queries (store schema 1)."""

_DDL = """
CREATE TABLE IF NOT EXISTS audit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sequence INTEGER NOT NULL UNIQUE,
    event_id TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    kind TEXT NOT NULL,
    request_id TEXT,
    agent_id TEXT,
    tool_name TEXT,
    environment TEXT,
    outcome TEXT,
    allowed INTEGER,
    plugin_source TEXT,
    mode TEXT NOT NULL,
    schema_version TEXT NOT NULL,
    prev_hash TEXT,
    hash TEXT NOT NULL,
    event_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_events_timestamp ON audit_events (timestamp);
CREATE INDEX IF NOT EXISTS audit_events_agent ON audit_events (agent_id, timestamp);
CREATE INDEX IF NOT EXISTS audit_events_tool ON audit_events (tool_name, timestamp);
CREATE INDEX IF NOT EXISTS audit_events_outcome ON audit_events (outcome, timestamp);
CREATE INDEX IF NOT EXISTS audit_events_request ON audit_events (request_id);
CREATE INDEX IF NOT EXISTS audit_events_kind ON audit_events (kind, timestamp);
"""


def _column_value(value: Any) -> Any:
    """A field's value as its column holds it: enums by value, booleans as 0/1, datetimes canonical."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return format_timestamp(value)
    return value


def columns(event: AuditEvent) -> dict[str, Any]:
    """The indexed column values of ``event`` (also used by the verifier to compare rows with JSON)."""
    return {name: _column_value(getattr(event, name)) for name in INDEXED_COLUMNS}


_INSERT = (
    f"INSERT INTO audit_events ({', '.join(INDEXED_COLUMNS)}, event_json) "  # noqa: S608 - fixed names
    f"VALUES ({', '.join('?' for _ in INDEXED_COLUMNS)}, ?)"
)


def _ro_connect(path: str | os.PathLike[str]) -> sqlite3.Connection:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(str(p))
    return sqlite3.connect(p.resolve().as_uri() + "?mode=ro", uri=True)


def read_sqlite_rows(
    path: str | os.PathLike[str], *, since_sequence: int = 0, batch: int = 1_000
) -> Iterator[tuple[int, dict[str, Any], str]]:
    """Rows of an audit database opened read-only, in insertion order: ``(row id, columns, event JSON)``.

    Safe while a writer is running (WAL readers do not block the writer).
    """
    conn = _ro_connect(path)
    try:
        cols = ", ".join(INDEXED_COLUMNS)
        cur = conn.execute(
            f"SELECT id, {cols}, event_json FROM audit_events "  # noqa: S608 - fixed names
            "WHERE sequence > ? ORDER BY id",
            (since_sequence,),
        )
        while rows := cur.fetchmany(batch):
            for row in rows:
                yield row[0], dict(zip(INDEXED_COLUMNS, row[1:-1], strict=True)), row[-1]
    finally:
        conn.close()


class _Head:
    """The database as the trail's head, in a write transaction (see :meth:`SqliteAuditSink.lock_head`)."""

    def __init__(self, sink: SqliteAuditSink, conn: sqlite3.Connection) -> None:
        self._sink = sink
        self._conn = conn
        self.written: list[str] = []

    @property
    def link(self) -> tuple[int, str] | None:
        return self._sink._last_row(self._conn)

    def append(self, event: AuditEvent) -> None:
        self._sink._insert(self._conn, event)
        self.written.append(event.hash or "")


class SqliteAuditSink(Closing):
    """Writes every event to a SQLite database (WAL). Thread-safe (one connection, one lock)."""

    fail_open = False

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
        name: str = "audit_sqlite",
        lock_timeout_s: float = LOCK_TIMEOUT_S,
    ) -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError("synchronous must be 'FULL' or 'NORMAL'")
        self.name = name
        self.path = Path(path)
        self._lock = threading.Lock()
        self._written = WrittenAsHead()
        create_private(self.path)  # SQLite gives the -wal and -shm files the database file's mode
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=lock_timeout_s
        )
        conn = self._conn
        try:
            mode = use_wal(conn, lock_timeout_s)
            if mode != "wal":
                raise OSError(f"{self.path}: cannot enable WAL mode (got {mode!r})")
            conn.execute(f"PRAGMA synchronous={synchronous}")
            conn.executescript(_DDL)
            conn.execute(
                "INSERT OR IGNORE INTO audit_meta (key, value) VALUES ('store_schema', ?), ('event_schema', ?)",
                (SQLITE_STORE_SCHEMA, SCHEMA_VERSION),
            )
            row = conn.execute("SELECT value FROM audit_meta WHERE key='store_schema'").fetchone()
            if row[0] != SQLITE_STORE_SCHEMA:
                raise OSError(
                    f"{self.path}: audit store schema {row[0]!r}, this version writes {SQLITE_STORE_SCHEMA!r}"
                )
        except BaseException:
            conn.close()
            raise

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError(f"audit sink {self.name!r} is closed")
        return self._conn

    @staticmethod
    def _last_row(conn: sqlite3.Connection) -> tuple[int, str] | None:
        row = conn.execute("SELECT sequence, hash FROM audit_events ORDER BY id DESC LIMIT 1").fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    @staticmethod
    def _insert(conn: sqlite3.Connection, event: AuditEvent) -> None:
        if event.hash is None:
            raise ValueError("only chained events (with a hash) can be written")
        body = event.model_dump_json()
        if len(body) > MAX_LINE_BYTES:
            raise ValueError(f"audit event {event.sequence} is larger than {MAX_LINE_BYTES} bytes")
        conn.execute(_INSERT, (*columns(event).values(), body))

    @contextmanager
    def lock_head(self) -> Iterator[_Head]:
        """The database as the trail's shared head: a ``BEGIN IMMEDIATE`` transaction (every other writer
        waits) that commits when the block ends, or rolls back if it raises."""
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            head = _Head(self, conn)
            try:
                yield head
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        for digest in head.written:
            self._written.add(digest)

    @hookimpl
    def agent_security_audit_event(self, event: AuditEvent) -> None:
        if self._written.take(event.hash):
            return  # written already, as the trail's head
        with self._lock:
            self._insert(self._connection(), event)

    def read(self, *, since_sequence: int = 0) -> Iterator[AuditEvent]:
        """Every stored event in insertion order (a read-only connection; safe during writes)."""
        for _, _, body in read_sqlite_rows(self.path, since_sequence=since_sequence):
            yield AuditEvent.model_validate_json(body)

    def last_link(self) -> tuple[int, str] | None:
        """``(sequence, hash)`` of the last stored event, to resume the chain; ``None`` when empty."""
        with self._lock:
            return self._last_row(self._connection())

    def count(self) -> int:
        with self._lock:
            return int(self._connection().execute("SELECT COUNT(*) FROM audit_events").fetchone()[0])

    @hookimpl
    def agent_security_shutdown(self) -> None:
        self.close()

    def close(self) -> None:
        """Checkpoint the WAL into the database file and close. Idempotent."""
        with self._lock:
            if self._conn is None:
                return
            try:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.OperationalError:  # another process is reading or writing: it checkpoints later
                pass
            finally:
                self._conn.close()
                self._conn = None
