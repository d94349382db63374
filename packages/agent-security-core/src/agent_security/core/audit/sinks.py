"""Audit sinks: plugins that receive every chained event (``agent_security_audit_event``) and keep it.

* :class:`MemoryAuditSink` — a bounded ring for ``get_audit_log``; eviction is counted (``dropped``),
  never silent.
* :class:`SqliteAuditSink` — one row per event in ``audit_events`` (indexed columns for queries plus the
  full event JSON), WAL mode. Posture and other readers open the file read-only
  (:func:`read_sqlite_events`) while the writer runs.
* :class:`JsonlAuditSink` — one JSON object per line, appended.

**Durability.** Both file sinks make an event durable before ``agent_security_audit_event`` returns, so
that an ALLOW is never returned for a decision that a crash could erase:

* SQLite: WAL with ``synchronous=FULL`` (default): each event is its own transaction and the WAL is
  fsynced at commit, so a process crash *or* power loss loses at most the in-flight event.
  ``synchronous="NORMAL"`` is faster and still loses nothing on a process crash, but a power loss may lose
  the most recent commits.
* JSON Lines: the line is written with one ``write`` call, flushed, and ``fsync``-ed (default
  ``fsync=True``: at most the in-flight event is lost, and a torn last line is detected). With
  ``fsync=False`` a process crash loses nothing already written, a power loss may lose recent lines.

On open, a JSON Lines file that does not end with a newline (a torn write) gets one, so the torn line stays
visible to the verifier as a malformed line instead of being glued to the next event.
A JSON Lines write that fails, is short or whose fsync fails is undone (the file is cut back to its length
before it); if it cannot be undone, the sink refuses every later write.

**One writer per file.** Each file holds one chain; resume it after a restart with
``AuditTrail.resume(dispatch, sink)`` (``last_link()``). The SQLite table has a UNIQUE ``sequence``, so a
second writer starting a fresh chain in the same file fails loudly instead of interleaving.

Every sink is fail-closed (``fail_open = False``): if it cannot write, the pipeline turns an ALLOW into
DENY ``AUDIT_FAILURE``. The schema of rows and lines is the :class:`~agent_security.core.models.AuditEvent`
schema, versioned by ``schema_version``; the SQLite layout is versioned separately in ``audit_meta``
(``store_schema``).
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import stat
import threading
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Literal, Self

from agent_security.core.audit.chain import format_timestamp
from agent_security.core.files import open_regular
from agent_security.core.hookspecs import hookimpl
from agent_security.core.models import SCHEMA_VERSION, AuditEvent

__all__ = [
    "MAX_LINE_BYTES",
    "SQLITE_STORE_SCHEMA",
    "JsonlAuditSink",
    "MemoryAuditSink",
    "SqliteAuditSink",
    "read_jsonl_lines",
    "read_sqlite_rows",
]

MAX_LINE_BYTES = 4 * 1024 * 1024
"""Largest event (serialised) a file sink writes or a reader accepts."""
SQLITE_STORE_SCHEMA = "1"
INDEXED_COLUMNS = ("sequence", "event_id", "timestamp", "kind", "request_id", "agent_id", "tool_name",
                   "environment", "outcome", "allowed", "plugin_source", "mode", "schema_version",
                   "prev_hash", "hash")


class _Closing:
    """Context-manager support: ``with JsonlAuditSink(path) as sink: ...`` closes the sink."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MemoryAuditSink(_Closing):
    """The most recent ``max_events`` events, in memory."""

    fail_open = False

    def __init__(self, max_events: int = 10_000, *, name: str = "audit_memory") -> None:
        if max_events < 1:
            raise ValueError("max_events must be >= 1")
        self.name = name
        self.max_events = max_events
        self._events: deque[AuditEvent] = deque(maxlen=max_events)
        self._lock = threading.Lock()
        self.dropped = 0
        """Events evicted because the ring was full."""

    @hookimpl
    def agent_security_audit_event(self, event: AuditEvent) -> None:
        lock = self._lock
        lock.acquire()  # (acquire/release: cheaper than a with block in the compiled build, on every check)
        try:
            if len(self._events) == self.max_events:
                self.dropped += 1
            self._events.append(event)
        finally:
            lock.release()

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


# --------------------------------------------------------------------------------------------------
# SQLite
# --------------------------------------------------------------------------------------------------

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


def _columns(event: AuditEvent) -> dict[str, Any]:
    """The indexed column values of ``event`` (also used by the verifier to compare rows with JSON)."""
    return {
        "sequence": event.sequence,
        "event_id": event.event_id,
        "timestamp": format_timestamp(event.timestamp),
        "kind": event.kind,
        "request_id": event.request_id,
        "agent_id": event.agent_id,
        "tool_name": event.tool_name,
        "environment": event.environment,
        "outcome": event.outcome.value if event.outcome is not None else None,
        "allowed": None if event.allowed is None else int(event.allowed),
        "plugin_source": event.plugin_source,
        "mode": event.mode,
        "schema_version": event.schema_version,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


PRIVATE_MODE = 0o600
"""Mode of every audit file a sink creates (whatever the umask): the trail is for its owner only."""
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _create_private(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if it does not exist (an existing file keeps its mode)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), PRIVATE_MODE)
    except FileExistsError:
        return
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, PRIVATE_MODE)  # the umask may have taken bits away: set exactly 0600
    finally:
        os.close(fd)


