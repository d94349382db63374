"""The audit trail: sequences, hash-chains and dispatches every audit event, in one order.

:meth:`AuditTrail.record` takes an :class:`~agent_security.core.models.AuditEvent`, gives it the next
``sequence`` (1, 2, ...), ``prev_hash`` and ``hash`` (see :mod:`agent_security.core.audit.chain`), and calls
``dispatch(event)`` — the SDK passes a function that calls every plugin's ``agent_security_audit_event``
(the sinks, the guardian). All of it happens under one lock, so the order of the trail is the order in
which every sink and subscriber sees events.

The event's ``data`` is normalised to plain JSON (tuples become lists, datetimes ISO strings) before it is
hashed, so what a sink writes and reads back hashes the same.

**Failures.** An exception from ``dispatch`` propagates to the caller of :meth:`record` (the SDK turns it
into DENY ``AUDIT_FAILURE``). The chain has already advanced: sinks that did receive the event keep a valid
chain, and a sink that missed it shows a gap at that sequence when verified, which is the truth.

**Signed checkpoints.** With a ``signer``, after every ``sign_every`` events (and on :meth:`flush` /
:meth:`close` when events are unsigned) the trail records a ``kind="lifecycle"`` checkpoint event whose
``data["checkpoint"]`` holds ``head_hash``, ``head_sequence``, ``key_id`` and an Ed25519 ``signature`` of
the chain head just before it. The checkpoint is chained like any event.

**Resume.** ``AuditTrail(dispatch, last_sequence=n, last_hash=h)`` continues an existing chain, e.g. from
``sink.last_link()`` of a SQLite or JSON Lines sink after a restart (:meth:`AuditTrail.resume`).
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from hashlib import sha256
from typing import Any, Protocol

from agent_security.core import jcs
from agent_security.core._speedups import remember
from agent_security.core.audit.chain import (
    CHECKPOINT_KEY,
    GENESIS_HASH,
    canonical_text,
    checkpoint_message,
    format_timestamp,
    hash_canonical,
    hash_ordered,
)
from agent_security.core.audit.keys import AuditSigner
from agent_security.core.models import AuditEvent, utcnow

__all__ = ["AuditTrail", "Linkable"]

_CHAINED = frozenset({"sequence", "prev_hash", "timestamp", "data", "hash"})

_DATA_MEMO: dict[tuple[Any, ...], tuple[dict[str, Any], str]] = {}
""":func:`_data_json` of recent flat ``data``, by its keys and values in insertion order (bounded)."""
_DATA_MEMO_SIZE = 1024
_DATA_MEMO_CHARS = 256
"""A ``data`` whose keys and values hold more characters in all is not kept."""


def _data_json(data: Any) -> tuple[Any, str]:
    """``(jcs.prepare(data), its canonical JSON text)``; raises as :func:`jcs.prepare` or :func:`jcs.write` do.

    The pipeline's events carry a few plain members (``phase``, ``action_type``, ``session_id``, ...) that
    repeat from one check to the next, so the result for a flat dict of exact ``str`` keys and exact
    ``str``, ``bool`` or ``None`` values is kept, keyed by those keys and values. Every key looked up holds
    only such members, and two of them are equal only when each member is the same string or the same
    constant (``True == 1`` cannot arise), so an equal key means the same JSON form and text. The caller
    gets a copy of the kept dict each time; a test holds the results equal to the reference's.
    """
    if type(data) is dict:
        parts: list[Any] = []
        chars = 0
        for key, value in data.items():
            if type(key) is not str:
                break
            if type(value) is str:
                chars += len(value)
            elif not (value is None or value is True or value is False):
                break
            chars += len(key)
            parts.append(key)
            parts.append(value)
        else:
            memo_key = tuple(parts)
            known = _DATA_MEMO.get(memo_key)
            if known is not None:
                return dict(known[0]), known[1]
            prepared = jcs.prepare(data)
            text = jcs.write(prepared).decode()
            if chars <= _DATA_MEMO_CHARS:
                remember(_DATA_MEMO, memo_key, (prepared, text), _DATA_MEMO_SIZE)
                return dict(prepared), text
            return prepared, text
    prepared = jcs.prepare(data)
    return prepared, jcs.write(prepared).decode()


class Linkable(Protocol):
    """A sink that can say where its chain ends (SQLite and JSON Lines sinks)."""

    def last_link(self) -> tuple[int, str] | None: ...


class AuditTrail:
    """Thread-safe, hash-chained, optionally signed sequence of audit events."""

    def __init__(
        self,
        dispatch: Callable[[AuditEvent], None],
        *,
        signer: AuditSigner | None = None,
        sign_every: int = 100,
        last_sequence: int = 0,
        last_hash: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if sign_every < 1:
            raise ValueError("sign_every must be >= 1")
        if last_sequence < 0:
            raise ValueError("last_sequence must be >= 0")
        if last_sequence > 0 and not last_hash:
            raise ValueError("resuming after sequence > 0 needs last_hash")
        if last_sequence == 0 and last_hash not in (None, GENESIS_HASH):
            raise ValueError("last_hash given without last_sequence")
        self._dispatch = dispatch
        self._signer = signer
        self._sign_every = sign_every
        self._clock = clock
        self._lock = threading.RLock()
        self._sequence = last_sequence
        self._hash = last_hash or GENESIS_HASH
        # The head hash as canonical JSON (see _link); a hash that is not a str takes the reference path.
        self._hash_json = jcs.encode_string(self._hash) if isinstance(self._hash, str) else None
        self._unsigned = 0
        self._closed = False

    @classmethod
    def resume(cls, dispatch: Callable[[AuditEvent], None], sink: Linkable, **kwargs: Any) -> AuditTrail:
        """A trail that continues the chain ``sink`` holds (or starts one if it is empty)."""
        link = sink.last_link()
        if link is None:
            return cls(dispatch, **kwargs)
        return cls(dispatch, last_sequence=link[0], last_hash=link[1], **kwargs)

    @property
    def head(self) -> tuple[int, str]:
        """``(sequence, hash)`` of the last recorded event (``(0, GENESIS_HASH)`` for an empty trail)."""
        with self._lock:
            return self._sequence, self._hash

    @property
    def signer(self) -> AuditSigner | None:
        return self._signer

    def _link(self, values: Mapping[str, Any], event: AuditEvent | None) -> tuple[int, str, datetime, Any, str]:
        """The chained fields ``(sequence, prev_hash, timestamp, data, hash)`` of the next event, whose other
        fields are ``values`` (``event.__dict__``, or the values of an event not built yet: ``event`` is then
        ``None``). Advances the head; call under the lock.

        The hash is computed over exactly what a sink writes and reads back (the JSON form, timestamp in
        UTC). The canonical text is written here directly (:func:`canonical_text`, members in canonical
        order), several times cheaper than a generic dump; ``canonical_dict`` remains the reference and
        tests hold the two equal. Whatever that writer does not take goes through :meth:`_link_dict`.
        """
        ts = values["timestamp"]
        if ts.tzinfo is not UTC:
            ts = (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).astimezone(UTC)
        sequence = self._sequence + 1
        prev_hash = self._hash
        try:
            data, data_text = _data_json(values["data"])  # the JSON form: what a sink reads back
            stamp = format_timestamp(ts)
            text = canonical_text(
                values, sequence, self._hash_json,
                f'"{stamp}"' if type(ts) is datetime else jcs.encode_string(stamp),  # an exact one needs no escaping
                data_text)
            digest = sha256(text.encode()).hexdigest()
        except Exception:  # anything the direct writer does not take (floats, subclasses, a lone surrogate, ...)
            data, digest = self._link_dict(values, event, sequence, prev_hash, ts)
        # Advance before dispatch: see "Failures" in the module documentation.
        self._sequence = sequence
        self._hash = digest
        self._hash_json = f'"{digest}"'  # hex digits
        return sequence, prev_hash, ts, data, digest

    @staticmethod
    def _link_dict(values: Mapping[str, Any], event: AuditEvent | None, sequence: int, prev_hash: str,
                   ts: datetime) -> tuple[Any, str]:
        """``(data, hash)`` of :meth:`_link` through the JSON form as a dict: members in canonical order
        and pydantic-core's writer, else (floats, ...) the reference form."""
        try:
            outcome = values["outcome"]
            data = jcs.prepare(values["data"])
            digest = hash_ordered({
                "agent_id": values["agent_id"], "allowed": values["allowed"], "data": data,
                "environment": values["environment"], "event_id": values["event_id"], "kind": values["kind"],
                "mode": values["mode"], "outcome": outcome.value if outcome is not None else None,
                "plugin_source": values["plugin_source"], "prev_hash": prev_hash,
                "reasons": [{"code": r.code, "message": r.message} for r in values["reasons"]],
                "request_hash": values["request_hash"], "request_id": values["request_id"],
                "schema_version": values["schema_version"], "sequence": sequence,
                "timestamp": format_timestamp(ts), "tool_name": values["tool_name"],
            })
        except Exception:  # data the fast path cannot take (floats, ...): go through the reference form
            if event is None:
                event = AuditEvent.model_construct(**values)
            raw = event.model_dump(mode="json", exclude={"hash"})
            raw.update(sequence=sequence, prev_hash=prev_hash, timestamp=format_timestamp(ts))
            digest = hash_canonical(raw)
            data = raw["data"]
        return data, digest

    def _update(self, event: AuditEvent) -> dict[str, Any]:
        """:meth:`_link` of ``event`` as the update of its chained copy."""
        sequence, prev_hash, ts, data, digest = self._link(event.__dict__, event)
        return {"sequence": sequence, "prev_hash": prev_hash, "timestamp": ts, "data": data, "hash": digest}

    def _append(self, chained: AuditEvent) -> AuditEvent:
        """Dispatch a chained event and sign the head when due; call under the lock."""
        self._unsigned += 1
        self._dispatch(chained)
        if self._signer is not None and self._unsigned >= self._sign_every:
            self._checkpoint()
        return chained

    def record(self, event: AuditEvent) -> AuditEvent:
        """Sequence, chain and dispatch ``event``; return the chained event (a new object)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the audit trail is closed")
            # Every updated value has its field's type by construction: same result as model_copy(update=...).
            return self._append(event.model_copy(update=self._update(event)))

    def record_values(self, values: dict[str, Any], fields_set: set[str]) -> AuditEvent:
        """:meth:`record` for an event the caller has not built yet: ``values`` holds every field of
        :class:`AuditEvent` in declaration order, each already of its field's type (the core's own events);
        ``fields_set`` becomes its ``model_fields_set``. The chained event is built once, from ``values``
        (updated in place), instead of built, read back and copied.
        """
        lock = self._lock
        lock.acquire()  # (acquire/release: cheaper than a with block in the compiled build, on every check)
        try:
            if self._closed:
                raise RuntimeError("the audit trail is closed")
            (values["sequence"], values["prev_hash"], values["timestamp"], values["data"],
             values["hash"]) = self._link(values, None)
            return self._append(AuditEvent.model_construct(fields_set, **values))
        finally:
            lock.release()

    def _checkpoint(self) -> AuditEvent:
        assert self._signer is not None
        head_seq, head_hash = self._sequence, self._hash
        signature = self._signer.sign(checkpoint_message(head_seq, head_hash, self._signer.key_id))
        event = AuditEvent(kind="lifecycle", timestamp=self._clock(), data={CHECKPOINT_KEY: {
            "head_hash": head_hash, "head_sequence": head_seq, "key_id": self._signer.key_id,
            "signature": base64.b64encode(signature).decode(),
        }})
        chained = event.model_copy(update=self._update(event))
        self._unsigned = 0
        self._dispatch(chained)
        return chained

    def checkpoint(self) -> AuditEvent | None:
        """Sign the current head now, if there is a signer and anything unsigned; return the checkpoint."""
        with self._lock:
            if self._signer is None or self._unsigned == 0 or self._closed:
                return None
            return self._checkpoint()

    def flush(self) -> AuditEvent | None:
        """Same as :meth:`checkpoint` (sinks flush on every event)."""
        return self.checkpoint()

    def close(self) -> None:
        """Write a final checkpoint (if signing) and refuse further events. Idempotent."""
        with self._lock:
            if self._closed:
                return
            try:
                self.checkpoint()
            finally:
                self._closed = True

    @property
    def closed(self) -> bool:
        return self._closed
