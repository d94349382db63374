"""The hash chain: canonical bytes of an audit event, its hash, and the checkpoint message.

**Canonical form.** ``canonical_bytes(event)`` is the RFC 8785 (JSON Canonicalization Scheme) encoding
of ``event.model_dump(mode="json", exclude={"hash"})`` with one normalisation: ``timestamp`` is always
written as UTC with microseconds, ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (a naive timestamp is taken as UTC).
RFC 8785 sorts object keys by UTF-16 code units, writes no whitespace, and serialises numbers the
ECMAScript way, so any language can recompute a hash; integers outside ±2**53 and NaN/Infinity cannot be
represented and make hashing fail (audit ``data`` must not carry them).

**Chain.** ``event.hash = sha256(canonical_bytes(event)).hexdigest()``. The canonical bytes include
``sequence`` and ``prev_hash`` (the previous event's ``hash``, :data:`GENESIS_HASH` for sequence 1), so
each hash commits to the whole history before it.

**Checkpoints.** A checkpoint is a ``kind="lifecycle"`` event whose ``data["checkpoint"]`` is
``{"head_hash", "head_sequence", "key_id", "signature"}``: an Ed25519 signature (base64) over
:func:`checkpoint_message` of the event just before it. The checkpoint is itself chained.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import rfc8785

from agent_security.core.models import AuditEvent

__all__ = [
    "CHECKPOINT_KEY",
    "GENESIS_HASH",
    "canonical_bytes",
    "canonical_dict",
    "checkpoint_message",
    "event_hash",
    "format_timestamp",
]

GENESIS_HASH = "0" * 64
"""``prev_hash`` of the first event of a trail."""
CHECKPOINT_KEY = "checkpoint"
_CHECKPOINT_DOMAIN = "agent-security/audit-checkpoint/v1"


def format_timestamp(ts: datetime) -> str:
    """The one timestamp format of the canonical form: UTC, microseconds, ``Z``."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_dict(event: AuditEvent) -> dict[str, Any]:
    """The JSON object that is hashed (every field except ``hash``)."""
    data = event.model_dump(mode="json", exclude={"hash"})
    data["timestamp"] = format_timestamp(event.timestamp)
    return data


def canonical_bytes(event: AuditEvent) -> bytes:
    return rfc8785.dumps(canonical_dict(event))


def event_hash(event: AuditEvent) -> str:
    """SHA-256 (hex) of the canonical bytes."""
    return hashlib.sha256(canonical_bytes(event)).hexdigest()


def checkpoint_message(head_sequence: int, head_hash: str, key_id: str) -> bytes:
    """The bytes an audit checkpoint signs (domain-separated, canonical JSON)."""
    return rfc8785.dumps({"domain": _CHECKPOINT_DOMAIN, "head_hash": head_hash,
                          "head_sequence": head_sequence, "key_id": key_id})