def _ro_connect(path: str | os.PathLike[str]) -> sqlite3.Connection:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(str(p))
    return sqlite3.connect(p.resolve().as_uri() + "?mode=ro", uri=True)


def read_sqlite_rows(path: str | os.PathLike[str], *, since_sequence: int = 0,
                     batch: int = 1_000) -> Iterator[tuple[int, dict[str, Any], str]]:
    """Rows of an audit database opened read-only, in insertion order: ``(row id, columns, event JSON)``.

    Safe while a writer is running (WAL readers do not block the writer).
    """
    conn = _ro_connect(path)
    try:
        cols = ", ".join(INDEXED_COLUMNS)
        cur = conn.execute(f"SELECT id, {cols}, event_json FROM audit_events "  # noqa: S608 - fixed names
                           "WHERE sequence > ? ORDER BY id", (since_sequence,))
        while rows := cur.fetchmany(batch):
            for row in rows:
                yield row[0], dict(zip(INDEXED_COLUMNS, row[1:-1], strict=True)), row[-1]
    finally:
        conn.close()


class SqliteAuditSink(_Closing):
    """Writes every event to a SQLite database (WAL). Thread-safe (one connection, one lock)."""

    fail_open = False

    def __init__(self, path: str | os.PathLike[str], *, synchronous: Literal["FULL", "NORMAL"] = "FULL",
                 name: str = "audit_sqlite") -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError("synchronous must be 'FULL' or 'NORMAL'")
        self.name = name
        self.path = Path(path)
        self._lock = threading.Lock()
        _create_private(self.path)  # SQLite gives the -wal and -shm files the database file's mode
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False)
        conn = self._conn
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise OSError(f"{self.path}: cannot enable WAL mode (got {mode!r})")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.executescript(_DDL)
        row = conn.execute("SELECT value FROM audit_meta WHERE key='store_schema'").fetchone()
        if row is None:
            conn.execute("INSERT INTO audit_meta (key, value) VALUES ('store_schema', ?), "
                         "('event_schema', ?)", (SQLITE_STORE_SCHEMA, SCHEMA_VERSION))
        elif row[0] != SQLITE_STORE_SCHEMA:
            raise OSError(f"{self.path}: audit store schema {row[0]!r}, this version writes "
                          f"{SQLITE_STORE_SCHEMA!r}")

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError(f"audit sink {self.name!r} is closed")
        return self._conn

    @hookimpl
    def agent_security_audit_event(self, event: AuditEvent) -> None:
        if event.hash is None:
            raise ValueError("only chained events (with a hash) can be written")
        body = event.model_dump_json()
        if len(body) > MAX_LINE_BYTES:
            raise ValueError(f"audit event {event.sequence} is larger than {MAX_LINE_BYTES} bytes")
        cols = _columns(event)
        names = ", ".join(cols)
        marks = ", ".join("?" for _ in cols)
        with self._lock:
            self._connection().execute(
                f"INSERT INTO audit_events ({names}, event_json) VALUES ({marks}, ?)",  # noqa: S608
                (*cols.values(), body))

    def read(self, *, since_sequence: int = 0) -> Iterator[AuditEvent]:
        """Every stored event in insertion order (a read-only connection; safe during writes)."""
        for _, _, body in read_sqlite_rows(self.path, since_sequence=since_sequence):
            yield AuditEvent.model_validate_json(body)

    def last_link(self) -> tuple[int, str] | None:
        """``(sequence, hash)`` of the last stored event, to resume the chain; ``None`` when empty."""
        with self._lock:
            row = self._connection().execute(
                "SELECT sequence, hash FROM audit_events ORDER BY id DESC LIMIT 1").fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

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
            finally:
                self._conn.close()
                self._conn = None


# --------------------------------------------------------------------------------------------------
# JSON Lines
# --------------------------------------------------------------------------------------------------


def read_jsonl_lines(path: str | os.PathLike[str]) -> Iterator[tuple[int, bytes | None]]:
    """``(line number, raw line)`` for each line; ``None`` for a line over :data:`MAX_LINE_BYTES`.

    Only a regular file is read (a FIFO or a device raises :class:`OSError` instead of blocking).
    """
    with open_regular(path) as fh:
        yield from jsonl_lines(fh)


def jsonl_lines(fh: BinaryIO) -> Iterator[tuple[int, bytes | None]]:
    """:func:`read_jsonl_lines` for a file already open (binary, positioned at the start)."""
    lineno = 0
    while True:
        raw = fh.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        lineno += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):  # skip the rest of the oversized line
                raw = fh.readline(MAX_LINE_BYTES + 1)
            yield lineno, None
            continue
        yield lineno, raw.rstrip(b"\n")


