"""The tamper-evident audit trail: hash chain, signed checkpoints, sinks and verification.

See ``docs/audit.md``. This package never imports the SDK: posture and other readers use it directly.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agent_security.core.audit.chain import GENESIS_HASH, canonical_bytes, checkpoint_message, event_hash
    from agent_security.core.audit.keys import AuditKeyError, AuditSigner, key_id, load_public_key
    from agent_security.core.audit.redis_stream_sink import RedisStreamAuditSink, read_redis_stream
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
    "RedisStreamAuditSink",
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
    "read_redis_stream",
    "read_sqlite_rows",
    "read_witness",
    "verify_file",
    "verify_trail",
]

_LAZY: dict[str, str] = {
    "GENESIS_HASH": "agent_security.core.audit.chain",
    "canonical_bytes": "agent_security.core.audit.chain",
    "checkpoint_message": "agent_security.core.audit.chain",
    "event_hash": "agent_security.core.audit.chain",
    "AuditKeyError": "agent_security.core.audit.keys",
    "AuditSigner": "agent_security.core.audit.keys",
    "key_id": "agent_security.core.audit.keys",
    "load_public_key": "agent_security.core.audit.keys",
    "event_schema": "agent_security.core.audit.schema",
    "JsonlAuditSink": "agent_security.core.audit.sinks",
    "MemoryAuditSink": "agent_security.core.audit.sinks",
    "SqliteAuditSink": "agent_security.core.audit.sinks",
    "read_jsonl_lines": "agent_security.core.audit.sinks",
    "read_sqlite_rows": "agent_security.core.audit.sinks",
    "RedisStreamAuditSink": "agent_security.core.audit.redis_stream_sink",
    "read_redis_stream": "agent_security.core.audit.redis_stream_sink",
    "AuditTrail": "agent_security.core.audit.trail",
    "HeadLock": "agent_security.core.audit.trail",
    "Linkable": "agent_security.core.audit.trail",
    "SharedHead": "agent_security.core.audit.trail",
    "TrailClosedError": "agent_security.core.audit.trail",
    "TrailReadError": "agent_security.core.audit.verify",
    "VerifyIssue": "agent_security.core.audit.verify",
    "VerifyReport": "agent_security.core.audit.verify",
    "verify_file": "agent_security.core.audit.verify",
    "verify_trail": "agent_security.core.audit.verify",
    "FileWitness": "agent_security.core.audit.witness",
    "SyslogWitness": "agent_security.core.audit.witness",
    "WitnessRecord": "agent_security.core.audit.witness",
    "WitnessSink": "agent_security.core.audit.witness",
    "open_witness": "agent_security.core.audit.witness",
    "read_witness": "agent_security.core.audit.witness",
}
"""Each public name and the module that defines it, imported on first use (PEP 562): the check path
imports the sinks and the trail, not verification, witnesses or the schema export."""


from agent_security.core.lazy import lazy_exports  # noqa: E402

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
