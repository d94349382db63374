"""Witnesses: copies of the signed checkpoints kept outside the writer's reach, and checking a trail
against them.

A trail file can be truncated, emptied, or rewritten with every hash recomputed by whoever can write it;
signatures alone do not show what was cut from the end. A *witness* receives a copy of every signed
checkpoint as it is written — another file or directory (on another mount, owned by another user, or
shipped off-host), or syslog — and ``agent-security audit verify --witness PATH`` checks the trail
against those copies: an event the witness saw must still be in the trail, with the hash it had.

Configure one with ``[core.audit] witness = "<uri>"`` (a signing key is required):

* ``file:///var/lib/agent-security/witness/`` or ``file:///path/witness.jsonl`` (or a bare path): one
  JSON line per checkpoint, appended under ``flock`` and fsynced; a directory gets
  ``audit-witness.jsonl`` in it;
* ``syslog:`` (``/dev/log``), ``syslog:///path/to/socket`` or ``syslog://host:514`` (UDP): one message
  per checkpoint, ``agent-security-audit: AGENT_SECURITY_AUDIT_CHECKPOINT {json}``, facility ``authpriv``.
  Give the collected log file to ``--witness``: the records are found in its lines;
* a state store of its own, ``sqlite:///other/mount/witness.db`` (or a Redis URL, with the ``redis``
  extra): one key per checkpoint, written once. Give the same URL to ``--witness``.

A witness record is ``{"type": "agent-security.audit.checkpoint", "v": 1, "head_sequence",
"head_hash", "key_id", "signature", "checkpoint_sequence", "checkpoint_hash", "timestamp"}``; the
signature is the checkpoint's own (over :func:`~agent_security.core.audit.chain.checkpoint_message`), so a
writer who recomputes the chain cannot forge a record that matches it without the signing key, and an
out-of-reach copy cannot be changed at all. Publishing is fail-closed: a witness that cannot take a
checkpoint fails the delivery of the checkpoint (the pipeline denies the call that triggered it).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import socket
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from agent_security.core.audit._sinkbase import (
    NOFOLLOW,
    PRIVATE_MODE,
    Closing,
    create_private,
    lock_file,
    unlock_file,
)
from agent_security.core.audit.chain import CHECKPOINT_KEY, checkpoint_message, format_timestamp
from agent_security.core.audit.jsonl_sink import read_jsonl_lines
from agent_security.core.audit.keys import verify_signature
from agent_security.core.errors import ConfigurationError
from agent_security.core.hookspecs import hookimpl
from agent_security.core.models import AuditEvent

__all__ = [
    "RECORD_TYPE",
    "WITNESS_FILE_NAME",
    "FileWitness",
    "SyslogWitness",
    "WitnessRecord",
    "WitnessSink",
    "open_witness",
    "read_witness",
    "witness_issues",
    "witness_record",
]

RECORD_TYPE = "agent-security.audit.checkpoint"
WITNESS_FILE_NAME = "audit-witness.jsonl"
SYSLOG_MARKER = "AGENT_SECURITY_AUDIT_CHECKPOINT"
MAX_RECORDS = 1_000_000
"""Witness records read from one file at most (the rest are refused: a bounded read)."""
_LOG_AUTHPRIV, _LOG_NOTICE = 10, 5


@dataclass(frozen=True, slots=True)
class WitnessRecord:
    """One witnessed checkpoint."""

    head_sequence: int
    head_hash: str
    key_id: str
    signature: str
    checkpoint_sequence: int
    checkpoint_hash: str
    timestamp: str = ""
    line: int = 0
    """Where it was read (1-based line of the witness file); 0 when it was not read from a file."""


def witness_record(checkpoint: AuditEvent) -> dict[str, Any] | None:
    """The witness record of a chained checkpoint event (``None`` for any other event)."""
    cp = checkpoint.data.get(CHECKPOINT_KEY) if checkpoint.kind == "lifecycle" else None
    if not isinstance(cp, Mapping) or checkpoint.hash is None:
        return None
    return {
        "type": RECORD_TYPE,
        "v": 1,
        "head_sequence": cp.get("head_sequence"),
        "head_hash": cp.get("head_hash"),
        "key_id": cp.get("key_id"),
        "signature": cp.get("signature"),
        "checkpoint_sequence": checkpoint.sequence,
        "checkpoint_hash": checkpoint.hash,
        "timestamp": format_timestamp(checkpoint.timestamp),
    }


class Witness(Protocol):
    def publish(self, record: Mapping[str, Any]) -> None: ...

    def close(self) -> None: ...


class FileWitness:
    """Appends witness records to a file (one JSON line each, under ``flock``, fsynced)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        target = Path(path)
        self.path = target / WITNESS_FILE_NAME if target.is_dir() else target
        create_private(self.path)
        self._fd: int | None = os.open(
            self.path, os.O_WRONLY | os.O_APPEND | NOFOLLOW | getattr(os, "O_CLOEXEC", 0), PRIVATE_MODE
        )
        self._lock = threading.Lock()

    def publish(self, record: Mapping[str, Any]) -> None:
        line = json.dumps(record, separators=(",", ":"), sort_keys=True).encode() + b"\n"
        with self._lock:
            if self._fd is None:
                raise RuntimeError(f"witness {self.path} is closed")
            lock_file(self._fd, str(self.path))
            try:
                if os.write(self._fd, line) != len(line):
                    raise OSError(f"{self.path}: short write to the witness")
                os.fsync(self._fd)
            finally:
                unlock_file(self._fd)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __repr__(self) -> str:
        return f"FileWitness({str(self.path)!r})"


