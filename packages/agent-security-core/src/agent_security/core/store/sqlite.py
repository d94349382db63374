"""The SQLite store: state shared by every process on one machine (the default of the CLI and hooks).

One database file in WAL mode. Every operation is one transaction, ``BEGIN IMMEDIATE`` when it reads and
then writes, so the atomicity the store contract promises holds across processes: four processes
admitting against one limit never admit more than the limit, a kill written by one process is read by the
next check of every other, and an approval nonce claimed in one process is refused in all others.

* **Time.** TTLs and windows are epoch seconds from the store's clock, so they mean the same in every
  process. Expired rows read as missing and are purged from time to time (every
  :data:`PURGE_EVERY` writes of a process, at most :data:`PURGE_BATCH` rows of each kind).
* **Claims** live in their own table and are never deleted while live (a purge only removes expired
  ones, and ``delete`` / ``delete_prefix`` never touch claims). The store is bounded by the disk, not by
  a key count: it never refuses a claim for lack of room and never evicts live state.
* **Locking.** A writer waits up to ``timeout_s`` for another process's transaction; past that, or on any
  other SQLite error (a read-only or corrupt file), the operation raises
  :class:`~agent_security.core.errors.StoreUnavailable` and the built-in plugins deny
  (``STORE_UNAVAILABLE``).
* **Publish/subscribe** goes through a ``messages`` table. ``publish`` appends a row and calls this
  store's own subscribers at once; a subscriber thread started by the first ``subscribe`` polls the table
  every ``poll_interval_s`` and delivers other processes' messages in order, so a message reaches every
  subscribed process within about one interval. Messages are kept ``message_ttl_s`` (60 s): a
  subscriber that stalls longer misses them. Nothing relies on delivery for safety: the kill switch reads
  its flags on every check.
* **Durability.** ``synchronous=NORMAL``: a committed transaction survives the crash of any process; a
  power loss may lose the last transactions (never corrupts the file).

One connection per store object, used under a lock (SQLite serialises writers anyway); asynchronous
methods run the synchronous ones in a worker thread. Do not share a store object across ``fork``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from agent_security.core.clock import SYSTEM_CLOCK
from agent_security.core.errors import StoreError, StoreUnavailable
from agent_security.core.sqlite_wal import use_wal
from agent_security.core.store.base import AdmissionVerdict, CounterLimit, Store, Subscriber, TimeSource, WindowLimit
from agent_security.core.store.windows import Window

__all__ = ["PURGE_BATCH", "PURGE_EVERY", "SqliteStore"]

PURGE_EVERY = 512
PURGE_BATCH = 1_000
SCHEMA_VERSION = 1
MAX_MESSAGES_PER_POLL = 1_000

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS kv_expires ON kv (expires) WHERE expires IS NOT NULL",
    "CREATE TABLE IF NOT EXISTS windows (key TEXT PRIMARY KEY, entries TEXT NOT NULL, span REAL NOT NULL,"
    " until REAL NOT NULL) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS windows_until ON windows (until)",
    "CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, expires REAL NOT NULL) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS claims_expires ON claims (expires)",
    "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL,"
    " origin TEXT NOT NULL, body TEXT NOT NULL, created REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS messages_created ON messages (created)",
)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def _upper(prefix: str) -> str | None:
    """The least string above every string starting with ``prefix`` (``None``: no bound)."""
    while prefix:
        last = ord(prefix[-1])
        if last < 0x10FFFF:
            return prefix[:-1] + chr(last + 1)
        prefix = prefix[:-1]
    return None


class SqliteStore(Store):
    """A store in one SQLite file, safe for many processes on one machine (see the module documentation)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        namespace: str | None = None,
        clock: TimeSource = SYSTEM_CLOCK,
        timeout_s: float = 5.0,
        poll_interval_s: float = 0.05,
        message_ttl_s: float = 60.0,
    ) -> None:
        if not timeout_s > 0 or not poll_interval_s > 0 or not message_ttl_s > 0:
            raise ValueError("timeout_s, poll_interval_s and message_ttl_s must be positive")
        super().__init__(clock=clock, namespace=namespace)
        self.path = Path(path)
        self.timeout_s = float(timeout_s)
        self.poll_interval_s = float(poll_interval_s)
        self.message_ttl_s = float(message_ttl_s)
        self._lock = threading.RLock()
        self._origin = uuid.uuid4().hex
        self._writes = 0
        self._subs: dict[str, list[Subscriber]] = {}
        self._last_id = 0
        self._poller: threading.Thread | None = None
        self._stop = threading.Event()
        self._closed = False
        try:
            if not self.path.exists():  # private to its user: it holds kills, limits and nonces
                os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
            self._conn = sqlite3.connect(
                self.path, timeout=self.timeout_s, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(f"cannot open the SQLite store {str(self.path)!r}: {exc}") from exc
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(self.timeout_s * 1000)}")
            mode = use_wal(self._conn, self.timeout_s)
            if mode != "wal":
                raise StoreUnavailable(f"the SQLite store {str(self.path)!r} cannot use WAL mode ({mode})")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            with self._tx() as c:
                for statement in _SCHEMA:
                    c.execute(statement)
                row = c.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
                if row is None:
                    c.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
                elif row[0] != str(SCHEMA_VERSION):
                    raise StoreUnavailable(
                        f"the SQLite store {str(self.path)!r} has schema {row[0]}, this version reads {SCHEMA_VERSION}"
                    )
        except BaseException:
            self._conn.close()
            raise

    # -- transactions ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _tx(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction under this object's lock; any SQLite error is :class:`StoreUnavailable`."""
        with self._lock:
            if self._closed:
                raise StoreUnavailable("the SQLite store is closed")
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"SQLite store busy or unusable: {exc}") from exc
            try:
                yield conn
                if write:
                    self._writes += 1
                    if self._writes % PURGE_EVERY == 0:
                        self._purge(conn, self._time())
                conn.execute("COMMIT")
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StoreUnavailable(f"SQLite store operation failed: {exc}") from exc
                raise

    def _purge(self, conn: sqlite3.Connection, now: float) -> None:
        conn.execute("DELETE FROM kv WHERE key IN (SELECT key FROM kv WHERE expires <= ? LIMIT ?)", (now, PURGE_BATCH))
        conn.execute(
            "DELETE FROM windows WHERE key IN (SELECT key FROM windows WHERE until <= ? LIMIT ?)", (now, PURGE_BATCH)
        )
        conn.execute(
            "DELETE FROM claims WHERE key IN (SELECT key FROM claims WHERE expires <= ? LIMIT ?)", (now, PURGE_BATCH)
        )
        conn.execute(
            "DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE created <= ? LIMIT ?)",
            (now - self.message_ttl_s, PURGE_BATCH),
        )

    def purge(self) -> None:
        """Remove every expired row now (also done every :data:`PURGE_EVERY` writes)."""
        with self._tx() as c:
            now = self._time()
            c.execute("DELETE FROM kv WHERE expires <= ?", (now,))
            c.execute("DELETE FROM windows WHERE until <= ?", (now,))
            c.execute("DELETE FROM claims WHERE expires <= ?", (now,))
            c.execute("DELETE FROM messages WHERE created <= ?", (now - self.message_ttl_s,))

    @staticmethod
    def _loads(text: str) -> Any:
        try:
            return json.loads(text)
        except ValueError as exc:
            raise StoreError("the SQLite store holds a value that is not JSON") from exc

    def _read(self, conn: sqlite3.Connection, keys: Sequence[str], now: float) -> dict[str, Any]:
        """Live values of the physical ``keys`` (missing and expired keys absent)."""
        if not keys:
            return {}
        unique = list(dict.fromkeys(keys))
        marks = ",".join("?" * len(unique))
        query = f"SELECT key, value, expires FROM kv WHERE key IN ({marks})"  # noqa: S608
        rows = conn.execute(query, unique).fetchall()
        return {k: self._loads(v) for k, v, e in rows if e is None or now < e}

    # -- key/value -------------------------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        return self.get_many((key,), default)[0]

    def get_many(self, keys: Sequence[str], default: Any = None) -> list[Any]:
        physical = [self._keys.physical(k) for k in keys]
        with self._tx(write=False) as c:
            found = self._read(c, physical, self._time())
        return [found.get(k, default) for k in physical]

    def set(self, key: str, value: Any, *, ttl_s: float | None = None) -> None:
        k = self._keys.physical(key)
        with self._tx() as c:
            if value is None:
                c.execute("DELETE FROM kv WHERE key = ?", (k,))
                return
            expires = None if ttl_s is None else self._time() + ttl_s
            c.execute("INSERT OR REPLACE INTO kv VALUES (?, ?, ?)", (k, _dumps(value), expires))

    def delete(self, key: str) -> bool:
        k = self._keys.physical(key)
        with self._tx() as c:
            n = c.execute("DELETE FROM kv WHERE key = ?", (k,)).rowcount
            n += c.execute("DELETE FROM windows WHERE key = ?", (k,)).rowcount
        return n > 0

    def _range(self, prefix: str) -> tuple[str, tuple[str, ...]]:
        low = self._keys.physical(prefix)
        high = _upper(low)
        if high is None:
            return "key >= ?", (low,)
        return "key >= ? AND key < ?", (low, high)

    def delete_prefix(self, prefix: str) -> int:
        where, args = self._range(prefix)
        with self._tx() as c:
            n = c.execute(f"DELETE FROM kv WHERE {where}", args).rowcount  # noqa: S608
            n += c.execute(f"DELETE FROM windows WHERE {where}", args).rowcount  # noqa: S608
        return int(n)

    def scan(self, prefix: str) -> dict[str, Any]:
        where, args = self._range(prefix)
        low = self._keys.physical(prefix)
        with self._tx(write=False) as c:
            now = self._time()
            rows = c.execute(f"SELECT key, value, expires FROM kv WHERE {where}", args).fetchall()  # noqa: S608
        return {
            self._keys.logical(k): self._loads(v) for k, v, e in rows if k.startswith(low) and (e is None or now < e)
        }

    # -- counters and claims ---------------------------------------------------------------------
    @staticmethod
    def _incr(conn: sqlite3.Connection, key: str, amount: int, ttl_s: float | None, now: float) -> int:
        row = conn.execute("SELECT value, expires FROM kv WHERE key = ?", (key,)).fetchone()
        if row is not None and (row[1] is None or now < row[1]):
            new = int(json.loads(row[0])) + amount
            conn.execute("UPDATE kv SET value = ? WHERE key = ?", (str(new), key))
            return new
        expires = None if ttl_s is None else now + ttl_s
        conn.execute("INSERT OR REPLACE INTO kv VALUES (?, ?, ?)", (key, str(amount), expires))
        return amount

    def incr(self, key: str, amount: int = 1, *, ttl_s: float | None = None) -> int:
        k = self._keys.physical(key)
        with self._tx() as c:
            return self._incr(c, k, amount, ttl_s, self._time())

    def release(self, key: str, amount: int = 1) -> int | None:
        k = self._keys.physical(key)
        with self._tx() as c:
            found = self._read(c, (k,), self._time())
            if k not in found:
                return None
            new = max(0, int(found[k]) - amount)
            c.execute("UPDATE kv SET value = ? WHERE key = ?", (str(new), k))
            return new

    def claim(self, key: str, *, ttl_s: float) -> bool:
        k = self._keys.physical(key)
        with self._tx() as c:
            now = self._time()
            row = c.execute("SELECT expires FROM claims WHERE key = ?", (k,)).fetchone()
            if row is not None and now < row[0]:
                return False
            c.execute("INSERT OR REPLACE INTO claims VALUES (?, ?)", (k, now + ttl_s))
            return True

    # -- admission -------------------------------------------------------------------------------
    def admit(
        self,
        flags: Sequence[str] = (),
        windows: Sequence[WindowLimit] = (),
        counters: Sequence[CounterLimit] = (),
        *,
        now: float | None = None,
    ) -> AdmissionVerdict:
        phys = self._keys.physical
        flag_keys = [phys(k) for k in flags]
        window_keys = [phys(w[0]) for w in windows]
        counter_keys = [phys(c[0]) for c in counters]
        with self._tx(write=bool(windows or counters)) as c:
            t = self._time() if now is None else now
            values: tuple[Any, ...] = ()
            if flag_keys:
                found = self._read(c, flag_keys, t)
                values = tuple(found.get(k) for k in flag_keys)
                for i, value in enumerate(values):
                    if value is not None:
                        return AdmissionVerdict(False, values, (), (), "flag", i)
            loaded = self._windows(c, window_keys, windows, t)
            counts = tuple(loaded[k].total if k in loaded else 0 for k in window_keys)
            for i, (_, limit, _) in enumerate(windows):
                if 0 < limit <= counts[i]:
                    return AdmissionVerdict(False, values, counts, (), "window", i)
            current_values = self._read(c, counter_keys, t)
            current = [int(current_values.get(k, 0)) for k in counter_keys]
            for i, (_, cap, _, amount) in enumerate(counters):
                if cap is not None and current[i] + amount > cap:
                    return AdmissionVerdict(False, values, counts, tuple(current), "counter", i)
            if windows:
                after = []
                for k, (_, limit, span) in zip(window_keys, windows, strict=True):
                    window = loaded.get(k)
                    if window is None:
                        loaded[k] = window = Window(span)
                    window.record(t, limit)
                    after.append(window.total)
                for k in dict.fromkeys(window_keys):
                    window = loaded[k]
                    c.execute(
                        "INSERT OR REPLACE INTO windows VALUES (?, ?, ?, ?)",
                        (k, _dumps(window.dump()), window.span, (window.newest() or t) + window.span),
                    )
                counts = tuple(after)
            if counters:
                current = [
                    self._incr(c, k, amount, ttl_s, t)
                    for k, (_, _, ttl_s, amount) in zip(counter_keys, counters, strict=True)
                ]
            return AdmissionVerdict(True, values, counts, tuple(current))

    def _windows(
        self, conn: sqlite3.Connection, keys: Sequence[str], specs: Sequence[WindowLimit], now: float
    ) -> dict[str, Window]:
        """The live windows of ``keys``, trimmed at ``now`` (spans from ``specs``)."""
        if not keys:
            return {}
        spans = {k: spec[2] for k, spec in zip(keys, specs, strict=True)}
        unique = list(spans)
        marks = ",".join("?" * len(unique))
        rows = conn.execute(f"SELECT key, entries FROM windows WHERE key IN ({marks})", unique).fetchall()  # noqa: S608
        out = {}
        for key, entries in rows:
            window = Window.load(spans[key], self._loads(entries))
            window.trim(now)
            if window.entries:
                out[key] = window
        return out

    def window_count(self, key: str, *, window_s: float, now: float | None = None) -> int:
        k = self._keys.physical(key)
        with self._tx(write=False) as c:
            t = self._time() if now is None else now
            found = self._windows(c, (k,), (WindowLimit(k, 0, window_s),), t)
        return found[k].total if k in found else 0

    # -- publish/subscribe -----------------------------------------------------------------------
    def publish(self, channel: str, message: Any) -> None:
        body = _dumps(message)
        with self._tx() as c:
            c.execute(
                "INSERT INTO messages (channel, origin, body, created) VALUES (?, ?, ?, ?)",
                (self._keys.channel(channel), self._origin, body, self._time()),
            )
        self._deliver(channel, body)

    def _deliver(self, channel: str, body: str) -> None:
        with self._lock:
            subs = list(self._subs.get(channel, ()))
        for cb in subs:
            try:
                cb(channel, json.loads(body))
            except Exception:  # noqa: S112 - a subscriber's failure is its own; the others still get it
                continue

    def subscribe(self, channel: str, callback: Subscriber) -> Callable[[], None]:
        with self._lock:
            if not any(self._subs.values()):
                with self._tx(write=False) as c:  # start after what is already there
                    self._last_id = int(c.execute("SELECT COALESCE(MAX(id), 0) FROM messages").fetchone()[0])
            self._subs.setdefault(channel, []).append(callback)
            if self._poller is None or not self._poller.is_alive():
                self._stop.clear()
                self._poller = threading.Thread(
                    target=self._poll_loop, name="agent-security-sqlite-subscriber", daemon=True
                )
                self._poller.start()

        def unsubscribe() -> None:
            with self._lock:
                subs = self._subs.get(channel, [])
                if callback in subs:
                    subs.remove(callback)

        return unsubscribe

    def poll(self) -> int:
        """Deliver the messages other processes published since the last poll; return how many. The
        subscriber thread calls this every ``poll_interval_s``."""
        with self._lock:
            if not any(self._subs.values()):
                return 0
            prefix = self._keys.channel("")
            with self._tx(write=False) as c:
                rows = c.execute(
                    "SELECT id, channel, origin, body FROM messages WHERE id > ? ORDER BY id LIMIT ?",
                    (self._last_id, MAX_MESSAGES_PER_POLL),
                ).fetchall()
            if rows:
                self._last_id = int(rows[-1][0])
        delivered = 0
        for _, channel, origin, body in rows:
            if origin == self._origin or not channel.startswith(prefix):
                continue
            self._deliver(channel[len(prefix) :], body)
            delivered += 1
        return delivered

    def _poll_loop(self) -> None:
        while not self._stop.wait(self.poll_interval_s):
            with contextlib.suppress(StoreError):  # busy now: the next round reads the same rows
                self.poll()

    def close(self) -> None:
        self._stop.set()
        poller = self._poller
        if poller is not None and poller is not threading.current_thread():
            poller.join(timeout=max(1.0, 2 * self.poll_interval_s))
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r}, namespace={self.namespace!r})"
