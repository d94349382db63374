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
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pydantic_core

from agent_security.core import jcs
from agent_security.core.models import AuditEvent, Outcome

__all__ = [
    "CHECKPOINT_KEY",
    "GENESIS_HASH",
    "canonical_bytes",
    "canonical_dict",
    "canonical_text",
    "checkpoint_message",
    "event_hash",
    "format_timestamp",
    "hash_canonical",
    "hash_ordered",
    "hash_prepared",
]

GENESIS_HASH = "0" * 64
"""``prev_hash`` of the first event of a trail."""
CHECKPOINT_KEY = "checkpoint"
_CHECKPOINT_DOMAIN = "agent-security/audit-checkpoint/v1"


_SECOND = timedelta(seconds=1)
_last_second: tuple[datetime, datetime, str] | None = None
"""The second of the last timestamp formatted: its first instant, the next second's, and its text."""
_DIGITS3 = tuple(f"{n:03d}" for n in range(1000))
"""``000`` to ``999``: the microseconds as two halves, cheaper than formatting ``:06d``."""


def format_timestamp(ts: datetime) -> str:
    """The one timestamp format of the canonical form: UTC, microseconds, ``Z``."""
    global _last_second
    if ts.tzinfo is UTC and type(ts) is datetime:  # the usual case
        # Events come many per second: the text up to the seconds is formatted once per second.
        cached = _last_second  # one tuple, read and replaced atomically: thread-safe
        if cached is not None and cached[0] <= ts < cached[1]:  # same tzinfo: compared field by field
            prefix = cached[2]
        else:
            start = ts.replace(microsecond=0)
            prefix = start.isoformat()[:-6]  # drop "+00:00"
            try:
                _last_second = (start, start + _SECOND, prefix)
            except OverflowError:  # the last second of year 9999
                pass
        micro = ts.microsecond
        return f"{prefix}.{_DIGITS3[micro // 1000]}{_DIGITS3[micro % 1000]}Z"
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def canonical_dict(event: AuditEvent) -> dict[str, Any]:
    """The JSON object that is hashed (every field except ``hash``)."""
    data = event.model_dump(mode="json", exclude={"hash"})
    data["timestamp"] = format_timestamp(event.timestamp)
    return data


def canonical_bytes(event: AuditEvent) -> bytes:
    return jcs.dumps(canonical_dict(event))


def event_hash(event: AuditEvent) -> str:
    """SHA-256 (hex) of the canonical bytes."""
    return hash_canonical(canonical_dict(event))


_EVENT_KEYS = tuple(sorted(set(AuditEvent.model_fields) - {"hash"}))


def hash_canonical(data: dict[str, Any]) -> str:
    """SHA-256 (hex) of an already-built :func:`canonical_dict` (lets the trail dump an event once).

    Every member of an audit event but ``data`` has a fixed ASCII name and a string, integer, boolean or
    null value (``reasons`` objects hold ``code`` then ``message``, already in order), so only ``data``
    is walked before the fast canonical writer (see :mod:`agent_security.core.jcs`).
    """
    try:
        return hash_prepared({**data, "data": jcs.prepare(data["data"])})
    except (jcs.NotFast, KeyError, RecursionError, pydantic_core.PydanticSerializationError):
        return hashlib.sha256(jcs.dumps(data)).hexdigest()


def hash_prepared(data: dict[str, Any]) -> str:
    """Like :func:`hash_canonical`, for a dict whose ``data`` member :func:`jcs.prepare` already returned.

    Raises :class:`~agent_security.core.jcs.NotFast` when the fast writer cannot be used.
    """
    if not 0 <= data["sequence"] <= 2**53 - 1:
        raise jcs.NotFast
    ordered = {key: data[key] for key in _EVENT_KEYS}
    for reason in ordered["reasons"]:
        if list(reason) != ["code", "message"]:
            raise jcs.NotFast
    return hashlib.sha256(jcs.write(ordered)).hexdigest()


def hash_ordered(data: dict[str, Any]) -> str:
    """Like :func:`hash_prepared`, for a dict the caller built with its members already in canonical
    order (:data:`_EVENT_KEYS`, each reason ``code`` then ``message``) and ``data`` from
    :func:`jcs.prepare` (the audit trail's own fast path).

    Raises :class:`~agent_security.core.jcs.NotFast` when the fast writer cannot be used.
    """
    if not 0 <= data["sequence"] <= 2**53 - 1:
        raise jcs.NotFast
    return hashlib.sha256(jcs.write(data)).hexdigest()


_encode = jcs.encode_string
_MAX_SEQUENCE = 2**53 - 1
_NOT_RAW = bytes(range(0x20)) + b'"\\'  # the UTF-8 bytes encode_string escapes (none of them >= 0x80)


