"""Reading the rows of an audit database for the verifier: every row of ``audit_events`` in id order, each
value bounded in size, from a read-only connection; a database that is not an audit trail is refused
(:class:`TrailReadError`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agent_security.core.audit._strict import safe as _safe
from agent_security.core.audit.sinks import INDEXED_COLUMNS, MAX_LINE_BYTES
from agent_security.core.errors import AgentSecurityError

__all__ = ["Row", "TrailReadError", "check_table", "sqlite_connect", "sqlite_rows"]

_SQLITE_VALUE_LIMIT = 4 * MAX_LINE_BYTES
"""Bytes: SQLite refuses to load a larger value from the database at all (one UTF-8 character of an
event may take four bytes; the character limit of an event is :data:`MAX_LINE_BYTES`)."""


class TrailReadError(AgentSecurityError):
    """The trail could not be read at all (missing file, not a trail, unreadable database)."""


_ROW_COLUMNS = ("id", *INDEXED_COLUMNS, "event_json")


def sqlite_connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, _SQLITE_VALUE_LIMIT)
    return conn


def check_table(conn: sqlite3.Connection) -> None:
    """Refuse an ``audit_events`` that is not a plain table with the sink's columns: a view (which could
    compute rows without end), a virtual table, or computed columns make reading it unbounded."""
    rows = conn.execute("SELECT type, sql FROM sqlite_master WHERE name = 'audit_events' COLLATE NOCASE").fetchall()
    if not rows:
        raise TrailReadError("no audit_events table: not an audit database")
    kind, sql = rows[0]
    if kind != "table" or not (isinstance(sql, str) and sql[:13].upper() == "CREATE TABLE "):
        what = (
            "a virtual table"
            if kind == "table"
            else f"a {kind}"
            if kind in ("view", "index", "trigger")
            else f"of type {_safe(kind)}"
        )
        raise TrailReadError(f"audit_events is {what}, not a table: not an audit database")
    columns = {str(r[1]).lower(): r for r in conn.execute("PRAGMA table_xinfo(audit_events)")}
    missing = [c for c in _ROW_COLUMNS if c not in columns]
    if missing:
        raise TrailReadError(f"audit_events lacks column(s) {', '.join(missing)}: not an audit database")
    computed = [name for name, r in columns.items() if r[6]]
    if computed:
        raise TrailReadError(f"audit_events has computed column(s) {_safe(', '.join(computed))}: not an audit database")


_SELECT = (
    f"SELECT id, {', '.join(INDEXED_COLUMNS)}, "  # noqa: S608 - fixed names
    f"CASE WHEN length(event_json) > {MAX_LINE_BYTES} THEN NULL ELSE event_json END, "
    f"length(event_json) > {MAX_LINE_BYTES} FROM audit_events"
)

Row = tuple[int, dict[str, Any] | None, Any, str | None]
"""``(row id, columns, event_json, problem)``: ``columns`` is ``None`` when the row could not be loaded."""


def _unloadable(exc: sqlite3.Error) -> bool:
    """A row SQLite refuses to load (a value over the length limit) or whose text is not UTF-8."""
    if isinstance(exc, sqlite3.DataError):
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_TOOBIG
    return isinstance(exc, sqlite3.OperationalError) and str(exc).startswith("Could not decode")


def _row_id(value: Any) -> int:
    if type(value) is not int:
        raise TrailReadError(
            f"audit_events holds a row whose id is {_safe(value)}, not an integer: not an audit database"
        )
    return value


def _row(row: tuple[Any, ...]) -> Row:
    row_id = _row_id(row[0])
    cols = dict(zip(INDEXED_COLUMNS, row[1:-2], strict=True))
    if row[-1]:
        return row_id, cols, None, f"event_json is longer than {MAX_LINE_BYTES} characters"
    return row_id, cols, row[-2], None


def _lenient_text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _read_one(conn: sqlite3.Connection, row_id: int) -> Row:
    """One row read alone, after the scan failed on it."""
    query = f"{_SELECT} WHERE id = ?"
    try:
        raw = conn.execute(query, (row_id,)).fetchone()
    except sqlite3.Error as exc:
        if not _unloadable(exc):
            raise
        if isinstance(exc, sqlite3.DataError):
            return row_id, None, None, f"the row holds a value larger than {_SQLITE_VALUE_LIMIT} bytes"
        conn.text_factory = _lenient_text
        try:
            conn.execute(query, (row_id,)).fetchone()
        except sqlite3.DataError:
            return row_id, None, None, f"the row holds a value larger than {_SQLITE_VALUE_LIMIT} bytes"
        finally:
            conn.text_factory = str
        return row_id, None, None, "the row holds text that is not valid UTF-8"
    if raw is None:
        return row_id, None, None, "the row vanished while it was read"
    return _row(raw)


def sqlite_rows(conn: sqlite3.Connection) -> Iterator[Row]:
    """Every row of ``audit_events`` in id order, with no filter, each value bounded in size.

    A row SQLite refuses to load (a value over :data:`_SQLITE_VALUE_LIMIT` bytes, text that is not UTF-8)
    is reported with ``columns=None`` and reading resumes after it. A row id that is not an integer (not a
    table the sink made) raises :class:`TrailReadError`.
    """
    after: int | None = None
    while True:
        try:  # executing steps to the first row: it may fail already
            cur = (
                conn.execute(f"{_SELECT} ORDER BY id")
                if after is None
                else conn.execute(f"{_SELECT} WHERE id > ? ORDER BY id", (after,))
            )
            for raw in cur:
                row = _row(raw)
                after = row[0]
                yield row
            return
        except sqlite3.Error as exc:
            if not _unloadable(exc):
                raise
        # The failing row is the next one, or the one after it (the cursor reads a row ahead): read the
        # next row alone, then resume the scan after it.
        nxt = (
            conn.execute("SELECT id FROM audit_events ORDER BY id LIMIT 1")
            if after is None
            else conn.execute("SELECT id FROM audit_events WHERE id > ? ORDER BY id LIMIT 1", (after,))
        ).fetchone()
        if nxt is None:
            return
        row = _read_one(conn, _row_id(nxt[0]))
        after = row[0]
        yield row
