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
import json
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


_MAX_SAFE_INT = 2**53 - 1


def _plain(value: Any, depth: int = 0) -> bool:
    """True when Python's JSON encoder writes ``value`` exactly as RFC 8785 does: no floats (number
    formatting differs), integers within ±(2**53 - 1), and object keys below U+D800 (so that sorting by
    code point equals RFC 8785's sorting by UTF-16 code unit). String escaping is the same in both."""
    if depth > 64:
        return False
    if value is None or isinstance(value, bool | str):
        return True
    if isinstance(value, int):
        return -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT
    if isinstance(value, dict):
        return all(isinstance(k, str) and (k.isascii() or max(k) < "\ud800") and _plain(v, depth + 1)
                   for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v, depth + 1) for v in value)
    return False


def to_canonical_json(value: Any) -> bytes:
    """RFC 8785 bytes of a JSON value; a C-speed path for the common case, the reference encoder else."""
    if _plain(value):
        try:
            return _dumps(value)
        except UnicodeEncodeError:  # lone surrogates: let the reference encoder decide
            pass
    return rfc8785.dumps(value)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")


def canonical_bytes(event: AuditEvent) -> bytes:
    body = canonical_dict(event)
    # Every field but ``data`` has a fixed schema (ASCII keys, strings, bools, None, the sequence
    # number), so only ``data`` and the sequence decide whether the fast encoder is exact.
    if -_MAX_SAFE_INT <= event.sequence <= _MAX_SAFE_INT and _plain(body["data"]):
        try:
            return _dumps(body)
        except UnicodeEncodeError:
            pass
    return rfc8785.dumps(body)


def event_hash(event: AuditEvent) -> str:
    """SHA-256 (hex) of the canonical bytes."""
    return hashlib.sha256(canonical_bytes(event)).hexdigest()


def checkpoint_message(head_sequence: int, head_hash: str, key_id: str) -> bytes:
    """The bytes an audit checkpoint signs (domain-separated, canonical JSON)."""
    return rfc8785.dumps({"domain": _CHECKPOINT_DOMAIN, "head_hash": head_hash,
                          "head_sequence": head_sequence, "key_id": key_id})
