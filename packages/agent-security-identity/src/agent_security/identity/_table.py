"""A registry table kept behind the core store, read through an in-process cache.

Every record lives under its own key (``identity:<kind>:<encoded id>``), so a fleet sharing a store
(SQLite file, Redis) shares the registry. A lookup on the check path never touches the store: it reads
the in-process snapshot, a dict (O(1)). The snapshot is rebuilt from the store when the table's version
key (``identity:<kind>:version``, a fresh random value after every write) differs from the one it was
built at. The version key is read at most once per ``refresh_s`` seconds (monotonic clock; ``0``: on
every lookup), so a change made by another process is seen within ``refresh_s``; a change made through
this object is seen at once. A reload that finds the same records keeps the snapshot it had: the same
snapshot object means the same records (:meth:`StoredTable.snapshot`).

A store error while refreshing propagates (:class:`~agent_security.core.errors.StoreError`): the
enforcer turns it into a DENY ``STORE_UNAVAILABLE``.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from agent_security.core.store import MemoryStore, Store

__all__ = ["StoredTable"]

R = TypeVar("R")

_PREFIX = "identity:"


def _encode(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


class StoredTable(Generic[R]):
    """Records of one kind (``agent``, ``tool``, ``jti``) keyed by a canonical id (see the module docs)."""

    def __init__(
        self,
        kind: str,
        parse: Callable[[Mapping[str, Any]], R],
        *,
        store: Store | None = None,
        refresh_s: float = 1.0,
        on_reload: Callable[[dict[str, R]], None] | None = None,
    ) -> None:
        if refresh_s < 0:
            raise ValueError("refresh_s must be >= 0")
        self.kind = kind
        self._parse = parse
        self._prefix = f"{_PREFIX}{kind}:rec:"
        self._version_key = f"{_PREFIX}{kind}:version"
        self._store: Store = store if store is not None else MemoryStore()
        self._bound = store is not None
        self.refresh_s = refresh_s
        self._on_reload = on_reload
        self._lock = threading.Lock()
        self._snapshot: dict[str, R] = {}
        self._version: Any = object()  # never equal to a stored version: the first read loads
        self._checked_at = -float("inf")

    # -- store binding ----------------------------------------------------------------------------
    @property
    def store(self) -> Store:
        return self._store

    def bind_store(self, store: Store) -> None:
        """Use ``store`` from now on unless one was given explicitly; records written to the private
        placeholder so far are carried over (written where missing)."""
        with self._lock:
            if self._bound or store is self._store:
                self._bound = True
                return
            old = self._store.scan(self._prefix)
            if old:
                present = store.scan(self._prefix)
                for key, value in old.items():
                    if key not in present:
                        store.set(key, value)
                store.set(self._version_key, uuid.uuid4().hex)
            self._store, self._bound = store, True
            self._checked_at = -float("inf")
            self._version = object()

    # -- reads ------------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, R]:
        """The current records by id (refreshed when the store's version moved). Do not mutate."""
        now = time.monotonic()
        if now - self._checked_at >= self.refresh_s:
            self._refresh(now)
        return self._snapshot

    def get(self, key: str) -> R | None:
        return self.snapshot().get(key)

    def _refresh(self, now: float) -> None:
        version = self._store.get(self._version_key)
        if version is not None and version == self._version:
            self._checked_at = now
            return
        with self._lock:
            version = self._store.get(self._version_key)
            if version is not None and version == self._version:
                self._checked_at = now
                return
            raw = self._store.scan(self._prefix)
            records: dict[str, R] = {}
            for value in raw.values():
                if not isinstance(value, Mapping):
                    continue
                try:
                    record = self._parse(value)
                except (ValueError, TypeError):
                    continue  # a record another writer spoiled is not a registration
                records[self.key_of(record)] = record
            if records == self._snapshot:
                records = self._snapshot  # the same records (a store without a version is read again)
            elif self._on_reload is not None:
                self._on_reload(records)
            self._snapshot, self._version, self._checked_at = records, version, now

    def key_of(self, record: R) -> str:
        key = getattr(record, "key", None)
        if not isinstance(key, str):
            raise TypeError(f"{type(record).__name__} has no string key")
        return key

    # -- writes -----------------------------------------------------------------------------------
    def put(self, key: str, value: Mapping[str, Any], *, ttl_s: float | None = None) -> None:
        self._store.set(self._prefix + _encode(key), dict(value), ttl_s=ttl_s)
        self.touch()

    def delete(self, key: str) -> bool:
        found = self._store.delete(self._prefix + _encode(key))
        self.touch()
        return found

    def clear(self) -> int:
        n = self._store.delete_prefix(self._prefix)
        self.touch()
        return n

    def raw(self, key: str) -> Any:
        """The stored value of ``key`` read from the store itself (not the cache)."""
        return self._store.get(self._prefix + _encode(key))

    def touch(self) -> None:
        """Move the version: every process reloads on its next refresh, this one at once."""
        self._store.set(self._version_key, uuid.uuid4().hex)
        self._checked_at = -float("inf")
