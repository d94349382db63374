"""The audit trail: sequences, hash-chains and delivers every audit event, in one order.

:meth:`AuditTrail.record` takes an :class:`~agent_security.core.models.AuditEvent`, gives it the next
``sequence`` (1, 2, ...), ``prev_hash`` and ``hash`` (see :mod:`agent_security.core.audit.chain`), and
delivers it: ``dispatch(event)`` — the SDK passes a function that calls every plugin's
``agent_security_audit_event`` (the sinks, the guardian).

**Locks.** The event's canonical bytes are written before any lock is taken. The trail lock covers only
linking: assigning ``sequence`` and ``prev_hash``, hashing, and queueing the event for delivery. Delivery
runs outside it, under a separate delivery lock: the queue is drained in chain order by whichever
recording thread holds that lock, so every event is delivered exactly once, in chain order, and
:meth:`record` returns only once its own event was delivered. A delivery failure is raised by the
:meth:`record` call whose event failed, whichever thread delivered it.

**Re-entrance.** A subscriber may call :meth:`record` from inside ``dispatch`` (a plugin writing an
incident from its ``audit_event`` hook). That event is chained at once and returned; it is delivered by
the same thread right after the event being delivered (it cannot come earlier: every subscriber sees the
chain in order), and a failure to deliver it is raised by the :meth:`record` call whose delivery led to it.

**Shared heads (several processes, one trail).** A durable sink that implements :class:`SharedHead` (the
JSON Lines and SQLite sinks) holds the head of the chain. :meth:`AuditTrail.open` makes every such sink a
head: each event is then linked under the sink's cross-process lock (``flock`` on the JSON Lines file, a
``BEGIN IMMEDIATE`` transaction in SQLite) — read the last link from the file, chain the event on it,
write it, release — so any number of processes appending to one file produce one chain. The first head
is the one the chain follows; the others are written in the same locked section. Delivery to the other
subscribers happens afterwards, as above (the heads skip the events they already wrote).

**Failures.** An exception from ``dispatch`` reaches the caller of :meth:`record` (the SDK turns it into
DENY ``AUDIT_FAILURE``). The chain has already advanced: sinks that did receive the event keep a valid
chain, and a sink that missed it shows a gap at that sequence when verified, which is the truth. A head
that cannot write raises :class:`~agent_security.core.errors.AuditWriteError` and the event is not
chained.

**Signed checkpoints.** With a ``signer``, after every ``sign_every`` events (and on :meth:`flush` /
:meth:`close` when events are unsigned) the trail records a ``kind="lifecycle"`` checkpoint event whose
``data["checkpoint"]`` holds ``head_hash``, ``head_sequence``, ``key_id`` and an Ed25519 ``signature`` of
the chain head just before it. The checkpoint is chained like any event, right after that head.

**Resume.** ``AuditTrail(dispatch, last_sequence=n, last_hash=h)`` continues an existing chain;
:meth:`AuditTrail.open` does it from the sinks (and shares the head of those that can).
"""

from __future__ import annotations

import base64
import hashlib
import threading
import typing
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, ExitStack
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from agent_security.core._speedups import audit_writer as _writer
from agent_security.core._speedups import evolve
from agent_security.core._speedups.locks import YieldingLock
from agent_security.core.audit.chain import CHECKPOINT_KEY, GENESIS_HASH, checkpoint_message
from agent_security.core.audit.keys import AuditSigner
from agent_security.core.errors import AuditWriteError, ConfigurationError
from agent_security.core.models import AuditEvent, utcnow

__all__ = ["AuditTrail", "HeadLock", "Linkable", "SharedHead", "TrailClosedError"]


class TrailClosedError(AuditWriteError, RuntimeError):
    """The trail was closed: it records nothing more."""


class Linkable(Protocol):
    """A sink that can say where its chain ends (SQLite and JSON Lines sinks)."""

    def last_link(self) -> tuple[int, str] | None: ...


class HeadLock(Protocol):
    """A shared head, locked against every other writer (see :class:`SharedHead`)."""

    @property
    def link(self) -> tuple[int, str] | None:
        """``(sequence, hash)`` of the last event in the durable store; ``None`` when it is empty."""
        ...

    def append(self, event: AuditEvent) -> None:
        """Write ``event`` durably (raises when it cannot: the event then is not part of the chain)."""
        ...


