"""The Redis Streams audit sink: every process of a fleet appends its events to one stream.

Configured with ``[core.audit] redis_stream = "redis://host:6379/0"`` (also ``rediss://`` and
``redis+sentinel://``, as the store; needs the ``redis`` extra), or built in code with
:meth:`RedisStreamAuditSink.from_url` and passed as ``AgentSecurity(audit_sinks=[...])``.

* **One entry per event** (``XADD``), fields ``source`` (the writing process: host, pid and a random id),
  ``sequence``, ``hash``, ``kind`` and ``event`` (the event's JSON, authoritative, at most
  :data:`~agent_security.core.audit._sinkbase.MAX_LINE_BYTES`). Each process's events keep their own
  chain (``sequence``/``prev_hash`` as its trail made them): the stream aggregates chains, grouped by
  ``source``; it is not a shared head.
* **Bounded.** The stream is trimmed to about ``maxlen`` entries (``MAXLEN ~``, default 1,000,000): the
  stream is for fleet-wide aggregation (posture, SIEM export), the durable trail of record stays each
  host's SQLite or JSON Lines file.
* **Key.** ``{<namespace>}:audit`` (``[core] store_namespace``, default ``agent-security``): a Redis
  Cluster hash tag, the same slot as the namespace's store keys.
* **Fail closed** like every sink (``fail_open = False``): an event that cannot be appended (Redis down or
  slower than ``timeout_s``) raises, and the pipeline turns an ALLOW into DENY ``AUDIT_FAILURE``. Pass
  ``fail_open=True`` to make the stream best-effort.

**Reading.** :func:`read_redis_stream` yields ``(entry id, fields, event JSON)`` in stream order from a
position (exclusive), in batches, like :func:`~agent_security.core.audit.sqlite_sink.read_sqlite_rows`;
:meth:`RedisStreamAuditSink.read` yields validated :class:`~agent_security.core.models.AuditEvent`.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from typing import Any

from agent_security.core.audit._sinkbase import MAX_LINE_BYTES, Closing
from agent_security.core.errors import StoreError
from agent_security.core.hookspecs import hookimpl
from agent_security.core.models import AuditEvent
from agent_security.core.store.redis import RedisStore

__all__ = ["DEFAULT_MAXLEN", "RedisStreamAuditSink", "read_redis_stream", "stream_key"]

DEFAULT_MAXLEN = 1_000_000
_STREAM = "audit"


def stream_key(store: RedisStore) -> str:
    """The stream's key in ``store``'s namespace."""
    return store._keys.physical(_STREAM)


def _source() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class RedisStreamAuditSink(Closing):
    """Appends every chained event to a Redis stream (see the module documentation). Thread-safe."""

    def __init__(
        self,
        store: RedisStore,
        *,
        maxlen: int = DEFAULT_MAXLEN,
        name: str = "audit_redis_stream",
        fail_open: bool = False,
        owns_store: bool = False,
    ) -> None:
        if maxlen < 1:
            raise ValueError("maxlen must be >= 1")
        self.name = name
        self.fail_open = fail_open
        self.maxlen = maxlen
        self.source = _source()
        self._store = store
        self._owns_store = owns_store
        self._key = stream_key(store)
        self._closed = threading.Event()

    @classmethod
    def from_url(
        cls, url: str, *, namespace: str | None = None, maxlen: int = DEFAULT_MAXLEN, **kwargs: Any
    ) -> RedisStreamAuditSink:
        """A sink on the Redis server ``url`` names (``?timeout_s=`` bounds each append)."""
        return cls(RedisStore.from_url(url, namespace=namespace), maxlen=maxlen, owns_store=True, **kwargs)

    @property
    def key(self) -> str:
        return self._key

    @hookimpl
    def agent_security_audit_event(self, event: AuditEvent) -> None:
        if self._closed.is_set():
            raise RuntimeError(f"audit sink {self.name!r} is closed")
        if event.hash is None:
            raise ValueError("only chained events (with a hash) can be written")
        body = event.model_dump_json()
        if len(body) > MAX_LINE_BYTES:
            raise ValueError(f"audit event {event.sequence} is larger than {MAX_LINE_BYTES} bytes")
        fields = {
            "source": self.source,
            "sequence": str(event.sequence),
            "hash": event.hash,
            "kind": event.kind,
            "event": body,
        }
        with self._store._errors():
            self._store.client.xadd(self._key, fields, maxlen=self.maxlen, approximate=True)  # type: ignore[arg-type]

    def read(self, *, after: str = "0-0") -> Iterator[AuditEvent]:
        """Every event in the stream after entry ``after``, in stream order (all sources)."""
        for _, _, body in _entries(self._store, after, 1_000):
            yield AuditEvent.model_validate_json(body)

    def count(self) -> int:
        with self._store._errors():
            return int(self._store.client.xlen(self._key))

    @hookimpl
    def agent_security_shutdown(self) -> None:
        self.close()

    def close(self) -> None:
        """Idempotent; closes the connections when the sink opened them (:meth:`from_url`)."""
        if self._closed.is_set():
            return
        self._closed.set()
        if self._owns_store:
            self._store.close()


def _entries(store: RedisStore, after: str, batch: int) -> Iterator[tuple[str, dict[str, str], str]]:
    key = stream_key(store)
    start = "(" + after
    while True:
        try:
            rows = store.client.xrange(key, min=start, max="+", count=batch)
        except Exception as exc:
            raise StoreError(f"cannot read the audit stream {key!r}: {exc}") from exc
        if not rows:
            return
        for entry_id, fields in rows:
            data = {str(k): str(v) for k, v in (fields or {}).items()}
            body = data.pop("event", "")
            yield str(entry_id), data, body
        start = "(" + str(rows[-1][0])
        if len(rows) < batch:
            return


def read_redis_stream(
    url: str, *, namespace: str | None = None, after: str = "0-0", batch: int = 1_000
) -> Iterator[tuple[str, dict[str, str], str]]:
    """``(entry id, fields, event JSON)`` for every entry after ``after`` (exclusive; ``"0-0"``: from the
    start), in stream order: what posture and SIEM export read. ``fields`` holds ``source``, ``sequence``,
    ``hash`` and ``kind``; the JSON is the event as its trail chained it."""
    store = RedisStore.from_url(url, namespace=namespace)
    try:
        yield from _entries(store, after, batch)
    finally:
        store.close()
