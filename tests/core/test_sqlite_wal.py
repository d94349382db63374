"""``use_wal``: a database that another connection holds while it asks for WAL mode is put in WAL mode
once that connection lets go (or found in it), not refused with "database is locked"; and many processes
opening one fresh SQLite store and audit sink at once all open it."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from agent_security.core.sqlite_wal import use_wal


def _held(path: Path) -> sqlite3.Connection:
    """A connection holding an exclusive lock on a fresh database in rollback-journal mode."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    return holder


class _Observed:
    """A real connection whose statements are recorded; ``on_read`` runs before the journal mode is read
    (which happens only after a refused change), so that the other connection lets go at that point."""

    def __init__(self, conn: sqlite3.Connection, on_read: Callable[[], None]) -> None:
        self.conn, self.on_read, self.asked = conn, on_read, []

    def execute(self, sql: str) -> sqlite3.Cursor:
        self.asked.append(sql)
        if sql == "PRAGMA journal_mode":
            self.on_read()
        return self.conn.execute(sql)


def test_a_locked_database_is_put_in_wal_mode_once_released(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    holder = _held(path)
    conn = sqlite3.connect(path, isolation_level=None, timeout=0)  # its own busy handler gives up at once

    def release() -> None:
        holder.execute("COMMIT")

    observed = _Observed(conn, release)
    assert use_wal(observed, 5.0) == "wal"  # type: ignore[arg-type]
    assert observed.asked == ["PRAGMA journal_mode=WAL", "PRAGMA journal_mode", "PRAGMA journal_mode=WAL"]
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    holder.close()


def test_wal_mode_set_by_the_other_connection_is_taken(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    holder = _held(path)
    conn = sqlite3.connect(path, isolation_level=None, timeout=0)

    def other_wins() -> None:
        holder.execute("COMMIT")
        holder.execute("PRAGMA journal_mode=WAL")

    observed = _Observed(conn, other_wins)
    assert use_wal(observed, 5.0) == "wal"  # type: ignore[arg-type]
    assert observed.asked == ["PRAGMA journal_mode=WAL", "PRAGMA journal_mode"]
    conn.close()
    holder.close()


def test_a_database_locked_past_the_timeout_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    holder = _held(path)
    conn = sqlite3.connect(path, isolation_level=None, timeout=0)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        use_wal(conn, 0.0)
    conn.close()
    holder.close()


_OPENER = textwrap.dedent(
    """
    import os, sys
    from agent_security.core.audit.sqlite_sink import SqliteAuditSink
    from agent_security.core.store.sqlite import SqliteStore
    go = sys.argv[1]
    while not os.path.exists(go):  # every process opens at the same moment
        pass
    SqliteAuditSink(sys.argv[2]).close()
    SqliteStore(sys.argv[3]).close()
    """
)


@pytest.mark.parametrize("round_", range(3))
def test_processes_opening_one_fresh_database_at_once_all_open_it(tmp_path: Path, round_: int) -> None:
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _OPENER, str(go), str(tmp_path / "audit.db"), str(tmp_path / "state.db")],
            stderr=subprocess.PIPE,
        )
        for _ in range(8)
    ]
    go.touch()
    errors = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, "\n".join(e[-1500:] for e in errors if e)