class SyslogWitness:
    """Sends witness records to syslog: a local socket (datagram) or a host over UDP. A send that fails
    raises (a local socket that is missing or full); UDP cannot tell a lost datagram."""

    def __init__(self, address: str | tuple[str, int] = "/dev/log", *, ident: str = "agent-security-audit") -> None:
        self.address = address
        self.ident = ident
        family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
        self._sock: socket.socket | None = socket.socket(family, socket.SOCK_DGRAM)
        self._lock = threading.Lock()

    def publish(self, record: Mapping[str, Any]) -> None:
        body = json.dumps(record, separators=(",", ":"), sort_keys=True)
        message = f"<{_LOG_AUTHPRIV * 8 + _LOG_NOTICE}>{self.ident}: {SYSLOG_MARKER} {body}".encode()
        with self._lock:
            if self._sock is None:
                raise RuntimeError("syslog witness is closed")
            self._sock.sendto(message, self.address)

    def close(self) -> None:
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None

    def __repr__(self) -> str:
        return f"SyslogWitness({self.address!r})"


STORE_PREFIX = "audit:witness:"
"""The key prefix of a store witness's records (then the checkpoint's sequence, zero-padded)."""
STORE_SCHEMES = frozenset({"sqlite", "redis", "rediss", "redis+sentinel"})


class StoreWitness:
    """Keeps witness records in a state store of their own (``sqlite:///other/mount/witness.db``, or a
    Redis server): one key per checkpoint, written once (a record already there is never replaced)."""

    def __init__(self, url: str) -> None:
        from agent_security.core.store import open_store

        self.url = url
        self._store = open_store(url)

    def publish(self, record: Mapping[str, Any]) -> None:
        key = f"{STORE_PREFIX}{int(record['checkpoint_sequence']):020d}"
        if not self._store.claim(key + ":written", ttl_s=_FOREVER_S):
            raise RuntimeError(
                f"witness {self.url}: checkpoint {record['checkpoint_sequence']} is already "
                "witnessed (another trail writes here, or the chain was rewound)"
            )
        self._store.set(key, dict(record))

    def close(self) -> None:
        self._store.close()

    def __repr__(self) -> str:
        return f"StoreWitness({self.url!r})"


