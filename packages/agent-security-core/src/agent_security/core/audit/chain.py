"""The hash chain: canonical bytes of an audit event, its hash, and the checkpoint message.

**Canonical form.** ``canonical_bytes(event)`` is the RFC 8785 (JSON Canonicalization Scheme) encoding
of ``event.model_dump(mode="json", exclude={"hash"})`` with one normalisation: every ``datetime`` field
(today only ``timestamp``) is written as UTC with microseconds, ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (a naive
timestamp is taken as UTC). RFC 8785 sorts object keys by UTF-16 code units, writes no whitespace, and
serialises numbers the ECMAScript way, so any language can recompute a hash; integers outside ±2**53 and
NaN/Infinity cannot be represented and make hashing fail (audit ``data`` must not carry them).

Everything here is derived from the model's fields (:class:`EventLayout`): adding a field to
:class:`~agent_security.core.models.AuditEvent` adds it to the canonical form, with nothing else to edit.

**Chain.** ``event.hash = sha256(canonical_bytes(event)).hexdigest()``. The canonical bytes include
``sequence`` and ``prev_hash`` (the previous event's ``hash``, :data:`GENESIS_HASH` for sequence 1), so
each hash commits to the whole history before it.

**Checkpoints.** A checkpoint is a ``kind="lifecycle"`` event whose ``data["checkpoint"]`` is
``{"head_hash", "head_sequence", "key_id", "signature"}``: an Ed25519 signature (base64) over
:func:`checkpoint_message` of the event just before it. The checkpoint is itself chained.
"""

from __future__ import annotations

import functools
import hashlib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agent_security.core import jcs
from agent_security.core.models import AuditEvent

__all__ = [
    "CHAINED_FIELDS",
    "CHECKPOINT_KEY",
    "GENESIS_HASH",
    "HASH_FIELD",
    "EventLayout",
    "canonical_bytes",
    "canonical_dict",
    "checkpoint_message",
    "event_hash",
    "format_timestamp",
    "layout",
    "normalised",
]

GENESIS_HASH = "0" * 64
"""``prev_hash`` of the first event of a trail."""
CHECKPOINT_KEY = "checkpoint"
HASH_FIELD = "hash"
"""The one field the canonical form leaves out (it is the hash of the rest)."""
CHAINED_FIELDS = ("prev_hash", "sequence")
"""The fields the trail assigns when it links an event, in canonical (sorted) order."""
_CHECKPOINT_DOMAIN = "agent-security/audit-checkpoint/v1"


def format_timestamp(ts: datetime) -> str:
    """The one timestamp format of the canonical form: UTC, microseconds, ``Z``."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def utc(ts: datetime) -> datetime:
    """``ts`` in UTC (a naive timestamp is taken as UTC): what a chained event carries."""
    if ts.tzinfo is UTC:
        return ts
    return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).astimezone(UTC)


def _members(annotation: Any) -> tuple[Any, ...]:
    """The types of a union annotation (``X | None`` gives ``(X, NoneType)``), or the annotation alone."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return typing.get_args(annotation)
    return (annotation,)


def _is_datetime(annotation: Any) -> bool:
    return any(m is datetime for m in _members(annotation))


def _is_open_json(annotation: Any) -> bool:
    """A field that holds free-form JSON (``Any``, ``Mapping[str, Any]``, ``dict[str, Any]``, ...)."""
    if annotation is Any:
        return True
    return any(_is_open_json(a) for m in _members(annotation) for a in typing.get_args(m) if a is not m)


@dataclass(frozen=True)
class EventLayout:
    """What the canonical form of one event model is made of, read from its fields."""

    members: tuple[str, ...]
    """The canonical members, in canonical order: every serialised field but :data:`HASH_FIELD`."""
    datetimes: tuple[str, ...]
    """Fields written by :func:`format_timestamp` and carried in UTC by a chained event."""
    open_json: tuple[str, ...]
    """Free-form JSON fields (``data``): a chained event carries their JSON form (tuples as lists, ...),
    so an event read back from a sink hashes as it did when it was written."""


@functools.cache
def layout(model: type[AuditEvent] = AuditEvent) -> EventLayout:
    """The :class:`EventLayout` of ``model`` (:class:`AuditEvent` or a subclass with more fields)."""
    fields = {name: f for name, f in model.model_fields.items() if not f.exclude}
    missing = [name for name in (*CHAINED_FIELDS, HASH_FIELD) if name not in fields]
    if missing:
        raise TypeError(f"{model.__name__} lacks the chain field(s) {missing}")
    # Field names are ASCII identifiers: sorting them as str is RFC 8785's UTF-16 order.
    members = tuple(sorted(name for name in fields if name != HASH_FIELD))
    return EventLayout(
        members=members,
        datetimes=tuple(n for n in members if _is_datetime(fields[n].annotation)),
        open_json=tuple(n for n in members if _is_open_json(fields[n].annotation)),
    )


def canonical_dict(event: AuditEvent) -> dict[str, Any]:
    """The JSON object that is hashed (every field except ``hash``): the reference canonical form."""
    data = event.model_dump(mode="json", exclude={HASH_FIELD})
    for name in layout(type(event)).datetimes:
        value = getattr(event, name)
        if isinstance(value, datetime):
            data[name] = format_timestamp(value)
    return data


def canonical_bytes(event: AuditEvent) -> bytes:
    return jcs.dumps(canonical_dict(event))


def event_hash(event: AuditEvent) -> str:
    """SHA-256 (hex) of the canonical bytes."""
    return hashlib.sha256(canonical_bytes(event)).hexdigest()


def normalised(event: AuditEvent, dumped: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The update that makes ``event`` what a sink writes and reads back: datetimes in UTC, free-form JSON
    fields in their JSON form (from ``dumped``, the event's ``model_dump(mode="json")``, when given)."""
    lay = layout(type(event))
    out: dict[str, Any] = {}
    for name in lay.datetimes:
        value = getattr(event, name)
        if isinstance(value, datetime):
            out[name] = utc(value)
    if lay.open_json:
        raw = dumped if dumped is not None else event.model_dump(mode="json", include=set(lay.open_json))
        for name in lay.open_json:
            out[name] = raw[name]
    return out


def checkpoint_message(head_sequence: int, head_hash: str, key_id: str) -> bytes:
    """The bytes an audit checkpoint signs (domain-separated, canonical JSON)."""
    return jcs.dumps(
        {"domain": _CHECKPOINT_DOMAIN, "head_hash": head_hash, "head_sequence": head_sequence, "key_id": key_id}
    )
