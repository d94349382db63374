"""Temporary minimal audit trail (replaced by agent_security.core.audit when it lands)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from agent_security.core.hookspecs import hookimpl
from agent_security.core.models import AuditEvent

GENESIS_HASH = "0" * 64


def event_hash(event: AuditEvent) -> str:
    body = event.model_dump(mode="json", exclude={"hash"})
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class AuditTrail:
    def __init__(self, dispatch: Callable[[AuditEvent], None], *, signer: Any = None, sign_every: int = 100,
                 last_sequence: int = 0, last_hash: str = GENESIS_HASH) -> None:
        self._dispatch = dispatch
        self._lock = threading.Lock()
        self._seq = last_sequence
        self._prev = last_hash

    def record(self, event: AuditEvent) -> AuditEvent:
        with self._lock:
            ev = event.model_copy(update={"sequence": self._seq + 1, "prev_hash": self._prev})
            ev = ev.model_copy(update={"hash": event_hash(ev)})
            self._seq += 1
            self._prev = ev.hash or ""
            self._dispatch(ev)
            return ev

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None


class MemoryAuditSink:
    name = "audit_memory"
    fail_open = False

    def __init__(self, max_events: int = 10_000) -> None:
        self._events: deque[AuditEvent] = deque(maxlen=max_events)
        self._lock = threading.Lock()
        self.dropped = 0

    @hookimpl
    def agent_security_audit_event(self, event: AuditEvent) -> None:
        with self._lock:
            if len(self._events) == self._events.maxlen:
                self.dropped += 1
            self._events.append(event)

    def events(self) -> list[AuditEvent]:
        with self._lock:
            return list(self._events)

    def close(self) -> None:
        return None