_FOREVER_S = 100 * 365 * 86_400.0


def _store_records(url: str) -> list[Mapping[str, Any]]:
    from agent_security.core.store import open_store

    store = open_store(url)
    try:
        found = store.scan(STORE_PREFIX)
    finally:
        store.close()
    return [value for key, value in sorted(found.items()) if not key.endswith(":written")]


def _witness_for(uri: str) -> Witness:
    parts = urlsplit(uri)
    if parts.scheme in STORE_SCHEMES:
        return StoreWitness(uri)
    if parts.scheme == "syslog":
        if parts.hostname:
            return SyslogWitness((parts.hostname, parts.port or 514))
        return SyslogWitness(unquote(parts.path) or "/dev/log")
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ConfigurationError(f"witness {uri!r}: a file witness is a local path (file:///path)")
        return FileWitness(unquote(parts.path))
    if parts.scheme == "" and uri:
        return FileWitness(uri)
    raise ConfigurationError(
        f"witness {uri!r}: expected file:///path, a path, syslog:, syslog:///socket, syslog://host:port or a "
        "store (sqlite:///path)"
    )


class WitnessSink(Closing):
    """The plugin that copies every signed checkpoint to a witness (fail-closed)."""

    fail_open = False

    def __init__(self, witness: Witness, *, name: str = "audit_witness") -> None:
        self.name = name
        self.witness = witness

    @hookimpl
    def agent_security_audit_event(self, event: AuditEvent) -> None:
        record = witness_record(event)
        if record is not None:
            self.witness.publish(record)

    @hookimpl
    def agent_security_shutdown(self) -> None:
        self.close()

    def close(self) -> None:
        self.witness.close()


def open_witness(uri: str, *, name: str = "audit_witness") -> WitnessSink:
    """The witness plugin for ``uri`` (see the module documentation)."""
    try:
        return WitnessSink(_witness_for(uri), name=name)
    except OSError as exc:
        raise ConfigurationError(f"witness {uri!r}: cannot open it ({exc})") from None


# -- reading and checking -------------------------------------------------------------------------------


class WitnessReadError(ValueError):
    """The witness could not be read at all."""


def _record(obj: Any, line: int) -> WitnessRecord | None:
    if not isinstance(obj, dict) or obj.get("type") != RECORD_TYPE:
        return None
    try:
        rec = WitnessRecord(
            head_sequence=obj["head_sequence"],
            head_hash=obj["head_hash"],
            key_id=obj["key_id"],
            signature=obj["signature"],
            checkpoint_sequence=obj["checkpoint_sequence"],
            checkpoint_hash=obj["checkpoint_hash"],
            timestamp=str(obj.get("timestamp", "")),
            line=line,
        )
    except KeyError:
        return None
    ints = (rec.head_sequence, rec.checkpoint_sequence)
    strs = (rec.head_hash, rec.key_id, rec.signature, rec.checkpoint_hash)
    if any(type(i) is not int for i in ints) or any(not isinstance(s, str) for s in strs):
        return None
    return rec