@runtime_checkable
class SharedHead(Protocol):
    """A durable sink that several processes may append to: it holds the head of the chain.

    ``lock_head()`` takes a lock that excludes every other writer of the same store, in this process and
    in others, and yields a :class:`HeadLock` that reads the last link and appends; leaving the block
    makes the appends durable and releases the lock. An event written through it is skipped when the
    sink later receives it through ``agent_security_audit_event``.
    """

    name: str

    def last_link(self) -> tuple[int, str] | None: ...

    def lock_head(self) -> AbstractContextManager[HeadLock]: ...


class _Entry:
    """One chained event waiting for delivery; the chained copy is built once, by whoever delivers it.

    The entry of a :meth:`AuditTrail.record` call heads a *group*: the events that call answers for (its
    own, the checkpoint it triggered, what subscribers recorded while they were delivered). On the head,
    ``last`` is the group's last event queued and ``error`` its first delivery failure. A head refers to
    itself through ``None`` (``_group``, ``_last``), so that the usual one-event group is no reference
    cycle left to the garbage collector."""

    __slots__ = ("_group", "_last", "done", "error", "event", "source", "update")

    def __init__(
        self,
        group: _Entry | None,
        source: AuditEvent | None,
        update: dict[str, Any] | None,
        event: AuditEvent | None = None,
    ) -> None:
        self._group = group
        self._last: _Entry | None = None
        self.error: BaseException | None = None
        self.source = source
        self.update = update
        self.event = event
        self.done = False

    @property
    def group(self) -> _Entry:
        return self if self._group is None else self._group

    @property
    def last(self) -> _Entry:
        return self if self._last is None else self._last

    @last.setter
    def last(self, entry: _Entry) -> None:
        self._last = None if entry is self else entry

    def chained(self) -> AuditEvent:
        if self.event is None:
            assert self.source is not None and self.update is not None
            self.event = evolve(self.source, self.update)  # every updated value is the trail's own
            self.source = self.update = None
        return self.event