class JsonlAuditSink(_Closing):
    """Appends every event to a JSON Lines file (see the module doc for the fsync policy)."""

    fail_open = False

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = True,
                 name: str = "audit_jsonl") -> None:
        self.name = name
        self.path = Path(path)
        self.fsync = fsync
        self._lock = threading.Lock()
        self._broken: str | None = None
        self._fh: Any = os.fdopen(self._open(), "ab", buffering=0)
        fd = self._fh.fileno()
        size = os.fstat(fd).st_size
        if size and os.lseek(fd, size - 1, os.SEEK_SET) >= 0 and os.read(fd, 1) != b"\n":
            # torn last line: keep it visible, start a fresh line
            self._fh.write(b"\n")
            self._sync()

    def _open(self) -> int:
        """The file opened for appending: created 0600 (whatever the umask); a symbolic link, a FIFO or a
        device is refused."""
        flags = (os.O_RDWR | os.O_APPEND | os.O_CREAT | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0)
                 | getattr(os, "O_CLOEXEC", 0))
        _create_private(self.path)
        try:
            fd = os.open(self.path, flags, PRIVATE_MODE)
        except OSError as exc:
            if exc.errno == errno.ELOOP or (exc.errno == errno.EMLINK and self.path.is_symlink()):
                raise OSError(exc.errno, f"{self.path} is a symbolic link; the audit sink does not follow "
                                         "links") from None
            raise
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError(errno.EINVAL, f"{self.path} is not a regular file")
            if hasattr(os, "O_NONBLOCK"):
                os.set_blocking(fd, True)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _sync(self) -> None:
        if self.fsync:
            os.fsync(self._fh.fileno())

    @hookimpl
    def agent_security_audit_event(self, event: AuditEvent) -> None:
        if event.hash is None:
            raise ValueError("only chained events (with a hash) can be written")
        line = event.model_dump_json().encode() + b"\n"
        if len(line) > MAX_LINE_BYTES:
            raise ValueError(f"audit event {event.sequence} is larger than {MAX_LINE_BYTES} bytes")
        with self._lock:
            if self._fh is None:
                raise RuntimeError(f"audit sink {self.name!r} is closed")
            if self._broken is not None:
                raise OSError(f"{self.path}: audit sink {self.name!r} refuses to write: {self._broken}")
            fd = self._fh.fileno()
            before = os.fstat(fd).st_size
            try:
                written = self._fh.write(line)
                if written != len(line):
                    raise OSError(f"{self.path}: short write ({written} of {len(line)} bytes)")
                self._sync()
            except BaseException as exc:
                self._undo(fd, before, exc)
                raise

    def _undo(self, fd: int, size: int, exc: BaseException) -> None:
        """Cut the file back to ``size`` after a failed write or fsync, so that neither torn bytes (the next
        line would be glued to them) nor an event the caller was told failed stay in it. If that fails
        too, every later write is refused (the pipeline denies with ``AUDIT_FAILURE``)."""
        try:
            os.ftruncate(fd, size)
            self._sync()
        except OSError as undo_exc:
            self._broken = (f"an earlier write failed ({exc}) and could not be undone ({undo_exc}); "
                            "the end of the file may hold a partial or unconfirmed event")

    def read(self) -> Iterator[AuditEvent]:
        """Every event in file order (a malformed line raises ``ValueError`` naming the line)."""
        for lineno, raw in read_jsonl_lines(self.path):
            if not raw:
                raise ValueError(f"{self.path}:{lineno}: empty or oversized line")
            try:
                yield AuditEvent.model_validate_json(raw)
            except ValueError as exc:
                raise ValueError(f"{self.path}:{lineno}: not an audit event ({type(exc).__name__})") from None

    def last_link(self) -> tuple[int, str] | None:
        """``(sequence, hash)`` of the last well-formed event in the file; ``None`` for an empty file.

        Only the tail is read. A file whose tail holds no readable event raises ``ValueError`` (resuming
        at sequence 1 would silently start a second chain in the same file).
        """
        with self._lock:
            size = self.path.stat().st_size
            if size == 0:
                return None
            with self.path.open("rb") as fh:
                start = max(0, size - 2 * MAX_LINE_BYTES)
                fh.seek(start)
                tail = fh.read()
        lines = tail.split(b"\n")
        if start > 0:
            lines = lines[1:]  # the first piece may be a partial line
        for raw in reversed(lines):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
                seq, h = data["sequence"], data["hash"]
            except (ValueError, KeyError, TypeError):
                continue
            if isinstance(seq, int) and isinstance(h, str):
                return seq, h
        raise ValueError(f"{self.path}: no readable audit event at the end of the file; "
                         "cannot resume the chain")

    @hookimpl
    def agent_security_shutdown(self) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._fh is None:
                return
            try:
                self._sync()
            finally:
                self._fh.close()
                self._fh = None
