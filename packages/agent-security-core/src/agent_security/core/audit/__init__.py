"""The tamper-evident audit trail: hash chain, signed checkpoints, sinks and verification.

See ``docs/audit.md``. This package never imports the SDK: posture and other readers use it directly.
"""

from __future__ import annotations

from agent_security.core.audit.chain import GENESIS_HASH, canonical_bytes, checkpoint_message, event_hash
from agent_security.core.audit.keys import AuditKeyError, AuditSigner, key_id, load_public_key
from agent_security.core.audit.schema import event_schema
from agent_security.core.audit.sinks import (
    JsonlAuditSink,
    MemoryAuditSink,
    SqliteAuditSink,
    read_jsonl_lines,
    read_sqlite_rows,
)
from agent_security.core.audit.trail import AuditTrail, HeadLock, Linkable, SharedHead, TrailClosedError
from agent_security.core.audit.verify import (
    TrailReadError,
    VerifyIssue,
    VerifyReport,
    verify_file,
    verify_trail,
)
from agent_security.core.audit.witness import (
    FileWitness,
    SyslogWitness,
    WitnessRecord,
    WitnessSink,
    open_witness,
    read_witness,
)

__all__ = [
    "GENESIS_HASH",
    "AuditKeyError",
    "AuditSigner",
    "AuditTrail",
    "FileWitness",
    "HeadLock",
    "JsonlAuditSink",
    "Linkable",
    "MemoryAuditSink",
    "SharedHead",
    "SqliteAuditSink",
    "SyslogWitness",
    "TrailClosedError",
    "TrailReadError",
    "VerifyIssue",
    "VerifyReport",
    "WitnessRecord",
    "WitnessSink",
    "canonical_bytes",
    "checkpoint_message",
    "event_hash",
    "event_schema",
    "key_id",
    "load_public_key",
    "open_witness",
    "read_jsonl_lines",
    "read_sqlite_rows",
    "read_witness",
    "verify_file",
    "verify_trail",
]
