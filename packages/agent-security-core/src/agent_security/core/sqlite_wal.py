"""Putting a SQLite database in WAL mode when several processes open it at once.

The SQLite store and the SQLite audit sink are opened by every hook process, and on a fresh database
each of them asks for WAL mode. Changing the journal mode needs the database to itself: SQLite answers
"database is locked" at once, without waiting in its busy handler, to a connection whose change would
deadlock with another's. :func:`use_wal` then reads the mode, which the connection that won has set,
and asks again while it is not WAL, until ``timeout_s`` has passed.
"""

from __future__ import annotations

import sqlite3
import time

__all__ = ["use_wal"]

_RETRY_S = 0.005


def _busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def use_wal(conn: sqlite3.Connection, timeout_s: float) -> str:
    """Put ``conn``'s database in WAL mode; the journal mode it is in afterwards (lower case: ``"wal"``
    unless the database cannot use WAL). Raises the last ``sqlite3.OperationalError`` when the database
    stays locked for ``timeout_s``, and any other error at once."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]).lower()
        except sqlite3.OperationalError as exc:
            if not _busy(exc):
                raise
            try:
                if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
                    return "wal"  # another connection switched it
            except sqlite3.OperationalError as again:
                if not _busy(again):
                    raise
            if time.monotonic() >= deadline:
                raise
            time.sleep(_RETRY_S)