def read_witness(path: str | os.PathLike[str]) -> tuple[list[WitnessRecord], list[int]]:
    """The witness records in a witness file, a directory holding ``audit-witness.jsonl``, a log file
    whose lines carry them (syslog), or a store witness's URL (``sqlite:///path``); and the lines (records)
    that name a record but cannot be read as one."""
    if isinstance(path, str) and urlsplit(path).scheme in STORE_SCHEMES:
        try:
            stored = _store_records(path)
        except Exception as exc:  # unreadable, locked, not a store
            raise WitnessReadError(f"{path}: {exc}") from None
        if len(stored) > MAX_RECORDS:
            raise WitnessReadError(f"{path}: more than {MAX_RECORDS} witness records")
        kept: list[WitnessRecord] = []
        unreadable: list[int] = []
        for index, value in enumerate(stored, start=1):
            rec = _record(value, index)
            if rec is None:
                unreadable.append(index)
            else:
                kept.append(rec)
        return kept, unreadable
    p = Path(path)
    if p.is_dir():
        p = p / WITNESS_FILE_NAME
    records: list[WitnessRecord] = []
    bad: list[int] = []
    marker = RECORD_TYPE.encode()
    try:
        lines: Iterator[tuple[int, bytes | None]] = read_jsonl_lines(p)
        for lineno, raw in lines:
            if raw is None or marker not in raw:
                continue
            start = raw.find(b"{")
            try:
                rec = _record(json.loads(raw[start:]), lineno) if start >= 0 else None
            except ValueError:
                rec = None
            if rec is None:
                bad.append(lineno)
            elif len(records) >= MAX_RECORDS:
                raise WitnessReadError(f"{p}: more than {MAX_RECORDS} witness records")
            else:
                records.append(rec)
    except OSError as exc:
        raise WitnessReadError(f"{p}: {exc.strerror or exc}") from None
    return records, bad


Issue = tuple[int, int | None, str, str]
"""``(position, sequence, kind, message)`` for the verifier."""


def witness_issues(
    links: Iterable[tuple[int, int, str]], records: Iterable[WitnessRecord], keys: Mapping[str, Ed25519PublicKey] | None
) -> tuple[list[Issue], int | None]:
    """Check the trail's ``links`` (``(position, sequence, hash)`` in trail order) against witness records:
    the issues found, and the last sequence the witness vouches for (``None``: none)."""
    by_sequence: dict[int, tuple[int, str]] = {}
    end_position, last = 0, None
    for position, sequence, digest in links:
        by_sequence.setdefault(sequence, (position, digest))
        end_position, last = position, sequence
    issues: list[Issue] = []
    through: int | None = None
    seen: set[tuple[int, str, int, str]] = set()
    for rec in records:
        key = (rec.head_sequence, rec.head_hash, rec.checkpoint_sequence, rec.checkpoint_hash)
        if key in seen:
            continue
        seen.add(key)
        where = f"witness line {rec.line}" if rec.line else "a witness record"
        if keys is not None and not _signed(rec, keys):
            kind = "unknown_key" if rec.key_id not in keys else "bad_signature"
            issues.append(
                (
                    end_position,
                    rec.checkpoint_sequence,
                    kind,
                    f"{where}: the checkpoint signature does not verify with the given public keys",
                )
            )
            continue
        ok = True
        for sequence, digest, what in (
            (rec.head_sequence, rec.head_hash, "signed head"),
            (rec.checkpoint_sequence, rec.checkpoint_hash, "checkpoint"),
        ):
            found = by_sequence.get(sequence)
            if found is None and (last is None or sequence > last):
                ends = f"ends at sequence {last}" if last is not None else "is empty"
                issues.append(
                    (
                        end_position,
                        sequence,
                        "truncated",
                        f"{where} saw the {what} at sequence {sequence}, but the trail {ends}: events were "
                        "removed from its end",
                    )
                )
                ok = False
                break
            if found is None or found[1] != digest:
                pos = found[0] if found is not None else end_position
                issues.append(
                    (
                        pos,
                        sequence,
                        "witness_mismatch",
                        f"{where} saw the {what} at sequence {sequence} with hash {digest[:16]}..., the "
                        "trail holds another event there: the trail was rewritten",
                    )
                )
                ok = False
                break
        if ok:
            through = max(through or 0, rec.checkpoint_sequence)
    return issues, through


def _signed(rec: WitnessRecord, keys: Mapping[str, Ed25519PublicKey]) -> bool:
    key = keys.get(rec.key_id)
    if key is None:
        return False
    try:
        signature = base64.b64decode(rec.signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    return verify_signature(key, signature, checkpoint_message(rec.head_sequence, rec.head_hash, rec.key_id))