def canonical_text(values: Mapping[str, Any], sequence: int, prev_hash: str, timestamp: str, data: str) -> str:
    """The canonical form as text, written directly (the audit trail's fast path).

    ``values`` holds the event's other fields (``event.__dict__``, or the values of an event not built
    yet); ``prev_hash``, ``timestamp`` (:func:`format_timestamp`) and ``data`` (the JSON form of ``data``)
    come already written as canonical JSON. Members are written in their canonical (sorted) order and
    strings as :data:`jcs.encode_string` writes them (for the usual event, whose strings need no escaping,
    one check over all of them and each copied between quotes); ``text.encode()`` (strict UTF-8) gives
    :func:`canonical_bytes`, or raises for a lone surrogate. A value outside what this writer handles
    raises (:class:`jcs.NotFast`, :class:`TypeError`, :class:`KeyError`, ...): take :func:`hash_canonical`
    then. Tests hold the two equal.
    """
    if type(sequence) is not int or not 0 <= sequence <= _MAX_SEQUENCE or type(prev_hash) is not str:
        raise jcs.NotFast
    allowed = values["allowed"]
    if allowed is True:
        allowed_text = "true"
    elif allowed is False:
        allowed_text = "false"
    elif allowed is None:
        allowed_text = "null"
    else:
        raise jcs.NotFast
    outcome = values["outcome"]
    if outcome is None:
        outcome_text = "null"
    elif type(outcome) is Outcome:  # one of its members, whose values need no escaping
        outcome_text = f'"{outcome._value_}"'
    else:
        raise jcs.NotFast
    reasons = values["reasons"]
    if type(reasons) is not tuple:
        raise jcs.NotFast
    reasons_text = ",".join([f'{{"code":{_encode(r.code)},"message":{_encode(r.message)}}}' for r in reasons])
    event_id = values["event_id"]
    request_id = values["request_id"]
    request_hash = values["request_hash"]
    agent_id = values["agent_id"]
    environment = values["environment"]
    tool_name = values["tool_name"]
    plugin_source = values["plugin_source"]
    kind = values["kind"]
    mode = values["mode"]
    schema_version = values["schema_version"]
    # The usual event: every other string an exact str that needs no escaping (one check over all of them,
    # cheaper than escaping each), written between quotes as it is. A lone surrogate passes the check (its
    # bytes are >= 0x80) and is copied, as encode_string copies it: encoding the text then fails.
    if (type(event_id) is str and type(request_id) is str and type(request_hash) is str and type(agent_id) is str
            and type(environment) is str and type(tool_name) is str and type(kind) is str and type(mode) is str
            and type(schema_version) is str and (plugin_source is None or type(plugin_source) is str)):
        raw = (f"{event_id}{request_id}{request_hash}{agent_id}{environment}{tool_name}{kind}{mode}"
               f"{schema_version}{plugin_source or ''}").encode("utf-8", "surrogatepass")
        if len(raw.translate(None, _NOT_RAW)) == len(raw):
            plugin_source_text = "null" if plugin_source is None else f'"{plugin_source}"'
            return (
                f'{{"agent_id":"{agent_id}","allowed":{allowed_text},"data":{data},'
                f'"environment":"{environment}","event_id":"{event_id}","kind":"{kind}","mode":"{mode}",'
                f'"outcome":{outcome_text},"plugin_source":{plugin_source_text},"prev_hash":{prev_hash},'
                f'"reasons":[{reasons_text}],"request_hash":"{request_hash}","request_id":"{request_id}",'
                f'"schema_version":"{schema_version}","sequence":{sequence},"timestamp":{timestamp},'
                f'"tool_name":"{tool_name}"}}'
            )
    return (
        f'{{"agent_id":{"null" if agent_id is None else _encode(agent_id)},"allowed":{allowed_text},'
        f'"data":{data},"environment":{"null" if environment is None else _encode(environment)},'
        f'"event_id":{_encode(event_id)},"kind":{_encode(kind)},"mode":{_encode(mode)},"outcome":{outcome_text},'
        f'"plugin_source":{"null" if plugin_source is None else _encode(plugin_source)},'
        f'"prev_hash":{prev_hash},"reasons":[{reasons_text}],'
        f'"request_hash":{"null" if request_hash is None else _encode(request_hash)},'
        f'"request_id":{"null" if request_id is None else _encode(request_id)},'
        f'"schema_version":{_encode(schema_version)},"sequence":{sequence},"timestamp":{timestamp},'
        f'"tool_name":{"null" if tool_name is None else _encode(tool_name)}}}'
    )


def checkpoint_message(head_sequence: int, head_hash: str, key_id: str) -> bytes:
    """The bytes an audit checkpoint signs (domain-separated, canonical JSON)."""
    return jcs.dumps({"domain": _CHECKPOINT_DOMAIN, "head_hash": head_hash,
                          "head_sequence": head_sequence, "key_id": key_id})