def _now_function(clock: Any) -> Callable[[], datetime]:
    """The wall clock of ``clock``: a :class:`~agent_security.core.clock.Clock`, or a function."""
    now = getattr(clock, "now", None)
    return typing.cast(Callable[[], datetime], now if callable(now) else clock)


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
        clock: Any = utcnow,
        heads: Sequence[SharedHead] = (),
    ) -> None:
        if sign_every < 1:
            raise ValueError("sign_every must be >= 1")
        if last_sequence < 0:
            raise ValueError("last_sequence must be >= 0")
        if last_sequence > 0 and not last_hash:
            raise ValueError("resuming after sequence > 0 needs last_hash")
        if last_sequence == 0 and last_hash not in (None, GENESIS_HASH):
            raise ValueError("last_hash given without last_sequence")
        if heads and (last_sequence or last_hash):
            raise ValueError("a trail with shared heads reads its head from them: no last_sequence/last_hash")
        self._dispatch = dispatch
        self._signer = signer
        self._sign_every = sign_every
        self._clock = _now_function(clock)
        self._heads = tuple(heads)
        self._lock = YieldingLock()
        """Linking: sequence, prev_hash, hash and the delivery queue's order."""
        self._delivery_lock = YieldingLock()
        self._queue: deque[_Entry] = deque()
        self._deliverer: int | None = None
        """Thread id of the thread delivering (holding the delivery lock), else None."""
        self._delivering: _Entry | None = None
        """The group of the event being delivered (what a re-entrant record() joins)."""
        self._sequence = last_sequence
        self._hash = last_hash or GENESIS_HASH
        self._unsigned = 0
        self._closed = False

    @classmethod
    def resume(cls, dispatch: Callable[[AuditEvent], None], sink: Linkable, **kwargs: Any) -> AuditTrail:
        """A trail that continues the chain ``sink`` holds (or starts one if it is empty)."""
        link = sink.last_link()
        if link is None:
            return cls(dispatch, **kwargs)
        return cls(dispatch, last_sequence=link[0], last_hash=link[1], **kwargs)

    @classmethod
    def open(cls, dispatch: Callable[[AuditEvent], None], sinks: Iterable[object], **kwargs: Any) -> AuditTrail:
        """The trail for ``sinks``: every :class:`SharedHead` among them holds the head (any number of
        processes may append to them); otherwise the chain a :class:`Linkable` sink holds is continued.
        Raises :class:`ConfigurationError` when the sinks hold different chains."""
        sinks = list(sinks)
        heads = [s for s in sinks if isinstance(s, SharedHead)]
        links: dict[str, tuple[int, str] | None] = {}
        with ExitStack() as stack:  # the heads read together, while no other process appends
            for head in heads:
                links[head.name] = stack.enter_context(head.lock_head()).link
        for sink in sinks:
            last_link = getattr(sink, "last_link", None)
            if callable(last_link) and sink not in heads:
                links[str(getattr(sink, "name", type(sink).__name__))] = last_link()
        if len(set(links.values())) > 1:
            raise ConfigurationError(f"audit sinks hold different chains and cannot be continued together: {links}")
        if heads:
            return cls(dispatch, heads=heads, **kwargs)
        link = next(iter(links.values()), None)
        if link is None:
            return cls(dispatch, **kwargs)
        return cls(dispatch, last_sequence=link[0], last_hash=link[1], **kwargs)

    @property
    def head(self) -> tuple[int, str]:
        """``(sequence, hash)`` of the last event this trail linked (``(0, GENESIS_HASH)`` before any).
        With shared heads, other processes may have appended since."""
        with self._lock:
            return self._sequence, self._hash

    @property
    def signer(self) -> AuditSigner | None:
        return self._signer

    @property
    def closed(self) -> bool:
        return self._closed

    # -- recording -----------------------------------------------------------------------------------

    def record(self, event: AuditEvent) -> AuditEvent:
        """Sequence, chain and deliver ``event``; return the chained event (a new object)."""
        prepared = _writer.prepare(event)  # the canonical bytes, before any lock
        nested = self._deliverer == threading.get_ident()
        entry = _Entry(self._delivering if nested else None, event, prepared.update)
        group = entry.group
        with self._lock:
            if self._closed:
                raise TrailClosedError("the audit trail is closed")
            if self._heads:
                self._link_shared(entry, prepared)
            else:
                sequence, prev_hash = self._sequence + 1, self._hash
                digest = hashlib.sha256(_writer.chained_bytes(prepared, prev_hash, sequence)).hexdigest()
                self._sequence, self._hash = sequence, digest
                update = prepared.update
                update["sequence"], update["prev_hash"], update["hash"] = sequence, prev_hash, digest
                self._queue.append(entry)
                group.last = entry
                self._unsigned += 1
                if self._signer is not None and self._unsigned >= self._sign_every:
                    self._queue_checkpoint(group)
        if nested:
            return entry.chained()  # delivered by this thread once the event being delivered is
        self._deliver(group)
        if group.error is not None:
            raise group.error
        return entry.chained()

    def _link_shared(self, entry: _Entry, prepared: _writer.Prepared) -> None:
        """Link ``entry``'s event on the head the shared sinks hold and write it to them, under their locks;
        queue it (and a checkpoint when one is due) for delivery. Call under the trail lock."""
        assert entry.source is not None
        group = entry.group
        with ExitStack() as stack:
            locks = [stack.enter_context(head.lock_head()) for head in self._heads]
            link = locks[0].link
            sequence, prev_hash = (link[0] + 1, link[1]) if link is not None else (1, GENESIS_HASH)
            digest = hashlib.sha256(_writer.chained_bytes(prepared, prev_hash, sequence)).hexdigest()
            chained = entry.source.model_copy(
                update={**prepared.update, "sequence": sequence, "prev_hash": prev_hash, "hash": digest}
            )
            self._write_heads(locks, chained)
            entries = [entry]
            unsigned = self._unsigned + 1
            if self._signer is not None and unsigned >= self._sign_every:
                checkpoint = self._checkpoint_event(sequence, digest)
                self._write_heads(locks, checkpoint)
                entries.append(_Entry(group, None, None, checkpoint))
                sequence, digest, unsigned = checkpoint.sequence, checkpoint.hash or "", 0
        # the locks are released and every write is durable: the events are part of the chain
        entry.event, entry.source, entry.update = chained, None, None
        self._sequence, self._hash, self._unsigned = sequence, digest, unsigned
        self._queue.extend(entries)
        group.last = entries[-1]

    def _write_heads(self, locks: list[HeadLock], event: AuditEvent) -> None:
        for head, lock in zip(self._heads, locks, strict=True):
            try:
                lock.append(event)
            except Exception as exc:
                raise AuditWriteError(
                    f"audit sink {head.name!r} could not write event {event.sequence}: {type(exc).__name__}: {exc}"
                ) from exc

    def _checkpoint_event(self, head_sequence: int, head_hash: str) -> AuditEvent:
        """The checkpoint signing ``(head_sequence, head_hash)``, chained right after it."""
        assert self._signer is not None
        key_id = self._signer.key_id
        signature = self._signer.sign(checkpoint_message(head_sequence, head_hash, key_id))
        event = AuditEvent(
            kind="lifecycle",
            timestamp=self._clock(),
            data={
                CHECKPOINT_KEY: {
                    "head_hash": head_hash,
                    "head_sequence": head_sequence,
                    "key_id": key_id,
                    "signature": base64.b64encode(signature).decode(),
                }
            },
        )
        prepared = _writer.prepare(event)
        sequence = head_sequence + 1
        digest = hashlib.sha256(_writer.chained_bytes(prepared, head_hash, sequence)).hexdigest()
        return event.model_copy(
            update={**prepared.update, "sequence": sequence, "prev_hash": head_hash, "hash": digest}
        )

    def _queue_checkpoint(self, group: _Entry) -> _Entry:
        """Chain a checkpoint of the current head and queue it in ``group``; call under the trail lock."""
        if self._heads:
            with ExitStack() as stack:
                locks = [stack.enter_context(head.lock_head()) for head in self._heads]
                link = locks[0].link
                if link is None:
                    raise AuditWriteError("the shared audit trail is empty: nothing to sign")
                checkpoint = self._checkpoint_event(*link)
                self._write_heads(locks, checkpoint)
        else:
            checkpoint = self._checkpoint_event(self._sequence, self._hash)
        self._sequence, self._hash, self._unsigned = checkpoint.sequence, checkpoint.hash or "", 0
        entry = _Entry(group, None, None, checkpoint)
        self._queue.append(entry)
        group.last = entry
        return entry

    # -- delivery ------------------------------------------------------------------------------------

    def _deliver(self, group: _Entry | None) -> None:
        """Deliver queued events in chain order until every event of ``group`` was delivered (every
        queued event when ``group`` is None). Each event's error is kept by its group."""
        with self._delivery_lock:
            self._deliverer = threading.get_ident()
            queue = self._queue
            try:
                while queue if group is None else not group.last.done:
                    entry = queue.popleft()
                    self._delivering = entry.group
                    try:
                        self._dispatch(entry.chained())
                    except Exception as exc:
                        if entry.group.error is None:
                            entry.group.error = exc
                    except BaseException:  # KeyboardInterrupt, SystemExit: this thread stops delivering
                        if entry.group.error is None:
                            entry.group.error = AuditWriteError("delivery of the audit event was interrupted")
                        raise
                    finally:
                        entry.done = True
            finally:
                self._deliverer = None
                self._delivering = None

    def _sign_now(self, *, close: bool) -> AuditEvent | None:
        nested = self._deliverer == threading.get_ident()
        if nested and self._delivering is not None:
            group = self._delivering
        else:
            group = _Entry(None, None, None)  # heads the checkpoint's group; no event of its own
            group.done = True
        with self._lock:
            if self._closed:
                return None
            entry = None
            if self._signer is not None and self._unsigned > 0:
                entry = self._queue_checkpoint(group)
            if close:
                self._closed = True
        if nested:
            return entry.chained() if entry is not None else None
        self._deliver(None if close else group)
        if entry is not None and group.error is not None:
            raise group.error
        return entry.chained() if entry is not None else None

    def checkpoint(self) -> AuditEvent | None:
        """Sign the current head now, if there is a signer and anything unsigned; return the checkpoint."""
        return self._sign_now(close=False)

    def flush(self) -> AuditEvent | None:
        """Same as :meth:`checkpoint` (sinks flush on every event)."""
        return self.checkpoint()

    def close(self) -> None:
        """Write a final checkpoint (if signing), deliver everything queued and refuse further events.
        Idempotent."""
        self._sign_now(close=True)
