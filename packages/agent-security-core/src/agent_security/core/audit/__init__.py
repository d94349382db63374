"""The tamper-evident audit trail: hash chain, signed checkpoints, sinks and verification.

See ``docs/audit.md``. This package never imports the SDK: posture and other readers use it directly.
"""

from __future__ import annotations

from agent_security.core.audit.chain import GENESIS_HASH, canonical_bytes, checkpoint_message, event_hash
from agent_security.core.audit.keys import AuditKeyError, AuditSigner, key_id, load_public_key
from agent_security.core.audit.sinks import (
    JsonlAuditSink,
    MemoryAuditSink,
    SqliteAuditSink,
    read_jsonl_lines,
    read_sqlite_rows,
)
from agent_security.core.audit.trail import AuditTrail
from agent_security.core.audit.verify import (
    TrailReadError,
    VerifyIssue,
    VerifyReport,
    verify_file,
    verify_trail,
)

__all__ = [
    "GENESIS_HASH",
    "AuditKeyError",
    "AuditSigner",
    "AuditTrail",
    "JsonlAuditSink",
    "MemoryAuditSink",
    "SqliteAuditSink",
    "TrailReadError",
    "VerifyIssue",
    "VerifyReport",
    "canonical_bytes",
    "checkpoint_message",
    "event_hash",
    "key_id",
    "load_public_key",
    "read_jsonl_lines",
    "read_sqlite_rows",
    "verify_file",
    "verify_trail",
]
